//! Reading the records of a repository from GitHub.

use relay_github::{Deployment, DeploymentFilter, GitHub};
use relay_runtime::RepoName;

use crate::TASK;
use crate::error::Error;
use crate::payload::Payload;
use crate::record::{Record, is_candidate};

/// The deploy-relay records of `repo` (of `environment`, when given),
/// newest first, each with its deployment statuses; at most `limit` per environment.
pub async fn records(
    gh: &GitHub,
    repo: &RepoName,
    environment: Option<&str>,
    limit: usize,
) -> Result<Vec<Record>, Error> {
    let deployments = newest_first(gh, repo, environment).await?;
    let mut per_env: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for d in deployments {
        if d.task != TASK || Payload::of(&d).is_none() {
            continue;
        }
        let seen = per_env.entry(d.environment.clone()).or_default();
        if *seen >= limit {
            continue;
        }
        *seen += 1;
        let statuses = gh.deployment_statuses(repo, d.id).await?;
        out.extend(Record::of(d, statuses));
    }
    Ok(out)
}

/// The deployments of task `deploy-relay` in `repo` (of `environment`, when
/// given), newest first: GitHub lists them so, and the ids say so even if a
/// server does not.
async fn newest_first(
    gh: &GitHub,
    repo: &RepoName,
    environment: Option<&str>,
) -> Result<Vec<Deployment>, Error> {
    let filter = DeploymentFilter {
        task: Some(TASK),
        environment,
        sha: None,
    };
    let mut deployments = gh.deployments(repo, &filter).await?;
    deployments.sort_by_key(|d| std::cmp::Reverse(d.id));
    Ok(deployments)
}

/// The previous good record of `environment` for a deploy replacing
/// `replaced` (of app repository `app`, when given: several apps can share
/// an environment, and one's rollback must never deploy another's commit),
/// read from GitHub: the history is walked newest first and deployment
/// statuses are read only for records of another sha, until one qualifies
/// (the rule: [`crate::choose_previous_good`]).
pub async fn find_previous_good(
    gh: &GitHub,
    repo: &RepoName,
    environment: &str,
    app: Option<&str>,
    replaced: &str,
) -> Result<Option<Record>, Error> {
    for d in newest_first(gh, repo, Some(environment)).await? {
        // The filter is GitHub's; the rule does not rely on it.
        if d.environment != environment || !is_candidate(&d, app, replaced) {
            continue;
        }
        let statuses = gh.deployment_statuses(repo, d.id).await?;
        if let Some(record) = Record::of(d, statuses).filter(Record::is_good) {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// The newest record of `environment` (of app repository `app`, when
/// given): what is deployed there now, or being deployed, with its
/// deployment statuses.
pub async fn newest(
    gh: &GitHub,
    repo: &RepoName,
    environment: &str,
    app: Option<&str>,
) -> Result<Option<Record>, Error> {
    let limit = if app.is_some() { usize::MAX } else { 1 };
    Ok(records(gh, repo, Some(environment), limit)
        .await?
        .into_iter()
        .find(|r| r.deployment.environment == environment && r.payload.is_of(app)))
}

/// The newest good record of `environment` (of app repository `app`, when
/// given): what runs there now, as the last deploy that went well left it
/// — a redeploy (the platform's configuration changed) deploys its sha and
/// images again.
pub async fn current_good(
    gh: &GitHub,
    repo: &RepoName,
    environment: &str,
    app: Option<&str>,
) -> Result<Option<Record>, Error> {
    for d in newest_first(gh, repo, Some(environment)).await? {
        let ours = Payload::of(&d).is_some_and(|p| p.is_of(app));
        if d.task != TASK || d.environment != environment || !ours {
            continue;
        }
        let statuses = gh.deployment_statuses(repo, d.id).await?;
        if let Some(record) = Record::of(d, statuses).filter(Record::is_good) {
            return Ok(Some(record));
        }
    }
    Ok(None)
}
