//! What a hostile peer can send: artifact names that try to escape `path`
//! or forge workflow commands, a fork's run under `workflow_run`, and the
//! disk and replacement guarantees around them.

use relay_fakes::ArtifactSeed;
use relay_fakes::BlobFault;

use super::*;

/// Every entry under `dir`, relative to it.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

const HOSTILE: [&str; 5] = [
    "web\n::error title=Forged::pwned",
    "..",
    "nested/../../escape",
    "nul\0byte",
    "esc\u{1b}[2Kname",
];

fn hostile_world() -> World {
    let w = world();
    w.artifact("web", zip_of(&[E::File("ok.txt", b"ok")]));
    for name in HOSTILE {
        w.artifact(name, zip_of(&[E::File("x.txt", b"x")]));
    }
    w
}

#[test]
fn hostile_listed_names_are_skipped_in_every_mode_without_forging_a_command() {
    for (reupload, extract) in [("true", "true"), ("false", "true"), ("false", "false")] {
        let w = hostile_world();
        let out = run(w
            .action()
            .input("reupload", reupload)
            .input("extract", extract));
        out.assert_success();
        assert!(
            out.errors().is_empty(),
            "{reupload}/{extract}: a forged command\n{}",
            out.log()
        );
        assert_eq!(out.output("count"), "1", "{reupload}/{extract}");
        let warnings = out.commands("warning");
        assert_eq!(
            warnings
                .iter()
                .filter(|m| m.contains("was skipped"))
                .count(),
            HOSTILE.len(),
            "{warnings:?}"
        );
        for line in out.stdout.lines() {
            assert!(
                !line.starts_with("::error") && !line.contains('\u{1b}') && !line.contains('\0'),
                "{line:?}"
            );
        }
        let want: Vec<&str> = match extract {
            "true" => vec!["artifacts", "artifacts/web", "artifacts/web/ok.txt"],
            _ => vec!["artifacts", "artifacts/web.zip"],
        };
        assert_eq!(tree(&out.workspace), want, "{reupload}/{extract}");
        assert!(!out.workspace.parent().unwrap().join("escape").exists());
        if reupload == "true" {
            assert_eq!(w.reuploaded(), ["deploy-web-9f86d08"]);
        }
        let list = artifacts_output(&out);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["name"], "web");
    }
}

#[test]
fn a_fork_s_run_is_skipped_with_a_notice_and_nothing_moves() {
    let forks = [
        events::workflow_run_from_fork(SOURCE, "mallory/build", SHA, "main", RUN),
        events::workflow_run_from_deleted_fork(SOURCE, SHA, "main", RUN),
    ];
    for event in forks {
        let w = world();
        w.artifact("web", zip_of(&[E::File("f", b"x")]));
        let out = run(w.action().event("workflow_run", event.clone()));
        out.assert_success();
        assert_eq!(out.output("found"), "false");
        assert_eq!(out.output("count"), "0");
        assert_eq!(out.output("artifacts"), "[]");
        let notices = out.commands("notice");
        assert!(
            notices
                .iter()
                .any(|m| m.contains("not trusted") && m.contains("allow-forks")),
            "{}",
            out.log()
        );
        assert!(w.gh.requests().is_empty(), "a GitHub request went out");
        assert!(w.art.calls().is_empty(), "a Twirp call went out");
        assert!(!out.workspace.join("artifacts").exists());
        assert!(out.summary.contains("not trusted"), "{}", out.summary);

        // A fork's pull request is a `pull_request` run too: both gates.
        let out = run(w
            .action()
            .event("workflow_run", event.clone())
            .input("allow-forks", "true"));
        assert_eq!(out.output("found"), "false", "{}", out.log());
        let out = run(w
            .action()
            .event("workflow_run", event)
            .input("allow-forks", "true")
            .input("trigger-events", "pull_request"));
        out.assert_success();
        assert_eq!(out.output("found"), "true");
        assert_eq!(w.reuploaded(), ["deploy-web-9f86d08"]);
    }
}

#[test]
fn a_pull_requests_run_of_the_repository_itself_is_skipped_unless_listed() {
    let mut event = events::workflow_run(SOURCE, SHA, "feature/x", RUN, "success");
    event["workflow_run"]["event"] = serde_json::json!("pull_request");
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"x")]));
    let out = run(w.action().event("workflow_run", event.clone()));
    out.assert_success();
    assert_eq!(out.output("found"), "false");
    assert!(
        out.commands("notice")[0].contains("started by a `pull_request` event"),
        "{}",
        out.log()
    );
    assert!(w.gh.requests().is_empty());
    let out = run(w
        .action()
        .event("workflow_run", event)
        .input("trigger-events", "push,pull_request"));
    out.assert_success();
    assert_eq!(out.output("found"), "true");
}

#[test]
fn the_repository_s_own_run_is_trusted_by_default() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"x")]));
    let out = run(w.action());
    out.assert_success();
    assert!(out.commands("notice").is_empty(), "{}", out.log());
    assert_eq!(out.output("found"), "true");
}

#[test]
fn overwrite_keeps_the_old_artifact_until_the_new_bytes_are_checked() {
    let old = zip_of(&[E::File("f", b"old")]);
    // A download that fails the digest check leaves the old artifact.
    let w = world();
    let zip = zip_of(&[E::File("f", b"new")]);
    let (_, url, _) = w.art.seed(SRC_RUN, "web", zip.clone());
    w.gh.add_artifact(
        SOURCE,
        RUN,
        ArtifactSeed::new("web", &url, zip.len() as u64)
            .digest(&format!("sha256:{}", "0".repeat(64))),
    );
    w.art.seed(CUR_RUN, "deploy-web-9f86d08", old.clone());
    let out = run(w.action().input("overwrite", "true"));
    out.assert_failure();
    assert!(out.error().contains("does not match its recorded digest"));
    assert_eq!(
        w.art.content(CUR_RUN, "deploy-web-9f86d08").unwrap(),
        old,
        "the old artifact was deleted before the new bytes were checked"
    );
    assert!(!w.art.calls().iter().any(|(m, _)| m == "DeleteArtifact"));

    // So does a download that fails outright.
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"new")]));
    w.art.seed(CUR_RUN, "deploy-web-9f86d08", old.clone());
    w.art.blob_fault(BlobFault::Expired);
    let out = run(w.action().input("overwrite", "true"));
    out.assert_failure();
    assert_eq!(w.art.content(CUR_RUN, "deploy-web-9f86d08").unwrap(), old);

    // A checked download replaces it, uploaded from the local copy.
    let w = world();
    let new = zip_of(&[E::File("f", b"new")]);
    w.artifact("web", new.clone());
    w.art.seed(CUR_RUN, "deploy-web-9f86d08", old);
    let out = run(w.action().input("overwrite", "true"));
    out.assert_success();
    assert_eq!(w.art.content(CUR_RUN, "deploy-web-9f86d08").unwrap(), new);
    assert_eq!(read(out.workspace.join("artifacts/web/f")), "new");
    let methods: Vec<String> = w.art.calls().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        methods,
        [
            "ListArtifacts",
            "DeleteArtifact",
            "CreateArtifact",
            "FinalizeArtifact"
        ]
    );
    assert!(out.summary.contains("replaced"), "{}", out.summary);
}

#[test]
fn the_zips_waiting_for_extraction_are_bounded_too() {
    let w = world();
    // Stored, incompressible: the zip is as large as what it holds.
    let mut x = 7_u64;
    let data: Vec<u8> = (0..300_000)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) as u8
        })
        .collect();
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zw.start_file("big.bin", stored).unwrap();
    zw.write_all(&data).unwrap();
    w.artifact("web", zw.finish().unwrap().into_inner());
    let out = run(w.action().input("extract-max-size", "100KiB"));
    out.assert_failure();
    assert!(
        out.error().contains("zips waiting to be extracted"),
        "stopped while spooling, not after: {}",
        out.error()
    );
    assert!(w.reuploaded().is_empty());
    assert_eq!(tree(&out.workspace), ["artifacts"], "the spool is removed");
}

#[test]
fn names_that_differ_only_in_case_are_extracted_with_a_warning_naming_both() {
    let w = world();
    w.artifact(
        "web",
        zip_of(&[
            E::File("README.md", b"upper"),
            E::File("readme.md", b"lower"),
        ]),
    );
    let out = run(w.action());
    out.assert_success();
    let warnings = out.commands("warning");
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("`README.md`") && m.contains("`readme.md`") && m.contains("case")),
        "{warnings:?}"
    );
    assert_eq!(
        tree(&out.workspace),
        [
            "artifacts",
            "artifacts/web",
            "artifacts/web/README.md",
            "artifacts/web/readme.md"
        ]
    );
}
