//! The fleet scene: examples/fleet played as it is. Its fleet file names
//! three VMs — the canary `vm-1`, then `vm-2` and `vm-3` in a second wave —
//! each with its own key (a secret of `production`) and health URL; the
//! demo starts three more real deploy-receivers with their own services
//! for them, and replays the dispatches of the story's release 1 and
//! release 2 into the example's `deploy.yml`, which calls `fleet.yml`.
//! Release 1 reaches every VM, wave by wave; release 2 (the broken one)
//! fails the canary's health gate: fleet-deploy rolls the canary back to
//! release 1, never calls the second wave, and opens one issue.
//!
//! Beneath the example, as beneath the others (`network`): the runner
//! skips `actions/checkout`, so the fleet file the checkout would hold is
//! the example's, written into the work folder with each VM's hosts moved
//! to its loopback receiver and service (over http, hence `allow-http`) and
//! every gate duration run `TIME_LAPSE` times faster; fleet-deploy is
//! pointed at that copy.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context as _;
use relay_fakes::RunScript;
use relay_runner::WorkflowRecord;
use relay_runtime::vars;
use serde_json::Value;

use crate::github;
use crate::network;
use crate::story::{self, Stage};
use crate::vm::Vm;

/// The fleet example's deploy workflow, relative to the repository.
pub const FLEET_EXAMPLE: &str = "examples/fleet/.github/workflows/deploy.yml";
/// Its fleet file, at the deploy repository's root.
pub const FLEET_FILE: &str = "examples/fleet/deploy-relay.fleet.toml";
/// The environment the example deploys to.
const ENVIRONMENT: &str = "production";
/// The story's releases the fleet takes: the good one, then the broken one.
pub const GOOD: u64 = 1;
pub const BROKEN: u64 = 2;
/// The gate keys the demo's clock shortens.
const GATE_DURATIONS: &[&str] = &["duration", "interval", "timeout", "initial-delay", "pause"];

/// One target of the example's fleet file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub wave: String,
    pub url: String,
    /// The name of the secret that signs for it.
    pub secret: String,
    pub health: Vec<String>,
}

/// A target of the fleet, and the demo VM that plays it.
pub struct FleetVm {
    pub target: Target,
    pub vm: Vm,
}

/// What fleet-deploy did to each target: the waves job's `fleet` step's
/// `report` output, one object per target.
pub fn fleet_report(rec: &WorkflowRecord) -> Vec<Value> {
    rec.job("waves")
        .and_then(|j| j.steps.iter().find(|s| s.id == "fleet"))
        .and_then(|s| s.outputs.get("report"))
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default()
}

impl FleetVm {
    /// The deliveries the VM's receiver took, oldest first (its
    /// replay state: one id per call, whatever its tries).
    pub fn deliveries(&self) -> Vec<String> {
        let Some(dir) = self.vm.config.parent() else {
            return Vec::new();
        };
        std::fs::read_to_string(dir.join("state/delivery-ids.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["ids"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|pair| pair[0].as_str().map(str::to_owned))
            .collect()
    }

    /// The release the VM's service answers with, as a line.
    pub fn served(&self) -> String {
        self.vm.supervisor.served().map_or_else(
            || "nothing".to_owned(),
            |(n, sha)| format!("release {n} ({})", github::short(&sha)),
        )
    }
}

/// The scene as it went: its VMs (stopped by [`FleetScene::stop`]) and
/// each release's run of the example.
pub struct FleetScene {
    pub vms: Vec<FleetVm>,
    pub runs: Vec<(u64, Result<WorkflowRecord, String>)>,
}

impl FleetScene {
    pub fn stop(&mut self, runtime: &tokio::runtime::Runtime) {
        for f in &mut self.vms {
            f.vm.stop(runtime);
        }
    }

    /// `fleet.yml`'s run for release `n`, as the example called it.
    pub fn fleet_yml(&self, n: u64) -> Option<&WorkflowRecord> {
        self.runs
            .iter()
            .find(|(r, _)| *r == n)
            .and_then(|(_, rec)| rec.as_ref().ok())
            .map(story::deploy_yml)
    }
}

/// The targets of `environment` in a fleet file, wave by wave.
pub fn targets(text: &str, environment: &str) -> anyhow::Result<Vec<Target>> {
    let doc: toml::Table = toml::from_str(text)?;
    let waves = doc
        .get("environments")
        .and_then(|e| e.get(environment))
        .and_then(|e| e.get("waves"))
        .and_then(toml::Value::as_array)
        .with_context(|| format!("no waves of `{environment}`"))?;
    let s = |v: &toml::Value, k: &str| v.get(k).and_then(toml::Value::as_str).map(str::to_owned);
    let mut out = Vec::new();
    for wave in waves {
        let name = s(wave, "name").context("a wave without a name")?;
        for t in wave
            .get("targets")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            out.push(Target {
                name: s(t, "name").context("a target without a name")?,
                wave: name.clone(),
                url: s(t, "url").context("a target without a url")?,
                secret: s(t, "secret").context("a target without a secret")?,
                health: t
                    .get("health")
                    .and_then(toml::Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|u| u.as_str().map(str::to_owned))
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    url[after..].find('/').map_or(url, |i| &url[..after + i])
}

/// `url` with its origin moved as `hosts` says (an exact origin only).
fn moved(url: &str, hosts: &[(String, String)]) -> Option<String> {
    let o = origin(url);
    hosts
        .iter()
        .find(|(from, _)| from == o)
        .map(|(_, to)| format!("{to}{}", &url[o.len()..]))
}

/// `ms` as a person reads it: `600ms`, `2.4s`, `12s`.
fn readable(ms: &str) -> String {
    let Some(n) = ms.strip_suffix("ms").and_then(|n| n.parse::<u64>().ok()) else {
        return ms.to_owned();
    };
    match n {
        n if n < 1000 => format!("{n}ms"),
        n if n % 1000 == 0 => format!("{}s", n / 1000),
        n => format!("{:.1}s", n as f64 / 1000.0),
    }
}

/// The fleet file with the demo's network and clock beneath it: every
/// target's hook and health URL at the origin `hosts` maps it to (and
/// `allow-http` on an environment whose hooks are now http), every gate
/// duration `lapse` times shorter. Also says what each duration became.
pub fn beneath(
    text: &str,
    hosts: &[(String, String)],
    lapse: f64,
) -> anyhow::Result<(String, Vec<String>)> {
    let mut doc: toml::Table = toml::from_str(text)?;
    let mut lapsed = BTreeSet::new();
    let mut gate = |g: &mut toml::Value| {
        let Some(g) = g.as_table_mut() else { return };
        for key in GATE_DURATIONS {
            if let Some(v) = g.get_mut(*key)
                && let Some(d) = v.as_str()
                && let Some(to) = network::lapsed(key, d, lapse)
            {
                lapsed.insert(format!("{d} → {}", readable(&to)));
                *v = toml::Value::String(to);
            }
        }
    };
    let envs = doc
        .get_mut("environments")
        .and_then(toml::Value::as_table_mut)
        .context("no [environments]")?;
    for (_, env) in envs.iter_mut() {
        let Some(env) = env.as_table_mut() else {
            continue;
        };
        if let Some(g) = env.get_mut("gate") {
            gate(g);
        }
        let mut http = false;
        for wave in env
            .get_mut("waves")
            .and_then(toml::Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(g) = wave.get_mut("gate") {
                gate(g);
            }
            for t in wave
                .get_mut("targets")
                .and_then(toml::Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(url) = t.get_mut("url")
                    && let Some(to) = url.as_str().and_then(|u| moved(u, hosts))
                {
                    http |= to.starts_with("http://");
                    *url = toml::Value::String(to);
                }
                for u in t
                    .get_mut("health")
                    .and_then(toml::Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    if let Some(to) = u.as_str().and_then(|s| moved(s, hosts)) {
                        *u = toml::Value::String(to);
                    }
                }
            }
        }
        if http {
            env.insert("allow-http".into(), toml::Value::Boolean(true));
        }
    }
    Ok((toml::to_string(&doc)?, lapsed.into_iter().collect()))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Which of the story's releases `sha` is.
fn release_of(sha: &str) -> Option<u64> {
    (1..=crate::queue::SECOND).find(|n| story::sha_of(*n) == sha)
}

impl Stage<'_> {
    /// Starts a VM per target of the example's fleet file and plays the
    /// example's `deploy.yml` for release [`GOOD`], then [`BROKEN`].
    pub fn play_fleet(
        &self,
        runtime: &tokio::runtime::Runtime,
        root: &Path,
        program: &Path,
    ) -> anyhow::Result<FleetScene> {
        let t = self.timeline;
        let text = std::fs::read_to_string(root.join(FLEET_FILE))
            .with_context(|| format!("couldn't read `{FLEET_FILE}`"))?;
        let dir = self.work.join("fleet");
        let mut scene = FleetScene {
            vms: Vec::new(),
            runs: Vec::new(),
        };
        for target in targets(&text, ENVIRONMENT).context(FLEET_FILE)? {
            let vm = Vm::start(runtime, &dir.join(&target.name), program)?;
            self.masks.add(&vm.secret);
            self.masks.add(vm.supervisor.token());
            scene.vms.push(FleetVm { target, vm });
        }
        let mut hosts = Vec::new();
        for f in &scene.vms {
            hosts.push((
                origin(&f.target.url).to_owned(),
                origin(&f.vm.webhook_url).to_owned(),
            ));
            for h in &f.target.health {
                hosts.push((
                    origin(h).to_owned(),
                    f.vm.supervisor.service_url().to_owned(),
                ));
            }
        }
        let (mapped, lapsed) = beneath(&text, &hosts, f64::from(story::TIME_LAPSE))?;
        let copy = dir.join("deploy-relay.fleet.toml");
        std::fs::write(&copy, mapped)
            .with_context(|| format!("couldn't write `{}`", copy.display()))?;
        let checkout_path = Path::new(FLEET_FILE)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();

        t.say("");
        t.say(&format!(
            "━━ Fleet · examples/fleet: {} VMs in waves, canary first · release {GOOD}, then release {BROKEN}",
            scene.vms.len()
        ));
        for f in &scene.vms {
            t.say(&format!(
                "  {:<6} wave {:<7} deploy-receiver {}   service {}   key {} ({ENVIRONMENT})",
                f.target.name,
                f.target.wave,
                f.vm.webhook_url,
                f.vm.supervisor.service_url(),
                f.target.secret,
            ));
        }
        t.say(&format!(
            "  beneath the example: the runner skips actions/checkout, so fleet-deploy reads {FLEET_FILE} as the demo maps it ({}): each VM's hosts are its receiver and service above, over http (allow-http = true), and its gates run ×{} faster ({})",
            copy.display(),
            story::TIME_LAPSE,
            lapsed.join(", ")
        ));

        // The VMs pull from the registry the builds pushed to.
        for f in &scene.vms {
            for entry in std::fs::read_dir(&self.vm.registry)? {
                let entry = entry?;
                copy_dir(&entry.path(), &f.vm.registry.join(entry.file_name()))?;
            }
        }
        let network: String = hosts
            .iter()
            .map(|(a, b)| format!("{a}={b}"))
            .collect::<Vec<_>>()
            .join("\n");
        for n in [GOOD, BROKEN] {
            let r = story::release(n, n == BROKEN);
            t.say("");
            t.say(&format!(
                "━━ Fleet · release {n} · {} · {}{}",
                github::short(&r.sha),
                r.title,
                if n == BROKEN {
                    " · broken: passes its first health check, then reports DOWN"
                } else {
                    ""
                }
            ));
            let dispatch = self
                .github
                .dispatches()
                .into_iter()
                .find(|d| d["client_payload"]["sha"] == r.sha.as_str())
                .with_context(|| format!("release {n} was never dispatched"))?;
            let event = relay_runner::events::repository_dispatch(
                dispatch["event_type"].as_str().unwrap_or("deploy"),
                dispatch["client_payload"].clone(),
            );
            self.github.gh.add_run(
                github::PLATFORM,
                "repository_dispatch",
                "Deploy to the fleet",
                RunScript::succeeds_after(0),
            );
            let (runner, run_id) = self.github.platform_runner(
                &self.work.join(format!("runner/fleet/release-{n}")),
                &event,
                &self.vm.secret,
                &network,
                t.observer(),
            );
            let secrets = scene
                .vms
                .iter()
                .fold(self.github.platform_secrets(&self.vm.secret), |s, f| {
                    s.environment(ENVIRONMENT, &f.target.secret, &f.vm.secret)
                });
            let mut runner = runner
                .secrets(secrets)
                .env(vars::GITHUB_WORKFLOW, "Deploy to the fleet")
                .env(
                    network::FLEET_FILE_VAR,
                    &format!("{checkout_path}={}", copy.display()),
                );
            t.at(&format!(
                "platform repo {}: {FLEET_EXAMPLE} (the dispatch of release {n} again, run {run_id})",
                github::PLATFORM,
            ));
            let rec = runner
                .run(
                    Path::new(FLEET_EXAMPLE),
                    &Default::default(),
                    &Default::default(),
                )
                .map_err(|e| format!("couldn't play `{FLEET_EXAMPLE}`: {e}"));
            match &rec {
                Ok(rec) => self.tell_fleet(story::deploy_yml(rec)),
                Err(why) => t.at(&format!("✗ {why}")),
            }
            t.at(&format!(
                "→ the VMs answer: {}",
                scene
                    .vms
                    .iter()
                    .map(|f| format!("{} {}", f.target.name, f.served()))
                    .collect::<Vec<_>>()
                    .join(" · ")
            ));
            scene.runs.push((n, rec));
        }
        Ok(scene)
    }

    /// What fleet-deploy did to each target, and how the rollout ended.
    fn tell_fleet(&self, rec: &WorkflowRecord) {
        let t = self.timeline;
        let out = |k: &str| rec.outputs.get(k).map(String::as_str).unwrap_or_default();
        let report = fleet_report(rec);
        for target in &report {
            let s = |k: &str| target[k].as_str().unwrap_or_default().to_owned();
            let mut line = format!("{:<6} {:<7} {}", s("name"), s("wave"), s("call"));
            match s("gate").as_str() {
                "passed" => line.push_str(" · health gate passed"),
                "failed" => line.push_str(&format!(
                    " · health gate failed: {}",
                    crate::logs::one_line(&s("gate_reason"))
                )),
                _ => {}
            }
            if s("rollback") == "done" {
                let to = s("rolled_back_to");
                line.push_str(&format!(
                    " · rolled back to {}",
                    release_of(&to).map_or_else(
                        || github::short(&to).to_owned(),
                        |n| format!("release {n} ({})", github::short(&to))
                    )
                ));
            } else if s("rollback") != "none" {
                line.push_str(&format!(" · rollback {}", s("rollback")));
            }
            t.at(&format!("  {}", self.masks.redact(&line)));
        }
        match out("state") {
            "success" => t.at("→ fleet.yml: every wave passed"),
            state => {
                let untouched: BTreeSet<String> = report
                    .iter()
                    .filter(|r| r["call"] == "not-called")
                    .filter_map(|r| r["wave"].as_str().map(str::to_owned))
                    .collect();
                t.at(&format!(
                    "↺ fleet.yml {state}: failed {} · rolled back {} · never called: wave {} · issue {}",
                    or_none(out("failed")),
                    or_none(out("rolled-back")),
                    or_none(&untouched.into_iter().collect::<Vec<_>>().join(", ")),
                    or_none(out("issue-url")),
                ));
            }
        }
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "none" } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::read_to_string(root.join(FLEET_FILE)).unwrap()
    }

    #[test]
    fn the_examples_targets_canary_first() {
        let t = targets(&example(), ENVIRONMENT).unwrap();
        let names: Vec<_> = t
            .iter()
            .map(|t| (t.name.as_str(), t.wave.as_str(), t.secret.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("vm-1", "canary", "DEPLOY_VM_1"),
                ("vm-2", "rest", "DEPLOY_VM_2"),
                ("vm-3", "rest", "DEPLOY_VM_3"),
            ]
        );
        assert_eq!(t[0].health, ["https://vm-1.example.com/api/health"]);
    }

    /// The example's hosts and gates, beneath: each origin exactly (the
    /// hook's `:8443` is not the health URL's host), allow-http, every gate
    /// duration shorter; the rest of the file as it was.
    #[test]
    fn the_example_moves_to_loopback_and_its_gates_speed_up() {
        let hosts: Vec<(String, String)> = [
            ("https://vm-1.example.com:8443", "http://127.0.0.1:7001"),
            ("https://vm-1.example.com", "http://127.0.0.1:7002"),
            ("https://vm-2.example.com:8443", "http://127.0.0.1:7003"),
            ("https://vm-2.example.com", "http://127.0.0.1:7004"),
            ("https://vm-3.example.com:8443", "http://127.0.0.1:7005"),
            ("https://vm-3.example.com", "http://127.0.0.1:7006"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let (text, lapsed) = beneath(&example(), &hosts, 50.0).unwrap();
        let t = targets(&text, ENVIRONMENT).unwrap();
        assert_eq!(t[0].url, "http://127.0.0.1:7001/deploy/api");
        assert_eq!(t[0].health, ["http://127.0.0.1:7002/api/health"]);
        assert_eq!(t[2].url, "http://127.0.0.1:7005/deploy/api");
        assert_eq!(t[2].health, ["http://127.0.0.1:7006/api/health"]);
        assert_eq!(lapsed, ["10m → 12s", "2m → 2.4s", "30s → 600ms", "5m → 6s"]);
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let env = &doc["environments"]["production"];
        assert_eq!(env["allow-http"].as_bool(), Some(true));
        assert_eq!(env["max-parallel"].as_integer(), Some(2));
        assert_eq!(env["gate"]["duration"].as_str(), Some("6000ms"));
        assert_eq!(env["gate"]["interval"].as_str(), Some("600ms"));
        assert_eq!(
            env["gate"]["conditions"].as_array().map(Vec::len),
            Some(2),
            "conditions are not durations"
        );
        assert_eq!(env["waves"][0]["gate"]["pause"].as_str(), Some("2400ms"));
        // An origin the demo does not serve stays as it is.
        assert_eq!(moved("https://vm-9.example.com/x", &hosts), None);
    }
}
