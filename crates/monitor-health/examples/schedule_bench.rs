//! Schedule accuracy, measured from the outside: runs the real
//! `monitor-health` binary (under `/usr/bin/time -v`) against the scriptable
//! health service with N endpoints, and computes drift and jitter from the
//! times the service recorded each request.
//!
//! `schedule_bench <monitor-health binary> [endpoints] [interval] [duration]`
//! (defaults 50, 1s, 60s). Run by `scripts/bench-monitor-health.sh`.

use std::process::Command;
use std::time::Instant;

use relay_testkit::health::{Behavior, HealthService};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: f64) -> String {
    format!("{d:.2} ms")
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).ok_or_else(|| {
        anyhow::anyhow!(
            "usage: schedule_bench <monitor-health binary> [endpoints] [interval] [duration]"
        )
    })?;
    let n: usize = args.get(2).map_or(Ok(50), |s| s.parse())?;
    let interval = args.get(3).map_or("1s", String::as_str);
    let duration = args.get(4).map_or("60s", String::as_str);
    let step = relay_runtime::duration::parse(interval).map_err(anyhow::Error::msg)?;

    let service = HealthService::start();
    let paths: Vec<String> = (0..n).map(|i| format!("/svc/{i}/health")).collect();
    for p in &paths {
        service.route(p, Behavior::Up);
    }
    let urls: Vec<String> = paths.iter().map(|p| service.url(p)).collect();
    let out_dir = tempfile::tempdir()?;
    let output = out_dir.path().join("output");
    std::fs::write(&output, "")?;

    let started = Instant::now();
    let run = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(bin)
        .env_clear()
        .env("INPUT_URLS", urls.join("\n"))
        .env("INPUT_INTERVAL", interval)
        .env("INPUT_DURATION", duration)
        .env("INPUT_TIMEOUT", "5s")
        .env("GITHUB_OUTPUT", &output)
        .output()?;
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&run.stderr);
    anyhow::ensure!(
        run.status.success(),
        "monitor-health failed:\n{}\n{stderr}",
        String::from_utf8_lossy(&run.stdout)
    );
    let field = |name: &str| {
        stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };

    // Slot 0 of the window is the earliest request of any endpoint; slot k
    // of every endpoint is due k × interval later.
    let hits: Vec<Vec<Instant>> = paths.iter().map(|p| service.hits(p)).collect();
    let t0 = hits
        .iter()
        .filter_map(|h| h.first())
        .min()
        .copied()
        .ok_or_else(|| anyhow::anyhow!("no requests were recorded"))?;
    let slots = hits.iter().map(Vec::len).max().unwrap_or(0);
    anyhow::ensure!(
        hits.iter().all(|h| h.len() == slots),
        "endpoints got different numbers of probes"
    );
    let mut errors = Vec::new();
    let mut first_slot = Vec::new();
    let mut last_slot = Vec::new();
    let mut spreads = Vec::new();
    let mut warm = Vec::new();
    let mut slot_means = Vec::new();
    for k in 0..slots {
        let due = t0 + step * u32::try_from(k)?;
        let at: Vec<f64> = hits
            .iter()
            .map(|h| (h[k] - due).as_secs_f64() * 1000.0)
            .collect();
        let lo = at.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = at.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        spreads.push(hi - lo);
        slot_means.push(at.iter().sum::<f64>() / at.len() as f64);
        if k == 0 {
            first_slot.extend(&at);
        } else {
            warm.extend(&at);
        }
        if k == slots - 1 {
            last_slot.extend(&at);
        }
        errors.extend(at);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // Drift: how far the last slot sits from its due time compared with the
    // first, averaged over endpoints.
    let drift = mean(&last_slot) - mean(&first_slot);
    let mut lateness = errors.clone();
    lateness.sort_by(f64::total_cmp);
    spreads.sort_by(f64::total_cmp);
    // Jitter: deviation of each probe from the mean offset of all probes.
    let centre = mean(&errors);
    let mut jitter: Vec<f64> = errors.iter().map(|e| (e - centre).abs()).collect();
    jitter.sort_by(f64::total_cmp);

    println!(
        "endpoints: {n}, interval: {interval}, duration: {duration}, probes: {}",
        n * slots
    );
    println!("wall time: {:.2} s", wall.as_secs_f64());
    println!(
        "drift (last slot vs first, mean over endpoints): {}",
        ms(drift)
    );
    println!(
        "lateness vs grid: p50 {}, p99 {}, max {}",
        ms(percentile(&lateness, 50.0)),
        ms(percentile(&lateness, 99.0)),
        ms(percentile(&lateness, 100.0))
    );
    warm.sort_by(f64::total_cmp);
    if !warm.is_empty() {
        println!(
            "lateness from slot 1 on (connections warm): p50 {}, p99 {}, max {}",
            ms(percentile(&warm, 50.0)),
            ms(percentile(&warm, 99.0)),
            ms(percentile(&warm, 100.0))
        );
    }
    let (worst, worst_ms) = slot_means
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, v)| (k, *v))
        .unwrap_or_default();
    println!("latest slot: #{worst}, mean {} late", ms(worst_ms));
    println!(
        "jitter |offset - mean|: p50 {}, p99 {}, max {}",
        ms(percentile(&jitter, 50.0)),
        ms(percentile(&jitter, 99.0)),
        ms(percentile(&jitter, 100.0))
    );
    println!(
        "spread of one slot across endpoints: p50 {}, p99 {}, max {}",
        ms(percentile(&spreads, 50.0)),
        ms(percentile(&spreads, 99.0)),
        ms(percentile(&spreads, 100.0))
    );
    println!(
        "monitor-health CPU: user {} s, system {} s, {} of one core; max RSS {} KiB",
        field("User time (seconds):"),
        field("System time (seconds):"),
        field("Percent of CPU this job got:"),
        field("Maximum resident set size (kbytes):")
    );
    Ok(())
}
