//! The live timeline: one line per step as the local runner finishes it —
//! what it did, how long it took, its key outputs — and, for a step that
//! failed, the one-line reason from its `::error::`. Everything shown went
//! through the masks first and has no control characters left.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use relay_runner::{Event, StepRecord};
use serde_json::Value;

use crate::logs::{self, Masks, terminal_safe};
use crate::steps;

/// Where the timeline goes; cheap to clone.
#[derive(Clone)]
pub struct Timeline {
    inner: Arc<Inner>,
}

struct Inner {
    start: Instant,
    masks: Masks,
    /// A terminal: show a step while it runs, and colour the marks.
    live: bool,
    out: Mutex<()>,
}

const WIDTH: usize = 26;

impl Timeline {
    pub fn new(masks: Masks, no_color: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                start: Instant::now(),
                masks,
                live: std::io::stdout().is_terminal() && !no_color,
                out: Mutex::new(()),
            }),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.inner.start.elapsed()
    }

    /// A line as it is (our own text).
    pub fn say(&self, text: &str) {
        let _lock = self
            .inner
            .out
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        println!("{}", self.inner.masks.redact(text));
    }

    /// A line with the time since the demo started.
    pub fn at(&self, text: &str) {
        self.say(&format!("{:>7}  {text}", secs(self.elapsed())));
    }

    /// `✓`, `✗`, `·` or `!`, coloured on a terminal.
    pub fn mark(&self, outcome: &str, conclusion: &str) -> String {
        let (mark, colour) = match (outcome, conclusion) {
            ("success", _) => ("✓", "32"),
            ("failure", "success") => ("!", "33"),
            ("failure", _) => ("✗", "31"),
            _ => ("·", "2"),
        };
        if self.inner.live {
            format!("\x1b[{colour}m{mark}\x1b[0m")
        } else {
            mark.to_owned()
        }
    }

    /// The runner's events, printed; `workflow` names the file played.
    pub fn observer(&self) -> impl FnMut(&Event<'_>) + Send + 'static {
        let t = self.clone();
        move |e| t.event(e)
    }

    fn event(&self, e: &Event<'_>) {
        match e {
            Event::Job { id, environment } => {
                let (file, job) = split(id);
                let env = environment
                    .map(|e| format!("  (environment {})", terminal_safe(e)))
                    .unwrap_or_default();
                self.at(&format!("┌ {file} › {job}{env}"));
            }
            Event::StepStarted { job, id, name } if self.inner.live => {
                let (file, job_id) = split(job);
                let known = steps::find(file, job_id, id);
                let label = known.map_or(*id, |k| k.label);
                let what = known.map_or(*name, |k| k.what);
                let _lock = self
                    .inner
                    .out
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                print!(
                    "{:>7}  ▸ {:<WIDTH$} {:>8}  {} …",
                    secs(self.elapsed()),
                    format!("{job_id}/{label}"),
                    "",
                    terminal_safe(&self.inner.masks.redact(what))
                );
                let _ = std::io::stdout().flush();
            }
            Event::StepStarted { .. } => {}
            Event::StepFinished { job, step } => self.step(job, step),
            Event::JobFinished { id, result } if *result == "skipped" => {
                let (file, job) = split(id);
                self.at(&format!(
                    "· {file} › {job}: skipped, a job it needs did not succeed"
                ));
            }
            Event::JobFinished { .. } => {}
            // Reviews and cancellations: the timeline shows their effect on
            // jobs and steps.
            _ => {}
        }
    }

    fn step(&self, job: &str, step: &StepRecord) {
        let masks = &self.inner.masks;
        masks.learn(&step.log);
        let (file, job_id) = split(job);
        let known = steps::find(file, job_id, &step.id);
        let label = known.map_or(step.id.as_str(), |k| k.label);
        let what = known.map_or(step.name.as_str(), |k| k.what);
        let mark = self.mark(&step.outcome, &step.conclusion);
        let took = if step.outcome == "skipped" {
            "skipped".to_owned()
        } else {
            took(step.elapsed)
        };
        let mut lines = vec![format!(
            "{mark} {:<WIDTH$} {took:>8}  {}",
            format!("{job_id}/{label}"),
            terminal_safe(what)
        )];
        for d in details(step, masks) {
            lines.push(format!("{:width$}{d}", "", width = WIDTH + 13));
        }
        let _lock = self
            .inner
            .out
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.inner.live {
            // Over the "▸ running" line of this step.
            print!("\r\x1b[2K");
        }
        let now = secs(self.elapsed());
        for (n, line) in lines.iter().enumerate() {
            let at = if n == 0 { now.as_str() } else { "" };
            println!("{at:>7}  {}", masks.redact(line));
        }
    }
}

/// `deploy.yml/deploy` → (`deploy.yml`, `deploy`).
fn split(id: &str) -> (&str, &str) {
    id.split_once('/').unwrap_or(("", id))
}

pub fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// A step's duration: milliseconds below a second.
pub fn took(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        secs(d)
    }
}

/// The key facts of a step, one short line each: its outputs as a person
/// reads them, what the receiver's deploy script said, and why it failed.
pub fn details(step: &StepRecord, masks: &Masks) -> Vec<String> {
    let out = |k: &str| step.outputs.get(k).map(String::as_str).unwrap_or_default();
    let action = step
        .uses
        .split('@')
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let mut lines = Vec::new();
    match action {
        _ if step.outcome == "skipped" => {}
        "deploy-relay" => {
            if out("dispatched") == "true" {
                let relayed: Vec<String> = serde_json::from_str::<Value>(out("artifacts"))
                    .ok()
                    .and_then(|v| v.as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .map(|a| {
                        format!(
                            "{} → {} ({} B)",
                            a["name"].as_str().unwrap_or_default(),
                            a["reupload_name"].as_str().unwrap_or_default(),
                            a["size"]
                        )
                    })
                    .collect();
                lines.push(format!(
                    "dispatched · environment {} · relayed {}",
                    out("environment"),
                    if relayed.is_empty() {
                        "nothing".into()
                    } else {
                        relayed.join(", ")
                    }
                ));
            } else if step.outcome == "success" {
                lines.push("nothing dispatched".into());
            }
        }
        "verify-ci-status" => {
            let checks: Vec<String> = serde_json::from_str::<Value>(out("checks"))
                .ok()
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    let ok = c["conclusion"] == "success";
                    format!(
                        "{} {}",
                        c["name"].as_str().unwrap_or_default(),
                        if ok { "✓" } else { "✗" }
                    )
                })
                .collect();
            lines.push(format!("CI {} · {}", out("state"), checks.join(" ")));
            // The fallback's warning, as the job's annotations show it.
            if let Some(warning) = step
                .log
                .lines()
                .find_map(|l| l.strip_prefix("::warning"))
                .and_then(|l| l.split_once("::"))
                .map(|(_, text)| text)
            {
                lines.push(format!(
                    "⚠ {}",
                    crate::logs::one_line(&masks.redact(warning))
                ));
            }
        }
        "verify-provenance" => {
            let report = serde_json::from_str::<Value>(out("report")).unwrap_or_default();
            for image in report["images"].as_array().into_iter().flatten() {
                let s = |k: &str| image[k].as_str().unwrap_or_default().to_owned();
                let digest = s("digest");
                let short = digest.get(..19).unwrap_or(&digest);
                lines.push(if s("verdict") == "verified" {
                    format!(
                        "provenance verified · {} {short}… · signed by {} · commit {} · log index {}",
                        s("key"),
                        s("signer_workflow").trim_start_matches("https://github.com/"),
                        crate::github::short(&s("source_commit")),
                        image["log_index"]
                    )
                } else {
                    format!(
                        "provenance {} · {} {short}…",
                        s("verdict"),
                        s("key"),
                    )
                });
            }
        }
        "record-deployment" if out("deployment-id").is_empty() && !out("protected").is_empty() => {
            lines.push(format!(
                "{} · {} {} · {}",
                out("environment"),
                crate::github::short(out("sha")),
                out("images").lines().next().unwrap_or("no image"),
                if out("protected") == "true" {
                    "protected"
                } else {
                    "no protection rule: warned"
                }
            ));
        }
        "record-deployment" => {
            let mut l = format!("deployment {} {}", out("deployment-id"), out("state"));
            if !out("previous-sha").is_empty() {
                l.push_str(&format!(
                    " · previous good {}",
                    crate::github::short(out("previous-sha"))
                ));
            }
            lines.push(l);
        }
        "sign-and-call-webhook" => {
            if !out("status").is_empty() {
                lines.push(format!(
                    "receiver answered {} in {} ms",
                    out("status"),
                    out("duration-ms")
                ));
            }
            let said = serde_json::from_str::<Value>(out("response"))
                .ok()
                .and_then(|v| v["output"].as_str().map(str::to_owned))
                .unwrap_or_default();
            for l in said.lines().filter(|l| !l.trim().is_empty()) {
                lines.push(format!("│ {l}"));
            }
        }
        "monitor-health" if out("checks").is_empty() => {}
        "monitor-health" if !out("down").is_empty() || step.name.contains("before") => {
            let down = out("down").lines().count();
            lines.push(if down == 0 {
                format!("{} endpoint(s) up before the deploy", out("checks"))
            } else {
                format!(
                    "{down} of {} endpoint(s) already down: watched, never the cause of a rollback",
                    out("checks")
                )
            });
        }
        "monitor-health" => {
            lines.push(format!(
                "{} · {}% of {} checks passed · {} failed · p95 {} ms",
                if out("healthy") == "true" {
                    "healthy"
                } else {
                    "unhealthy"
                },
                out("success-rate"),
                out("checks"),
                out("failures"),
                out("p95-ms"),
            ));
            if !out("issue-url").is_empty() {
                lines.push(format!("issue opened: {}", out("issue-url")));
            }
        }
        _ => {}
    }
    if step.outcome == "failure" {
        let view = logs::view(&step.log, masks);
        if let Some(reason) = logs::reason(&view) {
            lines.push(format!("↳ {reason}"));
        }
        if step.conclusion == "success" {
            lines.push("↳ continue-on-error: the job goes on".into());
        }
    } else if action == "deploy-relay"
        && out("dispatched") != "true"
        && let Some(reason) = logs::reason(&logs::view(&step.log, masks))
    {
        lines.push(format!("↳ {reason}"));
    }
    lines
        .into_iter()
        .map(|l| terminal_safe(&masks.redact(&l)))
        .collect()
}
