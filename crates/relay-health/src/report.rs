//! The verdict and what is told about it: per-endpoint figures, the JSON
//! report, the summary table and timeline.
//!
//! Untrusted text per channel: what a probe brought back (a failure's
//! text) and what the inputs name (URLs, the environment, the sha) reach
//! markdown only through `md_code` — a code span, where GitHub renders no
//! HTML and links no `@mention` — and the JSON report as plain data. URLs
//! are the redacted `Endpoint::shown` everywhere.

use std::time::Duration;

use relay_runtime::{md_cell, md_code};
use serde_json::{Value, json};

use crate::config::Config;
use crate::monitor::{Endpoint, Window};

/// One endpoint's figures.
#[derive(Debug, Clone)]
pub struct Figures {
    /// The redacted URL.
    pub url: String,
    pub checks: usize,
    pub failures: usize,
    /// Percent of probes that passed; 100 when none ran.
    pub success_rate: f64,
    pub max_streak: usize,
    pub p50_ms: Option<u128>,
    pub p95_ms: Option<u128>,
    pub max_ms: Option<u128>,
    /// Why this endpoint failed the verdict, if it did.
    pub verdict: Option<String>,
    /// It was down before the deploy (`known-down`): its verdict is
    /// reported, never counted.
    pub known_down: bool,
    pub last_failure: Option<String>,
    /// ✅ / ❌ / · (not probed) per slot.
    pub strip: String,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u128], p: f64) -> Option<u128> {
    if sorted.is_empty() {
        return None;
    }
    // In 0..=len: `p` is a percentile, 0 to 100.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Latencies of probes that got an HTTP answer, sorted; timeouts and
/// refused connections have no response time to speak of.
fn latencies<'a>(endpoints: impl Iterator<Item = &'a Endpoint>) -> Vec<u128> {
    let mut v: Vec<u128> = endpoints
        .flat_map(Endpoint::records)
        .filter(|r| r.outcome.status.is_some())
        .map(|r| r.outcome.latency.as_millis())
        .collect();
    v.sort_unstable();
    v
}

pub(crate) fn figures(config: &Config, e: &Endpoint) -> Figures {
    let checks = e.records().count();
    let failures = e.records().filter(|r| r.outcome.failure.is_some()).count();
    let success_rate = if checks == 0 {
        100.0
    } else {
        (checks - failures) as f64 * 100.0 / checks as f64
    };
    let lat = latencies(std::iter::once(e));
    let planned = e.slots.len();
    // The rate rule judges what the window can still reach: after a full
    // window that is the success rate; after a fail-fast stop it counts the
    // slots never probed as passes, so an endpoint fails only when no
    // outcome of the rest could have saved it.
    let verdict = if e.max_streak as u64 >= config.consecutive_failures {
        Some(format!("{} consecutive failures", e.max_streak))
    } else if e.best_rate() < config.success_threshold {
        Some(if checks < planned {
            format!(
                "{failures} of {planned} probes failed, so the success rate can no longer reach {}%",
                pct(config.success_threshold)
            )
        } else {
            format!(
                "success rate {} below {}%",
                pct(success_rate),
                pct(config.success_threshold)
            )
        })
    } else {
        None
    };
    let strip = e
        .slots
        .iter()
        .map(|s| match s {
            Some(r) if r.outcome.failure.is_some() => '❌',
            Some(_) => '✅',
            None => '·',
        })
        .collect();
    Figures {
        known_down: config.known_down.contains(&e.url.to_string()),
        url: e.url.to_string(),
        checks,
        failures,
        success_rate,
        max_streak: e.max_streak,
        p50_ms: percentile(&lat, 50.0),
        p95_ms: percentile(&lat, 95.0),
        max_ms: lat.last().copied(),
        verdict,
        last_failure: e
            .records()
            .filter_map(|r| r.outcome.failure.as_ref().map(|f| (r.due, f)))
            .last()
            .map(|(due, f)| format!("at +{:.1}s: {}", due.as_secs_f64(), f.describe())),
        strip,
    }
}

pub fn pct(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Everything the outputs and the summary need.
pub struct Report {
    pub endpoints: Vec<Figures>,
    pub healthy: bool,
    pub checks: usize,
    pub failures: usize,
    /// The lowest endpoint success rate: the figure the threshold judged.
    pub success_rate: f64,
    pub max_streak: usize,
    pub p50_ms: Option<u128>,
    pub p95_ms: Option<u128>,
    pub stopped_early: Option<Duration>,
    pub elapsed: Duration,
}

impl Report {
    pub fn new(config: &Config, w: &Window) -> Self {
        let endpoints: Vec<Figures> = w.endpoints.iter().map(|e| figures(config, e)).collect();
        let lat = latencies(w.endpoints.iter());
        Self {
            healthy: endpoints
                .iter()
                .all(|f| f.verdict.is_none() || f.known_down),
            checks: endpoints.iter().map(|f| f.checks).sum(),
            failures: endpoints.iter().map(|f| f.failures).sum(),
            success_rate: endpoints
                .iter()
                .map(|f| f.success_rate)
                .fold(100.0, f64::min),
            max_streak: endpoints.iter().map(|f| f.max_streak).max().unwrap_or(0),
            p50_ms: percentile(&lat, 50.0),
            p95_ms: percentile(&lat, 95.0),
            stopped_early: w.stopped.map(|(_, at)| at),
            elapsed: w.elapsed,
            endpoints,
        }
    }

    /// The endpoints that failed the window (not those down before it).
    pub fn failed(&self) -> impl Iterator<Item = &Figures> {
        self.endpoints
            .iter()
            .filter(|f| f.verdict.is_some() && !f.known_down)
    }

    /// The endpoints that were down before the deploy and still failed.
    pub fn still_down(&self) -> impl Iterator<Item = &Figures> {
        self.endpoints
            .iter()
            .filter(|f| f.verdict.is_some() && f.known_down)
    }

    /// One line of plain text: which endpoints failed and why (redacted
    /// URLs and our own words only, nothing an endpoint sent).
    pub fn reason(&self) -> String {
        self.failed()
            .map(|f| format!("{}: {}", f.url, f.verdict.as_deref().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn json(&self) -> Value {
        Value::Array(
            self.endpoints
                .iter()
                .map(|f| {
                    json!({
                        "url": f.url,
                        "healthy": f.verdict.is_none(),
                        "down_before_deploy": f.known_down,
                        "checks": f.checks,
                        "failures": f.failures,
                        "success_rate": (f.success_rate * 100.0).round() / 100.0,
                        "max_consecutive_failures": f.max_streak,
                        "p50_ms": f.p50_ms,
                        "p95_ms": f.p95_ms,
                        "max_ms": f.max_ms,
                        "reason": f.verdict,
                        "last_failure": f.last_failure,
                    })
                })
                .collect(),
        )
    }

    /// The summary's table and timeline.
    pub fn markdown(&self, config: &Config) -> String {
        let ms = |v: Option<u128>| v.map_or_else(|| "–".into(), |v| v.to_string());
        let mut md = String::new();
        md.push_str(if self.healthy {
            "## ✅ Health window passed\n\n"
        } else {
            "## ❌ Health window failed\n\n"
        });
        let env = if config.environment.is_empty() {
            String::new()
        } else {
            format!(" · environment {}", md_code(&config.environment))
        };
        md.push_str(&format!(
            "{} every {} for {}{} · fail on {} in a row or below {}% · commit {}{}\n\n",
            if config.urls.len() == 1 {
                "1 endpoint"
            } else {
                "endpoints"
            },
            relay_runtime::duration::format(config.interval),
            relay_runtime::duration::format(config.duration),
            env,
            config.consecutive_failures,
            pct(config.success_threshold),
            md_code(config.source.short_sha()),
            self.stopped_early
                .map(|d| format!(" · stopped early after {:.1}s (fail-fast)", d.as_secs_f64()))
                .unwrap_or_default(),
        ));
        md.push_str("| endpoint | verdict | checks | failures | success | max in a row | p50 ms | p95 ms | max ms |\n");
        md.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|\n");
        for f in &self.endpoints {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {}% | {} | {} | {} | {} |\n",
                md_code(&f.url),
                match (f.verdict.as_deref(), f.known_down) {
                    (Some(v), true) => format!("⚠️ down before the deploy, still: {}", md_cell(v)),
                    (Some(v), false) => format!("❌ {}", md_cell(v)),
                    (None, true) => "✅ (down before the deploy)".into(),
                    (None, false) => "✅".into(),
                },
                f.checks,
                f.failures,
                pct(f.success_rate),
                f.max_streak,
                ms(f.p50_ms),
                ms(f.p95_ms),
                ms(f.max_ms),
            ));
        }
        md.push_str("\n### Timeline\n\nOne mark per probe, in schedule order (✅ passed, ❌ failed, · not probed).\n\n");
        for f in &self.endpoints {
            md.push_str(&format!("- {} {}\n", md_code(&f.url), f.strip));
        }
        let failures: Vec<_> = self
            .endpoints
            .iter()
            .filter_map(|f| f.last_failure.as_ref().map(|l| (f, l)))
            .collect();
        if !failures.is_empty() {
            md.push_str("\n### Last failure per endpoint\n\n");
            for (f, l) in failures {
                md.push_str(&format!("- {}: {}\n", md_code(&f.url), md_code(l)));
            }
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u128> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&[7], 95.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn percentages_print_short() {
        assert_eq!(pct(100.0), "100");
        assert_eq!(pct(83.333), "83.33");
        assert_eq!(pct(95.5), "95.5");
    }
}
