//! The step summary: the record and the previous good one. Everything that
//! came from GitHub or the inputs is shown as code.

use std::fmt::Write as _;

use relay_deployments::Record;
use relay_github::DeploymentState;
use relay_runtime::{md_code, md_link};

use crate::config::Config;

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

/// `start` and `finish`.
pub(crate) fn record(
    config: &Config,
    record: &Record,
    state: &DeploymentState,
    previous: Option<&Record>,
) -> String {
    let headline = match (state, record.payload.rollback) {
        (DeploymentState::InProgress, false) => "🚀 Deploy recorded: in progress",
        (DeploymentState::InProgress, true) => "⏪ Rollback recorded: in progress",
        (DeploymentState::Success, _) => "✅ Deploy recorded: success",
        (DeploymentState::Failure, _) => "❌ Deploy recorded: failure",
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
    if record.payload.rollback && !record.payload.reason.is_empty() {
        rows.push(("Reason", md_code(&record.payload.reason)));
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
