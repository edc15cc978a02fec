//! What goes wrong: digests, hostile zips, name clashes, faults. A failure
//! never leaves a re-uploaded artifact behind.

use relay_fakes::ArtifactSeed;
use relay_fakes::BlobFault;
use relay_fakes::{Access, Fault};

use super::*;

/// An artifact whose REST digest is not the sha256 of its bytes.
fn tampered(w: &World, name: &str) {
    let zip = zip_of(&[E::File("f", b"real")]);
    let (_, url, _) = w.art.seed(SRC_RUN, name, zip.clone());
    w.gh.add_artifact(
        SOURCE,
        RUN,
        ArtifactSeed::new(name, &url, zip.len() as u64)
            .digest(&format!("sha256:{}", "0".repeat(64))),
    );
}

#[test]
fn a_digest_mismatch_fails_and_leaves_no_artifact_under_error() {
    let w = world();
    tampered(&w, "web");
    let out = run(w.action());
    out.assert_failure();
    assert!(
        out.error().contains("does not match its recorded digest"),
        "{}",
        out.error()
    );
    assert!(out.error().contains("`web`"));
    assert!(w.reuploaded().is_empty());
    assert!(
        !w.art.calls().iter().any(|(m, _)| m == "FinalizeArtifact"),
        "never finalized"
    );
    assert!(
        !out.workspace.join("artifacts/web/f").exists(),
        "not extracted"
    );
}

#[test]
fn a_digest_mismatch_without_reupload_removes_the_saved_zip() {
    let w = world();
    tampered(&w, "web");
    let out = run(w
        .action()
        .input("reupload", "false")
        .input("extract", "false"));
    out.assert_failure();
    assert!(!out.workspace.join("artifacts/web.zip").exists());
}

#[test]
fn a_digest_mismatch_is_a_warning_under_warn_and_unchecked_under_off() {
    let w = world();
    tampered(&w, "web");
    let out = run(w.action().input("verify-digest", "warn"));
    out.assert_success();
    assert!(
        out.commands("warning")
            .iter()
            .any(|m| m.contains("does not match its recorded digest")),
        "{:?}",
        out.commands("warning")
    );
    assert!(out.summary.contains("**mismatch**"));
    assert_eq!(w.reuploaded(), ["deploy-web-9f86d08"]);

    let w = world();
    tampered(&w, "web");
    let out = run(w.action().input("verify-digest", "off"));
    out.assert_success();
    assert!(out.commands("warning").is_empty());
    assert!(out.summary.contains("| off |"));
}

#[test]
fn a_corrupted_download_is_caught_by_the_digest() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"real bytes")]));
    w.art.blob_fault(BlobFault::Corrupt);
    let out = run(w.action());
    out.assert_failure();
    assert!(out.error().contains("does not match its recorded digest"));
    assert!(w.reuploaded().is_empty());
}

#[test]
fn every_hostile_entry_fails_the_step_naming_it_and_nothing_is_reuploaded() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (zip_of(&[E::File("../escape.txt", b"x")]), "../escape.txt"),
        (zip_of(&[E::File("/tmp/abs.txt", b"x")]), "/tmp/abs.txt"),
        (zip_of(&[E::File("C:/win.txt", b"x")]), "C:/win.txt"),
        (zip_of(&[E::Link("out", "../../..")]), "out"),
        (zip_of(&[E::Link("d", "."), E::File("d/x", b"x")]), "d/x"),
    ];
    for (zip, entry) in cases {
        let w = world();
        w.artifact("web", zip);
        let out = run(w.action());
        out.assert_failure();
        assert!(
            out.error().contains(&format!("`{entry}`")),
            "{entry}: {}",
            out.error()
        );
        assert!(w.reuploaded().is_empty(), "{entry}: a re-upload was left");
        let parent = out.workspace.parent().unwrap();
        assert!(!parent.join("escape.txt").exists());
        assert!(!out.workspace.join("escape.txt").exists());
    }
}

#[test]
fn zip_bombs_stop_at_the_configured_limits() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("big", &[0u8; 10_000])]));
    let out = run(w.action().input("extract-max-size", "4KiB"));
    out.assert_failure();
    assert!(out.error().contains("zip bomb"), "{}", out.error());
    assert!(out.error().contains("`big`"));
    assert!(w.reuploaded().is_empty());

    let w = world();
    w.artifact(
        "web",
        zip_of(&[E::File("a", b"1"), E::File("b", b"2"), E::File("c", b"3")]),
    );
    let out = run(w.action().input("extract-max-files", "2"));
    out.assert_failure();
    assert!(
        out.error().contains("more than 2 entries"),
        "{}",
        out.error()
    );
}

#[test]
fn merge_multiple_reports_a_shared_file_name_and_undoes_the_reuploads() {
    let w = world();
    w.artifact("api", zip_of(&[E::File("dist/app.js", b"api")]));
    w.artifact("web", zip_of(&[E::File("dist/app.js", b"web")]));
    let out = run(w.action().input("merge-multiple", "true"));
    out.assert_failure();
    assert!(out.error().contains("`dist/app.js`"), "{}", out.error());
    assert!(out.error().contains("merge-multiple"));
    assert!(
        w.reuploaded().is_empty(),
        "the artifact finalized before the clash was deleted: {:?}",
        w.reuploaded()
    );
}

#[test]
fn an_existing_name_is_an_error_before_any_download_unless_overwrite() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"new")]));
    w.art.seed(
        CUR_RUN,
        "deploy-web-9f86d08",
        zip_of(&[E::File("f", b"old")]),
    );
    let out = run(w.action());
    out.assert_failure();
    assert!(
        out.error().contains("`deploy-web-9f86d08`"),
        "{}",
        out.error()
    );
    assert!(out.error().contains("overwrite: true"));
    assert!(
        !w.gh.requests().iter().any(|r| r.path.ends_with("/zip")),
        "downloaded before checking"
    );

    let out = run(w.action().input("overwrite", "true"));
    out.assert_success();
    assert_eq!(w.reuploaded(), ["deploy-web-9f86d08"]);
    assert_eq!(
        w.art.content(CUR_RUN, "deploy-web-9f86d08").unwrap(),
        zip_of(&[E::File("f", b"new")])
    );
}

#[test]
fn a_409_from_the_service_names_the_artifact() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"x")]));
    w.art.conflict_next();
    let out = run(w.action());
    out.assert_failure();
    assert!(
        out.error().contains("`deploy-web-9f86d08` already exists"),
        "{}",
        out.error()
    );
}

#[test]
fn two_artifacts_with_one_new_name_are_refused_before_moving() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"1")]));
    w.artifact("api", zip_of(&[E::File("f", b"2")]));
    let out = run(w.action().input("reupload-name", "deploy-{short_sha}"));
    out.assert_failure();
    assert!(
        out.error().contains("the same name `deploy-9f86d08`"),
        "{}",
        out.error()
    );
    assert!(out.error().contains("{name}"));
    assert!(w.art.calls().is_empty());
}

#[test]
fn blob_faults_are_retried_and_a_reset_download_resumes() {
    let w = world();
    // Incompressible and over one 4 MiB block, so full-size blocks travel.
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let big: Vec<u8> = (0..5_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    let zip = zip_of(&[E::File("big.bin", &big)]);
    w.artifact("web", zip.clone());
    w.art.blob_fault(BlobFault::Status(503));
    w.art.blob_fault(BlobFault::ResetAfter(3_000_000));
    w.art.blob_fault(BlobFault::Status(500));
    let out = run(w.action());
    out.assert_success();
    assert_eq!(w.art.content(CUR_RUN, "deploy-web-9f86d08").unwrap(), zip);
    assert_eq!(
        std::fs::read(out.workspace.join("artifacts/web/big.bin")).unwrap(),
        big
    );
}

#[test]
fn an_expired_signed_url_fails_with_a_hint() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"x")]));
    w.art.blob_fault(BlobFault::Expired);
    let out = run(w.action());
    out.assert_failure();
    assert!(out.error().contains("403"), "{}", out.error());
    assert!(out.error().contains("expired"), "{}", out.error());
    assert!(w.reuploaded().is_empty());
}

#[test]
fn github_5xx_on_the_list_is_retried() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"x")]));
    w.gh.fault(
        "GET",
        &format!("/repos/{SOURCE}/actions/runs/{RUN}/artifacts"),
        [Fault::status(502), Fault::too_many(0)],
    );
    let out = run(w.action());
    out.assert_success();
    assert_eq!(w.reuploaded(), ["deploy-web-9f86d08"]);
}

#[test]
fn a_token_that_cannot_see_the_source_says_which_permission() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"x")]));
    w.gh.token("ghs_other", Access::Repos(vec!["octo/app".into()]));
    let out = run(w.action().input("github-token", "ghs_other"));
    out.assert_failure();
    out.assert_secret_hidden("ghs_other");
    assert!(out.error().contains("404"), "{}", out.error());
    assert!(out.error().contains("actions: read"), "{}", out.error());
}

#[test]
fn a_failure_after_some_artifacts_were_finalized_deletes_them() {
    let w = world();
    w.artifact("a-ok", zip_of(&[E::File("f", b"fine")]));
    // `z-bad`'s download link fails a second later, when `a-ok` is done.
    let bad = w.artifact("z-bad", zip_of(&[E::File("f", b"x")]));
    w.gh.fault(
        "GET",
        &format!("/repos/{SOURCE}/actions/artifacts/{bad}/zip"),
        [Fault::status(404).delay(std::time::Duration::from_secs(1))],
    );
    let out = run(w.action());
    out.assert_failure();
    assert!(out.error().contains("`z-bad`"), "{}", out.error());
    assert!(
        out.log()
            .contains("deleted re-uploaded artifact `deploy-a-ok-9f86d08` because the step failed"),
        "{}",
        out.log()
    );
    assert!(w.reuploaded().is_empty(), "{:?}", w.reuploaded());
}
