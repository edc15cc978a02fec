//! The reusable workflows played by relay-runner, with our real action
//! binaries (this crate's multi-call binary), against the fake GitHub, a
//! scripted receiver and a scripted health endpoint: what `deploy.yml`
//! records and sends, when it rolls back and when it must not, what it
//! checks before anything changes, how its secrets reach it, how runs queue
//! on one environment, and what `rollback.yml` and `pipeline.yml` do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use relay_fakes::CheckScript;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_runner::{At, Run, Runner, Scheduler, Secrets, WorkflowRecord};
use relay_testkit::health::{Behavior, HealthService};
use relay_testkit::webhook::{Reply, Sink};
use serde_json::{Map, Value, json};

const APP: &str = "octo/app";
const OTHER: &str = "octo/other";
const PLATFORM: &str = "octo/platform";
const SHA_A: &str = "aaaaaaa1111111111111111111111111111111aa";
const SHA_B: &str = "bbbbbbb2222222222222222222222222222222bb";
const SHA_C: &str = "ccccccc3333333333333333333333333333333cc";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// What a build of `sha` pushed: a digest of its own.
fn image_of(repo: &str, sha: &str) -> String {
    format!(
        "ghcr.io/{repo}/api@sha256:{}",
        sha.repeat(2)[..64].to_owned()
    )
}

struct World {
    gh: FakeGitHub,
    receiver: Sink,
    health: HealthService,
    work: tempfile::TempDir,
}

fn world() -> World {
    let gh = FakeGitHub::start();
    for repo in [APP, OTHER, PLATFORM] {
        gh.repo(repo, "main");
    }
    for repo in [APP, OTHER] {
        for sha in [SHA_A, SHA_B, SHA_C] {
            gh.check_run(repo, sha, CheckScript::done("build", "success"));
        }
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
    Reply::status(status)
        .header("Deploy-Exit-Code", &exit_code.to_string())
        .body(
            &json!({"status": status, "exit_code": exit_code, "duration_ms": 5, "output": "done"})
                .to_string(),
        )
}

fn strings(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect()
}

impl World {
    /// A runner of the platform repository: DEPLOY_TOKEN a repository
    /// secret, DEPLOY_WEBHOOK_SECRET a secret of `production` and `staging`.
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
            .secrets(
                Secrets::new()
                    .repository("DEPLOY_TOKEN", DEFAULT_TOKEN)
                    .environment("production", "DEPLOY_WEBHOOK_SECRET", SECRET)
                    .environment("staging", "DEPLOY_WEBHOOK_SECRET", SECRET),
            )
            .event(
                "repository_dispatch",
                json!({"action": "deploy", "client_payload": {"repository": APP}}),
            )
    }

    /// A health endpoint of its own, behaving as `health`.
    fn health_url(&self, health: Behavior) -> String {
        let path = format!("/health-{}", rand_id());
        self.health.route(&path, health);
        self.health.url(&path)
    }

    /// `deploy.yml`'s inputs for `sha` of `repository`.
    fn inputs(&self, sha: &str, repository: &str, health: Behavior) -> Map<String, Value> {
        let mut i = strings(&[
            ("environment", "production"),
            ("app-repository", repository),
            ("sha", sha),
            ("allowed-repositories", &format!("{APP}\n{OTHER}")),
            (
                "images",
                &if sha == "current" {
                    String::new()
                } else {
                    format!("api_image={}", image_of(repository, sha))
                },
            ),
            ("health-duration", "1s"),
            ("health-interval", "200ms"),
            ("consecutive-failures", "2"),
            // The fake has no attestation for these digests: each deploy
            // looks, warns and goes on. The default (`require` for
            // production) is its own test below.
            ("provenance", "warn"),
        ]);
        i.insert(
            "webhook-url".into(),
            format!(
                "{}/deploy/{}",
                self.receiver.url(),
                repository.replace('/', "-")
            )
            .into(),
        );
        i.insert("health-urls".into(), self.health_url(health).into());
        i.insert("allow-http".into(), true.into());
        i
    }

    fn deploy(&self, sha: &str, repository: &str, health: Behavior) -> WorkflowRecord {
        self.play(
            ".github/workflows/deploy.yml",
            &self.inputs(sha, repository, health),
        )
    }

    fn play(&self, workflow: &str, inputs: &Map<String, Value>) -> WorkflowRecord {
        self.runner()
            .run(Path::new(workflow), inputs, &BTreeMap::new())
            .unwrap()
    }

    /// The deploy-relay records, oldest first: (app, sha, rollback, states).
    fn records(&self) -> Vec<(String, String, bool, Vec<String>)> {
        let mut out: Vec<_> = self
            .gh
            .deployments(PLATFORM)
            .into_iter()
            .filter(|d| d["task"] == "deploy-relay")
            .map(|d| {
                (
                    d["id"].as_u64().unwrap(),
                    d["payload"]["repository"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    d["payload"]["sha"].as_str().unwrap_or_default().to_owned(),
                    d["payload"]["rollback"] == true,
                    self.gh.deployment_states(d["id"].as_u64().unwrap()),
                )
            })
            .collect();
        out.sort_by_key(|r| r.0);
        out.into_iter()
            .map(|(_, a, b, c, d)| (a, b, c, d))
            .collect()
    }

    /// Each deploy call the receiver got: (sha, the image field sent).
    fn deploy_calls(&self) -> Vec<(String, String)> {
        self.receiver
            .received()
            .into_iter()
            .map(|r| {
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                assert_eq!(body.get("image_sha"), None, "the VM gets image references");
                (
                    body["sha"].as_str().unwrap_or_default().to_owned(),
                    body["api_image"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
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

fn outcome(rec: &WorkflowRecord, job: &str, step: &str) -> String {
    rec.step(job, step)
        .map(|s| s.outcome.clone())
        .unwrap_or_else(|| "absent".into())
}

fn states(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn call(sha: &str) -> (String, String) {
    (sha.to_owned(), image_of(APP, sha))
}

#[test]
fn a_production_image_with_no_attestation_stops_before_anything_changes() {
    let w = world();
    let mut inputs = w.inputs(SHA_A, APP, Behavior::Up);
    inputs.remove("provenance");
    let rec = w.play(".github/workflows/deploy.yml", &inputs);
    assert_eq!(rec.result, "failure", "{rec:#?}");
    assert_eq!(outcome(&rec, "deploy.yml/verify", "provenance"), "failure");
    let log = &rec.step("deploy.yml/verify", "provenance").unwrap().log;
    assert!(
        log.contains("provenance: require") && log.contains("attest-build-provenance"),
        "the default for production is `require`, and the error says how to attest: {log}"
    );
    assert!(
        w.records().is_empty(),
        "nothing recorded: {:?}",
        w.records()
    );
    assert!(w.deploy_calls().is_empty(), "the VM was never called");
}

#[test]
fn the_record_keeps_what_provenance_found() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    let rec = w.deploy(SHA_A, APP, Behavior::Up);
    assert_eq!(rec.result, "success", "{rec:#?}");
    let log = &rec.step("deploy.yml/verify", "provenance").unwrap().log;
    assert!(
        log.contains("::warning"),
        "`warn` goes on with a warning: {log}"
    );
    let record =
        w.gh.deployments(PLATFORM)
            .into_iter()
            .find(|d| d["task"] == "deploy-relay")
            .unwrap();
    let report = &record["payload"]["provenance"];
    assert_eq!(report["mode"], "warn", "{record:#}");
    assert_eq!(report["verified"], false, "{record:#}");
    assert_eq!(report["images"][0]["key"], "api_image", "{record:#}");
    assert_eq!(report["images"][0]["verdict"], "missing", "{record:#}");
}

#[test]
fn a_good_deploy_sends_and_records_the_image_the_build_pushed() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    let rec = w.deploy(SHA_A, APP, Behavior::Up);
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(rec.outputs["state"], "success");
    assert_eq!(
        rec.outputs["images"],
        format!("api_image={}", image_of(APP, SHA_A))
    );
    assert_eq!(
        w.records(),
        [(
            APP.into(),
            SHA_A.into(),
            false,
            states(&["in_progress", "success"])
        )]
    );
    assert_eq!(w.deploy_calls(), [call(SHA_A)]);
    let record = &w.gh.deployments(PLATFORM)[0];
    assert_eq!(
        record["payload"]["images"]["api_image"],
        image_of(APP, SHA_A)
    );
    assert_eq!(outcome(&rec, "deploy", "rollback-record"), "skipped");
    assert!(w.gh.issues(PLATFORM).is_empty());
    // Production exists nowhere yet: a loud warning, not a refusal.
    let check = rec.step("check", "record").unwrap();
    assert!(
        check
            .log
            .contains("::warning title=Unprotected environment::"),
        "{}",
        check.log
    );
}

#[test]
fn a_failed_window_rolls_back_once_to_the_previous_good_deploy_with_its_images() {
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
    // Another app's good deploy since: never this app's target either.
    w.receiver.script([ran(200, 0)]);
    assert_eq!(w.deploy(SHA_C, OTHER, Behavior::Up).result, "success");
    w.receiver.script([ran(200, 0), ran(200, 0)]);
    // Up for the probe before the deploy, down once B runs.
    let rec = w.deploy(SHA_B, APP, Behavior::DiesAfter(1));
    assert_eq!(
        rec.result, "failure",
        "a rolled-back deploy still fails the run"
    );
    assert_eq!(rec.outputs["state"], "failure");
    assert_eq!(rec.outputs["rolled-back-to"], SHA_A);
    assert_eq!(rec.outputs["rollback-state"], "success");
    let records = w.records();
    assert_eq!(
        records[2..],
        [
            (
                APP.into(),
                SHA_B.into(),
                false,
                states(&["in_progress", "failure"])
            ),
            (
                APP.into(),
                SHA_A.into(),
                true,
                states(&["in_progress", "success"])
            ),
        ],
        "the rollback is a deployment of its own"
    );
    let calls = w.deploy_calls();
    assert_eq!(
        calls[2..],
        [call(SHA_B), call(SHA_A)],
        "one rollback, A's own image"
    );
    let rollback = w.gh.deployments(PLATFORM).pop().unwrap();
    assert_eq!(
        rollback["payload"]["images"]["api_image"],
        image_of(APP, SHA_A)
    );
    // One issue, told how the rollback ended.
    let issues = w.gh.issues(PLATFORM);
    assert_eq!(issues.len(), 1);
    let number = issues[0]["number"].as_u64().unwrap();
    let comments = w.gh.issue_comments(PLATFORM, number);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].starts_with("Rolled back: `production` runs `aaaaaaa` again"),
        "{comments:?}"
    );
}

#[test]
fn a_failed_rollback_is_told_and_never_starts_another() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    w.receiver.script([ran(200, 0), ran(500, 1)]);
    let rec = w.deploy(SHA_B, APP, Behavior::DiesAfter(1));
    assert_eq!(rec.result, "failure");
    assert_eq!(outcome(&rec, "deploy", "rollback"), "failure");
    assert_eq!(
        rec.outputs["rolled-back-to"], "",
        "set only when the rollback succeeded"
    );
    assert_eq!(rec.outputs["rollback-state"], "failure");
    assert_eq!(
        w.deploy_calls(),
        [call(SHA_A), call(SHA_B), call(SHA_A)],
        "exactly one try"
    );
    assert_eq!(
        w.records()[2],
        (
            APP.into(),
            SHA_A.into(),
            true,
            states(&["in_progress", "failure"])
        )
    );
    let number = w.gh.issues(PLATFORM)[0]["number"].as_u64().unwrap();
    let comments = w.gh.issue_comments(PLATFORM, number);
    assert!(comments[0].contains("ended `failure`"), "{comments:?}");
}

#[test]
fn with_nothing_to_roll_back_to_the_issue_says_so() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    let rec = w.deploy(SHA_A, APP, Behavior::DiesAfter(1));
    assert_eq!(rec.outputs["state"], "failure");
    assert_eq!(outcome(&rec, "deploy", "rollback-record"), "skipped");
    let number = w.gh.issues(PLATFORM)[0]["number"].as_u64().unwrap();
    let comments = w.gh.issue_comments(PLATFORM, number);
    assert!(
        comments[0].contains("no earlier good deploy"),
        "{comments:?}"
    );
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
    assert_eq!(outcome(&rec, "deploy", "health"), "skipped");
    assert_eq!(outcome(&rec, "deploy", "rollback-record"), "skipped");
    assert_eq!(w.deploy_calls(), [call(SHA_A), call(SHA_B)]);
    assert_eq!(w.records()[1].3, states(&["in_progress", "error"]));
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
    assert_eq!(outcome(&rec, "deploy", "rollback-record"), "skipped");
    assert_eq!(
        w.deploy_calls(),
        [call(SHA_A), call(SHA_B)],
        "no second rollback"
    );
    assert_eq!(w.records().len(), 2);
}

#[test]
fn an_endpoint_down_before_the_deploy_does_not_roll_the_release_back() {
    let w = world();
    w.receiver.script([ran(200, 0), ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    let mut inputs = w.inputs(SHA_B, APP, Behavior::Up);
    let down = w.health_url(Behavior::Json(503, json!({"status": "DOWN"})));
    let up = inputs["health-urls"].as_str().unwrap().to_owned();
    inputs.insert("health-urls".into(), format!("{up}\n{down}").into());
    let rec = w.play(".github/workflows/deploy.yml", &inputs);
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(rec.outputs["state"], "success");
    assert_eq!(outcome(&rec, "deploy", "rollback-record"), "skipped");
    let before = rec.step("deploy", "before").unwrap();
    assert!(
        before.log.contains("already down before the deploy"),
        "{}",
        before.log
    );
    assert_eq!(w.deploy_calls(), [call(SHA_A), call(SHA_B)]);
}

#[test]
fn a_typo_in_any_input_stops_the_deploy_before_anything_changes() {
    for (input, value, needle) in [
        (
            "health-urls",
            "htps://app.example.com/health",
            "input `urls`",
        ),
        ("conditions", "[STATUS] = 200", "input `conditions`"),
        ("expected-status", "2oo", "input `expected-status`"),
        ("health-duration", "five minutes", "input `duration`"),
        ("images", "api_image=ghcr.io/octo/app/api", "input `images`"),
        ("sha", "main", "input `sha`"),
    ] {
        let w = world();
        let mut inputs = w.inputs(SHA_A, APP, Behavior::Up);
        inputs.insert(input.into(), value.into());
        let rec = w.play(".github/workflows/deploy.yml", &inputs);
        assert_eq!(rec.result, "failure", "{input}");
        assert_eq!(rec.job("check").unwrap().result, "failure", "{input}");
        assert_eq!(rec.job("deploy").unwrap().result, "skipped", "{input}");
        let log: String = rec.steps().iter().map(|(_, s)| s.log.clone()).collect();
        assert!(log.contains(needle), "{input}: {log}");
        assert!(w.records().is_empty(), "{input}: nothing recorded");
        assert!(w.receiver.received().is_empty(), "{input}: nothing sent");
        assert_eq!(w.health.total_hits(), 0, "{input}: nothing probed");
    }
    // The signature scheme and the webhook URL are checked by the dry run,
    // before the record: nothing changes either.
    for (input, value) in [
        ("signature-scheme", "hmac"),
        ("webhook-url", "ftp://vm/deploy"),
    ] {
        let w = world();
        let mut inputs = w.inputs(SHA_A, APP, Behavior::Up);
        inputs.insert(input.into(), value.into());
        let rec = w.play(".github/workflows/deploy.yml", &inputs);
        assert_eq!(rec.result, "failure", "{input}");
        assert_eq!(outcome(&rec, "deploy", "record"), "skipped", "{input}");
        assert!(
            w.records().is_empty() && w.receiver.received().is_empty(),
            "{input}"
        );
    }
}

#[test]
fn require_protection_refuses_an_unprotected_production() {
    let w = world();
    let mut inputs = w.inputs(SHA_A, APP, Behavior::Up);
    inputs.insert("require-protection".into(), true.into());
    let rec = w.play(".github/workflows/deploy.yml", &inputs);
    assert_eq!(rec.result, "failure");
    assert_eq!(rec.job("deploy").unwrap().result, "skipped");
    assert!(w.records().is_empty() && w.receiver.received().is_empty());
    // Protected, it deploys.
    w.gh.environment(PLATFORM, "production", &["octocat"]);
    w.receiver.script([ran(200, 0)]);
    let rec = w.play(".github/workflows/deploy.yml", &inputs);
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(rec.outputs["protected"], "true");
}

#[test]
fn a_repository_off_the_allow_list_deploys_nothing() {
    let w = world();
    let rec = w.deploy(SHA_A, "evil/app", Behavior::Up);
    assert_eq!(rec.result, "failure");
    assert_eq!(rec.job("check").unwrap().result, "failure");
    assert_eq!(rec.job("verify").unwrap().result, "skipped");
    assert_eq!(rec.job("deploy").unwrap().result, "skipped");
    assert!(w.receiver.received().is_empty());
    assert!(w.records().is_empty());
}

#[test]
fn a_deploy_cancelled_during_its_window_is_an_error_and_never_rolled_back() {
    let w = world();
    w.receiver.script([ran(200, 0), ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    let mut inputs = w.inputs(SHA_B, APP, Behavior::DiesAfter(1));
    inputs.insert("health-duration".into(), "20s".into());
    inputs.insert("consecutive-failures".into(), "50".into());
    let rec = w
        .runner()
        .cancel_at(At::step_running_for(
            "deploy",
            "health",
            std::time::Duration::from_millis(500),
        ))
        .run(
            Path::new(".github/workflows/deploy.yml"),
            &inputs,
            &BTreeMap::new(),
        )
        .unwrap();
    assert_eq!(rec.result, "cancelled", "{rec:#?}");
    assert_eq!(outcome(&rec, "deploy", "rollback-record"), "skipped");
    assert_eq!(w.deploy_calls(), [call(SHA_A), call(SHA_B)], "no rollback");
    assert_eq!(
        w.records()[1],
        (
            APP.into(),
            SHA_B.into(),
            false,
            states(&["in_progress", "error"])
        )
    );
    let status =
        w.gh.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/statuses"))
            .filter_map(|r| r.body)
            .next_back()
            .unwrap();
    assert_eq!(
        status["description"],
        "Deploy of bbbbbbb of octo/app was cancelled"
    );
}

/// A caller in the platform repository that calls `deploy.yml` the way
/// the examples do, with `secrets` as given.
fn caller(w: &World, secrets: &str) -> PathBuf {
    let inputs = w.inputs(SHA_A, APP, Behavior::Up);
    let with: String = inputs
        .iter()
        .map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            format!("      {k}: {}\n", serde_json::to_string(&v).unwrap())
        })
        .collect();
    let text = format!(
        "on: repository_dispatch\npermissions: {{}}\njobs:\n  deploy:\n    permissions: {{ actions: read, attestations: read, checks: read, deployments: write, issues: write, statuses: write }}\n    uses: deploy-relay/deploy-relay/.github/workflows/deploy.yml@main\n    with:\n{with}{secrets}"
    );
    let path = w.work.path().join(format!("caller-{}.yml", rand_id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_environment_secret_reaches_the_deploy_job_through_secrets_inherit() {
    let w = world();
    w.receiver.script([ran(200, 0)]);
    let path = caller(&w, "    secrets: inherit\n");
    let rec = w
        .runner()
        .run(&path, &Map::new(), &BTreeMap::new())
        .unwrap();
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(w.deploy_calls(), [call(SHA_A)]);
    // Not passed at all (only the token is, by name), it is empty: a clear
    // error, and nothing changes.
    let w = world();
    let path = caller(
        &w,
        "    secrets:\n      DEPLOY_TOKEN: ${{ secrets.DEPLOY_TOKEN }}\n",
    );
    let rec = w
        .runner()
        .run(&path, &Map::new(), &BTreeMap::new())
        .unwrap();
    assert_eq!(rec.result, "failure");
    let log: String = rec.steps().iter().map(|(_, s)| s.log.clone()).collect();
    assert!(
        log.contains("secret DEPLOY_WEBHOOK_SECRET is empty") && log.contains("secrets: inherit"),
        "{log}"
    );
    assert!(w.records().is_empty() && w.receiver.received().is_empty());
}

#[test]
fn current_redeploys_what_runs_with_its_images() {
    let w = world();
    w.receiver.script([ran(200, 0), ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    let inputs = w.inputs("current", APP, Behavior::Up);
    let rec = w.play(".github/workflows/deploy.yml", &inputs);
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(rec.outputs["sha"], SHA_A);
    assert_eq!(w.deploy_calls(), [call(SHA_A), call(SHA_A)]);
}

fn rollback_inputs(w: &World) -> Map<String, Value> {
    let mut i = strings(&[
        ("environment", "production"),
        ("reason", "B misbehaves"),
        ("confirm", "ROLLBACK"),
        ("app-repository", APP),
        ("provenance", "warn"),
    ]);
    i.insert(
        "webhook-url".into(),
        format!("{}/deploy/octo-app", w.receiver.url()).into(),
    );
    i.insert("allow-http".into(), true.into());
    i
}

#[test]
fn rollback_previous_deploys_the_previous_good_deploy_with_its_images() {
    let w = world();
    w.receiver.script([ran(200, 0), ran(200, 0), ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    w.deploy(SHA_B, APP, Behavior::Up);
    let rec = w.play(".github/workflows/rollback.yml", &rollback_inputs(&w));
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(rec.outputs["sha"], SHA_A);
    assert_eq!(w.deploy_calls(), [call(SHA_A), call(SHA_B), call(SHA_A)]);
    let last = w.records().pop().unwrap();
    assert_eq!(
        last,
        (
            APP.into(),
            SHA_A.into(),
            true,
            states(&["in_progress", "success"])
        )
    );
    // Not confirmed: nothing changes.
    let mut wrong = rollback_inputs(&w);
    wrong.insert("confirm".into(), "rollback".into());
    let rec = w.play(".github/workflows/rollback.yml", &wrong);
    assert_eq!(rec.result, "failure");
    assert_eq!(rec.job("rollback").unwrap().result, "skipped");
    assert_eq!(w.deploy_calls().len(), 3);
    // A sha target needs its images.
    let mut sha = rollback_inputs(&w);
    sha.insert("target".into(), SHA_B.into());
    let rec = w.play(".github/workflows/rollback.yml", &sha);
    assert_eq!(rec.result, "failure");
    assert_eq!(w.deploy_calls().len(), 3);
}

fn pipeline_inputs(w: &World, sha: &str) -> Map<String, Value> {
    let deploy = w.inputs(sha, APP, Behavior::Up);
    let mut i = Map::new();
    for (k, v) in deploy {
        match k.as_str() {
            "environment" => {}
            "webhook-url" | "health-urls" => {
                i.insert(format!("staging-{k}"), v.clone());
                i.insert(format!("production-{k}"), v);
            }
            _ => {
                i.insert(k, v);
            }
        }
    }
    i
}

#[test]
fn pipeline_goes_through_staging_or_skips_it_with_a_recorded_reason() {
    let w = world();
    w.receiver.script([ran(200, 0), ran(200, 0)]);
    let rec = w.play(
        ".github/workflows/pipeline.yml",
        &pipeline_inputs(&w, SHA_A),
    );
    assert_eq!(rec.result, "success", "{rec:#?}");
    let envs: Vec<String> =
        w.gh.deployments(PLATFORM)
            .iter()
            .filter(|d| d["task"] == "deploy-relay")
            .map(|d| d["environment"].as_str().unwrap().to_owned())
            .collect();
    assert_eq!(envs, ["staging", "production"]);
    // An emergency: staging skipped, the reason kept with production's record.
    w.receiver.script([ran(200, 0)]);
    let mut inputs = pipeline_inputs(&w, SHA_B);
    inputs.insert("skip-staging".into(), "INC-42: checkout is down".into());
    let rec = w.play(".github/workflows/pipeline.yml", &inputs);
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(rec.job("staging").unwrap().result, "skipped");
    let last = w.gh.deployments(PLATFORM).pop().unwrap();
    assert_eq!(last["environment"], "production");
    assert_eq!(
        last["payload"]["reason"],
        "staging skipped: INC-42: checkout is down"
    );
    // `promote: false` stops at staging.
    w.receiver.script([ran(200, 0)]);
    let mut inputs = pipeline_inputs(&w, SHA_C);
    inputs.insert("promote".into(), false.into());
    let rec = w.play(".github/workflows/pipeline.yml", &inputs);
    assert_eq!(rec.result, "success", "{rec:#?}");
    assert_eq!(rec.job("production").unwrap().result, "skipped");
}

#[test]
fn two_apps_and_a_rollback_queued_on_one_environment_all_run() {
    let w = world();
    // A good A and a good B of the app first: the rollback's target is A.
    w.receiver.script([ran(200, 0), ran(200, 0)]);
    w.deploy(SHA_A, APP, Behavior::Up);
    w.deploy(SHA_B, APP, Behavior::Up);
    let before = w.deploy_calls().len();
    let mut s = Scheduler::new();
    let deploy = |label: &str, sha: &str, repo: &str| {
        Run::new(label, w.runner(), ".github/workflows/deploy.yml").inputs(w.inputs(
            sha,
            repo,
            Behavior::Up,
        ))
    };
    // The app's C runs; the other app's deploy, a rollback of the app and
    // another deploy of the app arrive while it does. With `queue: single`
    // the later deploy of the app would cancel the pending rollback.
    let c = s.queue(deploy("deploy app C", SHA_C, APP));
    s.queue_when(
        c,
        At::step_running("deploy", "webhook"),
        deploy("deploy other A", SHA_A, OTHER),
    );
    s.queue_when(
        c,
        At::step_running("deploy", "webhook"),
        Run::new("rollback app", w.runner(), ".github/workflows/rollback.yml")
            .inputs(rollback_inputs(&w)),
    );
    s.queue_when(
        c,
        At::step_running("deploy", "webhook"),
        deploy("deploy app B", SHA_B, APP),
    );
    let out = s.play();
    let conclusions: Vec<(String, String)> = out
        .iter()
        .map(|o| (o.label.clone(), o.conclusion().to_owned()))
        .collect();
    assert_eq!(
        conclusions,
        [
            ("deploy app C".to_owned(), "success".to_owned()),
            ("deploy other A".to_owned(), "success".to_owned()),
            ("rollback app".to_owned(), "success".to_owned()),
            ("deploy app B".to_owned(), "success".to_owned()),
        ],
        "none dropped: {out:#?}"
    );
    // The app's runs went one at a time, in the order they arrived.
    let app: Vec<String> = w.deploy_calls()[before..]
        .iter()
        .filter(|(_, image)| image.starts_with("ghcr.io/octo/app/"))
        .map(|(sha, _)| sha[..7].to_owned())
        .collect();
    assert_eq!(
        app,
        ["ccccccc", "bbbbbbb", "bbbbbbb"],
        "C, the rollback (to B: C's previous good), B"
    );
}
