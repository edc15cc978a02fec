//! The window: every URL probed on one fixed grid from the window's start,
//! probes in flight side by side, results tallied as they land.

use std::sync::Arc;
use std::time::Duration;

use relay_http::DisplaySafeUrl;
use relay_runtime::Console;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::Config;
use crate::probe::{self, Outcome};

/// One probe's place on the grid and what it found.
#[derive(Debug, Clone)]
pub struct Record {
    /// When it was due, from the window's start.
    pub due: Duration,
    pub outcome: Outcome,
}

/// One URL's probes, by slot on the grid; `None` for a slot not (yet) probed.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The URL; it prints with user info and query values redacted.
    pub url: DisplaySafeUrl,
    pub slots: Vec<Option<Record>>,
    /// Longest run of failed probes in adjacent slots.
    pub max_streak: usize,
    pub failures: usize,
}

impl Endpoint {
    pub fn new(url: &DisplaySafeUrl, planned: usize) -> Self {
        Self {
            url: url.clone(),
            slots: vec![None; planned],
            max_streak: 0,
            failures: 0,
        }
    }

    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.slots.iter().flatten()
    }

    /// The success rate the window ends with if every slot not failed so
    /// far passes: once it is below the threshold, no later probe can save
    /// the verdict. After a full window it is the success rate itself.
    pub fn best_rate(&self) -> f64 {
        let planned = self.slots.len().max(1);
        (planned - self.failures.min(planned)) as f64 * 100.0 / planned as f64
    }

    /// Records the probe in `slot`; returns the failure run it is part of.
    fn record(&mut self, slot: usize, record: Record) -> usize {
        let failed = record.outcome.failure.is_some();
        self.slots[slot] = Some(record);
        if !failed {
            return 0;
        }
        self.failures += 1;
        let is_failure =
            |s: &Option<Record>| s.as_ref().is_some_and(|r| r.outcome.failure.is_some());
        let before = self.slots[..slot]
            .iter()
            .rev()
            .take_while(|s| is_failure(s))
            .count();
        let after = self.slots[slot + 1..]
            .iter()
            .take_while(|s| is_failure(s))
            .count();
        let streak = before + 1 + after;
        self.max_streak = self.max_streak.max(streak);
        streak
    }
}

/// What the window saw.
#[derive(Debug, Clone)]
pub struct Window {
    pub endpoints: Vec<Endpoint>,
    /// Set when `fail-fast` ended the window early: the endpoint and when.
    pub stopped: Option<(usize, Duration)>,
    pub elapsed: Duration,
}

/// How many grid points fall inside the window: 0, i, 2i, … < duration.
pub fn slots(duration: Duration, interval: Duration) -> usize {
    let n = duration.as_nanos().saturating_sub(1) / interval.as_nanos() + 1;
    usize::try_from(n).unwrap_or(usize::MAX)
}

pub async fn watch(
    config: &Config,
    client: reqwest::Client,
    console: &Console,
    secrets: Vec<String>,
) -> Window {
    let planned = slots(config.duration, config.interval);
    let mut endpoints: Vec<Endpoint> = config
        .urls
        .iter()
        .map(|u| Endpoint::new(u, planned))
        .collect();
    let secrets = Arc::new(secrets);
    let start = Instant::now() + config.initial_delay;
    // The grid is anchored at `start` and every probe is its own task, so a
    // slow probe never pushes the next one. `Burst`: if the runner stalls
    // past a slot, the missed slots are probed as soon as it wakes and the
    // grid resumes where it was, so every slot gets its probe and the
    // success rate keeps its denominator. `Delay` would shift every later
    // probe (drift); `Skip` would drop the missed slots' samples.
    let mut ticks = tokio::time::interval_at(start, config.interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let conditions = Arc::new(config.conditions.clone());
    let expected = Arc::new(config.expected_status.clone());
    let mut running = JoinSet::new();
    let mut next_slot = 0;
    let mut stopped = None;
    loop {
        tokio::select! {
            due = ticks.tick(), if next_slot < planned => {
                let slot = usize::try_from((due - start).as_nanos() / config.interval.as_nanos())
                    .unwrap_or(usize::MAX);
                if slot >= planned {
                    next_slot = planned;
                    continue;
                }
                next_slot = slot + 1;
                for (e, url) in config.urls.iter().enumerate() {
                    let (client, url) = (client.clone(), url.clone());
                    let (conditions, expected) = (conditions.clone(), expected.clone());
                    let secrets = secrets.clone();
                    let timeout = config.timeout;
                    running.spawn(async move {
                        let outcome = probe::probe(&client, &url, timeout, expected.as_ref().as_ref(), &conditions, &secrets).await;
                        (e, slot, due - start, outcome)
                    });
                }
            }
            Some(done) = running.join_next(), if !running.is_empty() => {
                // A probe task cannot panic short of a bug; skip it if one does.
                let Ok((e, slot, due, outcome)) = done else { continue };
                // `info` keeps the endpoint's text on one line and fences
                // it if it looks like a workflow command.
                if let Some(f) = &outcome.failure {
                    console.info(&format!("✗ {} at +{}: {}", endpoints[e].url, fmt_offset(due), f.describe()));
                } else {
                    console.debug(&format!("✓ {} at +{} in {} ms", endpoints[e].url, fmt_offset(due), outcome.latency.as_millis()));
                }
                let streak = endpoints[e].record(slot, Record { due, outcome });
                // An endpoint down before the deploy never ends the window.
                let excused = config.known_down.contains(&endpoints[e].url.to_string());
                let lost = !excused
                    && (streak as u64 >= config.consecutive_failures
                        || endpoints[e].best_rate() < config.success_threshold);
                if config.fail_fast && lost {
                    stopped = Some((e, start.elapsed()));
                    break;
                }
            }
            else => break,
        }
    }
    // Dropping the set aborts probes still in flight after a fail-fast stop.
    drop(running);
    Window {
        endpoints,
        stopped,
        elapsed: start.elapsed(),
    }
}

fn fmt_offset(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fit_the_window() {
        let s = Duration::from_secs;
        assert_eq!(slots(s(300), s(30)), 10);
        assert_eq!(slots(s(301), s(30)), 11);
        assert_eq!(slots(s(30), s(30)), 1);
        assert_eq!(
            slots(Duration::from_millis(2500), Duration::from_millis(200)),
            13
        );
    }

    fn failed() -> Record {
        rec(Some(probe::Failure::Timeout))
    }

    fn passed() -> Record {
        rec(None)
    }

    fn rec(failure: Option<probe::Failure>) -> Record {
        Record {
            due: Duration::ZERO,
            outcome: Outcome {
                status: Some(200),
                latency: Duration::ZERO,
                failure,
            },
        }
    }

    #[test]
    fn streaks_join_across_out_of_order_results() {
        let mut e = Endpoint::new(&DisplaySafeUrl::parse("https://u.example/").unwrap(), 6);
        assert_eq!(e.record(1, failed()), 1);
        assert_eq!(e.record(3, failed()), 1);
        // The slow probe of slot 2 lands last and joins 1 and 3.
        assert_eq!(e.record(2, failed()), 3);
        assert_eq!(e.record(4, passed()), 0);
        assert_eq!(e.record(5, failed()), 1);
        assert_eq!(e.max_streak, 3);
        assert_eq!(e.failures, 4);
    }

    #[test]
    #[allow(clippy::float_cmp)] // exact: whole percents of 20 slots
    fn best_rate_counts_unprobed_slots_as_passes() {
        let mut e = Endpoint::new(&DisplaySafeUrl::parse("https://u.example/").unwrap(), 20);
        assert_eq!(e.best_rate(), 100.0);
        e.record(3, failed());
        assert_eq!(e.best_rate(), 95.0);
        e.record(0, passed());
        e.record(9, failed());
        assert_eq!(e.best_rate(), 90.0);
    }

    #[test]
    fn shown_url_hides_credentials() {
        let url = DisplaySafeUrl::parse("https://user:pass@host.example/health?token=abc").unwrap();
        let e = Endpoint::new(&url, 1);
        assert_eq!(
            e.url.to_string(),
            "https://***:***@host.example/health?token=***"
        );
    }
}
