//! Bad input fails with one `::error::` naming it, before any request.

use super::*;

fn refused(w: &World, a: ActionRun, input: &str, says: &str) {
    let out = run(a);
    out.assert_failure();
    let e = out.error();
    assert!(e.contains(input), "{input}: {e}");
    assert!(e.contains(says), "{input}: {e}");
    assert!(e.contains("hint:"), "{input}: {e}");
    assert_eq!(out.errors().len(), 1, "{:?}", out.errors());
    assert!(w.gh.requests().is_empty(), "{input}: a request went out");
    assert!(w.art.calls().is_empty(), "{input}: a Twirp call went out");
}

#[test]
fn every_bad_input_is_refused_before_any_request() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("f", b"x")]));
    let cases: Vec<(ActionRun, &str, &str)> = vec![
        (
            w.action().input("run-id", "abc"),
            "run-id",
            "positive number",
        ),
        (w.action().input("run-id", "0"), "run-id", "positive number"),
        (
            w.action().event(
                "push",
                serde_json::json!({"ref": "refs/heads/main", "after": SHA}),
            ),
            "run-id",
            "required under a `push` event",
        ),
        (
            w.action().input("repository", "just-a-name"),
            "repository",
            "owner/repo",
        ),
        (w.action().input("name", "a:b"), "name", "colon"),
        (w.action().input("name", ".."), "name", "names a directory"),
        (
            w.action().input("name", "web").input("artifact-ids", "12"),
            "artifact-ids",
            "together with `name`",
        ),
        (
            w.action().input("artifact-ids", "12, web"),
            "artifact-ids",
            "`web`, which is not an artifact id",
        ),
        (
            w.action().input("artifact-ids", ", ,"),
            "artifact-ids",
            "names no artifact id",
        ),
        (
            w.action().input("allow-forks", "yes"),
            "allow-forks",
            "true",
        ),
        (
            w.action().input("pattern", "[oops"),
            "pattern",
            "not a valid glob",
        ),
        (
            w.action().input("reupload-name", "deploy-{nam}"),
            "reupload-name",
            "unknown placeholder",
        ),
        (
            w.action().input("reupload-name", "deploy/{name}"),
            "reupload-name",
            "forward slash",
        ),
        (
            w.action().input("retention-days", "91"),
            "retention-days",
            "91",
        ),
        (
            w.action().input("compression-level", "10"),
            "compression-level",
            "10",
        ),
        (
            w.action().input("if-no-artifact-found", "fail"),
            "if-no-artifact-found",
            "warn, error, ignore",
        ),
        (
            w.action().input("verify-digest", "strict"),
            "verify-digest",
            "error, warn, off",
        ),
        (w.action().input("extract", "yes"), "extract", "true"),
        (
            w.action().input("merge-multiple", "1"),
            "merge-multiple",
            "true",
        ),
        (w.action().input("overwrite", "maybe"), "overwrite", "true"),
        (
            w.action().input("extract-max-size", "lots"),
            "extract-max-size",
            "not a size",
        ),
        (
            w.action().input("extract-max-files", "-3"),
            "extract-max-files",
            "-3",
        ),
        (
            w.action().input("environments", "main"),
            "environments",
            "branch-glob=environment",
        ),
        (
            w.action().without_env("ACTIONS_RUNTIME_TOKEN"),
            "ACTIONS_RUNTIME_TOKEN",
            "not set",
        ),
        (
            w.action().env("ACTIONS_RUNTIME_TOKEN", "not-a-jwt"),
            "ACTIONS_RUNTIME_TOKEN",
            "malformed",
        ),
        (
            w.action().without_env("ACTIONS_RESULTS_URL"),
            "ACTIONS_RESULTS_URL",
            "not set",
        ),
    ];
    for (a, input, says) in cases {
        refused(&w, a, input, says);
    }
}

#[test]
fn the_runtime_token_is_masked_even_when_malformed() {
    let w = world();
    let out = run(w.action().env("ACTIONS_RUNTIME_TOKEN", "secret-not-a-jwt"));
    out.assert_failure();
    out.assert_secret_hidden("secret-not-a-jwt");
}

#[test]
fn help_lists_every_input_with_its_default() {
    let out = ActionRun::new(BIN).arg("--help").run();
    out.assert_success();
    for input in [
        "--run-id",
        "--reupload-name",
        "--verify-digest",
        "--if-no-artifact-found",
        "deploy-{name}-{short_sha}",
    ] {
        assert!(out.stdout.contains(input), "{input}: {}", out.stdout);
    }
}
