//! Waiting for the run a dispatch started.

use std::time::Duration;

use relay_github::{GitHub, RunDetails, RunFilter, RunStatus, WorkflowRun};
use relay_http::Poll;
use relay_runtime::{Console, RepoName};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use crate::payload::DispatchKind;

/// Why waiting for the started run did not end in its success.
#[derive(Debug, thiserror::Error)]
// Each variant's `#[error]` text says when it happens and what its
// fields hold.
#[allow(missing_docs)]
pub enum WaitError {
    /// The run completed with another conclusion than `success`.
    #[error("the deploy run {} concluded `{}`\nhint: open the run to see which job failed", .0.html_url, .0.conclusion.as_ref().map_or("unknown", |c| c.as_str()))]
    Failed(Box<WorkflowRun>),
    /// The run was not found, or did not complete, within the timeout.
    #[error("{what} within wait-timeout ({timeout}){}\nhint: {hint}", run.as_ref().map(|r| format!("; it may still be running: {}", r.html_url)).unwrap_or_default())]
    Timeout {
        run: Option<Box<WorkflowRun>>,
        what: String,
        timeout: String,
        hint: String,
    },
    /// A call to GitHub failed.
    #[error(transparent)]
    GitHub(#[from] relay_github::Error),
}

/// What was dispatched and how long to wait for it.
#[derive(Debug, Clone)]
pub struct WaitOptions<'a> {
    /// Where the dispatch went.
    pub repository: &'a RepoName,
    /// What was sent.
    pub kind: &'a DispatchKind,
    /// The dispatch id the run's title carries.
    pub dispatch_id: &'a str,
    /// When the dispatch was sent (runs created before it are not ours).
    pub sent_at: OffsetDateTime,
    /// How long, from the start of the wait, the run may take to finish.
    pub timeout: Duration,
    /// The time between looks.
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
    let mut poll = Poll::new(opts.interval, Instant::now() + opts.timeout);
    let timeout = relay_runtime::duration::format(opts.timeout);
    let repo = opts.repository;
    let id = match known {
        Some(run) => run.id,
        None => discover(gh, console, opts, &mut poll).await?.ok_or_else(|| WaitError::Timeout {
            run: None,
            what: format!("no run carrying dispatch id `{}` appeared in `{repo}`", opts.dispatch_id),
            timeout: timeout.clone(),
            hint: "the target workflow must put the dispatch id in its run name, e.g. `run-name: Deploy ${{ github.event.client_payload.dispatch_id }}` (or `${{ inputs.dispatch_id }}` for workflow_dispatch)".into(),
        })?,
    };
    let mut last_status = None;
    loop {
        let current = gh.workflow_run(repo, id).await?;
        let status = current.status.clone();
        if status != last_status {
            let shown = status.as_ref().map_or("", RunStatus::as_str);
            console.info(&format!("Run {} is {shown}", current.html_url));
            last_status.clone_from(&status);
        }
        if status.as_ref().is_some_and(RunStatus::is_completed) {
            return if current
                .conclusion
                .as_ref()
                .is_some_and(relay_runtime::Conclusion::is_success)
            {
                Ok(current)
            } else {
                Err(WaitError::Failed(Box::new(current)))
            };
        }
        if poll.sleep().await.is_err() {
            let shown = status.as_ref().map_or("", RunStatus::as_str);
            return Err(WaitError::Timeout {
                run: Some(Box::new(current)),
                what: format!("the deploy run did not finish (last seen `{shown}`)"),
                timeout,
                hint: "raise wait-timeout, or set wait: false and follow the run by its link"
                    .into(),
            });
        }
    }
}

/// Looks, among runs created since shortly before the dispatch, for the one
/// whose title or name carries the dispatch id; its id.
async fn discover(
    gh: &GitHub,
    console: &Console,
    opts: &WaitOptions<'_>,
    poll: &mut Poll,
) -> Result<Option<u64>, WaitError> {
    // A minute of slack for clock skew between the runner and GitHub.
    let since = (opts.sent_at - time::Duration::minutes(1))
        .replace_nanosecond(0)
        .unwrap_or(opts.sent_at);
    let since = since.format(&Rfc3339).unwrap_or_default();
    let filter = match opts.kind {
        DispatchKind::Repository { .. } => RunFilter {
            event: Some("repository_dispatch"),
            created_since: Some(&since),
            ..RunFilter::default()
        },
        DispatchKind::Workflow { workflow, .. } => RunFilter {
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
        if poll.sleep().await.is_err() {
            return Ok(None);
        }
    }
}
