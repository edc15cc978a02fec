//! The step summary: target, event, payload and run link.

use relay_dispatch::DispatchKind;
use relay_github::Conclusion;
use relay_runtime::{md_block, md_code};

use crate::config::Config;

/// The started run, as the summary links it.
pub(crate) struct RunLink {
    pub id: u64,
    pub html_url: String,
    pub conclusion: Option<Conclusion>,
}

impl RunLink {
    pub(crate) fn of(run: &relay_github::WorkflowRun) -> Self {
        Self {
            id: run.id,
            html_url: run.html_url.clone(),
            conclusion: run.conclusion.clone(),
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Outcome<'a> {
    Skipped(&'a str),
    Untrusted(&'a str),
    DryRun,
    Sent,
    Finished,
    TimedOut,
}

pub(crate) fn render(config: &Config, outcome: Outcome<'_>, run: Option<&RunLink>) -> String {
    let headline = match outcome {
        Outcome::Skipped(c) => format!("⏭️ Deploy not dispatched: the source run concluded `{c}`"),
        Outcome::Untrusted(why) => format!(
            "⏭️ Deploy not dispatched: the triggering run is not deployed ({})",
            md_code(why)
        ),
        Outcome::DryRun => "🧪 Dry run: nothing was dispatched".to_owned(),
        Outcome::Sent => "🚀 Deploy dispatched".to_owned(),
        Outcome::Finished => match run.and_then(|r| r.conclusion.as_ref()) {
            Some(Conclusion::Success) => "✅ Deploy run succeeded".to_owned(),
            Some(c) => format!("❌ Deploy run concluded `{c}`"),
            None => "Deploy run finished".to_owned(),
        },
        Outcome::TimedOut => "⏱️ Deploy run did not finish in time".to_owned(),
    };
    let event = match &config.kind {
        DispatchKind::Repository { event_type } => {
            format!("`repository_dispatch` · {}", md_code(event_type))
        }
        DispatchKind::Workflow { workflow, git_ref } => format!(
            "`workflow_dispatch` · {}{}",
            md_code(workflow),
            git_ref
                .as_deref()
                .map(|r| format!(" on {}", md_code(r)))
                .unwrap_or_default()
        ),
    };
    let run_cell = match run {
        Some(r) => format!("[{}]({})", r.id, r.html_url),
        None => "—".to_owned(),
    };
    let payload = serde_json::to_string_pretty(&config.payload).unwrap_or_default();
    format!(
        "### {headline}\n\n| | |\n|---|---|\n| Target | {} |\n| Event | {event} |\n| Source | {} @ {} ({}) |\n| Environment | {} |\n| Dispatch id | `{}` |\n| Run | {run_cell} |\n\n<details><summary>Payload</summary>\n\n{}\n</details>\n",
        md_code(config.repository.as_str()),
        md_code(&config.source.repository),
        md_code(config.source.short_sha()),
        md_code(&config.source.ref_name),
        if config.environment.is_empty() {
            "—".to_owned()
        } else {
            md_code(&config.environment)
        },
        config.dispatch_id,
        md_block(&payload, "json"),
    )
}
