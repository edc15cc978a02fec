//! Arbitrary bytes as an artifact zip, extracted into `scratch/target` with
//! tight limits, read whole and from a relay's spool (head split off, a
//! stored first entry linked from it). Invariants: no panic, nothing ever
//! appears in `scratch` outside `target` and the spool (no `..`, absolute,
//! drive or backslash escape, no write through a symlink, no symlink
//! pointing out), and both ways extract the same files or both fail.

#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use relay_artifacts::{ExtractLimits, Extractor, SpoolIndex};

fn outside_target(scratch: &Path) -> Vec<String> {
    std::fs::read_dir(scratch)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "target" && n != "spool.zip")
                .collect()
        })
        .unwrap_or_default()
}

/// Every symlink under `dir` must resolve inside `root` (or dangle inside).
fn check_links(root: &Path, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let Ok(meta) = p.symlink_metadata() else { continue };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&p).expect("read link");
            let joined = p.parent().expect("parent").join(target);
            let mut depth: i64 = 0;
            for c in joined.strip_prefix(root).expect("link inside root").components() {
                match c {
                    std::path::Component::ParentDir => depth -= 1,
                    std::path::Component::Normal(_) => depth += 1,
                    _ => {}
                }
                assert!(depth >= 0, "symlink {} escapes", p.display());
            }
        } else if meta.is_dir() {
            check_links(root, &p);
        }
    }
}

/// Every file under `dir` with its bytes (links as their targets).
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            let name = p.strip_prefix(dir).expect("inside").display().to_string();
            let meta = p.symlink_metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(p);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).expect("read link");
                out.push((name, target.display().to_string().into_bytes()));
            } else {
                out.push((name, std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

fuzz_target!(|data: &[u8]| {
    let limits = ExtractLimits { max_total_bytes: 1 << 20, max_entries: 64 };
    let whole = tempfile::tempdir().expect("tempdir");
    let root = whole.path().join("target");
    let mut ex = Extractor::new(&root, limits).expect("extractor");
    let read_whole = ex.extract(Cursor::new(data));
    assert!(outside_target(whole.path()).is_empty(), "an entry escaped the target");
    check_links(&root, &root);

    let spooled = tempfile::tempdir().expect("tempdir");
    let spool_root = spooled.path().join("target");
    let spool = spooled.path().join("spool.zip");
    let index = SpoolIndex::spool(data, 4096, &spool).expect("spool");
    let mut ex = Extractor::new(&spool_root, limits).expect("extractor");
    let from_spool = ex.extract_spool("", index, &spool);
    assert!(outside_target(spooled.path()).is_empty(), "an entry escaped the target");
    check_links(&spool_root, &spool_root);
    assert_eq!(read_whole.is_ok(), from_spool.is_ok(), "{read_whole:?} vs {from_spool:?}");
    if read_whole.is_ok() {
        assert_eq!(tree(&root), tree(&spool_root), "the spool extracted other files");
    }
});
