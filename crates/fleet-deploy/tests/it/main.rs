//! fleet-deploy run as the runner runs it, against real `deploy-receiver`
//! processes on loopback — each with its own secret and deploy script —,
//! the scriptable health service for what they deploy, and the fake
//! GitHub for the records and the issue.

#![allow(clippy::unwrap_used)]

mod deploys;
mod inputs;
mod reruns;
mod tokens;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_signature::SigningKey;
use relay_testkit::health::{Behavior, HealthService};
use relay_testkit::{ActionRun, Outcome};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_fleet-deploy");
pub const DEPLOY: &str = "octo/deploy";
pub const APP: &str = "octo/app";
pub const SHA_A: &str = "aaaaaaa111111111111111111111111111111111";
pub const SHA_B: &str = "bbbbbbb222222222222222222222222222222222";
pub const RUN: &str = "5150";

pub fn image(sha: &str) -> String {
    format!("registry.test/app@sha256:{}", sha[..1].repeat(64))
}

/// The real `deploy-receiver` binary, built as this workspace builds it
/// (another package's binary is not built for this crate's tests).
fn receiver_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--package",
                "deploy-receiver",
                "--bin",
                "deploy-receiver",
                "--message-format=json-render-diagnostics",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "couldn't build deploy-receiver");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|m| m["target"]["name"] == "deploy-receiver" && m["executable"].is_string())
            .map(|m| PathBuf::from(m["executable"].as_str().unwrap()))
            .expect("cargo names the deploy-receiver executable")
    })
}

/// The deploy command every receiver runs: it records each deploy (and any
/// overlap, which must never happen) in `deploys.log`, sleeps once when
/// `sleep` holds seconds (the next deploy is quick again), fails when
/// `fail` exists, and keeps the image it deployed in `current`.
const SCRIPT: &str = r#"#!/bin/bash
dir="$(dirname "$0")"
if ! mkdir "$dir/lock" 2>/dev/null; then
  echo "OVERLAP $1" >> "$dir/deploys.log"
  exit 9
fi
trap 'rmdir "$dir/lock"' EXIT
echo "start $1 $DEPLOY_DELIVERY_ID" >> "$dir/deploys.log"
if [ -f "$dir/sleep" ]; then
  seconds="$(cat "$dir/sleep")"
  rm -f "$dir/sleep"
  sleep "$seconds"
fi
if [ -f "$dir/fail" ]; then
  echo "failed $1" >> "$dir/deploys.log"
  echo "could not start $2"
  exit 1
fi
printf '%s' "$1" > "$dir/current"
echo "end $1" >> "$dir/deploys.log"
echo "deployed $2 at $1"
"#;

/// One VM: a real deploy-receiver with its own secret and script.
pub struct Receiver {
    pub name: String,
    pub url: String,
    pub secret: String,
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    fn start(name: &str) -> Self {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("deploy.sh");
        std::fs::write(&script, SCRIPT).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let key = SigningKey::new(uuid::Uuid::new_v4().as_bytes().to_vec()).unwrap();
        let secret = key.to_whsec();
        let config = format!(
            r#"listen = "127.0.0.1:0"
secret_env = "FLEET_TEST_SECRET"
signature = "standard-webhooks"
require_delivery_id = true

[[hooks]]
path = "/deploy"
command = ["{}"]
args = ["image", "target"]
timeout = "30s"
[hooks.validate]
image = "^registry\\.test/app@sha256:[0-9a-f]{{64}}$"
target = "^vm-[0-9]+$"
"#,
            script.display()
        );
        let path = dir.path().join("receiver.toml");
        std::fs::write(&path, config).unwrap();
        let mut child = Command::new(receiver_bin())
            .arg("--config")
            .arg(&path)
            .args(["--log-format", "json"])
            .env("FLEET_TEST_SECRET", &secret)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("the receiver logs").unwrap();
            if line.contains("listening") {
                let log: Value = serde_json::from_str(&line).unwrap();
                break log["addr"].as_str().unwrap().to_owned();
            }
        };
        // Keep reading, so the receiver never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            name: name.to_owned(),
            url: format!("http://{addr}/deploy"),
            secret,
            dir,
            child,
        }
    }

    /// Where its deploy script records.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("deploys.log")
    }

    /// What its deploy script recorded, line by line.
    pub fn log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("deploys.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The images its deploys started with, in order.
    pub fn started(&self) -> Vec<String> {
        self.log()
            .iter()
            .filter_map(|l| l.strip_prefix("start "))
            .map(|l| l.split(' ').next().unwrap_or_default().to_owned())
            .collect()
    }

    /// The image it runs now.
    pub fn current(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join("current")).ok()
    }

    /// Its next deploy takes `seconds`.
    pub fn sleep(&self, seconds: f64) {
        std::fs::write(self.dir.path().join("sleep"), seconds.to_string()).unwrap();
    }

    pub fn awake(&self) {
        let _ = std::fs::remove_file(self.dir.path().join("sleep"));
    }

    /// Sends a deploy of `image` by hand, as another pipeline would.
    pub fn deploy_by_hand(&self, image: &str) -> std::thread::JoinHandle<u16> {
        let (url, secret, image) = (self.url.clone(), self.secret.clone(), image.to_owned());
        let name = self.name.clone();
        std::thread::spawn(move || {
            let body = serde_json::to_vec(&json!({"image": image, "target": name})).unwrap();
            let key = SigningKey::from_whsec(&secret).unwrap();
            let id = format!("by-hand-{}", uuid::Uuid::new_v4().simple());
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            let signature =
                relay_signature::standard::sign(std::slice::from_ref(&key), &id, now, &body)
                    .unwrap();
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    reqwest::Client::new()
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("webhook-id", &id)
                        .header("webhook-timestamp", now.to_string())
                        .header("webhook-signature", signature)
                        .body(body)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
        })
    }
}

/// Three VMs (`vm-1` the canary, then `vm-2` and `vm-3`), their health, and
/// the fake GitHub of the deploy repository.
pub struct World {
    pub gh: FakeGitHub,
    pub health: HealthService,
    pub vms: Vec<Receiver>,
}

impl World {
    #[allow(clippy::new_without_default)] // starts processes: not a default value
    pub fn new() -> Self {
        let gh = FakeGitHub::start();
        gh.repo(DEPLOY, "main");
        gh.repo(APP, "main");
        let health = HealthService::start();
        let vms: Vec<Receiver> = (1..=3)
            .map(|i| Receiver::start(&format!("vm-{i}")))
            .collect();
        for vm in &vms {
            health.route(&format!("/{}/health", vm.name), Behavior::Up);
        }
        Self { gh, health, vms }
    }

    pub fn vm(&self, name: &str) -> &Receiver {
        self.vms.iter().find(|v| v.name == name).unwrap()
    }

    pub fn down(&self, name: &str) {
        self.health.route(
            &format!("/{name}/health"),
            Behavior::Json(500, json!({"status": "DOWN"})),
        );
    }

    /// The fleet file: `vm-1` alone, then `vm-2` and `vm-3` two at once;
    /// `extra` goes into the environment's table.
    pub fn fleet_file(&self, extra: &str) -> String {
        let target = |vm: &Receiver| {
            format!(
                "{{ name = \"{}\", url = \"{}\", secret = \"{}_KEY\", health = [\"{}\"] }}",
                vm.name,
                vm.url,
                vm.name.replace('-', "_").to_uppercase(),
                self.health.url(&format!("/{}/health", vm.name))
            )
        };
        format!(
            r#"[environments.production]
allow-http = true
{extra}

[environments.production.gate]
duration = "600ms"
interval = "200ms"
timeout = "1s"

[[environments.production.waves]]
name = "canary"
targets = [{}]

[[environments.production.waves]]
name = "rest"
max-parallel = 2
targets = [{}, {}]
"#,
            target(&self.vms[0]),
            target(&self.vms[1]),
            target(&self.vms[2]),
        )
    }

    /// `${{ toJSON(secrets) }}` with every VM's key (and the job's token).
    pub fn secrets(&self) -> String {
        let mut map = BTreeMap::new();
        map.insert("github_token".to_owned(), DEFAULT_TOKEN.to_owned());
        for vm in &self.vms {
            map.insert(
                format!("{}_KEY", vm.name.replace('-', "_").to_uppercase()),
                vm.secret.clone(),
            );
        }
        serde_json::to_string_pretty(&map).unwrap()
    }

    /// A run of the step deploying `sha`, attempt `attempt` of run [`RUN`].
    pub fn action(&self, sha: &str, attempt: u32, file: &str) -> ActionRun {
        let run = ActionRun::new(BIN)
            .api(self.gh.url())
            .env("GITHUB_REPOSITORY", DEPLOY)
            .env("GITHUB_RUN_ID", RUN)
            .env("GITHUB_RUN_ATTEMPT", &attempt.to_string())
            .env("RUNNER_DEBUG", "1")
            .input("environment", "production")
            .input("secrets", &self.secrets())
            .input("app-repository", APP)
            .input("sha", sha)
            .input("images", &format!("image={}", image(sha)))
            .input("github-token", DEFAULT_TOKEN)
            .timeout(Duration::from_secs(90));
        std::fs::create_dir_all(run.workspace()).unwrap();
        std::fs::write(run.workspace().join("deploy-relay.fleet.toml"), file).unwrap();
        run
    }

    /// Runs `a`, checking no key shows anywhere.
    pub fn run(&self, a: ActionRun) -> Outcome {
        let out = a.run();
        for vm in &self.vms {
            out.assert_secret_hidden(&vm.secret);
            let bare = vm.secret.trim_start_matches("whsec_");
            let shown = out
                .stdout
                .lines()
                .filter(|l| !l.starts_with("::add-mask::"))
                .any(|l| l.contains(bare));
            assert!(
                !shown && !out.summary.contains(bare),
                "the bare key of {} shows",
                vm.name
            );
        }
        out.assert_secret_hidden(DEFAULT_TOKEN);
        out
    }

    /// Deploys release A everywhere: the previous good of later tests.
    pub fn on_a(&self) {
        let run = self
            .action(SHA_A, 1, &self.fleet_file(""))
            .env("GITHUB_RUN_ID", "1000");
        self.run(run).assert_success();
        for vm in &self.vms {
            assert_eq!(vm.current(), Some(image(SHA_A)), "{}", vm.name);
        }
    }

    /// The records of the environment, oldest first: (id, states, payload).
    pub fn records(&self) -> Vec<(u64, Vec<String>, Value)> {
        self.gh
            .deployments(DEPLOY)
            .into_iter()
            .map(|d| {
                let id = d["id"].as_u64().unwrap();
                (id, self.gh.deployment_states(id), d["payload"].clone())
            })
            .collect()
    }

    /// The records of run `run`.
    pub fn records_of(&self, run: &str) -> Vec<(u64, Vec<String>, Value)> {
        self.records()
            .into_iter()
            .filter(|(_, _, p)| p["fleet"]["run_id"] == run)
            .collect()
    }

    /// No deploy script ever ran beside another on its VM.
    pub fn assert_never_overlapped(&self) {
        for vm in &self.vms {
            assert!(
                vm.log().iter().all(|l| !l.starts_with("OVERLAP")),
                "{}: {:?}",
                vm.name,
                vm.log()
            );
        }
    }
}

pub fn report(out: &Outcome) -> Vec<Value> {
    serde_json::from_str::<Value>(out.output("report"))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

pub fn target<'a>(report: &'a [Value], name: &str) -> &'a Value {
    report.iter().find(|t| t["name"] == name).unwrap()
}
