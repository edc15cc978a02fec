//! The bounded cost of a fleet deploy, measured from the outside: the
//! release `fleet-deploy` binary (under `/usr/bin/time -v`) deploys to N
//! simulated targets on loopback, in waves, against the fake GitHub.
//!
//! Each target is a receiver of its own — its own listener on a port of
//! 127.0.0.1, so its own connections, as N VMs would be — that answers a
//! deploy as deploy-receiver answers a synchronous one (`200` with
//! `status`, `exit_code`, `duration_ms`, `output`) after `deploy-ms`, and
//! its health URL with `200 {"status":"UP"}`. Signatures are not checked:
//! the bench measures the sender (the tests run real deploy-receivers).
//!
//! Prints one markdown row: targets, waves, wall time, the sum of the
//! waves' health windows, the floor (each wave's calls and its window up to
//! its last probe), wall over windows, the overhead per wave over the floor,
//! peak RSS, CPU, requests to GitHub; and fails unless every target was called exactly once, every
//! health URL was probed, and every wave was recorded.
//!
//! `fleet_bench <fleet-deploy binary> <targets> <wave size> <max-parallel>
//! [window] [interval] [deploy-ms]` (defaults 1s, 250ms, 100). Run by
//! `scripts/bench-fleet.sh`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_signature::SigningKey;
use relay_testkit::ActionRun;
use serde_json::json;

const DEPLOY: &str = "octo/deploy";
const APP: &str = "octo/app";
const SHA: &str = "cccccccccccccccccccccccccccccccccccccccc";

/// One simulated target's counters.
#[derive(Default)]
struct Counts {
    deploys: AtomicU32,
    probes: AtomicU32,
}

struct Target {
    counts: Arc<Counts>,
    port: u16,
}

async fn start_target(deploy_ms: u64) -> anyhow::Result<Target> {
    let counts = Arc::new(Counts::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let app = Router::new()
        .route(
            "/deploy",
            post(move |State(c): State<Arc<Counts>>| async move {
                c.deploys.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(deploy_ms)).await;
                axum::Json(json!({
                    "status": 200,
                    "exit_code": 0,
                    "duration_ms": deploy_ms,
                    "output": "deployed",
                }))
            }),
        )
        .route(
            "/health",
            get(|State(c): State<Arc<Counts>>| async move {
                c.probes.fetch_add(1, Ordering::Relaxed);
                axum::Json(json!({"status": "UP"}))
            }),
        )
        .with_state(counts.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Target { counts, port })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: fleet_bench <fleet-deploy binary> <targets> <wave size> <max-parallel> [window] [interval] [deploy-ms]";
    // Absolute: the action runs in its own workspace.
    let bin = std::fs::canonicalize(args.get(1).ok_or_else(|| anyhow::anyhow!(usage))?)?;
    let number = |i: usize| -> anyhow::Result<usize> {
        Ok(args.get(i).ok_or_else(|| anyhow::anyhow!(usage))?.parse()?)
    };
    let (n, size, parallel) = (number(2)?, number(3)?, number(4)?);
    let window = args.get(5).map_or("1s", String::as_str);
    let interval = args.get(6).map_or("250ms", String::as_str);
    let deploy_ms: u64 = args.get(7).map_or(Ok(100), |s| s.parse())?;
    let window_time = relay_runtime::duration::parse(window).map_err(anyhow::Error::msg)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let targets: Vec<Target> = runtime.block_on(async {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(start_target(deploy_ms).await?);
        }
        anyhow::Ok(out)
    })?;
    let gh = FakeGitHub::start();
    gh.repo(DEPLOY, "main");
    gh.repo(APP, "main");

    // The fleet file: waves of `size`, each target a receiver and a secret
    // of its own.
    let mut file = format!(
        "[environments.production]\nallow-http = true\nmax-parallel = {parallel}\ntimeout = \"60s\"\n\n\
         [environments.production.gate]\nduration = \"{window}\"\ninterval = \"{interval}\"\ntimeout = \"2s\"\n"
    );
    let mut secrets = BTreeMap::new();
    secrets.insert("github_token".to_owned(), DEFAULT_TOKEN.to_owned());
    let waves = targets.chunks(size).count();
    for (w, wave) in targets.chunks(size).enumerate() {
        write!(
            file,
            "\n[[environments.production.waves]]\nname = \"wave-{}\"\ntargets = [\n",
            w + 1
        )?;
        for (k, t) in wave.iter().enumerate() {
            let i = w * size + k;
            writeln!(
                file,
                "  {{ name = \"t-{i}\", url = \"http://127.0.0.1:{port}/deploy\", secret = \"T_{i}_KEY\", health = [\"http://127.0.0.1:{port}/health\"] }},",
                port = t.port
            )?;
            let key = SigningKey::new(uuid::Uuid::new_v4().as_bytes().to_vec())?;
            secrets.insert(format!("T_{i}_KEY"), key.to_whsec());
        }
        file.push_str("]\n");
    }

    // `FLEET_BENCH_WRAP="perf record -g -o /tmp/perf.data --"` profiles
    // instead of timing (the figures then read 0).
    let env = relay_runtime::Env::from_process();
    let mut wrap = env
        .get("FLEET_BENCH_WRAP")
        .unwrap_or("/usr/bin/time -v")
        .split_whitespace();
    let mut run = ActionRun::new(wrap.next().unwrap_or("/usr/bin/time"));
    for a in wrap {
        run = run.arg(a);
    }
    let run = run
        .arg(&bin.to_string_lossy())
        .api(gh.url())
        .env("GITHUB_REPOSITORY", DEPLOY)
        .env("GITHUB_RUN_ID", "9001")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .input("environment", "production")
        .input("secrets", &serde_json::to_string(&secrets)?)
        .input("app-repository", APP)
        .input("sha", SHA)
        .input(
            "images",
            &format!("image=registry.test/app@sha256:{}", "c".repeat(64)),
        )
        .input("github-token", DEFAULT_TOKEN)
        .timeout(Duration::from_secs(3600));
    std::fs::create_dir_all(run.workspace())?;
    std::fs::write(run.workspace().join("deploy-relay.fleet.toml"), &file)?;
    let out = run.run();
    anyhow::ensure!(
        out.code == 0,
        "fleet-deploy failed ({}):\n{}\n{}",
        out.code,
        out.stdout
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n"),
        out.stderr
    );
    let field = |name: &str| {
        out.stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };

    // What the targets and GitHub saw.
    for (i, t) in targets.iter().enumerate() {
        let deploys = t.counts.deploys.load(Ordering::Relaxed);
        anyhow::ensure!(deploys == 1, "t-{i} was called {deploys} times");
        anyhow::ensure!(
            t.counts.probes.load(Ordering::Relaxed) > 0,
            "t-{i}'s health URL was never probed"
        );
    }
    let records = gh
        .deployments(DEPLOY)
        .iter()
        .filter(|d| d["task"] == "deploy-relay")
        .count();
    anyhow::ensure!(records == waves, "{records} records for {waves} waves");
    let probes: u32 = targets
        .iter()
        .map(|t| t.counts.probes.load(Ordering::Relaxed))
        .sum();

    let wall = out.elapsed.as_secs_f64();
    // What the waves cannot go below: each wave's calls (`deploy-ms`, in
    // rounds of `max-parallel`) and its window, whose last probes are due
    // at (slots - 1) x interval (relay-health's grid).
    let windows = window_time.as_secs_f64() * waves as f64;
    let interval_time = relay_runtime::duration::parse(interval).map_err(anyhow::Error::msg)?;
    let last_slot =
        interval_time.as_secs_f64() * (relay_health::slots(window_time, interval_time) - 1) as f64;
    let floor: f64 = targets
        .chunks(size)
        .map(|w| w.len().div_ceil(parallel) as f64 * deploy_ms as f64 / 1000.0 + last_slot)
        .sum();
    let rss_kib: f64 = field("Maximum resident set size (kbytes):")
        .parse()
        .unwrap_or(0.0);
    println!(
        "| {n} | {size} | {parallel} | {waves} | {wall:.1} s | {windows:.1} s | {floor:.1} s | {:.2} | {:.0} ms | {:.1} MiB | {} s + {} s | {} | {probes} |",
        wall / windows,
        (wall - floor) * 1000.0 / waves as f64,
        rss_kib / 1024.0,
        field("User time (seconds):"),
        field("System time (seconds):"),
        gh.requests().len(),
    );
    Ok(())
}
