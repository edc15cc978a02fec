//! The reusable workflows played by the test kit's local runner, with our
//! real action binaries (this crate's multi-call binary), against the fake
//! GitHub, a scripted receiver and a scripted health endpoint: what
//! `deploy.yml` records, when it rolls back and when it must not, and what
//! `rollback.yml`'s `previous` resolves to.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use relay_fakes::CheckScript;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_runner::{Runner, WorkflowRecord};
use relay_testkit::health::{Behavior, HealthService};
use relay_testkit::webhook::{Reply, Sink};
use serde_json::{Map, Value, json};

const APP: &str = "octo/app";
const PLATFORM: &str = "octo/platform";
const SHA_A: &str = "aaaaaaa1111111111111111111111111111111aa";
const SHA_B: &str = "bbbbbbb2222222222222222222222222222222bb";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

struct World {
    gh: FakeGitHub,
    receiver: Sink,
    health: HealthService,
    work: tempfile::TempDir,
}

fn world() -> World {
    let gh = FakeGitHub::start();
    gh.repo(APP, "main");
    gh.repo(PLATFORM, "main");
    for sha in [SHA_A, SHA_B] {
        gh.check_run(APP, sha, CheckScript::done("build", "success"));
    }
    World {
        gh,
        receiver: Sink::start(),
        health: HealthService::start(),
        work: tempfile::tempdir().unwrap(),
    }
}

/// The receiver's answer to a deploy that ran, with deploy-receiver's JSON.
fn ran(status: u16, exit_code: i32) -> Reply {
    Reply::status(status).body(
        &json!({"status": status, "exit_code": exit_code, "duration_ms": 5, "output": "done"})
            .to_string(),
    )
}

impl World {
    fn runner(&self) -> Runner {
        let bin = env!("CARGO_BIN_EXE_deploy-relay");
        let launch = move |action: &str| {
            let mut c = Command::new(bin);
            c.arg(if action.is_empty() { "relay" } else { action });
            c
        };
        Runner::new(root(), Box::new(launch), self.work.path().join(rand_id()))
            .env("GITHUB_API_URL", self.gh.url())
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", PLATFORM)
            .env("GITHUB_SHA", "cccccccccccccccccccccccccccccccccccccccc")
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_REF_NAME", "main")
            .env("GITHUB_RUN_ID", "777")
            .env("GITHUB_RUN_NUMBER", "7")
            .env("GITHUB_TOKEN", DEFAULT_TOKEN)
            .env("DEPLOY_RELAY_BACKOFF_SCALE", "0.01")
            .event(
                "repository_dispatch",
                json!({"action": "deploy", "client_payload": {"repository": APP}}),
            )
    }

    /// `deploy.yml` for `sha`, the health endpoint behaving as `health`.
    fn deploy(&self, sha: &str, repository: &str, health: Behavior) -> WorkflowRecord {
        let path = format!("/health-{}", rand_id());
        self.health.route(&path, health);
        let inputs: Map<String, Value> = [
            ("environment", "production".to_owned()),
            ("repository", repository.to_owned()),
            ("sha", sha.to_owned()),
            ("webhook-url", format!("{}/deploy", self.receiver.url())),
            ("health-urls", self.health.url(&path)),
            ("allowed-repositories", format!("{APP}\nocto/other")),
            ("images", format!("api=ghcr.io/{APP}/api:{}", &sha[..7])),
            ("health-duration", "1s".into()),
            ("health-interval", "200ms".into()),
            ("consecutive-failures", "2".into()),
            ("allow-http", "true".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
        self.runner()
            .run(
                Path::new(".github/workflows/deploy.yml"),
                &inputs,
                &secrets(),
            )
            .unwrap()
    }

    /// The deploy-relay records of `production`, oldest first: (sha, rollback, states).
    fn records(&self) -> Vec<(String, bool, Vec<String>)> {
        let mut out: Vec<(String, bool, Vec<String>, u64)> = self
            .gh
            .deployments(PLATFORM)
            .into_iter()
            .filter(|d| d["task"] == "deploy-relay")
            .map(|d| {
                (
                    d["payload"]["sha"].as_str().unwrap_or_default().to_owned(),
                    d["payload"]["rollback"] == true,
                    self.gh.deployment_states(d["id"].as_u64().unwrap()),
                    d["id"].as_u64().unwrap(),
                )
            })
            .collect();
        out.sort_by_key(|r| r.3);
        out.into_iter().map(|(a, b, c, _)| (a, b, c)).collect()
    }

    fn deploy_calls(&self) -> Vec<String> {
        self.receiver
            .received()
            .into_iter()
            .map(|r| {
                serde_json::from_slice::<Value>(&r.body).unwrap()["sha"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }
}

fn secrets() -> BTreeMap<String, String> {
    [
        ("webhook-secret".to_owned(), SECRET.to_owned()),
        ("token".to_owned(), DEFAULT_TOKEN.to_owned()),
    ]
    .into()
}

/// A name unique within this test binary.
fn rand_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn outcome(rec: &WorkflowRecord, step: &str) -> String {
    rec.step("deploy", step)
        .map(|s| s.outcome.clone())
        .unwrap_or_else(|| "absent".into())
}

fn states(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_good_deploy_is_recorded_in_progress_then_success() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    let rec = w.deploy(SHA_A, APP, Behavior::Up);
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(rec.outputs["state"], "success");
    assert_eq!(
        w.records(),
        [(SHA_A.into(), false, states(&["in_progress", "success"]))]
    );
    assert_eq!(w.deploy_calls(), [SHA_A]);
    assert_eq!(outcome(&rec, "rollback-record"), "skipped");
    assert!(w.gh.issues(PLATFORM).is_empty());
}

#[test]
fn a_failed_window_rolls_back_to_the_earlier_good_sha_once_with_one_issue() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    assert_eq!(w.deploy(SHA_A, APP, Behavior::Up).result, "success");
    // GitHub's own deployment of an `environment:` job, of another sha: never a target.
    w.gh.environment_job(
        PLATFORM,
        "production",
        "dddddddddddddddddddddddddddddddddddddddd",
        "success",
    );
    w.receiver.script([ran(200, 0), ran(200, 0)]);
    let rec = w.deploy(SHA_B, APP, Behavior::Json(503, json!({"status": "DOWN"})));
    assert_eq!(
        rec.result, "failure",
        "a rolled-back deploy still fails the run"
    );
    assert_eq!(rec.outputs["state"], "failure");
    assert_eq!(rec.outputs["rolled-back-to"], SHA_A);
    assert_eq!(
        w.records(),
        [
            (SHA_A.into(), false, states(&["in_progress", "success"])),
            (SHA_B.into(), false, states(&["in_progress", "failure"])),
            (SHA_A.into(), true, states(&["in_progress", "success"])),
        ],
        "the rollback is a deployment of its own"
    );
    assert_eq!(
        w.deploy_calls(),
        [SHA_A, SHA_B, SHA_A],
        "one rollback, to the good sha"
    );
    assert_eq!(w.gh.issues(PLATFORM).len(), 1);
}

#[test]
fn a_409_never_rolls_back() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    w.receiver
        .script([Reply::status(409).body(r#"{"status":409,"error":"another deploy is running"}"#)]);
    let rec = w.deploy(SHA_B, APP, Behavior::Up);
    assert_eq!(rec.result, "failure");
    assert_eq!(rec.outputs["state"], "error");
    assert_eq!(outcome(&rec, "health"), "skipped");
    assert_eq!(outcome(&rec, "rollback-record"), "skipped");
    assert_eq!(w.deploy_calls(), [SHA_A, SHA_B]);
    assert_eq!(w.records()[1].2, states(&["in_progress", "error"]));
}

#[test]
fn a_receiver_503_is_recorded_and_not_rolled_back_again() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    // The VM's deploy script found the new release unhealthy and rolled back itself.
    w.receiver.script([ran(503, 3)]);
    let rec = w.deploy(SHA_B, APP, Behavior::Up);
    assert_eq!(rec.result, "failure");
    assert_eq!(rec.outputs["state"], "failure");
    assert_eq!(outcome(&rec, "rollback-record"), "skipped");
    assert_eq!(
        w.deploy_calls(),
        [SHA_A, SHA_B],
        "no second rollback from the workflow"
    );
    assert_eq!(w.records().len(), 2);
}

#[test]
fn a_failed_rollback_does_not_start_another() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    w.receiver.script([ran(200, 0), ran(500, 1)]);
    let rec = w.deploy(SHA_B, APP, Behavior::Json(503, json!({"status": "DOWN"})));
    assert_eq!(rec.result, "failure");
    assert_eq!(outcome(&rec, "rollback"), "failure");
    assert_eq!(
        w.deploy_calls(),
        [SHA_A, SHA_B, SHA_A],
        "exactly one rollback try"
    );
    let records = w.records();
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[2],
        (SHA_A.into(), true, states(&["in_progress", "failure"]))
    );
}

#[test]
fn a_repository_off_the_allow_list_deploys_nothing() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    let rec = w.deploy(SHA_A, "evil/app", Behavior::Up);
    assert_eq!(rec.result, "failure");
    assert_eq!(rec.job("gate").unwrap().result, "failure");
    assert_eq!(rec.job("verify").unwrap().result, "skipped");
    assert_eq!(rec.job("deploy").unwrap().result, "skipped");
    assert!(w.receiver.received().is_empty());
    assert!(w.records().is_empty());
}

#[test]
fn rollback_previous_resolves_to_the_sha_the_automatic_rollback_chose() {
    let w = world();
    w.receiver.script([ran(200, 0), ran(200, 0), ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    w.deploy(SHA_B, APP, Behavior::Up);
    let inputs: Map<String, Value> = [
        ("environment", "production"),
        ("reason", "B misbehaves"),
        ("confirm", "ROLLBACK"),
        ("repository", APP),
        ("webhook-url", &format!("{}/deploy", w.receiver.url())),
        ("allow-http", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Value::from(v)))
    .collect();
    let mut secrets = BTreeMap::new();
    secrets.insert("webhook-secret".to_owned(), SECRET.to_owned());
    let rec = w
        .runner()
        .run(
            Path::new(".github/workflows/rollback.yml"),
            &inputs,
            &secrets,
        )
        .unwrap();
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(rec.outputs["sha"], SHA_A);
    assert_eq!(w.deploy_calls(), [SHA_A, SHA_B, SHA_A]);
    // Not confirmed: nothing changes.
    let mut wrong = inputs.clone();
    wrong.insert("confirm".into(), Value::from("rollback"));
    let rec = w
        .runner()
        .run(
            Path::new(".github/workflows/rollback.yml"),
            &wrong,
            &secrets,
        )
        .unwrap();
    assert_eq!(rec.result, "failure");
    assert_eq!(rec.job("rollback").unwrap().result, "skipped");
    assert_eq!(w.deploy_calls().len(), 3);
}
