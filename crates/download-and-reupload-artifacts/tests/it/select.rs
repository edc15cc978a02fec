//! Which artifacts are taken: `name`, `pattern`, expired ones, re-runs, pages.

use relay_fakes::ArtifactSeed;

use super::*;

fn three(w: &World) {
    for n in ["frontend-web", "frontend-admin", "backend"] {
        w.artifact(n, zip_of(&[E::File("f", n.as_bytes())]));
    }
}

#[test]
fn name_takes_exact_names_one_per_line() {
    let w = world();
    three(&w);
    let out = run(w.action().input("name", "backend\nfrontend-web\n"));
    out.assert_success();
    let mut got = w.reuploaded();
    got.sort();
    assert_eq!(
        got,
        ["deploy-backend-9f86d08", "deploy-frontend-web-9f86d08"]
    );
}

#[test]
fn one_name_is_filtered_by_github() {
    let w = world();
    three(&w);
    run(w.action().input("name", "backend")).assert_success();
    let list =
        w.gh.requests()
            .into_iter()
            .find(|r| r.path.ends_with("/artifacts"))
            .unwrap();
    assert!(list.query.contains("name=backend"), "{}", list.query);
}

#[test]
fn a_missing_name_warns_by_default_and_fails_under_error() {
    let w = world();
    three(&w);
    let out = run(w.action().input("name", "backend\nnope"));
    out.assert_success();
    assert!(
        out.commands("warning")
            .iter()
            .any(|m| m.contains("no live artifact named `nope`")),
        "{:?}",
        out.commands("warning")
    );
    assert_eq!(w.reuploaded(), ["deploy-backend-9f86d08"]);

    let w = world();
    three(&w);
    let out = run(w
        .action()
        .input("name", "backend\nnope")
        .input("if-no-artifact-found", "error"));
    out.assert_failure();
    assert!(out.error().contains("`nope`"), "{}", out.error());
    assert!(w.art.calls().is_empty(), "nothing moved before the check");
}

#[test]
fn pattern_globs_on_names() {
    let w = world();
    three(&w);
    let out = run(w.action().input("pattern", "frontend-*"));
    out.assert_success();
    assert_eq!(out.output("count"), "2");
    assert!(!w.reuploaded().iter().any(|n| n.contains("backend")));
}

#[test]
fn pattern_is_ignored_with_a_warning_when_name_is_set() {
    let w = world();
    three(&w);
    let out = run(w
        .action()
        .input("name", "backend")
        .input("pattern", "frontend-*"));
    out.assert_success();
    assert_eq!(w.reuploaded(), ["deploy-backend-9f86d08"]);
    assert!(
        out.commands("warning")
            .iter()
            .any(|m| m.contains("`pattern`"))
    );
}

#[test]
fn expired_artifacts_are_skipped_with_a_warning() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"w")]));
    w.gh.add_artifact(
        SOURCE,
        RUN,
        ArtifactSeed::new("old-logs", "http://127.0.0.1:9/gone", 10).expired(),
    );
    let out = run(w.action());
    out.assert_success();
    assert_eq!(out.output("count"), "1");
    assert!(
        out.commands("warning")
            .iter()
            .any(|m| m.contains("`old-logs`") && m.contains("expired")),
        "{:?}",
        out.commands("warning")
    );
    assert!(out.summary.contains("Skipped (expired): `old-logs`"));
}

#[test]
fn a_re_run_s_newer_upload_wins() {
    let w = world();
    let (_, old_url, old_digest) = w
        .art
        .seed("old-attempt", "web", zip_of(&[E::File("v", b"1")]));
    w.gh.add_artifact(
        SOURCE,
        RUN,
        ArtifactSeed::new("web", &old_url, 1)
            .digest(&old_digest)
            .created_at("2026-11-22T09:00:00Z"),
    );
    let new = zip_of(&[E::File("v", b"2")]);
    let (_, url, digest) = w.art.seed(SRC_RUN, "web", new.clone());
    w.gh.add_artifact(
        SOURCE,
        RUN,
        ArtifactSeed::new("web", &url, new.len() as u64)
            .digest(&digest)
            .created_at("2026-11-22T11:00:00Z"),
    );
    let out = run(w.action());
    out.assert_success();
    assert_eq!(out.output("count"), "1");
    assert_eq!(read(out.workspace.join("artifacts/web/v")), "2");
}

#[test]
fn every_page_of_a_large_run_is_read_and_moved_a_few_at_a_time() {
    let w = world();
    for i in 0..105 {
        w.artifact(
            &format!("part-{i:03}"),
            zip_of(&[E::File("f", format!("{i}").as_bytes())]),
        );
    }
    let out = run(w.action().input("reupload-name", "{name}"));
    out.assert_success();
    assert_eq!(out.output("count"), "105");
    assert_eq!(w.reuploaded().len(), 105);
    assert_eq!(read(out.workspace.join("artifacts/part-104/f")), "104");
    let pages =
        w.gh.requests()
            .iter()
            .filter(|r| r.path.ends_with("/artifacts"))
            .count();
    assert_eq!(pages, 2);
}

#[test]
fn a_single_name_extracts_into_path_itself_several_into_their_own_directories() {
    let w = world();
    three(&w);
    let out = run(w.action().input("name", "backend").input("path", "out"));
    out.assert_success();
    assert_eq!(read(out.workspace.join("out/f")), "backend");
    assert!(!out.workspace.join("out/backend").exists());
    let list = artifacts_output(&out);
    assert_eq!(
        list[0]["path"],
        out.workspace.join("out").display().to_string().as_str()
    );

    let w = world();
    three(&w);
    let out = run(w
        .action()
        .input("name", "backend\nfrontend-web")
        .input("path", "out"));
    out.assert_success();
    assert_eq!(read(out.workspace.join("out/backend/f")), "backend");
    assert_eq!(
        read(out.workspace.join("out/frontend-web/f")),
        "frontend-web"
    );

    // A pattern that happens to match one artifact keeps `path/<name>/`,
    // as in download-artifact v4.
    let w = world();
    three(&w);
    let out = run(w.action().input("pattern", "back*").input("path", "out"));
    out.assert_success();
    assert_eq!(read(out.workspace.join("out/backend/f")), "backend");
}

#[test]
fn artifact_ids_select_by_id_and_a_missing_id_follows_if_no_artifact_found() {
    let w = world();
    let web = w.artifact("web", zip_of(&[E::File("f", b"w")]));
    let api = w.artifact("api", zip_of(&[E::File("f", b"a")]));
    w.artifact("docs", zip_of(&[E::File("f", b"d")]));
    let out = run(w
        .action()
        .input("artifact-ids", &format!(" {web}, {api},"))
        .input("pattern", "docs"));
    out.assert_success();
    let mut got = w.reuploaded();
    got.sort();
    assert_eq!(got, ["deploy-api-9f86d08", "deploy-web-9f86d08"]);
    assert_eq!(read(out.workspace.join("artifacts/web/f")), "w");
    assert!(
        out.commands("warning")
            .iter()
            .any(|m| m.contains("`pattern`") && m.contains("`artifact-ids`")),
        "{:?}",
        out.commands("warning")
    );

    let w = world();
    let web = w.artifact("web", zip_of(&[E::File("f", b"w")]));
    let out = run(w.action().input("artifact-ids", &format!("{web},999999")));
    out.assert_success();
    assert!(
        out.commands("warning")
            .iter()
            .any(|m| m.contains("no live artifact with the id `999999`")),
        "{:?}",
        out.commands("warning")
    );
    assert_eq!(out.output("count"), "1");

    let out = run(w
        .action()
        .input("artifact-ids", "999999")
        .input("if-no-artifact-found", "error"));
    out.assert_failure();
    assert!(out.error().contains("the ids 999999"), "{}", out.error());
}
