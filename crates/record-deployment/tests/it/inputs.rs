//! Bad inputs fail before any request, with an `::error::` naming the input.

use super::{A, APP, fake, run};
use relay_fakes::DEFAULT_TOKEN;
use relay_testkit::ActionRun;

fn refused(a: ActionRun, input: &str, needle: &str) {
    let gh = fake();
    let out = run(a.api(gh.url()));
    out.assert_failure();
    let e = out.error();
    assert!(
        e.contains(&format!("input `{input}`")),
        "`{e}` does not name `{input}`"
    );
    assert!(e.contains(needle), "`{e}` lacks `{needle}`");
    assert!(e.contains("hint:"), "`{e}` says what to do");
    assert!(
        gh.requests().is_empty(),
        "nothing may be sent: {:?}",
        gh.requests()
    );
}

fn base(mode: &str) -> ActionRun {
    let a = ActionRun::new(super::BIN)
        .env("GITHUB_REPOSITORY", super::DEPLOY)
        .input("github-token", DEFAULT_TOKEN);
    if mode.is_empty() {
        a
    } else {
        a.input("mode", mode)
    }
}

fn start() -> ActionRun {
    base("start")
        .input("environment", "staging")
        .input("app-repository", APP)
        .input("sha", A)
}

#[test]
fn mode_is_required_and_one_of_five() {
    refused(base(""), "mode", "is required");
    refused(
        base("deploy"),
        "mode",
        "must be one of check, start, finish, previous, current, got `deploy`",
    );
}

#[test]
fn start_needs_an_environment_a_full_sha_and_a_repository() {
    refused(
        base("start").input("sha", A),
        "environment",
        "is required with this mode",
    );
    refused(
        start().input("environment", "stag\ning"),
        "environment",
        "one line",
    );
    refused(
        start().input("sha", &A[..7]),
        "sha",
        "is not a commit sha: `aaaaaaa`",
    );
    refused(start().input("sha", "main"), "sha", "is not a commit sha");
    refused(
        start().input("app-repository", "app"),
        "app-repository",
        "must be `owner/repo`, got `app`",
    );
    refused(
        start().input("deploy-repository", "o/r/x"),
        "deploy-repository",
        "must be `owner/repo`",
    );
    // Outside a dispatch no sha is known from the event: GITHUB_SHA is the deploy repo's.
    refused(
        base("start")
            .input("environment", "staging")
            .without_env("GITHUB_SHA"),
        "sha",
        "is needed",
    );
}

#[test]
fn urls_descriptions_images_and_booleans_are_checked() {
    refused(
        start().input("environment-url", "javascript:alert(1)"),
        "environment-url",
        "must be an http(s) URL",
    );
    refused(
        start().input("log-url", "https://x y"),
        "log-url",
        "must be an http(s) URL",
    );
    refused(
        start().input("description", &"d".repeat(141)),
        "description",
        "is 141 characters long",
    );
    refused(
        start().input("images", "no equals sign"),
        "images",
        "is not `key=template`",
    );
    refused(
        start().input("images", "api=ghcr.io/{org}/api"),
        "images",
        "unknown placeholder `{org}`",
    );
    refused(
        start().input("rollback", "yes"),
        "rollback",
        "must be `true` or `false`",
    );
    refused(
        start().input("production-environment", "1"),
        "production-environment",
        "must be `true` or `false`",
    );
    refused(
        start().input("dispatch-id", &"x".repeat(101)),
        "dispatch-id",
        "at most 100 characters",
    );
    refused(
        start().input("reason", &"r".repeat(501)),
        "reason",
        "at most 500 characters",
    );
    for (images, needle) in [
        ("api=ghcr.io/octo/app/api", "names no tag or digest"),
        ("api=ghcr.io/octo/app/api@sha256:abc", "64 hex digits"),
        ("api=ghcr.io/octo/app/api:x;rm", "has tag"),
        ("api-image=ghcr.io/octo/app/api:1", "is not a word"),
        ("{\"api\": \"nginx\"}", "names no tag or digest"),
    ] {
        refused(start().input("images", images), "images", needle);
    }
    for mode in ["start", "check"] {
        refused(
            base(mode)
                .input("environment", "production")
                .input("app-repository", APP)
                .input("sha", A)
                .input("images", "image=ghcr.io/octo/app/api"),
            "images",
            "names no tag or digest",
        );
    }
    refused(
        start()
            .input("github-token", "")
            .without_env("GITHUB_TOKEN"),
        "github-token",
        "is empty",
    );
}

#[test]
fn finish_needs_a_deployment_id_and_a_state() {
    refused(
        base("finish").input("state", "success"),
        "deployment-id",
        "is required",
    );
    refused(
        base("finish")
            .input("state", "success")
            .input("deployment-id", "abc"),
        "deployment-id",
        "whole number",
    );
    refused(
        base("finish").input("deployment-id", "7"),
        "state",
        "is required",
    );
    refused(
        base("finish")
            .input("deployment-id", "7")
            .input("state", "in_progress"),
        "state",
        "must be one of success, failure, error, cancelled",
    );
    refused(
        base("finish")
            .input("deployment-id", "7")
            .input("state", "failure")
            .input("issue", "https://github.com/octo/deploy/pull/x"),
        "issue",
        "must be an issue number or URL",
    );
}

#[test]
fn previous_takes_a_short_sha_but_not_a_bad_one() {
    refused(
        base("previous"),
        "environment",
        "is required with this mode",
    );
    refused(
        base("previous")
            .input("environment", "production")
            .input("sha", "abc"),
        "sha",
        "7 to 64 hex",
    );
}

#[test]
fn inputs_another_mode_reads_are_warned_about() {
    let gh = fake();
    let out = run(base("previous")
        .api(gh.url())
        .input("environment", "production")
        .input("sha", A)
        .input("deployment-id", "12"));
    let warnings = out.commands("warning");
    assert_eq!(warnings.len(), 1, "{}", out.log());
    assert!(
        warnings[0].contains("input `deployment-id` is not read with `mode: previous`"),
        "{warnings:?}"
    );
}
