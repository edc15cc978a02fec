//! The step summary: the record and the previous good one. Everything that
//! came from GitHub or the inputs is shown as code.

use std::fmt::Write as _;

use relay_deployments::Record;
use relay_github::DeploymentState;
use relay_runtime::{Context, md_code, md_link};

use crate::config::{Config, Start};

fn images(record: &Record) -> String {
    if record.payload.images.is_empty() {
        return "—".to_owned();
    }
    record
        .payload
        .images
        .iter()
        .map(|(k, v)| md_code(&format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join("<br>")
}

fn previous_cell(previous: Option<&Record>) -> String {
    match previous {
        Some(p) => format!(
            "{} (deployment {}{})",
            md_code(&p.payload.sha),
            p.deployment.id,
            if p.payload.rollback {
                ", a rollback"
            } else {
                ""
            }
        ),
        None => "none: nothing to roll back to".to_owned(),
    }
}

/// A provenance report as one cell: the mode and verdict, then per image
/// its key, verdict, digest, signer workflow, ref and log index (each as
/// code: they came from a certificate and the inputs).
fn provenance(report: &serde_json::Value) -> String {
    let text = |v: &serde_json::Value, k: &str| match &v[k] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let verdict = if report["verified"].as_bool() == Some(true) {
        "verified"
    } else {
        "not verified"
    };
    let mut cell = format!("{verdict} (`{}`)", text(report, "mode").replace('`', ""));
    for image in report["images"].as_array().into_iter().flatten() {
        let mut parts = vec![format!(
            "{}: {}",
            md_code(&text(image, "key")),
            md_code(&text(image, "verdict"))
        )];
        for (label, key) in [
            ("digest", "digest"),
            ("signer", "signer_workflow"),
            ("ref", "source_ref"),
            ("log index", "log_index"),
        ] {
            let value = text(image, key);
            if !value.is_empty() {
                parts.push(format!("{label} {}", md_code(&value)));
            }
        }
        cell.push_str("<br>");
        cell.push_str(&parts.join(", "));
    }
    cell
}

/// `start` and `finish`.
pub(crate) fn record(
    config: &Config,
    record: &Record,
    state: &DeploymentState,
    cancelled: bool,
    previous: Option<&Record>,
) -> String {
    let headline = match (state, record.payload.rollback) {
        (DeploymentState::InProgress, false) => "🚀 Deploy recorded: in progress",
        (DeploymentState::InProgress, true) => "⏪ Rollback recorded: in progress",
        (DeploymentState::Success, _) => "✅ Deploy recorded: success",
        (DeploymentState::Failure, _) => "❌ Deploy recorded: failure",
        _ if cancelled => "⏹️ Deploy recorded: cancelled (`error`)",
        _ => "⚠️ Deploy recorded: error",
    };
    let log = config
        .log_url
        .as_deref()
        .map_or("—".to_owned(), |u| md_link("this run", u));
    let mut rows = vec![
        ("Environment", md_code(&record.deployment.environment)),
        ("App", md_code(&record.payload.repository)),
        ("Sha", md_code(&record.payload.sha)),
        ("Images", images(record)),
        (
            "Deployment",
            format!(
                "{} in {}",
                record.deployment.id,
                md_code(config.repository.as_str())
            ),
        ),
        ("State", md_code(state.as_str())),
        ("Log", log),
        ("Previous good", previous_cell(previous)),
    ];
    if !record.payload.reason.is_empty() {
        rows.push(("Reason", md_code(&record.payload.reason)));
    }
    if !record.payload.provenance.is_null() {
        rows.push(("Provenance", provenance(&record.payload.provenance)));
    }
    let table: String = rows.iter().fold(String::new(), |mut out, (k, v)| {
        let _ = writeln!(out, "| {k} | {v} |");
        out
    });
    format!("### {headline}\n\n| | |\n|---|---|\n{table}\n")
}

/// `previous`.
pub(crate) fn previous(
    config: &Config,
    environment: &str,
    replaced: &str,
    found: &Record,
) -> String {
    format!(
        "### ⏪ Previous good deploy of {}\n\n| | |\n|---|---|\n| Repository | {} |\n| Replacing | {} |\n| Previous good | {} |\n| Images | {} |\n| Recorded | {} |\n",
        md_code(environment),
        md_code(config.repository.as_str()),
        md_code(replaced),
        previous_cell(Some(found)),
        images(found),
        md_code(found.updated_at()),
    )
}

/// `check`: what `start` would record, and the environment's protection;
/// `warning` when a protected environment has none.
pub(crate) fn check(
    config: &Config,
    start: &Start,
    rules: &[String],
    warning: Option<&str>,
) -> String {
    let mut out = String::new();
    if let Some(w) = warning {
        out.push_str(&format!(
            "> [!WARNING]\n> **Unprotected environment.** {}\n\n",
            w.replace('`', "")
        ));
    }
    let images = if start.payload.images.is_empty() {
        "—".to_owned()
    } else {
        start
            .payload
            .images
            .iter()
            .map(|(k, v)| md_code(&format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let protection = if rules.is_empty() {
        "none".to_owned()
    } else {
        rules
            .iter()
            .map(|r| md_code(r))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!(
        "### 🔎 Deploy checked, nothing changed yet\n\n| | |\n|---|---|\n| Environment | {} |\n| Protection | {protection} |\n| App | {} |\n| Sha | {} |\n| Images | {images} |\n| Records in | {} |\n",
        md_code(&start.environment),
        md_code(&start.payload.repository),
        md_code(&start.payload.sha),
        md_code(config.repository.as_str()),
    ));
    out
}

/// `current`.
pub(crate) fn current(config: &Config, environment: &str, found: &Record) -> String {
    format!(
        "### 🔁 Newest good deploy of {}\n\n| | |\n|---|---|\n| Repository | {} |\n| App | {} |\n| Sha | {} |\n| Images | {} |\n| Recorded | {} |\n",
        md_code(environment),
        md_code(config.repository.as_str()),
        md_code(&found.payload.repository),
        md_code(&found.payload.sha),
        images(found),
        md_code(found.updated_at()),
    )
}

/// The comment a `finish` with `issue` leaves: how the record ended, and
/// for a failed deploy with nothing to go back to, that nothing was.
pub(crate) fn outcome_comment(
    ctx: &Context,
    record: &Record,
    cancelled: bool,
    previous: Option<&Record>,
) -> String {
    let sha = md_code(record.payload.short_sha());
    let env = md_code(&record.deployment.environment);
    let state = record.state().map_or("unknown", |s| s.as_str());
    let what = match (record.payload.rollback, state, cancelled) {
        (_, _, true) => format!("The deploy of {sha} to {env} was cancelled."),
        (true, "success", _) => format!(
            "Rolled back: {env} runs {sha} again (deployment {}).",
            record.deployment.id
        ),
        (true, _, _) => format!(
            "The rollback to {sha} in {env} ended `{state}` (deployment {}): the environment may run neither release; look at it now.",
            record.deployment.id
        ),
        (false, "failure", _) if previous.is_none() => format!(
            "The deploy of {sha} to {env} failed, and there is no earlier good deploy of {} to roll back to.",
            md_code(&record.payload.repository)
        ),
        (false, _, _) => format!("The deploy of {sha} to {env} ended `{state}`."),
    };
    let run = ctx
        .env
        .run_url()
        .map(|u| format!(" ({})", md_link("run", &u)))
        .unwrap_or_default();
    format!("{what}{run}\n")
}
