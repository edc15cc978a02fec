//! A wave's health gate: one relay-health window across every health URL
//! of the wave's targets (the window `monitor-health` runs), its verdict
//! read back per target.

use std::time::Duration;

use relay_health::Report;
use relay_runtime::{Console, Source};

use crate::config::Config;
use crate::file::Wave;

/// What the gate found.
pub(crate) struct Verdict {
    /// Per target of the wave (in its order): `None` passed, else why not
    /// (redacted URLs and our own words: nothing an endpoint sent).
    pub targets: Vec<Option<String>>,
    pub report: Report,
}

impl Verdict {
    pub(crate) fn passed(&self) -> bool {
        self.targets.iter().all(Option::is_none)
    }
}

/// How the window is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// The wave's whole window.
    Window,
    /// One probe per URL, each must pass: a wave whose every target was
    /// already on the release (a re-run) is checked, not watched again.
    Once,
}

pub(crate) async fn check(
    config: &Config,
    wave: &Wave,
    depth: Depth,
    console: &Console,
) -> anyhow::Result<Verdict> {
    let g = &wave.gate;
    let mut urls = Vec::new();
    let mut owner = Vec::new();
    for (t, target) in wave.targets.iter().enumerate() {
        for url in &target.health {
            urls.push(url.clone());
            owner.push(t);
        }
    }
    let once = depth == Depth::Once;
    let settings = relay_health::Config {
        urls,
        // Each wave's gate judges every URL it probes: a target down
        // before its deploy fails its wave (it is not excused as
        // `monitor-health`'s `known-down` excuses one).
        known_down: Vec::new(),
        duration: if once { g.timeout } else { g.duration },
        interval: if once { g.timeout } else { g.interval },
        timeout: g.timeout,
        initial_delay: if once {
            Duration::ZERO
        } else {
            g.initial_delay
        },
        consecutive_failures: if once { 1 } else { g.consecutive_failures },
        success_threshold: if once { 100.0 } else { g.success_threshold },
        fail_fast: g.fail_fast,
        conditions: g.conditions.clone(),
        expected_status: g.expected_status.clone(),
        headers: Vec::new(),
        insecure: false,
        follow_redirects: g.follow_redirects,
        environment: config.fleet.environment.clone(),
        source: Source {
            repository: config.app.clone(),
            sha: config.release.sha.clone(),
            ref_name: String::new(),
            run_id: config.run_id.clone(),
            run_number: String::new(),
            conclusion: None,
            workflow: None,
        },
    };
    let client = relay_health::client(&settings)?;
    let secrets = relay_health::secrets(&settings, console.masks().to_vec());
    let window = relay_health::watch(&settings, client, console, secrets).await;
    let report = Report::new(&settings, &window);
    let mut targets: Vec<Option<String>> = vec![None; wave.targets.len()];
    for (f, t) in report.endpoints.iter().zip(&owner) {
        if let Some(verdict) = &f.verdict {
            let line = format!("{}: {verdict}", f.url);
            match &mut targets[*t] {
                Some(existing) => {
                    existing.push_str("; ");
                    existing.push_str(&line);
                }
                slot @ None => *slot = Some(line),
            }
        }
    }
    Ok(Verdict { targets, report })
}
