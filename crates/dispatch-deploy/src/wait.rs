//! Waiting for the run a dispatch started.

use std::time::Duration;

use relay_github::{Call, Permission};
use relay_runtime::Context;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use crate::config::{Config, Kind};
use crate::dispatch::{RunRef, Sent, encode};

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("the deploy run {} concluded `{}`\nhint: open the run to see which job failed", .0.html_url, .0.conclusion.as_deref().unwrap_or("unknown"))]
    Failed(RunRef),
    #[error("{what} within wait-timeout ({timeout}){}\nhint: {hint}", run.as_ref().map(|r| format!("; it may still be running: {}", r.html_url)).unwrap_or_default())]
    Timeout {
        run: Option<RunRef>,
        what: String,
        timeout: String,
        hint: String,
    },
    #[error(transparent)]
    GitHub(#[from] relay_github::Error),
}

#[derive(Deserialize)]
struct RunList {
    workflow_runs: Vec<serde_json::Value>,
}

/// Finds the run (when GitHub did not say which it is), then polls it until
/// it completes. Never passes on timeout.
pub async fn wait(ctx: &Context, config: &Config, sent: &Sent) -> Result<RunRef, WaitError> {
    let deadline = Instant::now() + config.wait_timeout;
    let timeout = relay_runtime::duration::format(config.wait_timeout);
    let run = match &sent.run {
        Some(run) => run.clone(),
        None => discover(ctx, config, sent, deadline).await?.ok_or_else(|| WaitError::Timeout {
            run: None,
            what: format!("no run carrying dispatch id `{}` appeared in `{}`", config.dispatch_id, config.repository),
            timeout: timeout.clone(),
            hint: "the target workflow must put the dispatch id in its run name, e.g. `run-name: Deploy ${{ github.event.client_payload.dispatch_id }}` (or `${{ inputs.dispatch_id }}` for workflow_dispatch)".into(),
        })?,
    };
    let repo = &config.repository;
    let call = Call::new(
        format!("read run {} of `{repo}`", run.id),
        repo,
        Permission::ACTIONS_READ,
    );
    let path = format!("/repos/{repo}/actions/runs/{}", run.id);
    let mut last_status = String::new();
    loop {
        let resp = sent.client.get_conditional(&call, &path).await?;
        let current: RunRef = resp.json(&call)?;
        let status = current.status.clone().unwrap_or_default();
        if status != last_status {
            ctx.console
                .info(&format!("Run {} is {status}", current.html_url));
            last_status = status.clone();
        }
        if status == "completed" {
            return if current.conclusion.as_deref() == Some("success") {
                Ok(current)
            } else {
                Err(WaitError::Failed(current))
            };
        }
        if !sleep_until_next(config.wait_interval, deadline).await {
            return Err(WaitError::Timeout {
                run: Some(current),
                what: format!("the deploy run did not finish (last seen `{status}`)"),
                timeout,
                hint: "raise wait-timeout, or set wait: false and follow the run by its link"
                    .into(),
            });
        }
    }
}

/// Sleeps one interval; false when that would pass the deadline.
async fn sleep_until_next(interval: Duration, deadline: Instant) -> bool {
    let next = Instant::now() + interval;
    if next > deadline {
        return false;
    }
    tokio::time::sleep_until(next).await;
    true
}

/// Looks, among runs created since shortly before the dispatch, for the one
/// whose title or name carries the dispatch id.
async fn discover(
    ctx: &Context,
    config: &Config,
    sent: &Sent,
    deadline: Instant,
) -> Result<Option<RunRef>, WaitError> {
    let repo = &config.repository;
    // A minute of slack for clock skew between the runner and GitHub.
    let since = (sent.at - time::Duration::minutes(1))
        .replace_nanosecond(0)
        .unwrap_or(sent.at);
    let since = since.format(&Rfc3339).unwrap_or_default();
    let path = match &config.kind {
        Kind::Repository { .. } => {
            format!(
                "/repos/{repo}/actions/runs?event=repository_dispatch&created=%3E%3D{since}&per_page=100"
            )
        }
        Kind::Workflow { workflow, .. } => format!(
            "/repos/{repo}/actions/workflows/{}/runs?event=workflow_dispatch&created=%3E%3D{since}&per_page=100",
            encode(workflow)
        ),
    };
    let call = Call::new(
        format!("list the workflow runs of `{repo}`"),
        repo,
        Permission::ACTIONS_READ,
    );
    ctx.console.info(&format!(
        "Looking for the run with dispatch id {} in {repo}",
        config.dispatch_id
    ));
    loop {
        let resp = sent.client.get_conditional(&call, &path).await?;
        let list: RunList = resp.json(&call)?;
        let found = list
            .workflow_runs
            .iter()
            .filter_map(crate::dispatch::run_ref)
            .find(|r| {
                [&r.display_title, &r.name].iter().any(|t| {
                    t.as_deref()
                        .is_some_and(|t| t.contains(&config.dispatch_id))
                })
            });
        if let Some(run) = found {
            ctx.console.info(&format!("Found run {}", run.html_url));
            return Ok(Some(run));
        }
        if !sleep_until_next(config.wait_interval, deadline).await {
            return Ok(None);
        }
    }
}
