//! The step summary: one table row per check.

use relay_runtime::{md_code, md_link};

use crate::config::Config;
use crate::decide::Kind;
use crate::gather::Outcome;

pub(crate) fn render(config: &Config, outcome: &Outcome, state: &str) -> String {
    let mut out = format!(
        "### CI of {} at {}: {state}\n\n| name | kind | run status | conclusion | link |\n|---|---|---|---|---|\n",
        md_code(config.repository.as_str()),
        md_code(&config.sha)
    );
    for c in &outcome.checks {
        let kind = match c.kind {
            Kind::CheckRun => "check run",
            Kind::CommitStatus => "commit status",
            Kind::Workflow => "workflow",
        };
        let link = if c.url.is_empty() {
            String::new()
        } else {
            md_link("open", &c.url)
        };
        out.push_str(&format!(
            "| {} | {kind} | {} | {} | {link} |\n",
            md_code(&c.name),
            md_code(c.status.as_str()),
            c.conclusion
                .as_ref()
                .map(|e| md_code(e.as_str()))
                .unwrap_or_default(),
        ));
    }
    if outcome.fell_back {
        out.push_str(&format!(
            "\n> [!WARNING]\n> Not everything was seen: {}.\n",
            crate::fallback::HIDDEN
        ));
    }
    out.push_str(&format!(
        "\n{} requests, {} answered 304 Not Modified.\n",
        outcome.stats.requests, outcome.stats.not_modified
    ));
    out
}
