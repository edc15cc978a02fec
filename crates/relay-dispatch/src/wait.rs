//! Waiting for the run a dispatch started.

use std::time::Duration;

use relay_github::{GitHub, RunDetails, RunFilter, WorkflowRun};
use relay_runtime::{Console, RepoName};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use crate::payload::Kind;

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("the deploy run {} concluded `{}`\nhint: open the run to see which job failed", .0.html_url, .0.conclusion.as_deref().unwrap_or("unknown"))]
    Failed(Box<WorkflowRun>),
    #[error("{what} within wait-timeout ({timeout}){}\nhint: {hint}", run.as_ref().map(|r| format!("; it may still be running: {}", r.html_url)).unwrap_or_default())]
    Timeout {
        run: Option<Box<WorkflowRun>>,
        what: String,
        timeout: String,
        hint: String,
    },
    #[error(transparent)]
    GitHub(#[from] relay_github::Error),
}

/// What was dispatched and how long to wait for it.
#[derive(Debug, Clone)]
pub struct WaitOptions<'a> {
    pub repository: &'a RepoName,
    pub kind: &'a Kind,
    pub dispatch_id: &'a str,
    /// When the dispatch was sent (runs created before it are not ours).
    pub sent_at: OffsetDateTime,
    pub timeout: Duration,
    pub interval: Duration,
}

/// Finds the run (when GitHub did not say which it is), then polls it until
/// it completes. Never passes on timeout.
pub async fn wait(
    gh: &GitHub,
    console: &Console,
    opts: &WaitOptions<'_>,
    known: Option<&RunDetails>,
) -> Result<WorkflowRun, WaitError> {
    let deadline = Instant::now() + opts.timeout;
    let timeout = relay_runtime::duration::format(opts.timeout);
    let repo = opts.repository;
    let id = match known {
        Some(run) => run.id,
        None => discover(gh, console, opts, deadline).await?.ok_or_else(|| WaitError::Timeout {
            run: None,
            what: format!("no run carrying dispatch id `{}` appeared in `{repo}`", opts.dispatch_id),
            timeout: timeout.clone(),
            hint: "the target workflow must put the dispatch id in its run name, e.g. `run-name: Deploy ${{ github.event.client_payload.dispatch_id }}` (or `${{ inputs.dispatch_id }}` for workflow_dispatch)".into(),
        })?,
    };
    let mut last_status = String::new();
    loop {
        let current = gh.workflow_run(repo, id).await?;
        let status = current.status.clone().unwrap_or_default();
        if status != last_status {
            console.info(&format!("Run {} is {status}", current.html_url));
            last_status = status.clone();
        }
        if status == "completed" {
            return if current.conclusion.as_deref() == Some("success") {
                Ok(current)
            } else {
                Err(WaitError::Failed(Box::new(current)))
            };
        }
        if !sleep_until_next(opts.interval, deadline).await {
            return Err(WaitError::Timeout {
                run: Some(Box::new(current)),
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
/// whose title or name carries the dispatch id; its id.
async fn discover(
    gh: &GitHub,
    console: &Console,
    opts: &WaitOptions<'_>,
    deadline: Instant,
) -> Result<Option<u64>, WaitError> {
    // A minute of slack for clock skew between the runner and GitHub.
    let since = (opts.sent_at - time::Duration::minutes(1))
        .replace_nanosecond(0)
        .unwrap_or(opts.sent_at);
    let since = since.format(&Rfc3339).unwrap_or_default();
    let filter = match opts.kind {
        Kind::Repository { .. } => RunFilter {
            event: Some("repository_dispatch"),
            created_since: Some(&since),
            ..RunFilter::default()
        },
        Kind::Workflow { workflow, .. } => RunFilter {
            workflow: Some(workflow),
            event: Some("workflow_dispatch"),
            created_since: Some(&since),
            ..RunFilter::default()
        },
    };
    console.info(&format!(
        "Looking for the run with dispatch id {} in {}",
        opts.dispatch_id, opts.repository
    ));
    loop {
        let runs = gh.workflow_runs(opts.repository, &filter).await?;
        let found = runs.iter().find(|r| {
            [&r.display_title, &r.name]
                .iter()
                .any(|t| t.as_deref().is_some_and(|t| t.contains(opts.dispatch_id)))
        });
        if let Some(run) = found {
            console.info(&format!("Found run {}", run.html_url));
            return Ok(Some(run.id));
        }
        if !sleep_until_next(opts.interval, deadline).await {
            return Ok(None);
        }
    }
}
