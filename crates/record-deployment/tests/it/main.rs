//! record-deployment run as the runner runs it, against the fake GitHub.

mod inputs;
mod tokens;

use relay_fakes::{Access, DEFAULT_TOKEN, FakeGitHub};
use relay_testkit::openapi::OpenApi;
use relay_testkit::{ActionRun, Outcome, events};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_record-deployment");
pub const DEPLOY: &str = "octo/deploy";
pub const APP: &str = "octo/app";
pub const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
pub const D: &str = "dddddddddddddddddddddddddddddddddddddddd";
/// A token for the app repository only, for its commit status.
pub const APP_TOKEN: &str = "github_pat_AppRepoStatusesOnly0123456789";

pub fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo(DEPLOY, "main");
    gh.repo(APP, "main");
    gh.token(APP_TOKEN, Access::Repos(vec![APP.into()]));
    gh
}

/// A run in the deploy repo, debug on, so every test also checks that the
/// tokens never leak, even in debug output.
pub fn action(gh: &FakeGitHub, mode: &str) -> ActionRun {
    ActionRun::new(BIN)
        .api(gh.url())
        .env("GITHUB_REPOSITORY", DEPLOY)
        .env("RUNNER_DEBUG", "1")
        .input("github-token", DEFAULT_TOKEN)
        .input("mode", mode)
}

pub fn run(a: ActionRun) -> Outcome {
    let out = a.run();
    out.assert_secret_hidden(DEFAULT_TOKEN);
    out.assert_secret_hidden(APP_TOKEN);
    out
}

/// The deploy repo's run for a dispatch of `sha`, as dispatch-deploy sends it.
fn dispatched(sha: &str) -> Value {
    events::repository_dispatch(
        "deploy",
        json!({"repository": APP, "ref": "main", "sha": sha, "environment": "staging", "dispatch_id": format!("id-{}", &sha[..1])}),
    )
}

fn start(gh: &FakeGitHub, sha: &str) -> Outcome {
    let out = run(action(gh, "start")
        .event("repository_dispatch", dispatched(sha))
        .input("environment", "staging")
        .input("images", "api_image=ghcr.io/{repository}/api:{short_sha}")
        .input("environment-url", "https://staging.example.com"));
    out.assert_success();
    out
}

fn finish(gh: &FakeGitHub, id: &str, state: &str) -> Outcome {
    let out = run(action(gh, "finish")
        .input("deployment-id", id)
        .input("state", state)
        .input("environment", "staging"));
    out.assert_success();
    out
}

#[test]
fn start_records_in_progress_from_the_dispatch() {
    let gh = fake();
    let out = start(&gh, A);
    let id: u64 = out.output("deployment-id").parse().unwrap();
    assert_eq!(out.output("state"), "in_progress");
    assert_eq!(out.output("environment"), "staging");
    assert_eq!(out.output("sha"), A);
    assert_eq!(
        out.output("previous-sha"),
        "",
        "the first deploy has nothing before it"
    );
    assert_eq!(out.output("previous-images"), "");
    assert_eq!(
        out.output("images"),
        "api_image=ghcr.io/octo/app/api:aaaaaaa"
    );
    assert_eq!(gh.deployment_states(id), ["in_progress"]);
    let d = &gh.deployments(DEPLOY)[0];
    assert_eq!(
        (d["task"].as_str(), d["environment"].as_str()),
        (Some("deploy-relay"), Some("staging"))
    );
    assert_eq!(
        d["ref"], "1111111111111111111111111111111111111111",
        "the deploy repo's GITHUB_SHA"
    );
    assert_eq!(
        d["payload"],
        json!({"repository": APP, "sha": A, "images": {"api_image": "ghcr.io/octo/app/api:aaaaaaa"}, "dispatch_id": "id-a", "rollback": false, "reason": "", "provenance": null})
    );
    let status = gh
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/statuses"))
        .and_then(|r| r.body)
        .unwrap();
    assert_eq!(
        status["log_url"], "https://github.com/octo/deploy/actions/runs/4242",
        "this run"
    );
    assert_eq!(status["environment_url"], "https://staging.example.com");
    for row in [
        "| Images | `api_image=ghcr.io/octo/app/api:aaaaaaa` |",
        "| State | `in_progress` |",
        "| Previous good | none: nothing to roll back to |",
        "| Log | [this run](https://github.com/octo/deploy/actions/runs/4242) |",
    ] {
        assert!(out.summary.contains(row), "{row}\n{}", out.summary);
    }
}

#[test]
fn finish_sets_the_outcome_and_a_failure_names_the_earlier_good_sha() {
    let gh = fake();
    let a = start(&gh, A);
    let a_id = a.output("deployment-id").to_owned();
    let done = finish(&gh, &a_id, "success");
    assert_eq!((done.output("state"), done.output("sha")), ("success", A));
    assert_eq!(
        gh.deployment_states(a_id.parse().unwrap()),
        ["in_progress", "success"]
    );
    // GitHub's own deployment of an `environment: staging` job, newer, of another sha.
    gh.environment_job(DEPLOY, "staging", D, "success");
    let b = start(&gh, B);
    assert_eq!(
        b.output("previous-sha"),
        A,
        "the rollback target before B deploys"
    );
    assert_eq!(b.output("previous-deployment-id"), a_id);
    assert_eq!(
        b.output("previous-images"),
        "api_image=ghcr.io/octo/app/api:aaaaaaa",
        "lines, as every `images` input takes them: what a rollback deploys"
    );
    let b_id = b.output("deployment-id").to_owned();
    finish(&gh, &b_id, "success");
    let failed = finish(&gh, &b_id, "failure");
    assert_eq!(
        failed.output("previous-sha"),
        A,
        "not the failed B, not GitHub's D"
    );
    assert_eq!(
        gh.deployment_states(b_id.parse().unwrap()),
        ["in_progress", "success", "failure"]
    );
    assert_eq!(
        gh.deployment_states(a_id.parse().unwrap()),
        ["in_progress", "success", "inactive"],
        "staging: GitHub marked A inactive when a newer one succeeded"
    );
    assert!(
        failed.summary.contains("failure") && failed.summary.contains(&format!("`{A}`")),
        "{}",
        failed.summary
    );
    // The manual rollback's `previous` target is the same sha.
    let prev = run(action(&gh, "previous").input("environment", "staging"));
    prev.assert_success();
    assert_eq!((prev.output("previous-sha"), prev.output("sha")), (A, B));
    assert_eq!(prev.output("deployment-id"), "");
    // The rollback is a deployment of its own.
    let rollback = run(action(&gh, "start")
        .input("environment", "staging")
        .input("app-repository", APP)
        .input("sha", A)
        .input("rollback", "true")
        .input("reason", "health window failed for bbbbbbb"));
    rollback.assert_success();
    let r_id = rollback.output("deployment-id").to_owned();
    assert!(![a_id.as_str(), b_id.as_str()].contains(&r_id.as_str()));
    assert!(
        rollback.summary.contains("Rollback recorded"),
        "{}",
        rollback.summary
    );
    finish(&gh, &r_id, "success");
    let d = gh
        .deployments(DEPLOY)
        .into_iter()
        .find(|d| d["id"].as_u64() == r_id.parse().ok())
        .unwrap();
    assert_eq!(
        (&d["payload"]["rollback"], &d["payload"]["sha"]),
        (&json!(true), &json!(A))
    );
    assert_eq!(d["payload"]["reason"], "health window failed for bbbbbbb");
    // Now A runs again and no other sha was ever good: `previous` says so.
    let none = run(action(&gh, "previous").input("environment", "staging"));
    none.assert_failure();
    assert!(
        none.error().contains("for a sha other than"),
        "{}",
        none.error()
    );
    // Named explicitly, the sha being replaced can be short.
    let explicit = run(action(&gh, "previous")
        .input("environment", "staging")
        .input("sha", &B[..7]));
    explicit.assert_success();
    assert_eq!(explicit.output("previous-sha"), A);
    assert_eq!(
        explicit.output("previous-deployment-id"),
        r_id,
        "the newest good record of A"
    );
}

#[test]
fn the_app_commit_gets_its_deploy_status_when_given_a_token() {
    let gh = fake();
    let a = run(action(&gh, "start")
        .event("repository_dispatch", dispatched(A))
        .input("environment", "staging")
        .input("app-token", APP_TOKEN));
    a.assert_success();
    finish_with(&gh, a.output("deployment-id"), "success", APP_TOKEN).assert_success();
    let statuses = gh.created_statuses(APP, A);
    let seen: Vec<(&str, &str)> = statuses
        .iter()
        .map(|s| (s["context"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [("deploy/staging", "pending"), ("deploy/staging", "success")]
    );
    assert_eq!(
        statuses[1]["target_url"],
        "https://github.com/octo/deploy/actions/runs/4242"
    );
    // Without it, nothing is set on the app repository.
    let b = start(&gh, B);
    finish(&gh, b.output("deployment-id"), "success");
    assert!(gh.created_statuses(APP, B).is_empty());
    // A refused status is a warning: the deploy is recorded all the same.
    let c = start(&gh, B);
    let refused = finish_with(
        &gh,
        c.output("deployment-id"),
        "failure",
        "ghp_unknown_token_abc",
    );
    refused.assert_success();
    refused.assert_secret_hidden("ghp_unknown_token_abc");
    let warnings = refused.commands("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("the app commit's status was not set") && w.contains("401")),
        "{warnings:?}"
    );
    assert_eq!(refused.output("state"), "failure");
}

fn finish_with(gh: &FakeGitHub, id: &str, state: &str, app_token: &str) -> Outcome {
    run(action(gh, "finish")
        .input("deployment-id", id)
        .input("state", state)
        .input("app-token", app_token))
}

#[test]
fn a_token_that_cannot_write_deployments_is_told_what_it_lacks() {
    let gh = fake();
    gh.token("ghs_reader", Access::ReadOnly(vec![DEPLOY.into()]));
    let out = run(action(&gh, "start")
        .event("repository_dispatch", dispatched(A))
        .input("environment", "staging")
        .input("github-token", "ghs_reader"));
    out.assert_failure().assert_secret_hidden("ghs_reader");
    let e = out.error();
    assert!(
        e.contains(
            "couldn't create a deployment to `staging` in `octo/deploy`: GitHub answered 403"
        ),
        "{e}"
    );
    assert!(e.contains("deployments: write"), "{e}");
}

#[test]
fn finishing_a_deployment_of_another_task_is_refused() {
    let gh = fake();
    let theirs = gh.environment_job(DEPLOY, "production", A, "success");
    let out = run(action(&gh, "finish")
        .input("deployment-id", &theirs.to_string())
        .input("state", "failure"));
    out.assert_failure();
    assert!(
        out.error()
            .contains("is not a deploy-relay record (task `deploy`)"),
        "{}",
        out.error()
    );
    assert_eq!(
        gh.deployment_states(theirs),
        ["queued", "in_progress", "success"]
    );
}

#[test]
fn every_request_matches_githubs_openapi_description() {
    let Some(api) = OpenApi::load() else { return };
    let gh = fake();
    let a = run(action(&gh, "start")
        .event("repository_dispatch", dispatched(A))
        .input("environment", "production")
        .input("production-environment", "true")
        .input("app-token", APP_TOKEN));
    a.assert_success();
    finish_with(&gh, a.output("deployment-id"), "success", APP_TOKEN).assert_success();
    run(action(&gh, "previous")
        .input("environment", "production")
        .input("sha", B))
    .assert_success();
    let requests = gh.requests();
    assert!(requests.len() >= 8, "{requests:?}");
    for r in &requests {
        api.validate(r).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn what_records_hold_is_shown_as_code_and_output_as_data() {
    let gh = fake();
    let a = start(&gh, A);
    finish(&gh, a.output("deployment-id"), "success");
    // Anyone with `deployments: write` can write a record-shaped payload;
    // the action itself refuses to record an image that is no reference.
    let refused = run(action(&gh, "start")
        .input("environment", "staging")
        .input("app-repository", APP)
        .input("sha", B)
        .input("images", "web=::error::forged"));
    refused.assert_failure();
    gh.seed_record(
        DEPLOY,
        "staging",
        json!({"repository": APP, "sha": B, "images": {
            "api": "<img src=x onerror=alert(1)> @admin | `x`", "web": "::error::forged"}}),
        &["in_progress", "success"],
    );
    let out = run(action(&gh, "previous")
        .input("environment", "staging")
        .input("sha", D));
    out.assert_success();
    assert_eq!(out.output("previous-sha"), B);
    assert!(
        out.output("previous-images")
            .lines()
            .any(|l| l == "web=::error::forged"),
        "outputs carry it as data: {}",
        out.output("previous-images")
    );
    assert!(out.errors().is_empty(), "{}", out.log());
    let cell = "`` api=<img src=x onerror=alert(1)> @admin \\| `x` ``<br>`web=::error::forged`";
    assert!(out.summary.contains(cell), "{}", out.summary);
}

#[test]
fn help_lists_every_input_with_its_default() {
    let out = ActionRun::new(BIN).arg("--help").run();
    assert_eq!(out.code, 0);
    let flat: String = out.stdout.split_whitespace().collect();
    for input in record_deployment::SPEC.inputs {
        assert!(
            out.stdout.contains(&format!("--{} <VALUE>", input.name)),
            "--help lacks {}",
            input.name
        );
        if let Some(d) = input.default_text() {
            let d: String = d.split_whitespace().collect();
            assert!(
                flat.contains(&format!("[default:{d}]")),
                "--help lacks the default of {}",
                input.name
            );
        }
    }
}

#[test]
fn on_the_command_line_flags_work_and_outputs_are_printed() {
    let gh = fake();
    let a = start(&gh, A);
    finish(&gh, a.output("deployment-id"), "success");
    let out = ActionRun::new(BIN)
        .api(gh.url())
        .without_env("GITHUB_ACTIONS")
        .env("GITHUB_TOKEN", DEFAULT_TOKEN)
        .without_output_file()
        .arg("--mode")
        .arg("previous")
        .arg("--deploy-repository")
        .arg(DEPLOY)
        .arg("--environment")
        .arg("staging")
        .arg("--sha")
        .arg(B)
        .run();
    out.assert_success().assert_secret_hidden(DEFAULT_TOKEN);
    assert!(
        out.stdout.contains(&format!("previous-sha={A}")),
        "{}",
        out.stdout
    );
}

#[test]
fn finishing_another_environments_record_is_refused() {
    let gh = fake();
    let a = start(&gh, A);
    let id = a.output("deployment-id").to_owned();
    let out = run(action(&gh, "finish")
        .input("deployment-id", &id)
        .input("state", "success")
        .input("environment", "production"));
    out.assert_failure();
    assert!(
        out.error().contains(&format!(
            "deployment {id} of `octo/deploy` is a deploy to `staging`, not `production`"
        )),
        "{}",
        out.error()
    );
    assert_eq!(
        gh.deployment_states(id.parse().unwrap()),
        ["in_progress"],
        "left alone"
    );
}

fn check(gh: &FakeGitHub, environment: &str) -> ActionRun {
    action(gh, "check")
        .input("environment", environment)
        .input("app-repository", APP)
        .input("sha", A)
        .input("images", "image=ghcr.io/octo/app/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
}

#[test]
fn check_changes_nothing_and_warns_loudly_about_an_unprotected_production() {
    let gh = fake();
    // Production does not exist yet: GitHub would create it unprotected.
    let out = run(check(&gh, "production"));
    out.assert_success();
    assert_eq!(out.output("protected"), "false");
    assert_eq!(out.output("sha"), A);
    assert!(
        out.output("images")
            .starts_with("image=ghcr.io/octo/app/api@sha256:")
    );
    let warnings = out.commands("warning");
    assert_eq!(warnings.len(), 1, "{}", out.log());
    assert!(
        warnings[0].contains("does not exist in `octo/deploy` yet"),
        "{warnings:?}"
    );
    assert!(
        out.log()
            .contains("::warning title=Unprotected environment::"),
        "an annotation with a title: {}",
        out.log()
    );
    assert!(out.summary.contains("[!WARNING]"), "{}", out.summary);
    // Nothing was written: only the environment was read.
    assert!(
        gh.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        gh.requests()
    );
    assert!(gh.deployments(DEPLOY).is_empty() && gh.environments(DEPLOY).is_empty());
    // Created but unprotected: still a warning; refused when required.
    gh.environment(DEPLOY, "production", &[]);
    let out = run(check(&gh, "production"));
    out.assert_success();
    assert!(out.commands("warning")[0].contains("has no protection rule"));
    let refused = run(check(&gh, "production").input("require-protection", "true"));
    refused.assert_failure();
    assert!(
        refused
            .error()
            .contains("`require-protection` is true, so nothing was deployed")
            && refused.error().contains("hint:"),
        "{}",
        refused.error()
    );
    // Protected: no warning.
    gh.environment(DEPLOY, "production", &["octocat"]);
    let out = run(check(&gh, "production").input("require-protection", "true"));
    out.assert_success();
    assert_eq!(out.output("protected"), "true");
    assert!(out.commands("warning").is_empty(), "{}", out.log());
    assert!(
        out.summary.contains("`required_reviewers`"),
        "{}",
        out.summary
    );
    // Staging is not in `protected-environments` by default: no warning.
    let out = run(check(&gh, "staging"));
    out.assert_success();
    assert!(out.commands("warning").is_empty(), "{}", out.log());
    let out = run(check(&gh, "staging").input("protected-environments", "staging, production"));
    assert_eq!(out.commands("warning").len(), 1, "{}", out.log());
    if let Some(api) = OpenApi::load() {
        for r in gh.requests() {
            api.validate(&r).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn a_cancelled_deploy_is_an_error_that_neither_qualifies_nor_fails_a_sha() {
    let gh = fake();
    let a = start(&gh, A);
    finish(&gh, a.output("deployment-id"), "success");
    let b = start(&gh, B);
    let b_id = b.output("deployment-id").to_owned();
    let out = run(action(&gh, "finish")
        .input("deployment-id", &b_id)
        .input("state", "cancelled")
        .input("app-token", APP_TOKEN));
    out.assert_success();
    assert_eq!(out.output("state"), "error");
    assert!(out.summary.contains("cancelled"), "{}", out.summary);
    assert_eq!(
        gh.deployment_states(b_id.parse().unwrap()),
        ["in_progress", "error"]
    );
    let status = gh
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with(&format!("/deployments/{b_id}/statuses")) && r.method == "POST")
        .and_then(|r| r.body)
        .unwrap();
    assert_eq!(
        status["description"],
        "Deploy of bbbbbbb of octo/app was cancelled"
    );
    let commit = gh.created_statuses(APP, B).pop().unwrap();
    assert_eq!(
        (commit["state"].as_str(), commit["description"].as_str()),
        (Some("error"), Some("Deploy to staging was cancelled"))
    );
    // A stays the previous good of B, and B is no rollback target.
    let prev = run(action(&gh, "previous")
        .input("environment", "staging")
        .input("sha", D));
    assert_eq!(prev.output("previous-sha"), A);
}

#[test]
fn the_issue_a_rollback_answers_is_told_how_it_ended() {
    let gh = fake();
    let number = gh.issue(
        DEPLOY,
        "Health check failed: staging at bbbbbbb",
        "window failed",
        &["deploy-health"],
    );
    let a = start(&gh, A);
    finish(&gh, a.output("deployment-id"), "success");
    let rollback = run(action(&gh, "start")
        .input("environment", "staging")
        .input("app-repository", APP)
        .input("sha", A)
        .input("images", "api_image=ghcr.io/octo/app/api:aaaaaaa")
        .input("rollback", "true")
        .input("reason", "the health window of bbbbbbb failed"));
    let id = rollback.output("deployment-id").to_owned();
    let out = run(action(&gh, "finish")
        .input("deployment-id", &id)
        .input("state", "success")
        .input(
            "issue",
            &format!("https://github.com/{DEPLOY}/issues/{number}"),
        ));
    out.assert_success();
    let comments = gh.issue_comments(DEPLOY, number);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].starts_with("Rolled back: `staging` runs `aaaaaaa` again"),
        "{comments:?}"
    );
    // A failed rollback says so; a missing issue is a warning, never a failure.
    let out = run(action(&gh, "finish")
        .input("deployment-id", &id)
        .input("state", "failure")
        .input("issue", &number.to_string()));
    out.assert_success();
    assert!(gh.issue_comments(DEPLOY, number)[1].contains("ended `failure`"));
    let out = run(action(&gh, "finish")
        .input("deployment-id", &id)
        .input("state", "failure")
        .input("issue", "99"));
    out.assert_success();
    assert!(
        out.commands("warning")[0].contains("issue #99 was not told"),
        "{}",
        out.log()
    );
}

#[test]
fn another_apps_deploy_is_never_the_rollback_target_and_current_is_the_newest_good() {
    let gh = fake();
    let a = start(&gh, A);
    finish(&gh, a.output("deployment-id"), "success");
    // Another app deploys to the same environment since.
    let other = run(action(&gh, "start")
        .input("environment", "staging")
        .input("app-repository", "octo/other")
        .input("sha", D)
        .input("images", "image=ghcr.io/octo/other:ddddddd"));
    finish(&gh, other.output("deployment-id"), "success");
    let b = start(&gh, B);
    assert_eq!(b.output("previous-sha"), A, "not octo/other's {D}");
    let failed = finish(&gh, b.output("deployment-id"), "failure");
    assert_eq!(failed.output("previous-sha"), A);
    let prev = run(action(&gh, "previous")
        .input("environment", "staging")
        .input("app-repository", APP));
    assert_eq!((prev.output("sha"), prev.output("previous-sha")), (B, A));
    // `current`: what each app runs now, its images included.
    let current = run(action(&gh, "current")
        .input("environment", "staging")
        .input("app-repository", APP));
    current.assert_success();
    assert_eq!(current.output("sha"), A, "B failed; A is the newest good");
    assert_eq!(
        current.output("images"),
        "api_image=ghcr.io/octo/app/api:aaaaaaa"
    );
    let current = run(action(&gh, "current")
        .input("environment", "staging")
        .input("app-repository", "octo/other"));
    assert_eq!(current.output("sha"), D);
    let none = run(action(&gh, "current").input("environment", "production"));
    none.assert_failure();
    assert!(
        none.error().contains("nothing to redeploy"),
        "{}",
        none.error()
    );
}

#[test]
fn the_provenance_report_is_kept_in_the_record_and_shown() {
    let gh = fake();
    let digest = format!("sha256:{}", "ab".repeat(32));
    let report = json!({
        "mode": "require",
        "verified": true,
        "images": [{
            "key": "image",
            "ref": format!("ghcr.io/octo/app/api@{digest}"),
            "digest": digest,
            "verdict": "verified",
            "signer_workflow": "https://github.com/octo/app/.github/workflows/main.yaml@refs/heads/main",
            "source_repository": "https://github.com/octo/app",
            "source_ref": "refs/heads/main",
            "source_commit": A,
            "log_index": 123_456,
            "signed_at": "2026-01-01T00:00:00Z",
            "timestamped": false,
            "root": "embedded: sigstore public-good",
            "reason": null,
        }],
    });
    let out = run(action(&gh, "start")
        .event("repository_dispatch", dispatched(A))
        .input("environment", "staging")
        .input("images", &format!("image=ghcr.io/octo/app/api@{digest}"))
        .input("provenance-report", &report.to_string()));
    out.assert_success();
    assert_eq!(
        gh.deployments(DEPLOY)[0]["payload"]["provenance"],
        report,
        "kept as it is"
    );
    for part in [
        "| Provenance | verified (`require`)<br>`image`: `verified`",
        &format!("digest `{digest}`"),
        "signer `https://github.com/octo/app/.github/workflows/main.yaml@refs/heads/main`",
        "ref `refs/heads/main`",
        "log index `123456`",
    ] {
        assert!(out.summary.contains(part), "{part}\n{}", out.summary);
    }
    // Anything else is an input error, before any request.
    for (bad, why) in [
        ("not json", "is not JSON"),
        (r#"{"mode": "require"}"#, "is not a provenance report"),
        ("[]", "is not a provenance report"),
    ] {
        let gh = fake();
        let out = run(action(&gh, "start")
            .event("repository_dispatch", dispatched(A))
            .input("environment", "staging")
            .input("provenance-report", bad));
        out.assert_failure();
        assert!(
            out.error().contains("input `provenance-report`") && out.error().contains(why),
            "{bad}: {}",
            out.error()
        );
        assert!(gh.deployments(DEPLOY).is_empty(), "nothing recorded");
    }
}
