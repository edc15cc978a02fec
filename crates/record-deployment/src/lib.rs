//! `record-deployment`: records each deploy in the deploy repository as a
//! GitHub Deployment (task `deploy-relay`) and answers, per environment, the
//! previous good sha a failed deploy rolls back to. `mode: start` creates
//! the record `in_progress`, `mode: finish` sets its outcome, `mode:
//! previous` only resolves the previous good sha (the manual rollback's
//! `previous` target). The rule is `relay-deployments`'.

#![warn(unreachable_pub, missing_docs, clippy::pedantic)]
// The allow-list of [workspace.lints] (reasons there), repeated because a
// crate-level `warn` of the group overrides the workspace's `allow`s.
#![allow(
    clippy::must_use_candidate,
    clippy::missing_errors_doc,
    clippy::return_self_not_must_use,
    clippy::format_push_string,
    clippy::too_many_lines,
    clippy::similar_names,
    clippy::struct_excessive_bools,
    clippy::cast_precision_loss
)]

mod config;
mod summary;

use relay_deployments::{Finish, NewRecord, Record};
use relay_github::{Access, Auth, DeploymentState, GitHub, Permission};
use relay_runtime::{ActionSpec, Context, InputSpec, OutputSpec, RepoName};

use crate::config::{Config, Mode};

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "record-deployment",
    description: "Record a deploy as a GitHub Deployment (in_progress, then success, failure or error) and resolve the previous good sha of an environment for rollback",
    context: "the event (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH: under repository_dispatch the client_payload's repository, sha and dispatch_id), else GITHUB_REPOSITORY and GITHUB_SHA; GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID for the log URL; GITHUB_API_URL. On the command line pass --app-repository, --sha and --ref, or run inside a checkout.",
    inputs: &[
        InputSpec::github_token("Token for `repository`: `deployments: write` (`deployments: read` is enough for `mode: previous`)"),
        InputSpec::TOKEN_ALIAS,
        InputSpec::GITHUB_APP_ID,
        InputSpec::GITHUB_APP_PRIVATE_KEY,
        InputSpec::new("mode", "`start`: create the record and set it `in_progress`; `finish`: set the outcome of `deployment-id`; `previous`: only resolve the previous good sha of `environment`").required(),
        InputSpec::new("repository", "The deploy repository that holds the records, `owner/repo`").current_repository(),
        InputSpec::new("environment", "The environment deployed to; required by `start` and `previous`. For `finish` the record must be of it, when given"),
        InputSpec::new("app-repository", "The app repository deployed, `owner/repo` (default: the repository_dispatch payload's `repository`, the workflow_run's repository, else GITHUB_REPOSITORY)"),
        InputSpec::new("sha", "`start`: the full app commit deployed (default: the repository_dispatch payload's `sha`, the workflow_run's head_sha, else GITHUB_SHA). `previous`: the commit being replaced, full or at least 7 characters (default: the newest record's)"),
        InputSpec::new("images", "Lines of `key=image` recorded in the payload (placeholders {repository} {owner} {repo} {sha} {short_sha} {ref_name} {run_id} {run_number} {environment} take the app's values), or the JSON object another step output as `previous-images`"),
        InputSpec::new("dispatch-id", "The dispatch that asked for the deploy (default: the repository_dispatch payload's `dispatch_id`)"),
        InputSpec::new("ref", "The deploy repository's commit or branch the deployment is recorded at").current_sha(),
        InputSpec::new("rollback", "`start`: this deploy puts back an earlier good sha; recorded as a deployment of its own with `rollback: true`").default("false"),
        InputSpec::new("reason", "`start` with `rollback`: why, kept in the payload"),
        InputSpec::new("deployment-id", "`finish`: the record to finish, the `deployment-id` output of the `start` step"),
        InputSpec::new("state", "`finish`: `success`, `failure` or `error` (the deploy could not run)"),
        InputSpec::new("environment-url", "Where the deployed environment answers, an http(s) URL shown by GitHub"),
        InputSpec::new("log-url", "Where the deploy's log is, an http(s) URL (default: this run)"),
        InputSpec::new("description", "The deployment status's description, at most 140 characters (default: says what was deployed)"),
        InputSpec::new("production-environment", "Whether users use the environment directly (default: GitHub's, true only for `production`); GitHub marks earlier successes of non-production environments `inactive`"),
        InputSpec::new("transient-environment", "Whether the environment goes away after the deploy (a preview)").default("false"),
        InputSpec::new("app-token", "A token with `statuses: write` on `app-repository`: when set, the app commit gets the `deploy/<environment>` commit status (pending, then the outcome). With `github-app-id` the App mints that token itself, so leave this unset").secret(),
    ],
    outputs: &[
        OutputSpec { name: "deployment-id", description: "The record: created by `start`, finished by `finish`; empty for `previous`" },
        OutputSpec { name: "environment", description: "The record's environment" },
        OutputSpec { name: "sha", description: "`start`/`finish`: the app commit of the record; `previous`: the commit being replaced" },
        OutputSpec { name: "state", description: "The state set: `in_progress`, `success`, `failure` or `error`; empty for `previous`" },
        OutputSpec { name: "previous-sha", description: "The previous good app sha of the environment, other than `sha` (the rollback target); empty when there is none" },
        OutputSpec { name: "previous-deployment-id", description: "The record `previous-sha` comes from" },
        OutputSpec { name: "previous-images", description: "The images of that record, as a JSON object" },
    ],
};

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let config = config::parse(&ctx)?;
    let needs = match config.mode {
        Mode::Previous { .. } => Permission::DEPLOYMENTS_READ,
        _ => Permission::DEPLOYMENTS_WRITE,
    };
    let gh = config
        .auth
        .client_for(&ctx, &Access::new(&config.repository, &[needs]))
        .await?;
    match &config.mode {
        Mode::Start(start) => {
            let started = relay_deployments::start(
                &gh,
                &NewRecord {
                    repo: &config.repository,
                    environment: &start.environment,
                    git_ref: &start.git_ref,
                    payload: &start.payload,
                    description: config.description.as_deref(),
                    environment_url: config.environment_url.as_deref(),
                    log_url: config.log_url.as_deref(),
                    production_environment: start.production_environment,
                    transient_environment: start.transient_environment,
                },
            )
            .await?;
            let record = &started.record;
            ctx.console.info(&format!(
                "Recorded deployment {} of {} to {}",
                record.deployment.id,
                record.payload.short_sha(),
                record.deployment.environment
            ));
            commit_status(&ctx, &config, record, &DeploymentState::InProgress).await;
            report(
                &ctx,
                &config,
                record,
                &DeploymentState::InProgress,
                started.previous.as_ref(),
            )
        }
        Mode::Finish {
            id,
            state,
            environment,
        } => {
            let finished = relay_deployments::finish(
                &gh,
                &Finish {
                    repo: &config.repository,
                    id: *id,
                    environment: environment.as_deref(),
                    state: state.clone(),
                    description: config.description.as_deref(),
                    environment_url: config.environment_url.as_deref(),
                    log_url: config.log_url.as_deref(),
                },
            )
            .await?;
            let record = &finished.record;
            ctx.console.info(&format!(
                "Deployment {id} of {} to {} is now {state}",
                record.payload.short_sha(),
                record.deployment.environment
            ));
            commit_status(&ctx, &config, record, state).await;
            report(&ctx, &config, record, state, finished.previous.as_ref())
        }
        Mode::Previous {
            environment,
            replaced,
        } => previous(&ctx, &config, &gh, environment, replaced.as_deref()).await,
    }
}

/// `mode: previous`: the previous good sha before what is deployed now (or
/// before `replaced`), an error when there is none.
async fn previous(
    ctx: &Context,
    config: &Config,
    gh: &GitHub,
    environment: &str,
    replaced: Option<&str>,
) -> anyhow::Result<()> {
    let replaced = match replaced {
        Some(sha) => sha.to_owned(),
        None => match relay_deployments::newest(gh, &config.repository, environment).await? {
            Some(newest) => newest.payload.sha,
            None => anyhow::bail!(
                "`{}` has no deploy-relay record of environment `{environment}`, so there is no previous good sha\nhint: check `repository` and `environment`, or pass the sha to roll back to instead of `previous`",
                config.repository
            ),
        },
    };
    ctx.outputs.set("deployment-id", "")?;
    ctx.outputs.set("state", "")?;
    ctx.outputs.set("environment", environment)?;
    ctx.outputs.set("sha", &replaced)?;
    let found =
        relay_deployments::find_previous_good(gh, &config.repository, environment, &replaced)
            .await?;
    let Some(found) = found else {
        anyhow::bail!(
            "no deploy-relay record of `{environment}` in `{}` reached `success` without a `failure` for a sha other than `{replaced}`\nhint: pass the sha to roll back to instead of `previous`",
            config.repository
        );
    };
    set_previous(ctx, Some(&found))?;
    ctx.console.info(&format!(
        "Previous good sha of {environment} before {}: {} (deployment {})",
        short(&replaced),
        found.payload.short_sha(),
        found.deployment.id
    ));
    ctx.summary
        .append(&summary::previous(config, environment, &replaced, &found))?;
    Ok(())
}

/// The outputs and the summary of `start` and `finish`.
fn report(
    ctx: &Context,
    config: &Config,
    record: &Record,
    state: &DeploymentState,
    previous: Option<&Record>,
) -> anyhow::Result<()> {
    ctx.outputs
        .set("deployment-id", &record.deployment.id.to_string())?;
    ctx.outputs
        .set("environment", &record.deployment.environment)?;
    ctx.outputs.set("sha", &record.payload.sha)?;
    ctx.outputs.set("state", state.as_str())?;
    set_previous(ctx, previous)?;
    match previous {
        Some(p) => ctx.console.info(&format!(
            "Previous good sha of {}: {} (deployment {})",
            record.deployment.environment,
            p.payload.short_sha(),
            p.deployment.id
        )),
        None => ctx.console.info(&format!(
            "{} has no earlier good deploy of another sha: nothing to roll back to",
            record.deployment.environment
        )),
    }
    ctx.summary
        .append(&summary::record(config, record, state, previous))?;
    Ok(())
}

fn set_previous(ctx: &Context, previous: Option<&Record>) -> anyhow::Result<()> {
    let (sha, id, images) = match previous {
        Some(p) => (
            p.payload.sha.clone(),
            p.deployment.id.to_string(),
            serde_json::to_string(&p.payload.images)?,
        ),
        None => (String::new(), String::new(), "{}".to_owned()),
    };
    ctx.outputs.set("previous-sha", &sha)?;
    ctx.outputs.set("previous-deployment-id", &id)?;
    ctx.outputs.set("previous-images", &images)?;
    Ok(())
}

/// The optional `deploy/<environment>` commit status on the app commit. The
/// record is what matters: a refused commit status is a warning, so a
/// deploy that went well is never failed (and rolled back) for it.
async fn commit_status(ctx: &Context, config: &Config, record: &Record, state: &DeploymentState) {
    // With a token, only when `app-token` is given; an App mints its own
    // for the app repository (a warning when it is not installed there).
    let auth = match &config.app_token {
        Some(token) => Auth::token(Some(token.clone())),
        None if config.auth.is_app() => config.auth.clone(),
        None => return,
    };
    let result = async {
        let repo = RepoName::parse(&record.payload.repository).map_err(anyhow::Error::msg)?;
        let app = auth
            .client_for(ctx, &Access::new(&repo, &[Permission::STATUSES_WRITE]))
            .await?;
        relay_deployments::set_commit_status(
            &app,
            &record.payload,
            &record.deployment.environment,
            state,
            config.log_url.as_deref(),
        )
        .await
        .map_err(anyhow::Error::from)
    }
    .await;
    match result {
        Ok(context) => ctx.console.info(&format!(
            "Set the `{context}` commit status of {} in {}",
            record.payload.short_sha(),
            record.payload.repository
        )),
        Err(e) => ctx.console.warning(&format!(
            "the deploy is recorded, but the app commit's status was not set: {}",
            relay_runtime::error_text(&e)
        )),
    }
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}
