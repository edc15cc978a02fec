//! The report: one HTML file with the end state, the deployment records,
//! the issue, the service's starts, and every step of every played workflow
//! with its outputs, its summary (markdown rendered, see
//! [`crate::markdown`]) and its log. Every text is redacted first, then
//! escaped; the page also forbids scripts outright (`Content-Security-Policy`).

use std::fmt::Write as _;

use relay_runner::{StepRecord, WorkflowRecord};

use crate::check::Check;
use crate::github::{self, Record};
use crate::logs::{self, Line, Masks};
use crate::markdown::{escape, to_html};
use crate::steps;
use crate::story::Phase;
use crate::supervisor::Start;
use crate::timeline::secs;

/// Longest output value shown in full; longer ones are cut.
const MAX_VALUE: usize = 2000;

/// What the report shows.
pub struct Report<'a> {
    pub title: String,
    pub passed: bool,
    pub checks: &'a [Check],
    pub records: &'a [Record],
    pub issues: &'a [(u64, String, String)],
    pub starts: &'a [Start],
    pub phases: &'a [Phase],
    pub masks: &'a Masks,
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1f2328}\
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}\
table{border-collapse:collapse;margin:.6rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .55rem;text-align:left;vertical-align:top}\
code,pre{font:13px ui-monospace,monospace;background:#f6f8fa}pre{padding:.6rem;overflow:auto;white-space:pre-wrap}\
.ok{color:#1a7f37}.bad{color:#cf222e}.warn{color:#9a6700}.skip{color:#656d76}\
.step{border:1px solid #d0d7de;border-radius:6px;margin:.8rem 0;padding:.2rem 1rem}\
.summary{border-left:3px solid #d0d7de;padding-left:1rem;margin:.6rem 0}\
.verdict{font-size:1.2rem;font-weight:600}";

impl Report<'_> {
    /// The whole page.
    pub fn html(&self) -> String {
        let m = self.masks;
        let mut h = String::new();
        h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
        h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
        let _ = writeln!(
            h,
            "<title>{}</title><style>{STYLE}</style></head><body>",
            escape(&self.title)
        );
        let _ = writeln!(h, "<h1>{}</h1>", escape(&self.title));
        let _ = writeln!(
            h,
            "<p class=\"verdict {}\">{}</p>",
            if self.passed { "ok" } else { "bad" },
            if self.passed {
                "✓ The story went as expected."
            } else {
                "✗ The story did not go as expected: see the checks below."
            }
        );

        h.push_str("<h2>End state</h2>\n<table><tr><th></th><th>check</th><th>expected</th><th>actual</th></tr>\n");
        for c in self.checks {
            let _ = writeln!(
                h,
                "<tr><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if c.ok() { "ok" } else { "bad" },
                if c.ok() { "✓" } else { "✗" },
                text(m, &c.what),
                text(m, &c.expected),
                text(m, &c.actual)
            );
        }
        h.push_str("</table>\n");

        for phase in self.phases {
            if let Some(stop) = &phase.stop {
                let _ = writeln!(
                    h,
                    "<p>Release {}: the flow stopped at <code>{}</code>: {}</p>",
                    phase.release.number,
                    text(m, &stop.place()),
                    text(m, &stop.reason)
                );
            }
        }

        h.push_str("<h2>Deployment records (platform repository)</h2>\n<table><tr><th>id</th><th>environment</th><th>app sha</th><th>rollback</th><th>statuses</th></tr>\n");
        for r in self.records {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                r.id,
                text(m, &r.environment),
                text(m, &r.sha),
                if r.rollback { "yes" } else { "" },
                text(m, &r.states.join(" → "))
            );
        }
        h.push_str("</table>\n");

        let _ = writeln!(h, "<h2>Open issues ({})</h2>", self.issues.len());
        for (number, title, body) in self.issues {
            let _ = writeln!(
                h,
                "<section class=\"step\"><h3>#{number} {}</h3><div class=\"summary\">{}</div></section>",
                text(m, title),
                to_html(&m.redact(body))
            );
        }

        h.push_str("<h2>The demo service: starts by its supervisor</h2>\n<table><tr><th>at</th><th>release</th><th>pid</th></tr>\n");
        for s in self.starts {
            let release = s.release.as_ref().map_or_else(
                || "?".to_owned(),
                |r| {
                    format!(
                        "release {} ({}) {}",
                        r.number,
                        github::short(&r.sha),
                        r.title
                    )
                },
            );
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                secs(s.at),
                text(m, &release),
                s.pid
            );
        }
        h.push_str("</table>\n");

        for phase in self.phases {
            let _ = writeln!(
                h,
                "<h2>Release {} · <code>{}</code> · {}</h2>",
                phase.release.number,
                github::short(&phase.release.sha),
                text(m, &phase.release.title)
            );
            if let Some(b) = phase.breaks {
                let _ = writeln!(
                    h,
                    "<p><code>--break {}</code>: {}</p>",
                    b.name(),
                    text(m, b.what())
                );
            }
            for (title, rec) in [
                ("App repository", &phase.app),
                ("Platform repository", &phase.platform),
            ] {
                if let Some(rec) = rec {
                    workflow(&mut h, m, title, rec);
                }
            }
        }
        h.push_str("</body></html>\n");
        h
    }
}

fn workflow(h: &mut String, m: &Masks, title: &str, rec: &WorkflowRecord) {
    let _ = writeln!(
        h,
        "<h3>{title}: <code>{}</code> — {}</h3>",
        text(m, &rec.file),
        text(m, &rec.result)
    );
    for (job, step) in rec.steps() {
        let (file, job_id) = job.split_once('/').unwrap_or(("", job));
        let known = steps::find(file, job_id, &step.id);
        step_html(h, m, job, known.map(|k| k.what), step);
    }
    for j in &rec.jobs {
        if j.result == "skipped" {
            let _ = writeln!(
                h,
                "<p class=\"skip\">· job <code>{}</code> skipped</p>",
                text(m, &j.id)
            );
        }
        if let Some(called) = &j.called {
            for cj in &called.jobs {
                if cj.result == "skipped" {
                    let _ = writeln!(
                        h,
                        "<p class=\"skip\">· job <code>{}</code> skipped</p>",
                        text(m, &cj.id)
                    );
                }
            }
        }
    }
}

fn step_html(h: &mut String, m: &Masks, job: &str, what: Option<&str>, s: &StepRecord) {
    let (class, mark) = match (s.outcome.as_str(), s.conclusion.as_str()) {
        ("success", _) => ("ok", "✓"),
        ("failure", "success") => ("warn", "!"),
        ("failure", _) => ("bad", "✗"),
        _ => ("skip", "·"),
    };
    let _ = writeln!(
        h,
        "<section class=\"step\"><h4><span class=\"{class}\">{mark}</span> <code>{}</code> {} — {} <small>({}{})</small></h4>",
        text(m, &format!("{job} › {}", s.id)),
        text(m, &s.name),
        text(m, what.unwrap_or(&s.uses)),
        text(m, &s.outcome),
        if s.outcome == "skipped" {
            String::new()
        } else {
            format!(", {}", secs(s.elapsed))
        }
    );
    if let Some(note) = &s.note {
        let _ = writeln!(h, "<p class=\"skip\">{}</p>", text(m, note));
    }
    if !s.outputs.is_empty() {
        h.push_str("<table><tr><th>output</th><th>value</th></tr>\n");
        for (k, v) in &s.outputs {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
                text(m, k),
                escape(&cut(&m.redact(v)))
            );
        }
        h.push_str("</table>\n");
    }
    if !s.summary.trim().is_empty() {
        let _ = writeln!(
            h,
            "<div class=\"summary\">{}</div>",
            to_html(&m.redact(&s.summary))
        );
    }
    let lines = logs::view(&s.log, m);
    if !lines.is_empty() {
        h.push_str("<details><summary>log</summary><pre>");
        for l in &lines {
            let line = match l {
                Line::Text(t) => escape(t),
                Line::Error(t) => format!("<span class=\"bad\">Error: {}</span>", escape(t)),
                Line::Warning(t) => format!("<span class=\"warn\">Warning: {}</span>", escape(t)),
                Line::Notice(t) => format!("Notice: {}", escape(t)),
                Line::Group(t) => format!("▸ {}", escape(t)),
            };
            h.push_str(&line);
            h.push('\n');
        }
        h.push_str("</pre></details>\n");
    }
    h.push_str("</section>\n");
}

/// Redacted, then escaped (redaction always comes before any cut or escape).
fn text(m: &Masks, t: &str) -> String {
    escape(&m.redact(t))
}

fn cut(v: &str) -> String {
    if v.len() <= MAX_VALUE {
        return v.to_owned();
    }
    let mut end = MAX_VALUE;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &v[..end], v.len())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use relay_runner::JobRecord;

    use super::*;
    use crate::github::Build;
    use crate::markdown::assert_inert;
    use crate::service::Release;
    use crate::story::Stop;

    const HOSTILE: &str =
        "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&<details ontoggle=alert(3)>";

    fn step(id: &str, secret: &str) -> StepRecord {
        StepRecord {
            id: id.into(),
            name: format!("step {HOSTILE}"),
            uses: "deploy-relay/deploy-relay/actions/sign-and-call-webhook@main".into(),
            outcome: "failure".into(),
            conclusion: "success".into(),
            outputs: BTreeMap::from([
                (
                    "response".to_owned(),
                    format!("{{\"output\":\"{HOSTILE} {secret}\"}}"),
                ),
                (
                    "artifacts".to_owned(),
                    // The secret straddles the cut: redaction must come first.
                    format!("{}{secret}", "y".repeat(MAX_VALUE - 12)),
                ),
            ]),
            summary: format!(
                "### Response\n\n{HOSTILE}\n\n[x](javascript:alert(4)) ![p](https://evil.example/p.png) {secret}\n"
            ),
            log: format!(
                "::add-mask::{secret}\n{HOSTILE}\n::error::{HOSTILE} with {secret}\n::group::{HOSTILE}\n"
            ),
            elapsed: Duration::from_millis(5),
            note: Some(HOSTILE.into()),
        }
    }

    /// Everything a server, an artifact or a step sent reaches the page as
    /// text, and a secret a step masked shows nowhere, however it is cut.
    #[test]
    fn hostile_text_everywhere_stays_text_and_secrets_stay_hidden() {
        let secret = "whsec_SuperSecretValue1234567890";
        let masks = Masks::default();
        let s = step(&format!("webhook{HOSTILE}"), secret);
        masks.learn(&s.log);
        let rec = WorkflowRecord {
            file: format!("deploy.yml{HOSTILE}"),
            result: "failure".into(),
            jobs: vec![JobRecord {
                id: format!("deploy.yml/deploy{HOSTILE}"),
                result: "skipped".into(),
                environment: Some(HOSTILE.into()),
                outputs: BTreeMap::new(),
                steps: vec![s],
                called: None,
                ..JobRecord::default()
            }],
            outputs: BTreeMap::new(),
            ..WorkflowRecord::default()
        };
        let release = Release {
            number: 2,
            sha: "c62da0a".into(),
            title: HOSTILE.into(),
            degrades_after_checks: None,
            degraded_reason: String::new(),
        };
        let phase = Phase {
            release: release.clone(),
            build: Build {
                repo: crate::github::APP,
                run_id: 1,
                sha: "c62da0a".into(),
                artifact_size: 1,
                checks: Vec::new(),
                event: serde_json::json!({}),
            },
            image: format!("ghcr.io/x/y@sha256:{}", "0".repeat(64)),
            breaks: None,
            app: None,
            platform: Some(rec),
            stop: Some(Stop {
                workflow: "deploy.yml".into(),
                job: "deploy".into(),
                step: HOSTILE.into(),
                reason: format!("{HOSTILE} {secret}"),
            }),
            surprises: Vec::new(),
        };
        let checks = [Check {
            what: HOSTILE.into(),
            expected: HOSTILE.into(),
            actual: secret.into(),
        }];
        let records = [Record {
            id: 1,
            sha: HOSTILE.into(),
            rollback: false,
            environment: HOSTILE.into(),
            states: vec![HOSTILE.into()],
        }];
        let issues = [(
            1,
            HOSTILE.to_owned(),
            format!("## {HOSTILE}\n\n| a |\n|---|\n| {HOSTILE} |\n"),
        )];
        let starts = [Start {
            at: Duration::ZERO,
            release: Some(release),
            pid: 1,
        }];
        let html = Report {
            title: HOSTILE.into(),
            passed: false,
            checks: &checks,
            records: &records,
            issues: &issues,
            starts: &starts,
            phases: std::slice::from_ref(&phase),
            masks: &masks,
        }
        .html();
        let body =
            &html[html.find("<body>").unwrap() + "<body>".len()..html.rfind("</body>").unwrap()];
        assert_inert(body);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "shown, escaped"
        );
        assert!(!html.contains(secret), "a masked secret in the report");
        assert!(!html.contains("whsec_Super"), "a cut secret in the report");
        assert!(html.contains("Content-Security-Policy"));
    }
}
