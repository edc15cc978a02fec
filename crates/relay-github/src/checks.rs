//! What CI reported for a commit: check runs and commit statuses.

use relay_runtime::{Conclusion, RepoName, RunStatus};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::{Fetch, GitHub};
use crate::error::{Call, Error, Permission};
use crate::path::{encode_ref, with_query};

relay_runtime::github_state! {
    /// The state of a commit status
    /// (<https://docs.github.com/en/rest/commits/statuses>).
    pub enum CommitState {
        /// Not decided yet.
        Pending = "pending",
        /// Passed.
        Success = "success",
        /// Failed.
        Failure = "failure",
        /// The check could not run.
        Error = "error",
    }
}

/// A check run, as much as deploy-relay reads
/// (<https://docs.github.com/en/rest/checks/runs>).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckRun {
    /// Newer check runs have higher ids.
    pub id: u64,
    /// The check's name (a job's name, `build (ubuntu-latest)`).
    pub name: String,
    /// Its run status.
    pub status: RunStatus,
    /// How it ended, once completed.
    #[serde(default)]
    pub conclusion: Option<Conclusion>,
    /// The app's page for it (for Actions: the job's log).
    #[serde(default)]
    pub details_url: Option<String>,
    /// GitHub's page for it.
    #[serde(default)]
    pub html_url: Option<String>,
}

/// One commit status (newest per context, as the combined commit status
/// gives them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommitStatus {
    /// The name it is set under (`ci/build`, `deploy/production`).
    pub context: String,
    /// Its state.
    pub state: CommitState,
    /// Where it links.
    #[serde(default)]
    pub target_url: Option<String>,
    /// Its one-line text.
    #[serde(default)]
    pub description: Option<String>,
}

/// A commit status to set.
#[derive(Debug, Clone, Serialize)]
pub struct NewCommitStatus<'a> {
    /// Its state.
    pub state: CommitState,
    /// The name it is set under.
    pub context: &'a str,
    /// Its one-line text.
    pub description: &'a str,
    /// Where it links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_url: Option<&'a str>,
}

impl GitHub {
    /// Every check run of `git_ref`, all pages, conditionally. GitHub's
    /// `filter=latest` keeps the newest run per name within a check suite.
    pub async fn check_runs(&self, repo: &RepoName, git_ref: &str) -> Result<Vec<CheckRun>, Error> {
        let call = Call::new(
            format!("list the check runs of `{git_ref}` in `{repo}`"),
            repo.as_str(),
            Permission::CHECKS_READ,
        );
        let path = with_query(
            &format!("/repos/{repo}/commits/{}/check-runs", encode_ref(git_ref)),
            &[("filter", "latest"), ("per_page", "100")],
        );
        self.list(&call, &path, Some("check_runs"), Fetch::Conditional)
            .await
    }

    /// The commit statuses of `git_ref`, newest per context (the combined
    /// commit status), all pages, conditionally.
    pub async fn commit_statuses(
        &self,
        repo: &RepoName,
        git_ref: &str,
    ) -> Result<Vec<CommitStatus>, Error> {
        let call = Call::new(
            format!("read the commit statuses of `{git_ref}` in `{repo}`"),
            repo.as_str(),
            Permission::STATUSES_READ,
        );
        let path = with_query(
            &format!("/repos/{repo}/commits/{}/status", encode_ref(git_ref)),
            &[("per_page", "100")],
        );
        self.list(&call, &path, Some("statuses"), Fetch::Conditional)
            .await
    }

    /// Sets a commit status on `sha`.
    pub async fn create_commit_status(
        &self,
        repo: &RepoName,
        sha: &str,
        status: &NewCommitStatus<'_>,
    ) -> Result<(), Error> {
        let call = Call::new(
            format!(
                "set the `{}` commit status of `{sha}` in `{repo}`",
                status.context
            ),
            repo.as_str(),
            Permission::STATUSES_WRITE,
        );
        self.request(
            Method::POST,
            format!("/repos/{repo}/statuses/{}", crate::path::encode(sha)),
        )
        .json(json!(status))
        .send(&call)
        .await?;
        Ok(())
    }
}
