//! The step summary: what was relayed, and what was dispatched.

use relay_artifacts::Transferred;
use relay_runtime::{md_block, md_code};
use serde_json::{Map, Value};

use crate::config::Config;

pub(crate) fn skipped(config: &Config, why: &str) -> String {
    format!(
        "### ⏭️ Not relayed: build run {} of {}\n\n{}\n",
        config.run_id,
        md_code(config.source_repository.as_str()),
        md_code(why)
    )
}

/// Whether the dispatch went out after the artifacts were relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dispatch {
    Sent,
    Failed,
}

pub(crate) fn render(
    config: &Config,
    moved: &[Transferred],
    payload: &Map<String, Value>,
    dispatch: Dispatch,
) -> String {
    let headline = if dispatch == Dispatch::Sent {
        format!(
            "### 🚀 Transferred {} artifact(s) and dispatched the deploy to {}",
            moved.len(),
            md_code(config.repository.as_str())
        )
    } else {
        format!(
            "### ❌ Transferred {} artifact(s); the dispatch to {} failed",
            moved.len(),
            md_code(config.repository.as_str())
        )
    };
    let mut out = format!("{headline}\n\n");
    if !moved.is_empty() {
        out.push_str("| artifact | size | sha256 | re-uploaded as |\n|---|--:|---|---|\n");
        for m in moved {
            let hex = m.digest.trim_start_matches("sha256:");
            out.push_str(&format!(
                "| {} | {} | `{}…` | {} |\n",
                md_code(&m.name),
                m.size,
                hex.get(..16).unwrap_or(hex),
                m.reupload
                    .as_ref()
                    .map(|r| md_code(&r.name))
                    .unwrap_or_default(),
            ));
        }
        out.push('\n');
    }
    let pretty = serde_json::to_string_pretty(payload).unwrap_or_default();
    out.push_str(&format!(
        "<details><summary>Payload (`{}`)</summary>\n\n{}\n</details>\n",
        match &config.kind {
            relay_dispatch::DispatchKind::Repository { event_type } => event_type.as_str(),
            relay_dispatch::DispatchKind::Workflow { workflow, .. } => workflow.as_str(),
        }
        .replace('`', "'"),
        md_block(&pretty, "json")
    ));
    out
}
