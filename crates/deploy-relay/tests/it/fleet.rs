//! `fleet.yml` played by relay-runner with our real action binaries, against
//! the fake GitHub, three scripted receivers and their health endpoints:
//! the receivers' keys reach the waves job as secrets of its environment,
//! through `toJSON(secrets)`; the waves run in order; a failed canary stops
//! the rollout before the second wave is called. (The real receivers are
//! fleet-deploy's own tests; these check the workflow around it.)

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use relay_fakes::{CheckScript, DEFAULT_TOKEN, FakeGitHub};
use relay_runner::{Runner, Secrets, WorkflowRecord};
use relay_testkit::health::{Behavior, HealthService};
use relay_testkit::webhook::{Reply, Sink};
use serde_json::{Map, Value, json};

const APP: &str = "octo/app";
const PLATFORM: &str = "octo/platform";
const SHA: &str = "aaaaaaa1111111111111111111111111111111aa";
const KEYS: [&str; 3] = [
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_c2Vjb25kLWtleS1vZi10aGUtZmxlZXQtMg==",
    "whsec_dGhpcmQta2V5LW9mLXRoZS1mbGVldC0zIQ==",
];

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

struct Fleet {
    gh: FakeGitHub,
    vms: Vec<Sink>,
    health: HealthService,
    work: tempfile::TempDir,
}

fn ran() -> Reply {
    Reply::status(200).header("Deploy-Exit-Code", "0").body(
        &json!({"status": 200, "exit_code": 0, "duration_ms": 5, "output": "done"}).to_string(),
    )
}

impl Fleet {
    fn new() -> Self {
        let gh = FakeGitHub::start();
        gh.repo(APP, "main");
        gh.repo(PLATFORM, "main");
        gh.check_run(APP, SHA, CheckScript::done("build", "success"));
        let health = HealthService::start();
        let vms: Vec<Sink> = (1..=3).map(|_| Sink::start()).collect();
        for (i, vm) in vms.iter().enumerate() {
            vm.script([ran()]);
            health.route(&format!("/vm-{}/health", i + 1), Behavior::Up);
        }
        Self {
            gh,
            vms,
            health,
            work: tempfile::tempdir().unwrap(),
        }
    }

    /// The fleet file: `vm-1` the canary, then `vm-2` and `vm-3`; each
    /// signed by `DEPLOY_VM_<n>`. With `approval`, the reviewers of that
    /// environment approve the second wave.
    fn fleet_file(&self, approval: Option<&str>) -> std::path::PathBuf {
        let target = |i: usize| {
            let n = i + 1;
            format!(
                "{{ name = \"vm-{n}\", url = \"{}/deploy\", secret = \"DEPLOY_VM_{n}\", health = [\"{}\"] }}",
                self.vms[i].url(),
                self.health.url(&format!("/vm-{n}/health")),
            )
        };
        let text = format!(
            "[environments.production]\nallow-http = true\n\n[environments.production.gate]\nduration = \"600ms\"\ninterval = \"200ms\"\ntimeout = \"1s\"\n\n\
             [[environments.production.waves]]\nname = \"canary\"\ntargets = [{}]\n\n\
             [[environments.production.waves]]\nname = \"rest\"\n{}targets = [{}, {}]\n",
            target(0),
            approval.map_or(String::new(), |a| format!("approval = \"{a}\"\n")),
            target(1),
            target(2)
        );
        let path = self.work.path().join("deploy-relay.fleet.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Plays fleet.yml. The fake has no attestation for the image: each
    /// test but the provenance one says `provenance: warn`, and the
    /// rollout looks, warns and goes on.
    fn play(&self) -> WorkflowRecord {
        self.play_with(Some("warn"), None)
    }

    /// Plays fleet.yml with `provenance` set, or left to its default, and
    /// the second wave approved in environment `approval`, if one.
    fn play_with(&self, provenance: Option<&str>, approval: Option<&str>) -> WorkflowRecord {
        let bin = env!("CARGO_BIN_EXE_deploy-relay");
        let launch = move |action: &str| {
            let mut c = Command::new(bin);
            c.arg(if action.is_empty() { "relay" } else { action });
            c
        };
        // The receivers' keys are secrets of `production`: they reach only
        // the job that runs in it.
        let mut secrets = Secrets::new();
        for (i, key) in KEYS.iter().enumerate() {
            let name = format!("DEPLOY_VM_{}", i + 1);
            secrets = secrets.environment("production", &name, key);
            // The approving job runs in the approval environment: the keys
            // are its secrets too (actions/fleet-deploy/README.md).
            if let Some(approval) = approval {
                secrets = secrets.environment(approval, &name, key);
            }
        }
        // The runner skips actions/checkout: the fleet file is given by its
        // absolute path (fleet-deploy joins it to the workspace).
        let mut inputs: Map<String, Value> = [
            ("environment", "production".to_owned()),
            ("app-repository", APP.to_owned()),
            ("sha", SHA.to_owned()),
            ("allowed-repositories", APP.to_owned()),
            (
                "images",
                format!("image=ghcr.io/octo/app@sha256:{}", "a".repeat(64)),
            ),
            (
                "fleet-file",
                self.fleet_file(approval).to_string_lossy().into_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
        if let Some(mode) = provenance {
            inputs.insert("provenance".into(), mode.into());
        }
        Runner::new(root(), Box::new(launch), self.work.path().join("runner"))
            .env("GITHUB_API_URL", self.gh.url())
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", PLATFORM)
            .env("GITHUB_SHA", "cccccccccccccccccccccccccccccccccccccccc")
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_REF_NAME", "main")
            .env("GITHUB_RUN_ID", "778")
            .env("GITHUB_RUN_NUMBER", "8")
            .env("GITHUB_TOKEN", DEFAULT_TOKEN)
            .env("DEPLOY_RELAY_BACKOFF_SCALE", "0.01")
            .secrets(secrets)
            .event(
                "repository_dispatch",
                json!({"action": "deploy", "client_payload": {"repository": APP}}),
            )
            .run(
                Path::new(".github/workflows/fleet.yml"),
                &inputs,
                &BTreeMap::new(),
            )
            .unwrap()
    }

    fn calls(&self) -> Vec<usize> {
        self.vms.iter().map(|v| v.received().len()).collect()
    }
}

/// Every step's log of the run.
fn log(rec: &WorkflowRecord) -> String {
    rec.steps()
        .iter()
        .map(|(job, s)| format!("--- {job} / {}\n{}", s.name, s.log))
        .collect()
}

#[test]
fn every_wave_deploys_with_the_environments_keys() {
    let f = Fleet::new();
    let rec = f.play();
    assert_eq!(
        rec.outputs.get("state").map(String::as_str),
        Some("success"),
        "{}",
        log(&rec)
    );
    assert_eq!(f.calls(), [1, 1, 1], "each VM called once");
    // Each call signed with its own VM's key (Standard Webhooks).
    for (vm, key) in f.vms.iter().zip(KEYS) {
        let call = &vm.received()[0];
        let signing = relay_signature::SigningKey::from_whsec(key).unwrap();
        let id = &call.headers["webhook-id"];
        let ts: i64 = call.headers["webhook-timestamp"].parse().unwrap();
        let want =
            relay_signature::standard::sign(std::slice::from_ref(&signing), id, ts, &call.body)
                .unwrap();
        assert_eq!(call.headers["webhook-signature"], want);
    }
    let records: Vec<Vec<String>> =
        f.gh.deployments(PLATFORM)
            .iter()
            .map(|d| f.gh.deployment_states(d["id"].as_u64().unwrap()))
            .collect();
    assert_eq!(records.len(), 2, "one record per wave: {records:?}");
    assert!(
        records
            .iter()
            .all(|s| s.last().map(String::as_str) == Some("success"))
    );
    let log = log(&rec);
    for key in KEYS {
        let bare = key.trim_start_matches("whsec_");
        // `::add-mask::` lines are the runner's, never shown.
        let shown: Vec<&str> = log
            .lines()
            .filter(|l| !l.starts_with("::add-mask::") && l.contains(bare))
            .collect();
        assert!(shown.is_empty(), "a key shows: {shown:?}");
    }
}

#[test]
fn a_failed_canary_stops_the_rollout_before_wave_2() {
    let f = Fleet::new();
    f.health.route(
        "/vm-1/health",
        Behavior::Json(500, json!({"status": "DOWN"})),
    );
    let rec = f.play();
    assert_eq!(
        rec.outputs.get("state").map(String::as_str),
        Some("failure"),
        "{}",
        log(&rec)
    );
    assert_eq!(rec.outputs.get("failed").map(String::as_str), Some("vm-1"));
    assert_eq!(f.calls(), [1, 0, 0], "wave 2 never called");
    assert_eq!(
        rec.job("approved-1").map(|j| j.result.as_str()),
        Some("skipped")
    );
}

#[test]
fn a_production_image_with_no_attestation_stops_the_fleet_before_any_wave() {
    let f = Fleet::new();
    // `provenance` left to its default: `require` for production.
    let rec = f.play_with(None, None);
    assert_eq!(rec.result, "failure", "{}", log(&rec));
    let step = rec
        .step("verify", "provenance")
        .unwrap_or_else(|| panic!("no provenance step: {}", log(&rec)));
    assert_eq!(step.outcome, "failure", "{}", step.log);
    assert!(
        step.log.contains("provenance: require") && step.log.contains("attest-build-provenance"),
        "the default for production is `require`, and the error says how to attest: {}",
        step.log
    );
    assert_eq!(
        rec.job("waves").map(|j| j.result.as_str()),
        Some("skipped"),
        "no wave starts"
    );
    assert_eq!(f.calls(), [0, 0, 0], "no VM was called");
    assert!(
        f.gh.deployments(PLATFORM).is_empty(),
        "nothing recorded: {:?}",
        f.gh.deployments(PLATFORM)
    );
}

#[test]
fn every_wave_record_keeps_the_provenance_report_approved_waves_too() {
    let f = Fleet::new();
    let rec = f.play_with(Some("warn"), Some("production-approval"));
    assert_eq!(
        rec.outputs.get("state").map(String::as_str),
        Some("success"),
        "{}",
        log(&rec)
    );
    assert_eq!(
        rec.job("approved-1").map(|j| j.result.as_str()),
        Some("success"),
        "the second wave ran in the approving job"
    );
    assert_eq!(f.calls(), [1, 1, 1]);
    // The verify job's report, as the workflow outputs it: `warn`, and the
    // image not verified (the fake holds no attestation).
    let report: Value = serde_json::from_str(
        rec.outputs
            .get("provenance-report")
            .unwrap_or_else(|| panic!("no provenance-report output: {:?}", rec.outputs)),
    )
    .unwrap();
    assert_eq!(report["mode"], "warn");
    assert_eq!(report["verified"], false);
    assert_eq!(
        rec.outputs.get("provenance-verified").map(String::as_str),
        Some("false")
    );
    // Both waves' records keep it: the approving job reads the verify
    // job's output too, which `needs` gives only for a direct dependency.
    let payloads: Vec<Value> =
        f.gh.deployments(PLATFORM)
            .iter()
            .map(|d| d["payload"].clone())
            .collect();
    assert_eq!(payloads.len(), 2, "one record per wave: {payloads:?}");
    for payload in &payloads {
        assert_eq!(payload["provenance"], report, "{payload}");
    }
}
