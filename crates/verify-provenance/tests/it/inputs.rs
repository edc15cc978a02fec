//! Every input is checked before any request, with an `::error::` naming
//! it; the mode's default follows the environment.

use relay_testkit::events;
use serde_json::json;

use super::*;

const DIGEST_REF: &str =
    "ghcr.io/octo/app@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn refused(gh: &FakeGitHub, a: ActionRun, input: &str, says: &str) -> Outcome {
    let out = run(a);
    out.assert_failure();
    let error = out.error();
    assert!(
        error.starts_with(&format!("input `{input}` ")),
        "names `{input}`: {error}"
    );
    assert!(error.contains(says), "{says}: {error}");
    assert!(
        gh.requests().is_empty(),
        "no request before the inputs are checked"
    );
    out
}

#[test]
fn a_tag_under_require_is_an_input_error_before_any_request() {
    let gh = fake();
    let out = refused(
        &gh,
        action(&gh).input("environment", "production").input(
            "images",
            &format!("api={DIGEST_REF}\nweb=ghcr.io/octo/web:v1.2.3"),
        ),
        "images",
        "`web` is the tag reference `ghcr.io/octo/web:v1.2.3`; under `provenance: require` only digest references deploy",
    );
    assert!(
        out.error().contains("name@sha256:<digest>") && out.error().contains("outputs.digest"),
        "says how to hand the digest over: {}",
        out.error()
    );
}

#[test]
fn a_tag_under_warn_is_reported_and_not_looked_up() {
    let gh = fake();
    let out = run(action(&gh)
        .input("provenance", "warn")
        .input("images", "web=ghcr.io/octo/web:v1"));
    out.assert_success();
    assert!(gh.requests().is_empty(), "{:?}", gh.requests());
    assert_eq!(report(&out)["images"][0]["verdict"], "tag");
    assert!(
        out.commands("warning")[0].contains("is a tag, not a digest"),
        "{}",
        out.stdout
    );
}

#[test]
fn no_images_under_require_is_an_input_error() {
    let gh = fake();
    refused(
        &gh,
        action(&gh).input("provenance", "require"),
        "images",
        "is empty",
    );
}

#[test]
fn every_bad_input_is_named_before_any_request() {
    let with_image = |gh: &FakeGitHub| action(gh).input("images", &format!("api={DIGEST_REF}"));
    let cases: Vec<(&str, &str, &str, &str)> = vec![
        ("sha", "abc1234", "sha", "full commit sha"),
        (
            "provenance",
            "required",
            "provenance",
            "`required` is not a provenance mode",
        ),
        ("app-repository", "not a repo", "app-repository", ""),
        ("images", "api=ghcr.io/x@sha256:123", "images", "64 hex"),
        ("images", "api=ghcr.io/x@md5:00", "images", "`md5` digest"),
        (
            "allowed-refs",
            "refs/heads/[main",
            "allowed-refs",
            "bad glob",
        ),
        (
            "allowed-signer-workflows",
            "build.yml",
            "allowed-signer-workflows",
            "no signer workflow can match",
        ),
        (
            "allowed-signer-workflows",
            "octo/app/.github/workflows/[x",
            "allowed-signer-workflows",
            "bad glob",
        ),
        (
            "protected-environments",
            "prod-[",
            "protected-environments",
            "bad glob",
        ),
        (
            "environments",
            "main",
            "environments",
            "is not `branch-glob=environment`",
        ),
        (
            "default-branch",
            "refs/heads/main",
            "default-branch",
            "must be a branch name",
        ),
        (
            "trusted-root",
            "no/such/root.json",
            "trusted-root",
            "cannot be read",
        ),
    ];
    for (input, value, named, says) in cases {
        let gh = fake();
        refused(&gh, with_image(&gh).input(input, value), named, says);
    }
}

#[test]
fn a_trusted_root_that_is_no_trusted_root_is_named() {
    let gh = fake();
    let a = action(&gh).input("images", &format!("api={DIGEST_REF}"));
    std::fs::create_dir_all(a.workspace()).unwrap();
    std::fs::write(
        a.workspace().join("root.json"),
        r#"{"mediaType":"text/plain"}"#,
    )
    .unwrap();
    refused(
        &gh,
        a.input("trusted-root", "root.json"),
        "trusted-root",
        "root.json",
    );
}

#[test]
fn the_mode_defaults_to_require_only_for_protected_environments() {
    let mode = |a: ActionRun| {
        let out = run(a
            .input("images", "web=ghcr.io/octo/web:v1")
            .input("default-branch", "main"));
        out.outputs
            .get("mode")
            .cloned()
            .unwrap_or_else(|| "input error".into())
    };
    let gh = fake();
    assert_eq!(mode(action(&gh).input("environment", "staging")), "warn");
    assert_eq!(mode(action(&gh)), "warn", "no environment");
    assert_eq!(
        mode(action(&gh).input("environment", "Production")),
        "input error",
        "require refuses the tag"
    );
    assert_eq!(
        mode(
            action(&gh)
                .input("environment", "prod-eu")
                .input("protected-environments", "production, prod-*")
        ),
        "input error"
    );
    // Under repository_dispatch the environment comes from the payload.
    let dispatched = |environment: &str| {
        action(&gh).event(
            "repository_dispatch",
            events::repository_dispatch(
                "deploy",
                json!({"repository": APP, "sha": COMMIT, "environment": environment}),
            ),
        )
    };
    assert_eq!(mode(dispatched("staging")), "warn");
    assert_eq!(mode(dispatched("production")), "input error");
    assert_eq!(
        mode(dispatched("production").input("provenance", "warn")),
        "warn",
        "the input wins"
    );
}
