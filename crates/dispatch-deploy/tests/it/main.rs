//! dispatch-deploy run as the runner runs it, against the fake GitHub.

mod context;
mod snapshots;
mod tokens;
mod wait;

use std::time::Duration;

use relay_fakes::Access;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub, Fault};
use relay_testkit::openapi::OpenApi;
use relay_testkit::{ActionRun, Outcome, events};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_dispatch-deploy");
pub const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
pub const TARGET: &str = "xtp-tour/xtp-tour-deploy";

pub fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo(TARGET, "main");
    gh
}

/// A run with the token set and debug on, so every test also checks that the
/// token never leaks, even in debug output.
pub fn action(gh: &FakeGitHub) -> ActionRun {
    ActionRun::new(BIN)
        .api(gh.url())
        .input("token", DEFAULT_TOKEN)
        .input("deploy-repository", TARGET)
        .env("RUNNER_DEBUG", "1")
}

pub fn run(a: ActionRun) -> Outcome {
    let out = a.run();
    out.assert_secret_hidden(DEFAULT_TOKEN);
    out
}

fn seed_000_event(branch: &str, conclusion: &str) -> Value {
    events::workflow_run("xtp-tour/xtp-tour", SHA, branch, 123456789, conclusion)
}

const SEED_000_IMAGES: &str = "api_image=ghcr.io/{repository}/api:{short_sha}\napi_test_image=ghcr.io/{repository}/api:{sha}-test";

#[test]
fn seed_000_workflow_run_payload_is_exactly_the_documented_shape() {
    let gh = fake();
    let out = run(action(&gh)
        .event("workflow_run", seed_000_event("main", "success"))
        .input("images", SEED_000_IMAGES));
    out.assert_success();
    let sent = gh.dispatches(TARGET);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["event_type"], "deploy");
    let p = sent[0]["client_payload"].as_object().unwrap();
    let keys: Vec<&str> = p.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "repository",
            "ref",
            "sha",
            "workflow_run_id",
            "environment",
            "dispatch_id",
            "api_image",
            "api_test_image"
        ]
    );
    assert_eq!(p["repository"], "xtp-tour/xtp-tour");
    assert_eq!(p["ref"], "main");
    assert_eq!(
        p["sha"], SHA,
        "the workflow_run's head_sha, not the runner's GITHUB_SHA"
    );
    assert_eq!(p["workflow_run_id"], "123456789");
    assert_eq!(p["environment"], "production");
    assert_eq!(p["api_image"], "ghcr.io/xtp-tour/xtp-tour/api:9f86d08");
    assert_eq!(
        p["api_test_image"],
        format!("ghcr.io/xtp-tour/xtp-tour/api:{SHA}-test")
    );
    assert_eq!(out.output("dispatched"), "true");
    assert_eq!(out.output("environment"), "production");
    assert_eq!(
        out.output("dispatch-id"),
        p["dispatch_id"].as_str().unwrap()
    );
    assert_eq!(
        serde_json::from_str::<Value>(out.output("payload")).unwrap(),
        sent[0]["client_payload"]
    );
    assert!(
        out.summary.contains("`xtp-tour/xtp-tour-deploy`")
            && out.summary.contains("repository_dispatch"),
        "{}",
        out.summary
    );
    assert!(
        out.summary.contains("\"api_image\""),
        "the summary shows the payload"
    );
}

#[test]
fn branches_map_to_environments_with_seed_001_defaults() {
    for (branch, env) in [
        ("develop", "staging"),
        ("feature/x", "dev"),
        ("hotfix/y", "production"),
        ("release/2", ""),
    ] {
        let gh = fake();
        let out = run(action(&gh).event("workflow_run", seed_000_event(branch, "success")));
        out.assert_success();
        assert_eq!(
            gh.dispatches(TARGET)[0]["client_payload"]["environment"],
            env,
            "{branch}"
        );
        assert_eq!(out.output("environment"), env);
    }
}

#[test]
fn push_context_and_client_payload_merge_with_user_keys_winning() {
    let gh = fake();
    let out = run(action(&gh)
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_REF_NAME", "develop")
        .input(
            "client-payload",
            r#"{"environment": "qa", "component": "api"}"#,
        )
        .input("event-type", "services-changed"));
    out.assert_success();
    let sent = &gh.dispatches(TARGET)[0];
    assert_eq!(sent["event_type"], "services-changed");
    let p = &sent["client_payload"];
    assert_eq!(
        (
            p["repository"].as_str(),
            p["sha"].as_str(),
            p["ref"].as_str()
        ),
        (Some("octo/app"), Some(SHA), Some("develop"))
    );
    assert_eq!(p["workflow_run_id"], "4242", "this run under push");
    assert_eq!(p["environment"], "qa");
    assert_eq!(p["component"], "api");
}

fn assert_refused_before_sending(gh: &FakeGitHub, out: &Outcome, needle: &str) {
    out.assert_failure();
    assert!(
        out.error().contains(needle),
        "error `{}` lacks `{needle}`",
        out.error()
    );
    assert!(
        gh.requests().is_empty(),
        "nothing may be sent: {:?}",
        gh.requests()
    );
}

#[test]
fn eleven_top_level_keys_fail_listing_them() {
    let gh = fake();
    let extra: serde_json::Map<String, Value> =
        (1..=5).map(|i| (format!("extra{i}"), json!(i))).collect();
    let out = run(action(&gh).input("client-payload", &Value::Object(extra).to_string()));
    assert_refused_before_sending(&gh, &out, "11 top-level keys");
    let e = out.error();
    assert!(
        e.contains("`extra5`") && e.contains("`dispatch_id`") && e.contains("nest"),
        "{e}"
    );
}

#[test]
fn non_object_client_payload_fails() {
    let gh = fake();
    let out = run(action(&gh).input("client-payload", "[1, 2]"));
    assert_refused_before_sending(
        &gh,
        &out,
        "input `client-payload` must be a JSON object, got an array",
    );
}

#[test]
fn malformed_client_payload_fails() {
    let gh = fake();
    let out = run(action(&gh).input("client-payload", "{\"a\": "));
    assert_refused_before_sending(&gh, &out, "input `client-payload` is not valid JSON");
}

#[test]
fn event_type_of_101_characters_fails() {
    let gh = fake();
    let out = run(action(&gh).input("event-type", &"x".repeat(101)));
    assert_refused_before_sending(&gh, &out, "input `event-type` is 101 characters long");
}

#[test]
fn repository_nope_fails() {
    let gh = fake();
    let out = run(action(&gh).input("deploy-repository", "nope"));
    assert_refused_before_sending(
        &gh,
        &out,
        "input `deploy-repository` must be `owner/repo`, got `nope`",
    );
}

#[test]
fn bad_boolean_and_unknown_placeholder_fail_before_sending() {
    let gh = fake();
    let out = run(action(&gh).input("wait", "yes"));
    assert_refused_before_sending(&gh, &out, "input `wait` must be `true` or `false`");
    let out = run(action(&gh).input("images", "api=ghcr.io/{org}/api"));
    assert_refused_before_sending(&gh, &out, "unknown placeholder `{org}`");
}

#[test]
fn failed_workflow_run_is_skipped_with_a_notice() {
    let gh = fake();
    let out = run(action(&gh).event("workflow_run", seed_000_event("main", "failure")));
    out.assert_success();
    assert_eq!(out.output("dispatched"), "false");
    let notices = out.commands("notice");
    assert_eq!(notices.len(), 1, "{}", out.log());
    assert!(notices[0].contains("concluded `failure`"), "{}", notices[0]);
    assert!(gh.requests().is_empty());
}

#[test]
fn failed_workflow_run_is_sent_when_success_is_not_required() {
    let gh = fake();
    let out = run(action(&gh)
        .event("workflow_run", seed_000_event("main", "failure"))
        .input("require-success", "false"));
    out.assert_success();
    assert_eq!(gh.dispatches(TARGET).len(), 1);
}

#[test]
fn dry_run_sends_nothing_and_needs_no_token() {
    let gh = fake();
    let out = run(action(&gh).input("dry-run", "true").input("token", ""));
    out.assert_success();
    assert_eq!(out.output("dispatched"), "false");
    assert!(gh.requests().is_empty());
    assert!(out.summary.contains("Dry run"));
}

#[test]
fn two_503s_then_204_dispatches_once() {
    let gh = fake();
    let path = format!("/repos/{TARGET}/dispatches");
    gh.fault("POST", &path, [Fault::status(503), Fault::status(503)]);
    let out = run(action(&gh));
    out.assert_success();
    assert_eq!(gh.dispatches(TARGET).len(), 1, "dispatched once");
    let statuses: Vec<u16> = gh
        .requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 503, 204]);
    assert_eq!(out.commands("warning").len(), 2, "each retry is logged");
}

#[test]
fn retry_after_is_honoured() {
    let gh = fake();
    gh.fault(
        "POST",
        &format!("/repos/{TARGET}/dispatches"),
        [Fault::too_many(2)],
    );
    let out = run(action(&gh));
    out.assert_success();
    assert!(
        out.elapsed >= Duration::from_secs(2),
        "waited only {:?}",
        out.elapsed
    );
    assert_eq!(gh.dispatches(TARGET).len(), 1);
}

#[test]
fn secondary_rate_limit_403_is_retried() {
    let gh = fake();
    gh.fault(
        "POST",
        &format!("/repos/{TARGET}/dispatches"),
        [Fault::secondary_rate_limit(1)],
    );
    run(action(&gh)).assert_success();
    assert_eq!(gh.dispatches(TARGET).len(), 1);
}

#[test]
fn not_found_names_the_permission_and_token_kind_without_retrying() {
    let gh = fake();
    gh.token(
        "ghs_scopedToAppOnly000000000000000000",
        Access::Repos(vec!["octo/app".into()]),
    );
    let out = run(action(&gh).input("token", "ghs_scopedToAppOnly000000000000000000"));
    out.assert_secret_hidden("ghs_scopedToAppOnly000000000000000000");
    out.assert_failure();
    let e = out.error();
    assert!(
        e.contains("404")
            && e.contains("`contents: write`")
            && e.contains("PAT or GitHub App token"),
        "{e}"
    );
    assert_eq!(gh.requests().len(), 1, "a 404 is not retried");
}

#[test]
fn read_only_github_token_gets_a_permissions_hint() {
    let gh = fake();
    gh.token(
        "ghs_readOnly0000000000000000000000000",
        Access::ReadOnly(vec![TARGET.into()]),
    );
    let out = run(action(&gh)
        .input("token", "ghs_readOnly0000000000000000000000000")
        .env("GITHUB_REPOSITORY", TARGET));
    out.assert_failure();
    assert!(
        out.error().contains("permissions: { contents: write }"),
        "{}",
        out.error()
    );
}

#[test]
fn bad_credentials_say_the_token_was_rejected() {
    let gh = fake();
    let out = run(action(&gh).input("token", "ghp_revoked"));
    out.assert_failure();
    assert!(
        out.error().contains("401") && out.error().contains("rejected"),
        "{}",
        out.error()
    );
    assert!(
        !out.stdout.contains("ghp_revoked")
            || out
                .stdout
                .lines()
                .all(|l| !l.contains("ghp_revoked") || l.starts_with("::add-mask::"))
    );
}

#[test]
fn outputs_go_to_stdout_without_github_output() {
    let gh = fake();
    let out = run(action(&gh).without_output_file());
    out.assert_success();
    assert!(
        out.stdout.lines().any(|l| l == "dispatched=true"),
        "{}",
        out.stdout
    );
}

#[test]
fn flags_work_on_the_command_line() {
    let gh = fake();
    let out = run(ActionRun::new(BIN)
        .api(gh.url())
        .env("GITHUB_TOKEN", DEFAULT_TOKEN)
        .arg("--deploy-repository")
        .arg(TARGET)
        .arg("--event-type")
        .arg("cli"));
    out.assert_success();
    assert_eq!(gh.dispatches(TARGET)[0]["event_type"], "cli");
}

#[test]
fn help_lists_every_input_with_its_default() {
    let out = ActionRun::new(BIN).arg("--help").run();
    assert_eq!(out.code, 0);
    let flat: String = out.stdout.split_whitespace().collect();
    for input in dispatch_deploy::SPEC.inputs {
        assert!(
            out.stdout.contains(&format!("--{} <VALUE>", input.name)),
            "--help lacks {}",
            input.name
        );
        if let Some(d) = input.default_text() {
            let d: String = d.replace('\n', "; ").split_whitespace().collect();
            assert!(
                flat.contains(&format!("[default:{d}]")),
                "--help lacks the default of {}",
                input.name
            );
        }
    }
}

#[test]
fn every_request_matches_githubs_openapi_description() {
    let Some(api) = OpenApi::load() else { return };
    let gh = fake();
    gh.workflow(TARGET, "deploy.yml", "Deploy", None);
    gh.on_dispatch(TARGET, relay_fakes::RunScript::succeeds_after(1));
    run(action(&gh)
        .event("workflow_run", seed_000_event("main", "success"))
        .input("images", SEED_000_IMAGES)
        .input("wait", "true")
        .input("wait-interval", "50ms"))
    .assert_success();
    run(action(&gh)
        .input("workflow", "deploy.yml")
        .input("wait", "true")
        .input("wait-interval", "50ms"))
    .assert_success();
    let requests = gh.requests();
    assert!(requests.len() >= 5, "{requests:?}");
    for r in &requests {
        api.validate(r).unwrap_or_else(|e| panic!("{e}"));
    }
    // The fake's run-details answer has GitHub's documented shape too.
    let schema = api
        .response_schema(
            "POST",
            &format!("/repos/{TARGET}/actions/workflows/deploy.yml/dispatches"),
            200,
        )
        .unwrap();
    let details = json!({"workflow_run_id": 1, "run_url": "https://api.github.com/x", "html_url": "https://github.com/x"});
    assert!(
        jsonschema::validator_for(schema)
            .unwrap()
            .is_valid(&details)
    );
    // A payload over GitHub's documented limit is caught by the schema too.
    let mut bad = requests
        .iter()
        .find(|r| {
            r.path.ends_with("/dispatches")
                && r.body
                    .as_ref()
                    .is_some_and(|b| b.get("event_type").is_some())
        })
        .unwrap()
        .clone();
    bad.body.as_mut().unwrap()["client_payload"] =
        Value::Object((0..11).map(|i| (format!("k{i}"), json!(i))).collect());
    assert!(api.validate(&bad).is_err());
}
