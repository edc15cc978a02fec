use super::*;
use std::io::{Cursor, Write as _};
use zip::write::SimpleFileOptions;

enum E<'a> {
    File(&'a str, &'a [u8], Option<u32>),
    Dir(&'a str),
    Link(&'a str, &'a str),
}

fn zip_of(entries: &[E<'_>]) -> Cursor<Vec<u8>> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for e in entries {
        match e {
            E::File(name, data, mode) => {
                let mut o = SimpleFileOptions::default();
                if let Some(m) = mode {
                    o = o.unix_permissions(*m);
                }
                w.start_file(*name, o).unwrap();
                w.write_all(data).unwrap();
            }
            E::Dir(name) => w
                .add_directory(*name, SimpleFileOptions::default())
                .unwrap(),
            E::Link(name, target) => w
                .add_symlink(*name, *target, SimpleFileOptions::default())
                .unwrap(),
        }
    }
    let mut c = w.finish().unwrap();
    c.set_position(0);
    c
}

/// A target inside a scratch dir, so an escape would land in the scratch
/// dir where the test can see it.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("a").join("b").join("target");
    (tmp, root)
}

fn extract(root: &Path, entries: &[E<'_>]) -> Result<ExtractReport, ExtractError> {
    Extractor::new(root, ExtractLimits::default())?.extract(zip_of(entries))
}

fn refused_entry(r: Result<ExtractReport, ExtractError>) -> (String, &'static str) {
    match r {
        Err(ExtractError::Refused { entry, reason }) => (entry, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Every file under the scratch dir, relative to it.
fn all_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = p.symlink_metadata().unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn extracts_files_dirs_and_inner_symlinks() {
    let (tmp, root) = setup();
    let report = extract(
        &root,
        &[
            E::Dir("site/"),
            E::File("site/index.html", b"<h1>hi</h1>", None),
            E::File("./site/js/app.js", b"x", None),
            E::Link("site/js/index", "../index.html"),
        ],
    )
    .unwrap();
    assert_eq!(
        report,
        ExtractReport {
            files: 3,
            bytes: 12,
            case_twins: Vec::new(),
        }
    );
    assert_eq!(
        fs::read(root.join("site/index.html")).unwrap(),
        b"<h1>hi</h1>"
    );
    assert_eq!(
        fs::read(root.join("site/js/index")).unwrap(),
        b"<h1>hi</h1>"
    );
    assert_eq!(
        all_files(tmp.path()),
        [
            "a/b/target/site/index.html",
            "a/b/target/site/js/app.js",
            "a/b/target/site/js/index"
        ]
    );
}

#[test]
fn refuses_parent_dir_names() {
    for name in ["../x", "d/../../x", "d/.."] {
        let (tmp, root) = setup();
        let (entry, reason) = refused_entry(extract(&root, &[E::File(name, b"x", None)]));
        assert_eq!(entry, name);
        assert!(reason.contains(".."));
        assert!(all_files(tmp.path()).is_empty(), "{name}");
    }
}

#[test]
fn refuses_absolute_drive_and_backslash_names() {
    for (name, why) in [
        ("/tmp/x", "absolute"),
        ("C:/x", "drive"),
        ("c:x", "drive"),
        ("..\\x", "backslash"),
        ("d\\x", "backslash"),
    ] {
        let (tmp, root) = setup();
        let (entry, reason) = refused_entry(extract(&root, &[E::File(name, b"x", None)]));
        assert_eq!(entry, name);
        assert!(reason.contains(why), "{name}: {reason}");
        assert!(all_files(tmp.path()).is_empty(), "{name}");
    }
}

#[test]
fn refuses_symlinks_whose_target_escapes() {
    for (name, target) in [
        ("evil", "../x"),
        ("d/evil", "../../x"),
        ("d/evil", "sub/../../../x"),
        ("d/evil", "sub/../x"),
        ("evil", "/etc/passwd"),
        ("evil", "C:/x"),
        ("evil", "..\\x"),
    ] {
        let (tmp, root) = setup();
        let (entry, _) = refused_entry(extract(&root, &[E::Link(name, target)]));
        assert_eq!(entry, name);
        let links: Vec<_> = all_files(tmp.path());
        assert!(links.is_empty(), "{name} -> {target}: {links:?}");
    }
}

#[test]
fn refuses_a_link_that_climbs_out_through_an_earlier_link() {
    // `d/x -> ..` is the root itself; `y -> d/x/..` would then be the
    // root's parent. Lexically `y` stays inside, so only the rule that
    // `..` comes first stops it.
    let (tmp, root) = setup();
    let (entry, reason) = refused_entry(extract(
        &root,
        &[E::Link("d/x", ".."), E::Link("y", "d/x/..")],
    ));
    assert_eq!(entry, "y");
    assert!(reason.contains("after a name"), "{reason}");
    assert_eq!(all_files(tmp.path()), ["a/b/target/d/x"]);
}

#[test]
fn refuses_entries_written_through_an_earlier_symlink() {
    // In one zip, the link and what would go through it name one path:
    // refused before anything is written.
    let (tmp, root) = setup();
    let err = extract(
        &root,
        &[
            E::Dir("real/"),
            E::Link("link", "real"),
            E::File("link/payload", b"x", None),
        ],
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::Duplicate { .. }), "{err}");
    assert!(all_files(tmp.path()).is_empty());
    // Across zips merged into one target, the link is on disk already.
    let (tmp, root) = setup();
    let mut ex = Extractor::new(&root, ExtractLimits::default()).unwrap();
    ex.extract(zip_of(&[E::Dir("real/"), E::Link("link", "real")]))
        .unwrap();
    let (entry, reason) = refused_entry(ex.extract(zip_of(&[E::File("link/payload", b"x", None)])));
    assert_eq!(entry, "link/payload");
    assert!(reason.contains("symlink"));
    assert_eq!(all_files(tmp.path()), ["a/b/target/link"]);
}

#[test]
fn a_file_never_replaces_an_earlier_symlink() {
    let (tmp, root) = setup();
    let mut ex = Extractor::new(&root, ExtractLimits::default()).unwrap();
    ex.extract(zip_of(&[E::File("f", b"a", None), E::Link("l", "f")]))
        .unwrap();
    let err = ex
        .extract(zip_of(&[E::File("./l", b"b", None)]))
        .unwrap_err();
    assert!(
        matches!(err, ExtractError::Collision { ref entry, .. } if entry == "./l"),
        "{err}"
    );
    assert_eq!(fs::read(root.join("f")).unwrap(), b"a");
    assert_eq!(all_files(tmp.path()).len(), 2);
}

#[test]
fn files_left_by_an_earlier_run_are_replaced_not_written_through() {
    let (tmp, root) = setup();
    let outside = tmp.path().join("outside");
    fs::write(&outside, b"keep").unwrap();
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("old.txt"), b"stale").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("planted")).unwrap();
    fs::create_dir(root.join("dir")).unwrap();
    extract(
        &root,
        &[
            E::File("old.txt", b"new", None),
            E::File("planted", b"mine", None),
        ],
    )
    .unwrap();
    assert_eq!(fs::read(root.join("old.txt")).unwrap(), b"new");
    assert_eq!(
        fs::read(&outside).unwrap(),
        b"keep",
        "written through a planted link"
    );
    assert!(
        !root
            .join("planted")
            .symlink_metadata()
            .unwrap()
            .is_symlink()
    );
    let err = extract(&root, &[E::File("dir", b"x", None)]).unwrap_err();
    assert!(matches!(err, ExtractError::Collision { .. }), "{err}");
}

#[test]
fn merge_collisions_are_reported_with_the_name() {
    let (_tmp, root) = setup();
    let mut ex = Extractor::new(&root, ExtractLimits::default()).unwrap();
    ex.extract(zip_of(&[E::File("dist/app.js", b"one", None)]))
        .unwrap();
    let err = ex
        .extract(zip_of(&[E::File("dist/app.js", b"two", None)]))
        .unwrap_err();
    assert!(err.to_string().contains("`dist/app.js`"), "{err}");
    assert_eq!(fs::read(root.join("dist/app.js")).unwrap(), b"one");
}

#[test]
fn total_size_is_bounded_by_inflated_bytes() {
    let (_tmp, root) = setup();
    let big = vec![0_u8; 1 << 20];
    let limits = ExtractLimits {
        max_total_bytes: 1000,
        max_entries: 10,
    };
    let err = Extractor::new(&root, limits)
        .unwrap()
        .extract(zip_of(&[E::File("bomb", &big, None)]))
        .unwrap_err();
    assert!(matches!(err, ExtractError::TooLarge { ref entry, limit: 1000 } if entry == "bomb"));
    assert!(!root.join("bomb").exists(), "partial file left behind");
}

#[test]
fn size_limit_spans_entries_and_artifacts() {
    let (_tmp, root) = setup();
    let limits = ExtractLimits {
        max_total_bytes: 10,
        max_entries: 10,
    };
    let mut ex = Extractor::new(&root, limits).unwrap();
    ex.extract(zip_of(&[E::File("a", b"123456", None)]))
        .unwrap();
    let err = ex
        .extract(zip_of(&[E::File("b", b"123456", None)]))
        .unwrap_err();
    assert!(matches!(err, ExtractError::TooLarge { ref entry, .. } if entry == "b"));
}

#[test]
fn entry_count_is_bounded() {
    let (_tmp, root) = setup();
    let limits = ExtractLimits {
        max_total_bytes: 1 << 20,
        max_entries: 2,
    };
    let err = Extractor::new(&root, limits)
        .unwrap()
        .extract(zip_of(&[
            E::File("1", b"", None),
            E::File("2", b"", None),
            E::File("3", b"", None),
        ]))
        .unwrap_err();
    assert!(
        matches!(err, ExtractError::TooManyEntries { limit: 2 }),
        "{err}"
    );
    assert!(!root.join("3").exists());
}

#[cfg(unix)]
#[test]
fn modes_are_755_for_executables_and_644_otherwise() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_tmp, root) = setup();
    extract(
        &root,
        &[
            E::File("run.sh", b"#!/bin/sh", Some(0o755)),
            E::File("private", b"k", Some(0o600)),
            E::File("shared", b"k", Some(0o666)),
            E::File("all", b"k", Some(0o777)),
            E::File("group-x", b"k", Some(0o2771)),
            E::File("suid", b"x", Some(0o4755)),
            E::File("plain", b"x", None),
        ],
    )
    .unwrap();
    let mode = |n: &str| fs::metadata(root.join(n)).unwrap().permissions().mode() & 0o7777;
    for (name, want) in [
        ("run.sh", 0o755),
        ("private", 0o644),
        ("shared", 0o644),
        ("all", 0o755),
        ("group-x", 0o755),
        ("suid", 0o755),
        ("plain", 0o644),
    ] {
        assert_eq!(mode(name), want, "{name}: {:o}", mode(name));
    }
}

/// `data` zipped (deflated) with its header and central directory
/// declaring `declared` bytes instead of its length; the CRC is the real
/// data's, so only the size tells the lie.
fn zip_declaring(name: &str, data: &[u8], declared: u32) -> Cursor<Vec<u8>> {
    let mut c = zip_of(&[E::File(name, data, None)]);
    let bytes = c.get_mut();
    let real = (data.len() as u32).to_le_bytes();
    let lie = declared.to_le_bytes();
    assert_eq!(&bytes[22..26], real, "local header's uncompressed size");
    bytes[22..26].copy_from_slice(&lie);
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    assert_eq!(&bytes[central + 24..central + 28], real);
    bytes[central + 24..central + 28].copy_from_slice(&lie);
    c
}

#[test]
fn an_entry_shorter_than_it_declares_leaves_no_file() {
    let (tmp, root) = setup();
    let err = Extractor::new(&root, ExtractLimits::default())
        .unwrap()
        .extract(zip_declaring("short.txt", b"hello", 10))
        .unwrap_err();
    assert!(
        err.to_string().contains("`short.txt`") && err.to_string().contains("shorter"),
        "{err}"
    );
    assert!(
        all_files(tmp.path()).is_empty(),
        "{:?}",
        all_files(tmp.path())
    );
}

#[test]
fn an_entry_longer_than_it_declares_leaves_no_file() {
    let (tmp, root) = setup();
    let err = Extractor::new(&root, ExtractLimits::default())
        .unwrap()
        .extract(zip_declaring("long.txt", b"hello world", 5))
        .unwrap_err();
    assert!(err.to_string().contains("`long.txt`"), "{err}");
    assert!(
        all_files(tmp.path()).is_empty(),
        "{:?}",
        all_files(tmp.path())
    );
}

#[test]
fn corrupt_data_names_the_entry() {
    let mut c = zip_of(&[E::File("data.bin", &[7_u8; 4096], None)]);
    // Flip a byte inside the deflate stream (after the 30-byte local header
    // and the 8-byte name).
    c.get_mut()[40] ^= 0xff;
    let (tmp, root) = setup();
    let err = Extractor::new(&root, ExtractLimits::default())
        .unwrap()
        .extract(c)
        .unwrap_err();
    assert!(err.to_string().contains("data.bin"), "{err}");
    assert!(all_files(tmp.path()).is_empty(), "a corrupt file was left");
}

#[test]
fn not_a_zip_is_an_error() {
    let (_tmp, root) = setup();
    let err = Extractor::new(&root, ExtractLimits::default())
        .unwrap()
        .extract(Cursor::new(b"PK not really".to_vec()))
        .unwrap_err();
    assert!(matches!(err, ExtractError::Zip(_)));
}

#[test]
fn each_artifact_gets_its_own_directory_and_links_stay_in_it() {
    let (tmp, root) = setup();
    let mut ex = Extractor::new(&root, ExtractLimits::default()).unwrap();
    ex.extract_into("web", zip_of(&[E::File("index.html", b"w", None)]))
        .unwrap();
    ex.extract_into("api", zip_of(&[E::Link("peek", "../web/index.html")]))
        .map(drop)
        .expect_err("a link into a sibling artifact climbs out of its own");
    for bad in ["..", ".", "a/../.."] {
        let err = ex
            .extract_into(bad, zip_of(&[E::File("x", b"x", None)]))
            .unwrap_err();
        assert!(
            matches!(err, ExtractError::Refused { ref entry, .. } if entry == bad),
            "{bad}: {err}"
        );
    }
    assert_eq!(all_files(tmp.path()), ["a/b/target/web/index.html"]);
}

/// A stored entry: name, data, unix mode.
type Stored<'a> = (&'a str, &'a [u8], u32);

/// A zip of stored (uncompressed) entries, written with data descriptors
/// when `streamed`, as the official client writes every entry.
fn stored_zip(entries: &[Stored<'_>], streamed: bool) -> Vec<u8> {
    let opts = |mode: u32| {
        SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(mode)
    };
    if streamed {
        let mut w = zip::ZipWriter::new_stream(Vec::new());
        for (name, data, mode) in entries {
            w.start_file(*name, opts(*mode)).unwrap();
            w.write_all(data).unwrap();
        }
        return w.finish().unwrap().into_inner();
    }
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, mode) in entries {
        w.start_file(*name, opts(*mode)).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `zip` spooled as a relay spools it (in chunks of 7 bytes) to a file
/// under `dir`.
fn spool(dir: &Path, zip: &[u8]) -> (SpoolIndex, PathBuf) {
    let path = dir.join("spool.zip");
    (SpoolIndex::spool(zip, 7, &path).unwrap(), path)
}

fn extract_spooled(root: &Path, zip: &[u8]) -> (Result<ExtractReport, ExtractError>, PathBuf) {
    let spool_dir = root.parent().unwrap().join("spool");
    fs::create_dir_all(&spool_dir).unwrap();
    let (index, path) = spool(&spool_dir, zip);
    let r = Extractor::new(root, ExtractLimits::default())
        .unwrap()
        .extract_spool("", index, &path);
    (r, path)
}

#[cfg(unix)]
#[test]
fn a_stored_first_entry_becomes_its_file_without_a_second_write() {
    use std::os::unix::fs::MetadataExt as _;
    let big = vec![0x5a_u8; 300_000];
    for streamed in [false, true] {
        let (tmp, root) = setup();
        let zip = stored_zip(
            &[
                ("bin/app", &big, 0o755),
                ("conf/app.toml", b"port = 1", 0o644),
            ],
            streamed,
        );
        let (r, spool) = extract_spooled(&root, &zip);
        let report = r.unwrap();
        assert_eq!(report.files, 2);
        assert_eq!(report.bytes, big.len() as u64 + 8);
        let app = root.join("bin/app");
        assert_eq!(fs::read(&app).unwrap(), big, "streamed: {streamed}");
        assert_eq!(fs::read(root.join("conf/app.toml")).unwrap(), b"port = 1");
        // The spool's own inode, cut to the entry: linked, not copied.
        let (a, s) = (app.metadata().unwrap(), spool.metadata().unwrap());
        assert_eq!((a.ino(), a.nlink()), (s.ino(), 2), "streamed: {streamed}");
        assert_eq!(a.mode() & 0o7777, 0o755);
        let _ = tmp;
    }
}

#[test]
fn a_compressed_first_entry_is_extracted_and_the_spool_left_whole() {
    let (_tmp, root) = setup();
    let zip = zip_of(&[
        E::File("a.txt", &[b'a'; 5000], None),
        E::File("b.txt", b"b", None),
    ]);
    let zip = zip.into_inner();
    let (r, spool) = extract_spooled(&root, &zip);
    assert_eq!(r.unwrap().files, 2);
    assert_eq!(fs::read(root.join("a.txt")).unwrap(), [b'a'; 5000]);
    let kept = fs::read(&spool).unwrap();
    assert_eq!(
        kept,
        zip[30 + "a.txt".len()..],
        "the spool still holds the zip past the head"
    );
}

#[test]
fn a_stored_first_entry_with_a_bad_crc_is_refused_and_not_linked() {
    let (tmp, root) = setup();
    let mut zip = stored_zip(&[("app.bin", &[1_u8; 4096], 0o644)], false);
    zip[30 + "app.bin".len() + 100] ^= 0xff;
    let (r, spool) = extract_spooled(&root, &zip);
    let (entry, reason) = refused_entry(r);
    assert_eq!(entry, "app.bin");
    assert!(reason.contains("corrupt"), "{reason}");
    assert!(!root.join("app.bin").exists());
    assert_eq!(
        fs::read(&spool).unwrap().len(),
        zip.len() - 37,
        "the spool was not cut"
    );
    assert_eq!(all_files(tmp.path()), ["a/b/spool/spool.zip"]);
}

#[test]
fn a_stored_first_entry_counts_against_the_size_limit() {
    let (_tmp, root) = setup();
    let zip = stored_zip(&[("big.bin", &[2_u8; 10_000], 0o644)], true);
    let spool_dir = root.parent().unwrap().join("spool");
    fs::create_dir_all(&spool_dir).unwrap();
    let (index, path) = spool(&spool_dir, &zip);
    let limits = ExtractLimits {
        max_total_bytes: 9_999,
        max_entries: 10,
    };
    let err = Extractor::new(&root, limits)
        .unwrap()
        .extract_spool("", index, &path)
        .unwrap_err();
    assert!(matches!(err, ExtractError::TooLarge { .. }), "{err}");
    assert!(!root.join("big.bin").exists());
}

#[test]
fn a_later_entry_cannot_use_the_first_one_before_it_is_linked() {
    // Under the stored first entry's name, as a directory or a file, or
    // through it as a parent directory: refused as if it were there.
    let cases: [(&str, &[Stored<'_>]); 2] = [
        (
            "app/x",
            &[("app", b"first", 0o644), ("app/x", b"second", 0o644)],
        ),
        (
            "./app",
            &[("app", b"first", 0o644), ("./app", b"again", 0o644)],
        ),
    ];
    for (bad, entries) in cases {
        let (tmp, root) = setup();
        let (r, _) = extract_spooled(&root, &stored_zip(entries, false));
        let err = r.unwrap_err();
        assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        assert_eq!(
            all_files(tmp.path()),
            ["a/b/spool/spool.zip"],
            "nothing linked for {bad}"
        );
    }
}

#[test]
fn a_later_refused_entry_leaves_the_first_unlinked() {
    let (tmp, root) = setup();
    let zip = stored_zip(
        &[("ok.bin", b"fine", 0o644), ("../escape", b"x", 0o644)],
        false,
    );
    let (r, _) = extract_spooled(&root, &zip);
    let (entry, _) = refused_entry(r);
    assert_eq!(entry, "../escape");
    assert_eq!(all_files(tmp.path()), ["a/b/spool/spool.zip"]);
}

#[test]
fn merged_artifacts_collide_with_a_linked_first_entry() {
    let (_tmp, root) = setup();
    let spool_dir = root.parent().unwrap().join("spool");
    fs::create_dir_all(&spool_dir).unwrap();
    let mut ex = Extractor::new(&root, ExtractLimits::default()).unwrap();
    let (index, path) = spool(
        &spool_dir,
        &stored_zip(&[("same.txt", b"one", 0o644)], false),
    );
    ex.extract_spool("", index, &path).unwrap();
    fs::remove_file(&path).unwrap();
    let (index, path) = spool(
        &spool_dir,
        &stored_zip(&[("same.txt", b"two", 0o644)], false),
    );
    let err = ex.extract_spool("", index, &path).unwrap_err();
    assert!(matches!(err, ExtractError::Collision { .. }), "{err}");
    assert_eq!(fs::read(root.join("same.txt")).unwrap(), b"one");
}

/// A zip whose central directory (and local headers) name `name` twice:
/// written with two names of the same length, then the second renamed.
fn zip_naming_twice(name: &str, first: &[u8], second: &[u8]) -> Cursor<Vec<u8>> {
    let other = format!("{}#", &name[..name.len() - 1]);
    let mut c = zip_of(&[E::File(name, first, None), E::File(&other, second, None)]);
    let bytes = c.get_mut();
    let mut at = 0;
    let mut renamed = 0;
    while let Some(i) = bytes[at..]
        .windows(other.len())
        .position(|w| w == other.as_bytes())
    {
        bytes[at + i..at + i + other.len()].copy_from_slice(name.as_bytes());
        at += i + other.len();
        renamed += 1;
    }
    assert_eq!(renamed, 2, "the local header and the central directory");
    c
}

#[test]
fn a_name_listed_twice_is_refused_before_anything_is_written() {
    let zip = zip_naming_twice(
        "site/index.html",
        b"the first",
        b"the second, which zip keeps",
    );
    assert!(
        zip::ZipArchive::new(zip.clone())
            .unwrap()
            .has_duplicate_names()
    );
    let (tmp, root) = setup();
    let err = Extractor::new(&root, ExtractLimits::default())
        .unwrap()
        .extract(zip)
        .unwrap_err();
    assert!(
        matches!(&err, ExtractError::Duplicate { first, second } if first == "site/index.html" && second == first),
        "{err}"
    );
    assert!(err.to_string().contains("listed twice"), "{err}");
    assert!(
        all_files(tmp.path()).is_empty(),
        "{:?}",
        all_files(tmp.path())
    );
}

#[test]
fn two_spellings_of_one_path_are_refused_before_anything_is_written() {
    for (a, b) in [
        ("app/run.sh", "./app/run.sh"),
        ("app/run.sh", "app//run.sh"),
        ("app/run.sh", "app/./run.sh"),
        ("config", "config/"),
    ] {
        let (tmp, root) = setup();
        let second = if b.ends_with('/') {
            E::Dir(b)
        } else {
            E::File(b, b"evil", None)
        };
        // A harmless entry first: it must not be written either.
        let err = extract(
            &root,
            &[
                E::File("aaa-first.txt", b"x", None),
                E::File(a, b"good", None),
                second,
            ],
        )
        .unwrap_err();
        assert!(
            matches!(&err, ExtractError::Duplicate { first, second } if first == a && second == b),
            "{a} {b}: {err}"
        );
        assert!(
            all_files(tmp.path()).is_empty(),
            "{a} {b}: {:?}",
            all_files(tmp.path())
        );
    }
    // A file where another entry needs a directory.
    let (tmp, root) = setup();
    let err = extract(
        &root,
        &[
            E::File("lib", b"file", None),
            E::File("lib/x.so", b"x", None),
        ],
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::Duplicate { .. }), "{err}");
    assert!(all_files(tmp.path()).is_empty());
    // Two entries for one directory are fine.
    let (_tmp, root) = setup();
    extract(
        &root,
        &[E::Dir("d/"), E::Dir("./d/"), E::File("d/f", b"f", None)],
    )
    .unwrap();
}

#[test]
fn names_that_differ_only_in_case_are_extracted_and_reported() {
    let (tmp, root) = setup();
    let mut ex = Extractor::new(&root, ExtractLimits::default()).unwrap();
    let report = ex
        .extract(zip_of(&[
            E::File("README.md", b"upper", None),
            E::File("readme.md", b"lower", None),
            E::File("other.txt", b"o", None),
        ]))
        .unwrap();
    assert_eq!(report.files, 3);
    assert_eq!(
        report.case_twins,
        [("README.md".to_owned(), "readme.md".to_owned())]
    );
    assert_eq!(
        all_files(tmp.path()),
        [
            "a/b/target/README.md",
            "a/b/target/other.txt",
            "a/b/target/readme.md"
        ]
    );
    // Merged into the same target, a later zip's twin is reported too.
    let report = ex
        .extract(zip_of(&[E::File("OTHER.TXT", b"O", None)]))
        .unwrap();
    assert_eq!(
        report.case_twins,
        [("other.txt".to_owned(), "OTHER.TXT".to_owned())]
    );
}
