//! Workflow runs and `workflow_dispatch`.

use relay_runtime::{Conclusion, Console, RepoName, RunStatus, WorkflowRun};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{Fetch, GitHub};
use crate::error::{Call, Error, Permission};
use crate::path::{encode, with_query};

/// The run a `workflow_dispatch` started, when GitHub said which
/// (`return_run_details`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RunDetails {
    /// The run's id.
    #[serde(rename = "workflow_run_id")]
    pub id: u64,
    /// The run's page.
    pub html_url: String,
}

/// A job of a workflow run, as much as deploy-relay reads. Each Actions
/// job is also a check run of the same name; a token that cannot read
/// check runs (a fine-grained PAT) can still read jobs (`actions: read`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Job {
    /// The job's id.
    pub id: u64,
    /// The run it belongs to.
    pub run_id: u64,
    /// The job's name, as its check run is named.
    pub name: String,
    /// Its run status (`queued`, `in_progress`, `completed`, …).
    pub status: RunStatus,
    /// Its conclusion once completed.
    #[serde(default)]
    pub conclusion: Option<Conclusion>,
    /// Its page on GitHub.
    #[serde(default)]
    pub html_url: Option<String>,
}

/// Which runs to list (`GET /repos/{owner}/{repo}/actions/runs`, or a
/// workflow's runs when `workflow` is set). Empty fields do not filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunFilter<'a> {
    /// A workflow file name or id.
    pub workflow: Option<&'a str>,
    /// Runs started by this event.
    pub event: Option<&'a str>,
    /// Runs of this commit.
    pub head_sha: Option<&'a str>,
    /// RFC 3339 time: runs created at or after it.
    pub created_since: Option<&'a str>,
}

impl GitHub {
    /// Sends `workflow_dispatch` asking for the started run's details. A
    /// server older than `return_run_details` (GHES) refuses the key; then
    /// the classic request goes out and the run is not known (`None`), as
    /// when GitHub answers 204.
    pub async fn workflow_dispatch(
        &self,
        repo: &RepoName,
        workflow: &str,
        git_ref: &str,
        inputs: &Map<String, Value>,
        console: &Console,
    ) -> Result<Option<RunDetails>, Error> {
        let call = Call::new(
            format!("run workflow `{workflow}` on `{repo}`"),
            repo.as_str(),
            Permission::ACTIONS_WRITE,
        );
        let path = format!(
            "/repos/{repo}/actions/workflows/{}/dispatches",
            encode(workflow)
        );
        let body = json!({"ref": git_ref, "inputs": inputs, "return_run_details": true});
        match self
            .request(Method::POST, path.as_str())
            .json(body)
            .send(&call)
            .await
        {
            Ok(resp) if resp.status == 200 => Ok(Some(resp.json(&call)?)),
            Ok(_) => Ok(None),
            Err(e) if refuses_run_details(&e) => {
                console
                    .info("This GitHub does not know `return_run_details`; dispatching without it");
                self.request(Method::POST, path.as_str())
                    .json(json!({"ref": git_ref, "inputs": inputs}))
                    .send(&call)
                    .await?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// One workflow run, conditionally (polling it costs nothing while it
    /// has not changed).
    pub async fn workflow_run(&self, repo: &RepoName, id: u64) -> Result<WorkflowRun, Error> {
        let call = Call::new(
            format!("read run {id} of `{repo}`"),
            repo.as_str(),
            Permission::ACTIONS_READ,
        );
        self.request(Method::GET, format!("/repos/{repo}/actions/runs/{id}"))
            .fetch(Fetch::Conditional)
            .send(&call)
            .await?
            .json(&call)
    }

    /// The jobs of run `id` (its latest attempt), all pages, conditionally.
    pub async fn run_jobs(&self, repo: &RepoName, id: u64) -> Result<Vec<Job>, Error> {
        let call = Call::new(
            format!("list the jobs of run {id} of `{repo}`"),
            repo.as_str(),
            Permission::ACTIONS_READ,
        );
        let path = with_query(
            &format!("/repos/{repo}/actions/runs/{id}/jobs"),
            &[("filter", "latest"), ("per_page", "100")],
        );
        self.list(&call, &path, Some("jobs"), Fetch::Conditional)
            .await
    }

    /// Every run matching `filter`, all pages, conditionally.
    pub async fn workflow_runs(
        &self,
        repo: &RepoName,
        filter: &RunFilter<'_>,
    ) -> Result<Vec<WorkflowRun>, Error> {
        let call = Call::new(
            format!("list the workflow runs of `{repo}`"),
            repo.as_str(),
            Permission::ACTIONS_READ,
        );
        let base = match filter.workflow {
            Some(w) => format!("/repos/{repo}/actions/workflows/{}/runs", encode(w)),
            None => format!("/repos/{repo}/actions/runs"),
        };
        let created = filter.created_since.map(|t| format!(">={t}"));
        let path = with_query(
            &base,
            &[
                ("event", filter.event.unwrap_or_default()),
                ("head_sha", filter.head_sha.unwrap_or_default()),
                ("created", created.as_deref().unwrap_or_default()),
                ("per_page", "100"),
            ],
        );
        self.list(&call, &path, Some("workflow_runs"), Fetch::Conditional)
            .await
    }
}

/// GitHub refuses a key it does not know with 400 or 422 naming it.
fn refuses_run_details(e: &Error) -> bool {
    match e {
        Error::Status { status: 400, .. } => true,
        Error::Status {
            status: 422,
            message,
            ..
        } => message.contains("return_run_details"),
        _ => false,
    }
}
