//! Writing records: a deploy starts (`in_progress`) and finishes
//! (`success`, `failure` or `error`); the app commit can carry the outcome
//! as a commit status.

use relay_github::{
    CommitState, DeploymentState, GitHub, NewCommitStatus, NewDeployment, NewDeploymentStatus,
};
use relay_runtime::RepoName;

use crate::TASK;
use crate::error::Error;
use crate::payload::Payload;
use crate::read;
use crate::record::Record;

/// A deploy about to start.
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    /// The deploy repository, where the record lives.
    pub repo: &'a RepoName,
    /// The environment deployed to.
    pub environment: &'a str,
    /// The deploy repository's commit: the deployment's `ref`.
    pub git_ref: &'a str,
    /// What is deployed.
    pub payload: &'a Payload,
    /// `None`: said from the payload ("Deploying abc1234 of o/app").
    pub description: Option<&'a str>,
    /// Where the environment answers.
    pub environment_url: Option<&'a str>,
    /// Where the deploy's log is (default: the run).
    pub log_url: Option<&'a str>,
    /// `None`: GitHub's default (`true` for `production`).
    pub production_environment: Option<bool>,
    /// Whether the environment goes away after use.
    pub transient_environment: bool,
}

/// A started record, and the previous good one of its environment before it.
#[derive(Debug, Clone)]
pub struct Started {
    /// The record, `in_progress`.
    pub record: Record,
    /// The previous good record before it.
    pub previous: Option<Record>,
}

/// Records a deploy as started: the previous good record is found first
/// (the new one cannot be it), then the deployment is created without
/// GitHub's commit-status check (`required_contexts: []`: deploy-relay
/// verifies CI itself, with `verify-ci-status`) and set `in_progress`.
pub async fn start(gh: &GitHub, new: &NewRecord<'_>) -> Result<Started, Error> {
    let previous = read::find_previous_good(
        gh,
        new.repo,
        new.environment,
        Some(&new.payload.repository),
        &new.payload.sha,
    )
    .await?;
    let said = describe(new.payload, &DeploymentState::InProgress);
    let description = new.description.unwrap_or(&said);
    let deployment = gh
        .create_deployment(
            new.repo,
            &NewDeployment {
                git_ref: new.git_ref,
                task: TASK,
                environment: new.environment,
                payload: &new.payload.to_value(),
                description,
                required_contexts: &[],
                production_environment: new.production_environment,
                transient_environment: new.transient_environment,
            },
        )
        .await?;
    let status = gh
        .create_deployment_status(
            new.repo,
            deployment.id,
            &NewDeploymentStatus {
                state: DeploymentState::InProgress,
                description,
                environment_url: new.environment_url,
                log_url: new.log_url,
                auto_inactive: None,
            },
        )
        .await?;
    Ok(Started {
        record: Record {
            deployment,
            payload: new.payload.clone(),
            statuses: vec![status],
        },
        previous,
    })
}

/// How a record ends.
#[derive(Debug, Clone)]
pub struct Finish<'a> {
    /// The deploy repository, where the record lives.
    pub repo: &'a RepoName,
    /// The record's deployment id.
    pub id: u64,
    /// When given, the record must be of this environment (a wiring slip
    /// that finishes staging's record as production's is refused).
    pub environment: Option<&'a str>,
    /// The outcome: `success`, `failure` or `error`.
    pub state: DeploymentState,
    /// `None`: said from the payload.
    pub description: Option<&'a str>,
    /// Where the environment answers.
    pub environment_url: Option<&'a str>,
    /// Where the deploy's log is.
    pub log_url: Option<&'a str>,
}

/// A finished record, and the previous good one of its environment (the
/// rollback target when it failed).
#[derive(Debug, Clone)]
pub struct Finished {
    /// The record with its new deployment status.
    pub record: Record,
    /// The previous good record of its environment.
    pub previous: Option<Record>,
}

/// Sets the outcome of record `finish.id`. GitHub's `auto_inactive` is left
/// on: a `success` marks the environment's earlier successes `inactive`
/// (non-production ones), as GitHub shows them.
pub async fn finish(gh: &GitHub, finish: &Finish<'_>) -> Result<Finished, Error> {
    let deployment = gh.deployment(finish.repo, finish.id).await?;
    if deployment.task != TASK {
        return Err(Error::NotARecord {
            id: finish.id,
            repo: finish.repo.to_string(),
            task: deployment.task,
        });
    }
    if let Some(expected) = finish.environment
        && expected != deployment.environment
    {
        return Err(Error::WrongEnvironment {
            id: finish.id,
            repo: finish.repo.to_string(),
            environment: deployment.environment,
            expected: expected.to_owned(),
        });
    }
    let Some(payload) = Payload::of(&deployment) else {
        return Err(Error::NoPayload {
            id: finish.id,
            repo: finish.repo.to_string(),
        });
    };
    let said = describe(&payload, &finish.state);
    let status = gh
        .create_deployment_status(
            finish.repo,
            finish.id,
            &NewDeploymentStatus {
                state: finish.state.clone(),
                description: finish.description.unwrap_or(&said),
                environment_url: finish.environment_url,
                log_url: finish.log_url,
                auto_inactive: None,
            },
        )
        .await?;
    let mut statuses = gh.deployment_statuses(finish.repo, finish.id).await?;
    if !statuses.iter().any(|s| s.id == status.id) {
        statuses.insert(0, status);
    }
    let previous = read::find_previous_good(
        gh,
        finish.repo,
        &deployment.environment,
        Some(&payload.repository),
        &payload.sha,
    )
    .await?;
    Ok(Finished {
        record: Record {
            deployment,
            payload,
            statuses,
        },
        previous,
    })
}

/// The deployment status description deploy-relay writes for `state`.
pub fn describe(payload: &Payload, state: &DeploymentState) -> String {
    let sha = payload.short_sha();
    let repo = &payload.repository;
    match (state, payload.rollback) {
        (DeploymentState::InProgress, false) => format!("Deploying {sha} of {repo}"),
        (DeploymentState::InProgress, true) => format!("Rolling back to {sha} of {repo}"),
        (DeploymentState::Success, false) => format!("Deployed {sha} of {repo}"),
        (DeploymentState::Success, true) => format!("Rolled back to {sha} of {repo}"),
        (DeploymentState::Failure, _) => format!("Deploy of {sha} of {repo} failed"),
        (DeploymentState::Error, _) => format!("Deploy of {sha} of {repo} could not run"),
        (state, _) => format!("{sha} of {repo}: {state}"),
    }
}

/// The deployment status description of a deploy that was cancelled:
/// recorded as `error` (GitHub has no cancelled state), said to be a
/// cancel, so nobody reads it as a failed release.
pub fn describe_cancelled(payload: &Payload) -> String {
    format!(
        "Deploy of {} of {} was cancelled",
        payload.short_sha(),
        payload.repository
    )
}

/// The commit status context of a deploy to `environment`, so the app
/// repository's commit shows how the platform's deploy of it went.
pub fn commit_context(environment: &str) -> String {
    format!("deploy/{environment}")
}

/// The commit status state that shows a deployment state on the app commit.
pub fn commit_state(state: &DeploymentState) -> CommitState {
    match state {
        DeploymentState::Success => CommitState::Success,
        DeploymentState::Failure => CommitState::Failure,
        DeploymentState::Error => CommitState::Error,
        _ => CommitState::Pending,
    }
}

/// Shows `state` on the app commit of `payload` as `deploy/<environment>`;
/// `app` is a client whose token may write commit statuses on the app
/// repository.
pub async fn set_commit_status(
    app: &GitHub,
    payload: &Payload,
    environment: &str,
    state: &DeploymentState,
    cancelled: bool,
    target_url: Option<&str>,
) -> Result<String, Error> {
    let repo = RepoName::parse(&payload.repository).map_err(|_| Error::BadRepository {
        repository: payload.repository.clone(),
    })?;
    let context = commit_context(environment);
    let description = match state {
        DeploymentState::Error if cancelled => format!("Deploy to {environment} was cancelled"),
        DeploymentState::Success => format!("Deployed to {environment}"),
        DeploymentState::Failure => format!("Deploy to {environment} failed"),
        DeploymentState::Error => format!("Deploy to {environment} could not run"),
        _ => format!("Deploying to {environment}"),
    };
    app.create_commit_status(
        &repo,
        &payload.sha,
        &NewCommitStatus {
            state: commit_state(state),
            context: &context,
            description: &description,
            target_url,
        },
    )
    .await?;
    Ok(context)
}
