//! verify-ci-status run as the runner runs it, against the fake GitHub.
#![allow(clippy::unwrap_used)] // test support code outside #[test] fns

mod cost;
mod selfexclusion;
mod snapshots;
mod tokens;

use std::time::Duration;

use relay_fakes::CheckScript;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub, Fault, RunScript};
use relay_testkit::openapi::OpenApi;
use relay_testkit::{ActionRun, Outcome, events};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_verify-ci-status");
/// The runner's own repository and sha (the harness's defaults).
pub const OWN: &str = "octo/app";
pub const OWN_SHA: &str = "1111111111111111111111111111111111111111";
pub const OWN_RUN: u64 = 4242;
pub const SOURCE: &str = "xtp-tour/xtp-tour";
pub const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";

pub fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo(OWN, "main");
    gh.repo(SOURCE, "main");
    gh
}

/// Verifies `SOURCE@SHA` with short intervals; the token is set and debug
/// is on, so every test also checks that the token never leaks.
pub fn action(gh: &FakeGitHub) -> ActionRun {
    ActionRun::new(BIN)
        .api(gh.url())
        .input("github-token", DEFAULT_TOKEN)
        .input("repository", SOURCE)
        .input("sha", SHA)
        .input("interval", "50ms")
        .input("timeout", "2s")
        .input("discovery-timeout", "1s")
        .env("RUNNER_DEBUG", "1")
}

pub fn run(a: ActionRun) -> Outcome {
    let out = a.run();
    out.assert_secret_hidden(DEFAULT_TOKEN);
    out
}

pub fn checks_output(out: &Outcome) -> Vec<Value> {
    serde_json::from_str(out.output("checks")).unwrap()
}

fn check_run_lists(gh: &FakeGitHub) -> usize {
    gh.requests()
        .iter()
        .filter(|r| r.path.ends_with("/check-runs"))
        .count()
}

#[test]
fn all_green_after_a_few_polls_passes() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::after("build", 2, "success"));
    gh.check_run(
        SOURCE,
        SHA,
        CheckScript::after("test (ubuntu-latest)", 3, "success"),
    );
    gh.commit_status(SOURCE, SHA, CheckScript::after("ci/jenkins", 1, "success"));
    let out = run(action(&gh));
    out.assert_success();
    assert_eq!(out.output("state"), "success");
    assert_eq!(out.output("failed"), "");
    let checks = checks_output(&out);
    assert_eq!(checks.len(), 3);
    assert!(
        checks.iter().all(|c| c["conclusion"] == "success"),
        "{checks:?}"
    );
    assert!(
        checks
            .iter()
            .any(|c| c["kind"] == "status" && c["name"] == "ci/jenkins")
    );
    assert!(gh.check_run_polls(SOURCE, SHA) >= 4);
    let summary = &out.summary;
    assert!(
        summary.contains("| `build` | check run | `completed` | `success` |"),
        "{summary}"
    );
    assert!(out.log().contains("answered 304"), "{}", out.log());
}

#[test]
fn one_red_among_150_over_two_pages_fails_on_first_sight() {
    let gh = fake();
    // Added first, so listed last (GitHub lists newest first): page two.
    let id = gh.check_run(SOURCE, SHA, CheckScript::done("lint", "failure"));
    for i in 0..149 {
        gh.check_run(SOURCE, SHA, CheckScript::pending(&format!("job {i:03}")));
    }
    let out = run(action(&gh).input("timeout", "30s"));
    out.assert_failure();
    assert_eq!(out.output("state"), "failure");
    assert_eq!(out.output("failed"), "lint");
    let error = out.error();
    assert!(error.contains("`lint` concluded `failure`"), "{error}");
    assert!(
        error.contains(&format!("/runs/{id}")),
        "links the check: {error}"
    );
    assert_eq!(
        gh.check_run_polls(SOURCE, SHA),
        1,
        "decided on the first look"
    );
    assert_eq!(check_run_lists(&gh), 2, "both pages read once");
    assert_eq!(checks_output(&out).len(), 150);
}

#[test]
fn a_required_check_that_never_appears_fails_at_discovery_timeout_with_its_name() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    let out = run(action(&gh)
        .input("checks", "build\ne2e-*")
        .input("discovery-timeout", "300ms"));
    out.assert_failure();
    assert_eq!(out.output("state"), "failure");
    assert_eq!(out.output("failed"), "e2e-*");
    let error = out.error();
    assert!(
        error.contains("never appeared") && error.contains("e2e-*"),
        "{error}"
    );
    assert!(out.elapsed >= Duration::from_millis(300));
    assert!(
        gh.check_run_polls(SOURCE, SHA) >= 2,
        "it kept looking until discovery-timeout"
    );
}

#[test]
fn a_required_check_that_appears_late_is_waited_for() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.check_run(
        SOURCE,
        SHA,
        CheckScript::after("e2e-chrome", 4, "success").appears_at(2),
    );
    let out = run(action(&gh).input("checks", "build\ne2e-*"));
    out.assert_success();
    assert_eq!(checks_output(&out).len(), 2);
}

#[test]
fn pending_forever_is_a_timeout_failure_never_a_pass() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.check_run(SOURCE, SHA, CheckScript::pending("deploy-preview"));
    let out = run(action(&gh).input("timeout", "500ms"));
    out.assert_failure();
    assert_eq!(out.output("state"), "timeout");
    assert_eq!(out.output("failed"), "deploy-preview");
    assert!(
        out.error().contains("not decided within timeout"),
        "{}",
        out.error()
    );
    assert!(out.elapsed >= Duration::from_millis(500));
}

#[test]
fn without_wait_one_look_decides_and_pending_is_a_timeout() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::pending("build"));
    let out = run(action(&gh).input("wait", "false"));
    out.assert_failure();
    assert_eq!(out.output("state"), "timeout");
    assert_eq!(gh.check_run_polls(SOURCE, SHA), 1);
}

#[test]
fn a_rerun_whose_newest_attempt_passed_passes() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("test", "failure"));
    // The re-run is in a new check suite, so even `filter=latest` lists
    // both; the newest decides.
    gh.check_run(
        SOURCE,
        SHA,
        CheckScript::after("test", 2, "success").suite(2),
    );
    let out = run(action(&gh));
    out.assert_success();
    let checks = checks_output(&out);
    assert_eq!(checks.len(), 1, "one per name: {checks:?}");
    assert_eq!(checks[0]["conclusion"], "success");
}

#[test]
fn a_rerun_that_failed_after_a_pass_fails() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("test", "success"));
    gh.check_run(SOURCE, SHA, CheckScript::done("test", "failure").suite(2));
    let out = run(action(&gh));
    out.assert_failure();
    assert_eq!(out.output("failed"), "test");
}

#[test]
fn neutral_and_skipped_pass_by_default_and_fail_when_not_allowed() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.check_run(SOURCE, SHA, CheckScript::done("optional-lint", "neutral"));
    gh.check_run(SOURCE, SHA, CheckScript::done("deploy-docs", "skipped"));
    run(action(&gh)).assert_success();
    let out = run(action(&gh).input("allowed-conclusions", "success,neutral"));
    out.assert_failure();
    assert_eq!(out.output("failed"), "deploy-docs");
    assert!(
        out.error().contains("concluded `skipped`"),
        "{}",
        out.error()
    );
}

#[test]
fn cancelled_fails_and_ignore_globs_leave_checks_out() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.check_run(
        SOURCE,
        SHA,
        CheckScript::done("flaky / nightly", "cancelled"),
    );
    run(action(&gh)).assert_failure();
    let out = run(action(&gh).input("ignore", "flaky / *"));
    out.assert_success();
    assert_eq!(
        checks_output(&out).len(),
        2,
        "ignored checks are still reported"
    );
}

#[test]
fn statuses_only_in_a_repo_without_actions() {
    let gh = fake();
    gh.commit_status(
        SOURCE,
        SHA,
        CheckScript::after("ci/circleci: build", 2, "success"),
    );
    gh.commit_status(SOURCE, SHA, CheckScript::done("security/snyk", "success"));
    let out = run(action(&gh));
    out.assert_success();
    let checks = checks_output(&out);
    assert_eq!(checks.len(), 2);
    assert!(checks.iter().all(|c| c["kind"] == "status"));

    let gh = fake();
    gh.commit_status(
        SOURCE,
        SHA,
        CheckScript::done("ci/circleci: build", "error"),
    );
    let out = run(action(&gh));
    out.assert_failure();
    assert_eq!(out.output("failed"), "ci/circleci: build");
    assert!(
        out.error()
            .contains("status `ci/circleci: build` concluded `error`"),
        "{}",
        out.error()
    );
}

#[test]
fn our_own_deploy_status_never_counts() {
    // A failed deploy of this commit left `deploy/production` failed on it;
    // deploying it again is not refused for that.
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.commit_status(
        SOURCE,
        SHA,
        CheckScript::done("deploy/production", "failure"),
    );
    gh.commit_status(SOURCE, SHA, CheckScript::done("deploy/staging", "pending"));
    let out = run(action(&gh));
    out.assert_success();
    let checks = checks_output(&out);
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0]["name"], "build");
    // Not even when named: it is a deploy's outcome, not CI.
    let out = run(action(&gh)
        .input("checks", "build\ndeploy/*")
        .input("discovery-timeout", "200ms"));
    out.assert_failure();
    assert!(out.error().contains("deploy/*"), "{}", out.error());
    // Someone else's context that merely starts alike still counts.
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.commit_status(
        SOURCE,
        SHA,
        CheckScript::done("deployment-check", "failure"),
    );
    run(action(&gh)).assert_failure();
}

#[test]
fn include_statuses_false_reads_no_statuses() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.commit_status(SOURCE, SHA, CheckScript::done("legacy", "failure"));
    run(action(&gh).input("include-statuses", "false")).assert_success();
    assert!(!gh.requests().iter().any(|r| r.path.ends_with("/status")));
}

#[test]
fn no_checks_at_all_fails_unless_allow_empty() {
    let gh = fake();
    let out = run(action(&gh).input("discovery-timeout", "200ms"));
    out.assert_failure();
    assert!(
        out.error().contains("no checks or statuses"),
        "{}",
        out.error()
    );
    assert!(out.error().contains("allow-empty"), "{}", out.error());
    let out = run(action(&gh)
        .input("discovery-timeout", "200ms")
        .input("allow-empty", "true"));
    out.assert_success();
    assert_eq!(out.output("state"), "success");
}

#[test]
fn forbidden_statuses_name_the_permission_and_repo() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.fault(
        "GET",
        &format!("/repos/{SOURCE}/commits/{SHA}/status"),
        [Fault::status(403).body(r#"{"message":"Resource not accessible by integration"}"#)],
    );
    let out = run(action(&gh));
    out.assert_failure();
    let error = out.error();
    assert!(error.contains("statuses: read"), "{error}");
    assert!(error.contains(SOURCE), "{error}");
}

#[test]
fn a_hidden_repository_names_checks_read() {
    let gh = fake();
    let out = run(action(&gh).input("repository", "someone/private"));
    out.assert_failure();
    let error = out.error();
    assert!(
        error.contains("checks: read") && error.contains("someone/private"),
        "{error}"
    );
}

#[test]
fn rate_limited_mid_poll_waits_and_continues() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::after("build", 6, "success"));
    let path = format!("/repos/{SOURCE}/commits/{SHA}/check-runs");
    let out = std::thread::scope(|s| {
        let running = s.spawn(|| run(action(&gh).input("timeout", "20s")));
        // Once two polls went through, the next one is answered 429.
        while gh.check_run_polls(SOURCE, SHA) < 2 {
            std::thread::sleep(Duration::from_millis(5));
        }
        gh.fault("GET", &path, [Fault::too_many(1)]);
        running.join().unwrap()
    });
    out.assert_success();
    let statuses: Vec<u16> = gh
        .requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.status)
        .collect();
    let at = statuses
        .iter()
        .position(|s| *s == 429)
        .expect("a 429 was served");
    assert!(at >= 2, "{statuses:?}");
    assert!(
        statuses[at + 1..].len() >= 2,
        "polling went on: {statuses:?}"
    );
    assert!(
        out.commands("warning")
            .iter()
            .any(|w| w.contains("429") || w.contains("rate")),
        "{}",
        out.log()
    );
}

#[test]
fn named_workflows_must_have_succeeded_for_the_sha() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.add_run(
        SOURCE,
        "push",
        "CI",
        RunScript::succeeds_after(0).head_sha(SHA),
    );
    gh.add_run(SOURCE, "push", "CI", RunScript::ends(0, "failure"));
    let out = run(action(&gh).input("workflows", "Deploy"));
    out.assert_success();
    assert!(checks_output(&out).iter().any(|c| c["kind"] == "workflow"));

    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.add_run(
        SOURCE,
        "push",
        "CI",
        RunScript::ends(0, "failure").head_sha(SHA),
    );
    let out = run(action(&gh).input("workflows", "Deploy"));
    out.assert_failure();
    assert!(
        out.error()
            .contains("workflow `Deploy` concluded `failure`"),
        "{}",
        out.error()
    );
}

#[test]
fn defaults_come_from_repository_dispatch_client_payload() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    let out = run(ActionRun::new(BIN)
        .api(gh.url())
        .input("github-token", DEFAULT_TOKEN)
        .input("interval", "50ms")
        .env("RUNNER_DEBUG", "1")
        .event(
            "repository_dispatch",
            events::repository_dispatch("deploy", json!({"repository": SOURCE, "sha": SHA})),
        ));
    out.assert_success();
    assert!(gh.requests().iter().all(|r| r.path.contains(SHA)));
}

#[test]
fn defaults_come_from_workflow_run_and_pull_request_head() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    let out = run(ActionRun::new(BIN)
        .api(gh.url())
        .input("github-token", DEFAULT_TOKEN)
        .env("RUNNER_DEBUG", "1")
        .event(
            "workflow_run",
            events::workflow_run(SOURCE, SHA, "main", 77, "success"),
        ));
    out.assert_success();

    let head = "2222222222222222222222222222222222222222";
    gh.check_run(OWN, head, CheckScript::done("build", "success"));
    let mut pr = events::example("pull_request", "opened").unwrap();
    pr["pull_request"]["head"]["sha"] = json!(head);
    let out = run(ActionRun::new(BIN)
        .api(gh.url())
        .input("github-token", DEFAULT_TOKEN)
        .env("RUNNER_DEBUG", "1")
        .event("pull_request", pr));
    out.assert_success();
    assert!(
        gh.requests()
            .iter()
            .any(|r| r.path == format!("/repos/{OWN}/commits/{head}/check-runs"))
    );
}

#[test]
fn bad_input_fails_before_any_request() {
    let gh = fake();
    for (name, value) in [
        ("allowed-conclusions", "success,green"),
        ("interval", "soon"),
        ("checks", "build[\n"),
        ("wait", "yes"),
        ("repository", "not-a-repo"),
    ] {
        let out = run(action(&gh).input(name, value));
        out.assert_failure();
        assert!(out.error().contains(name), "{name}: {}", out.error());
    }
    assert!(gh.requests().is_empty());
}

#[test]
fn every_request_matches_githubs_openapi_description() {
    let Some(api) = OpenApi::load() else { return };
    let gh = fake();
    for i in 0..120 {
        gh.check_run(
            SOURCE,
            SHA,
            CheckScript::after(&format!("job {i}"), 2, "success"),
        );
    }
    gh.commit_status(SOURCE, SHA, CheckScript::done("ci", "success"));
    gh.add_run(
        SOURCE,
        "push",
        "CI",
        RunScript::succeeds_after(0).head_sha(SHA),
    );
    run(action(&gh).input("workflows", "Deploy")).assert_success();
    let requests = gh.requests();
    assert!(requests.len() >= 6, "{requests:?}");
    for r in &requests {
        api.validate(r).unwrap_or_else(|e| panic!("{e}"));
    }
}
