//! Deployments and their deployment statuses, and the environment reviews that gate a
//! run: what deploy-relay records each deploy as, and what an operator
//! approves. Shapes follow GitHub's REST description
//! (`repos/create-deployment`, `repos/create-deployment-status`,
//! `actions/get-pending-deployments-for-run`, …).

use relay_runtime::{RepoName, WorkflowRun};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{Fetch, GitHub};
use crate::error::{Call, Error, Permission};
use crate::path::with_query;

/// Reviewing a pending deployment: a required reviewer's token with
/// `deployments: write` (fine-grained), or a classic PAT with `repo`.
const REVIEW: Permission = Permission {
    fine_grained: "deployments: write",
    classic: "repo",
};

relay_runtime::github_state! {
    /// The state of a deployment status
    /// (<https://docs.github.com/en/rest/deployments/statuses>).
    pub enum DeploymentState {
        /// The deploy could not run.
        Error = "error",
        /// The deploy ran and failed.
        Failure = "failure",
        /// Replaced by a newer successful deploy of the environment.
        Inactive = "inactive",
        /// The deploy is running.
        InProgress = "in_progress",
        /// The deploy waits to start.
        Queued = "queued",
        /// Created, nothing reported yet.
        Pending = "pending",
        /// The deploy ran and succeeded.
        Success = "success",
    }
}

/// Who created a deployment or deployment status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Actor {
    /// The account's login.
    pub login: String,
}

/// A deployment, as much as deploy-relay reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Deployment {
    /// The deployment's id; newer deployments have higher ids.
    pub id: u64,
    /// The commit GitHub resolved `ref` to.
    pub sha: String,
    /// The ref it was created for (a branch, a tag or a sha).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// What it is for: `deploy-relay` for deploy-relay's records, `deploy` for GitHub's own.
    pub task: String,
    /// The environment deployed to.
    pub environment: String,
    /// Whatever the creator put there (deploy-relay: an object).
    #[serde(default)]
    pub payload: Value,
    /// Its one-line text.
    #[serde(default)]
    pub description: Option<String>,
    /// Who created it.
    #[serde(default)]
    pub creator: Option<Actor>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Whether users use the environment directly.
    #[serde(default)]
    pub production_environment: Option<bool>,
    /// Whether the environment goes away after use.
    #[serde(default)]
    pub transient_environment: Option<bool>,
}

/// One deployment status of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeploymentStatus {
    /// The deployment status's id; newer ones have higher ids.
    pub id: u64,
    /// Its state.
    pub state: DeploymentState,
    /// Its one-line text.
    #[serde(default)]
    pub description: Option<String>,
    /// The environment it was set for.
    #[serde(default)]
    pub environment: Option<String>,
    /// Where the environment answers.
    #[serde(default)]
    pub environment_url: Option<String>,
    /// Where the deploy's log is.
    #[serde(default)]
    pub log_url: Option<String>,
    /// Who set it.
    #[serde(default)]
    pub creator: Option<Actor>,
    /// When it was set (RFC 3339).
    pub created_at: String,
}

/// A deployment to create. deploy-relay never lets GitHub merge the default
/// branch into `git_ref` (`auto_merge: false`), so the answer is always the
/// deployment itself, never a merge commit.
#[derive(Debug, Clone)]
pub struct NewDeployment<'a> {
    /// The ref to record it at (a branch, a tag or a sha).
    pub git_ref: &'a str,
    /// What it is for (`deploy-relay`).
    pub task: &'a str,
    /// The environment deployed to.
    pub environment: &'a str,
    /// Whatever the creator keeps with it.
    pub payload: &'a Value,
    /// Its one-line text.
    pub description: &'a str,
    /// Commit-status contexts that must be `success` first; empty skips
    /// the check (omitted, GitHub would require every context to pass).
    pub required_contexts: &'a [String],
    /// `None`: GitHub's default (`true` for an environment named `production`).
    pub production_environment: Option<bool>,
    /// Whether the environment goes away after use.
    pub transient_environment: bool,
}

/// A deployment status to create.
#[derive(Debug, Clone, Serialize)]
pub struct NewDeploymentStatus<'a> {
    /// Its state.
    pub state: DeploymentState,
    /// At most 140 characters (GitHub's limit); longer text is cut.
    pub description: &'a str,
    /// Where the environment answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_url: Option<&'a str>,
    /// Where the deploy's log is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_url: Option<&'a str>,
    /// `None`: GitHub's default (`true`: a `success` marks earlier
    /// non-production deployments of the environment `inactive`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_inactive: Option<bool>,
}

/// Which deployments to list; `None` does not filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeploymentFilter<'a> {
    /// Only deployments of this task.
    pub task: Option<&'a str>,
    /// Only deployments to this environment.
    pub environment: Option<&'a str>,
    /// Only deployments of this commit.
    pub sha: Option<&'a str>,
}

/// An environment, as a pending deployment names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EnvironmentRef {
    /// The environment's id, which a review names.
    pub id: u64,
    /// The environment's name.
    pub name: String,
    /// Its settings page.
    #[serde(default)]
    pub html_url: Option<String>,
}

/// A user or team that may review a pending deployment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reviewer {
    /// `User` or `Team`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who it is.
    pub reviewer: ReviewerName,
}

/// A user's `login` or a team's `slug`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReviewerName {
    /// A user's login.
    #[serde(default)]
    pub login: Option<String>,
    /// A team's slug.
    #[serde(default)]
    pub slug: Option<String>,
}

impl Reviewer {
    /// The login or the slug, `?` when GitHub sent neither.
    pub fn name(&self) -> &str {
        self.reviewer
            .login
            .as_deref()
            .or(self.reviewer.slug.as_deref())
            .unwrap_or("?")
    }
}

/// An environment a run waits for before a job may start.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PendingDeployment {
    /// The environment waited for.
    pub environment: EnvironmentRef,
    /// Minutes the wait timer holds the job.
    #[serde(default)]
    pub wait_timer: u64,
    /// When the wait timer started (RFC 3339).
    #[serde(default)]
    pub wait_timer_started_at: Option<String>,
    /// Whether the token may review it.
    pub current_user_can_approve: bool,
    /// Who may review it.
    #[serde(default)]
    pub reviewers: Vec<Reviewer>,
}

/// The verdict on pending deployments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    /// Let the run go on.
    Approved,
    /// Stop the run.
    Rejected,
}

impl Review {
    /// The state the review API takes: `approved` or `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

/// GitHub's limit on a deployment status's description.
pub const MAX_STATUS_DESCRIPTION: usize = 140;

impl GitHub {
    /// Creates a deployment of `new.git_ref` in `repo`. A 409 means the
    /// required contexts are not all `success` (or a merge conflict, which
    /// `auto_merge: false` rules out).
    pub async fn create_deployment(
        &self,
        repo: &RepoName,
        new: &NewDeployment<'_>,
    ) -> Result<Deployment, Error> {
        let call = Call::new(
            format!("create a deployment to `{}` in `{repo}`", new.environment),
            repo.as_str(),
            Permission::DEPLOYMENTS_WRITE,
        );
        let mut body = json!({
            "ref": new.git_ref,
            "task": new.task,
            "environment": new.environment,
            "payload": new.payload,
            "description": new.description,
            "auto_merge": false,
            "required_contexts": new.required_contexts,
            "transient_environment": new.transient_environment,
        });
        if let Some(production) = new.production_environment {
            body["production_environment"] = production.into();
        }
        self.request(Method::POST, format!("/repos/{repo}/deployments"))
            .json(body)
            .send(&call)
            .await
            .map_err(|e| match e {
                Error::Status {
                    call,
                    status: 409,
                    message,
                    ..
                } => Error::Status {
                    call,
                    status: 409,
                    message,
                    hint: "GitHub checks the commit's commit statuses before it records a deployment: wait until the contexts named above pass, or leave them out of `required_contexts`".to_owned(),
                },
                e => e,
            })?
            .json(&call)
    }

    /// One deployment of `repo`.
    pub async fn deployment(&self, repo: &RepoName, id: u64) -> Result<Deployment, Error> {
        let call = Call::new(
            format!("read deployment {id} of `{repo}`"),
            repo.as_str(),
            Permission::DEPLOYMENTS_READ,
        );
        self.request(Method::GET, format!("/repos/{repo}/deployments/{id}"))
            .send(&call)
            .await?
            .json(&call)
    }

    /// Every deployment of `repo` matching `filter`, all pages, newest first
    /// (as GitHub lists them).
    pub async fn deployments(
        &self,
        repo: &RepoName,
        filter: &DeploymentFilter<'_>,
    ) -> Result<Vec<Deployment>, Error> {
        let call = Call::new(
            match filter.environment {
                Some(env) => format!("list the deployments to `{env}` in `{repo}`"),
                None => format!("list the deployments of `{repo}`"),
            },
            repo.as_str(),
            Permission::DEPLOYMENTS_READ,
        );
        let path = with_query(
            &format!("/repos/{repo}/deployments"),
            &[
                ("task", filter.task.unwrap_or_default()),
                ("environment", filter.environment.unwrap_or_default()),
                ("sha", filter.sha.unwrap_or_default()),
                ("per_page", "100"),
            ],
        );
        self.list(&call, &path, None, Fetch::Conditional).await
    }

    /// Adds a deployment status to deployment `id`; its description is
    /// cut to GitHub's 140 characters.
    pub async fn create_deployment_status(
        &self,
        repo: &RepoName,
        id: u64,
        status: &NewDeploymentStatus<'_>,
    ) -> Result<DeploymentStatus, Error> {
        let call = Call::new(
            format!("set deployment {id} of `{repo}` to `{}`", status.state),
            repo.as_str(),
            Permission::DEPLOYMENTS_WRITE,
        );
        let description: String = status
            .description
            .chars()
            .take(MAX_STATUS_DESCRIPTION)
            .collect();
        let status = NewDeploymentStatus {
            description: &description,
            ..status.clone()
        };
        self.request(
            Method::POST,
            format!("/repos/{repo}/deployments/{id}/statuses"),
        )
        .json(json!(status))
        .send(&call)
        .await?
        .json(&call)
    }

    /// Every deployment status of deployment `id`, all pages, newest first.
    pub async fn deployment_statuses(
        &self,
        repo: &RepoName,
        id: u64,
    ) -> Result<Vec<DeploymentStatus>, Error> {
        let call = Call::new(
            format!("list the deployment statuses of deployment {id} of `{repo}`"),
            repo.as_str(),
            Permission::DEPLOYMENTS_READ,
        );
        let path = with_query(
            &format!("/repos/{repo}/deployments/{id}/statuses"),
            &[("per_page", "100")],
        );
        self.list(&call, &path, None, Fetch::Conditional).await
    }

    /// The runs of `repo` waiting for a protection rule (required
    /// reviewers, a wait timer) before a job may start, all pages.
    pub async fn waiting_runs(&self, repo: &RepoName) -> Result<Vec<WorkflowRun>, Error> {
        let call = Call::new(
            format!("list the waiting workflow runs of `{repo}`"),
            repo.as_str(),
            Permission::ACTIONS_READ,
        );
        let path = with_query(
            &format!("/repos/{repo}/actions/runs"),
            &[("status", "waiting"), ("per_page", "100")],
        );
        self.list(&call, &path, Some("workflow_runs"), Fetch::Fresh)
            .await
    }

    /// The environments run `run_id` waits for.
    pub async fn pending_deployments(
        &self,
        repo: &RepoName,
        run_id: u64,
    ) -> Result<Vec<PendingDeployment>, Error> {
        let call = Call::new(
            format!("read the pending deployments of run {run_id} of `{repo}`"),
            repo.as_str(),
            Permission::ACTIONS_READ,
        );
        self.request(
            Method::GET,
            format!("/repos/{repo}/actions/runs/{run_id}/pending_deployments"),
        )
        .send(&call)
        .await?
        .json(&call)
    }

    /// Approves or rejects run `run_id`'s pending deployments to
    /// `environment_ids`; answers the deployments GitHub goes on with.
    pub async fn review_pending_deployments(
        &self,
        repo: &RepoName,
        run_id: u64,
        environment_ids: &[u64],
        review: Review,
        comment: &str,
    ) -> Result<Vec<Deployment>, Error> {
        let call = Call::new(
            format!(
                "{} the pending deployments of run {run_id} of `{repo}`",
                match review {
                    Review::Approved => "approve",
                    Review::Rejected => "reject",
                }
            ),
            repo.as_str(),
            REVIEW,
        );
        self.request(
            Method::POST,
            format!("/repos/{repo}/actions/runs/{run_id}/pending_deployments"),
        )
        .json(json!({
            "environment_ids": environment_ids,
            "state": review.as_str(),
            "comment": comment,
        }))
        .send(&call)
        .await
        .map_err(|e| match e {
            Error::Status {
                call,
                status: status @ (403 | 422),
                message,
                ..
            } => Error::Status {
                call,
                status,
                message,
                hint: "only a required reviewer of the environment may review it: use a token of one (`gh auth token`, or a PAT with `repo`), and check the run still waits".to_owned(),
            },
            e => e,
        })?
        .json(&call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_and_print_as_github_spells_them() {
        let states: Vec<DeploymentState> =
            serde_json::from_str(r#"["in_progress","success","inactive","destroyed"]"#).unwrap();
        assert_eq!(
            states,
            [
                DeploymentState::InProgress,
                DeploymentState::Success,
                DeploymentState::Inactive,
                DeploymentState::Other("destroyed".into())
            ]
        );
        assert_eq!(
            serde_json::to_value(DeploymentState::InProgress).unwrap(),
            "in_progress"
        );
        assert_eq!(DeploymentState::Failure.to_string(), "failure");
    }

    #[test]
    fn a_status_leaves_out_what_is_not_set() {
        let s = NewDeploymentStatus {
            state: DeploymentState::Success,
            description: "done",
            environment_url: None,
            log_url: Some("https://github.com/o/r/actions/runs/1"),
            auto_inactive: None,
        };
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"state": "success", "description": "done", "log_url": "https://github.com/o/r/actions/runs/1"})
        );
    }
}
