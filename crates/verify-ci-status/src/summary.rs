//! The step summary: one table row per check.

use relay_runtime::md_cell;

use crate::config::Config;
use crate::gather::Outcome;

pub fn render(config: &Config, outcome: &Outcome, state: &str) -> String {
    let mut out = format!(
        "### CI of `{}` at `{}`: {state}\n\n| name | kind | status | conclusion | link |\n|---|---|---|---|---|\n",
        md_cell(&config.repository),
        md_cell(&config.sha)
    );
    for c in &outcome.checks {
        let kind = match c.kind {
            crate::Kind::CheckRun => "check run",
            crate::Kind::Status => "status",
            crate::Kind::Workflow => "workflow",
        };
        let link = if c.url.is_empty() {
            String::new()
        } else {
            format!("[open]({})", md_cell(&c.url))
        };
        out.push_str(&format!(
            "| {} | {kind} | {} | {} | {link} |\n",
            md_cell(&c.name),
            md_cell(&c.status),
            md_cell(c.conclusion.as_deref().unwrap_or("")),
        ));
    }
    out.push_str(&format!(
        "\n{} requests, {} answered 304 Not Modified.\n",
        outcome.stats.requests, outcome.stats.not_modified
    ));
    out
}
