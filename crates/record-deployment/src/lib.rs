//! `record-deployment`: records each deploy in the deploy repository as a
//! GitHub Deployment (task `deploy-relay`) and answers, per environment and
//! app, the previous good sha a failed deploy rolls back to. `mode: check`
//! checks what a deploy would record and warns (or refuses) when a
//! protected environment has no protection rule, before anything changes;
//! `mode: start` creates the record `in_progress`, `mode: finish` sets its
//! outcome (a cancelled deploy is `error`, never a failure) and can tell an
//! issue how it ended; `mode: previous` resolves the previous good sha (the
//! manual rollback's `previous` target) and `mode: current` the newest good
//! one (a redeploy). The rule is `relay-deployments`'.

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
use relay_runtime::{ActionSpec, Context, InputSpec, OutputSpec, RepoName, vars};

use crate::config::{Check, Config, Mode};

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "record-deployment",
    description: "Record a deploy as a GitHub Deployment (in_progress, then success, failure or error) and resolve the previous good sha of an environment for rollback",
    context: "the event (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH: under repository_dispatch the client_payload's repository, sha and dispatch_id), else GITHUB_REPOSITORY and GITHUB_SHA; GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID for the log URL; GITHUB_API_URL. On the command line pass --app-repository, --sha and --ref, or run inside a checkout.",
    inputs: &[
        InputSpec::github_token("Token for `deploy-repository`: `deployments: write` (`deployments: read` is enough for `previous` and `current`; `check` reads the environment: `actions: read`; `issue` needs `issues: write`)"),
        InputSpec::TOKEN_ALIAS,
        InputSpec::GITHUB_APP_ID,
        InputSpec::GITHUB_APP_PRIVATE_KEY,
        InputSpec::new("mode", "`check`: check what `start` would record and the environment's protection, change nothing; `start`: create the record and set it `in_progress`; `finish`: set the outcome of `deployment-id`; `previous`: resolve the previous good sha of `environment`; `current`: resolve its newest good deploy (what a redeploy deploys again)").required(),
        InputSpec::new("deploy-repository", "The deploy repository that holds the records, `owner/repo`").current_repository(),
        InputSpec::new("environment", "The environment deployed to; required by `check`, `start`, `previous` and `current`. For `finish` the record must be of it, when given"),
        InputSpec::new("app-repository", "The app repository deployed, `owner/repo` (default: the repository_dispatch payload's `repository`, the workflow_run's repository, else GITHUB_REPOSITORY). `previous` and `current` read only its records when given"),
        InputSpec::new("sha", "`start`: the full app commit deployed (default: the repository_dispatch payload's `sha`, the workflow_run's head_sha, else GITHUB_SHA). `previous`: the commit being replaced, full or at least 7 characters (default: the newest record's)"),
        InputSpec::new("images", "Lines of `key=image`, each image a reference the VM pulls (`ghcr.io/o/api@sha256:<digest>`, or a tag the build pushed), recorded in the payload; placeholders {repository} {owner} {repo} {sha} {short_sha} {ref_name} {run_id} {run_number} {environment} take the app's values"),
        InputSpec::new("provenance-report", "`start`: verify-provenance's `report` output (JSON: the mode, and per image the signer workflow, ref, digest and log index), kept in the record's payload as `provenance` and shown in the summary"),
        InputSpec::new("dispatch-id", "The dispatch that asked for the deploy (default: the repository_dispatch payload's `dispatch_id`)"),
        InputSpec::new("ref", "The deploy repository's commit or branch the deployment is recorded at").current_sha(),
        InputSpec::new("rollback", "`start`: this deploy puts back an earlier good sha; recorded as a deployment of its own with `rollback: true`").default("false"),
        InputSpec::new("reason", "`start`: why, kept in the payload (a rollback's cause, or why staging was skipped)"),
        InputSpec::new("deployment-id", "`finish`: the record to finish, the `deployment-id` output of the `start` step"),
        InputSpec::new("state", "`finish`: `success`, `failure`, `error` (the deploy could not run) or `cancelled` (recorded as `error`: never a failure, never a rollback's cause)"),
        InputSpec::new("issue", "`finish`: an issue of `deploy-repository` (its URL or number) to comment the outcome on, e.g. the health issue a rollback answers"),
        InputSpec::new("environment-url", "Where the deployed environment answers, an http(s) URL shown by GitHub"),
        InputSpec::new("log-url", "Where the deploy's log is, an http(s) URL (default: this run)"),
        InputSpec::new("description", "The deployment status's description, at most 140 characters (default: says what was deployed)"),
        InputSpec::new("production-environment", "Whether users use the environment directly (default: GitHub's, true only for `production`); GitHub marks earlier successes of non-production environments `inactive`"),
        InputSpec::new("transient-environment", "Whether the environment goes away after the deploy (a preview)").default("false"),
        InputSpec::new("app-token", "A token with `statuses: write` on `app-repository`: when set, the app commit gets the `deploy/<environment>` commit status (pending, then the outcome). With `github-app-id` the App mints that token itself, so leave this unset").secret(),
        InputSpec::new("protected-environments", "`check`: environments that must have protection rules (required reviewers, a wait timer, a branch policy, a custom rule), one per line or comma-separated").default("production"),
        InputSpec::new("require-protection", "`check`: fail, instead of warning, when one of `protected-environments` has no protection rule").default("false"),
    ],
    outputs: &[
        OutputSpec { name: "deployment-id", description: "The record: created by `start`, finished by `finish`; empty otherwise" },
        OutputSpec { name: "environment", description: "The record's environment" },
        OutputSpec { name: "sha", description: "`start`/`finish`/`check`: the app commit of the record; `previous`: the commit being replaced; `current`: the newest good one" },
        OutputSpec { name: "images", description: "The record's images as `key=image` lines (`current`: those of the newest good deploy)" },
        OutputSpec { name: "state", description: "The state set: `in_progress`, `success`, `failure` or `error`; empty for `check`, `previous` and `current`" },
        OutputSpec { name: "previous-sha", description: "The previous good app sha of the environment and app, other than `sha` (the rollback target); empty when there is none" },
        OutputSpec { name: "previous-deployment-id", description: "The record `previous-sha` comes from" },
        OutputSpec { name: "previous-images", description: "The images of that record as `key=image` lines: exactly what a rollback deploys" },
        OutputSpec { name: "protected", description: "`check`: `true` when the environment has a protection rule, `false` when it has none or does not exist yet" },
    ],
};

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let config = config::parse(&ctx)?;
    // The least each mode needs of the deploy repository: `check` reads
    // the environment ("Get an environment": `actions: read`,
    // https://docs.github.com/en/rest/deployments/environments#get-an-environment);
    // `finish` with `issue` comments on it too.
    let needs: &[Permission] = match &config.mode {
        Mode::Check(_) => &[Permission::ACTIONS_READ],
        Mode::Previous { .. } | Mode::Current { .. } => &[Permission::DEPLOYMENTS_READ],
        Mode::Finish { issue: Some(_), .. } => {
            &[Permission::DEPLOYMENTS_WRITE, Permission::ISSUES_WRITE]
        }
        _ => &[Permission::DEPLOYMENTS_WRITE],
    };
    let gh = config
        .auth
        .client_for(&ctx, &Access::new(&config.repository, needs))
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
            commit_status(&ctx, &config, record, &DeploymentState::InProgress, false).await;
            report(
                &ctx,
                &config,
                record,
                &DeploymentState::InProgress,
                false,
                started.previous.as_ref(),
            )
        }
        Mode::Finish {
            id,
            state,
            cancelled,
            environment,
            issue,
        } => {
            let description = match (&config.description, cancelled) {
                (Some(d), _) => Some(d.clone()),
                (None, true) => {
                    let d = gh.deployment(&config.repository, *id).await?;
                    relay_deployments::Payload::of(&d)
                        .map(|p| relay_deployments::describe_cancelled(&p))
                }
                (None, false) => None,
            };
            let finished = relay_deployments::finish(
                &gh,
                &Finish {
                    repo: &config.repository,
                    id: *id,
                    environment: environment.as_deref(),
                    state: state.clone(),
                    description: description.as_deref(),
                    environment_url: config.environment_url.as_deref(),
                    log_url: config.log_url.as_deref(),
                },
            )
            .await?;
            let record = &finished.record;
            ctx.console.info(&format!(
                "Deployment {id} of {} to {} is now {state}{}",
                record.payload.short_sha(),
                record.deployment.environment,
                if *cancelled { " (cancelled)" } else { "" }
            ));
            commit_status(&ctx, &config, record, state, *cancelled).await;
            if let Some(number) = issue {
                tell_issue(
                    &ctx,
                    &gh,
                    &config,
                    *number,
                    record,
                    *cancelled,
                    finished.previous.as_ref(),
                )
                .await;
            }
            report(
                &ctx,
                &config,
                record,
                state,
                *cancelled,
                finished.previous.as_ref(),
            )
        }
        Mode::Previous {
            environment,
            app,
            replaced,
        } => {
            previous(
                &ctx,
                &config,
                &gh,
                environment,
                app.as_deref(),
                replaced.as_deref(),
            )
            .await
        }
        Mode::Current { environment, app } => {
            current(&ctx, &config, &gh, environment, app.as_deref()).await
        }
        Mode::Check(check) => self::check(&ctx, &config, &gh, check).await,
    }
}

/// `mode: check`: nothing is written. The inputs were checked as `start`
/// checks them; the environment's protection is read and judged.
async fn check(ctx: &Context, config: &Config, gh: &GitHub, check: &Check) -> anyhow::Result<()> {
    let start = &check.start;
    let env = &start.environment;
    ctx.outputs.set("deployment-id", "")?;
    ctx.outputs.set("state", "")?;
    ctx.outputs.set("environment", env)?;
    ctx.outputs.set("sha", &start.payload.sha)?;
    ctx.outputs
        .set("images", &image_lines(&start.payload.images))?;
    let found = gh.environment(&config.repository, env).await?;
    let rules: Vec<String> = found
        .iter()
        .flat_map(|e| e.protection_rules.iter().map(|r| r.kind.clone()))
        .collect();
    ctx.outputs
        .set("protected", &(!rules.is_empty()).to_string())?;
    let must = check.protected.iter().any(|p| p == env);
    let unprotected = if !rules.is_empty() {
        None
    } else if found.is_none() {
        Some(format!(
            "environment `{env}` does not exist in `{}` yet: the first job that names it creates it, with no protection rule, and deploys at once",
            config.repository
        ))
    } else {
        Some(format!(
            "environment `{env}` of `{}` has no protection rule: nothing (no required reviewer, wait timer or branch policy) stops a deploy to it",
            config.repository
        ))
    };
    let settings = format!(
        "{}/{}/settings/environments",
        ctx.env
            .get(vars::GITHUB_SERVER_URL)
            .unwrap_or("https://github.com")
            .trim_end_matches('/'),
        config.repository
    );
    ctx.summary.append(&summary::check(
        config,
        start,
        &rules,
        unprotected.as_deref().filter(|_| must),
    ))?;
    match unprotected {
        Some(why) if must && check.require_protection => anyhow::bail!(
            "{why}; `require-protection` is true, so nothing was deployed\nhint: add protection rules (required reviewers, a wait timer) at {settings}, or take `{env}` out of `protected-environments`"
        ),
        Some(why) if must => {
            ctx.console.warning_titled(
                "Unprotected environment",
                &format!(
                    "{why}. Add protection rules at {settings} (required reviewers need a public repository or a paid plan for a private one); set `require-protection: true` to refuse deploys until then"
                ),
            );
        }
        _ => ctx.console.info(&format!(
            "Environment `{env}`: {}",
            if rules.is_empty() {
                "no protection rule".to_owned()
            } else {
                format!("protected by {}", rules.join(", "))
            }
        )),
    }
    Ok(())
}

/// `mode: current`: the newest good deploy of the environment (and app).
async fn current(
    ctx: &Context,
    config: &Config,
    gh: &GitHub,
    environment: &str,
    app: Option<&str>,
) -> anyhow::Result<()> {
    let found = relay_deployments::current_good(gh, &config.repository, environment, app).await?;
    let Some(found) = found else {
        anyhow::bail!(
            "no deploy-relay record of `{environment}`{} in `{}` reached `success` without a `failure`, so there is nothing to redeploy\nhint: deploy a sha instead of `current`",
            app.map(|a| format!(" for `{a}`")).unwrap_or_default(),
            config.repository
        );
    };
    ctx.outputs.set("deployment-id", "")?;
    ctx.outputs.set("state", "")?;
    ctx.outputs.set("environment", environment)?;
    ctx.outputs.set("sha", &found.payload.sha)?;
    ctx.outputs
        .set("images", &image_lines(&found.payload.images))?;
    set_previous(ctx, None)?;
    ctx.console.info(&format!(
        "Newest good deploy of {environment}: {} of {} (deployment {})",
        found.payload.short_sha(),
        found.payload.repository,
        found.deployment.id
    ));
    ctx.summary
        .append(&summary::current(config, environment, &found))?;
    Ok(())
}

/// Comments the outcome of `record` on issue `number`. The record is what
/// matters: a refused comment is a warning.
async fn tell_issue(
    ctx: &Context,
    gh: &GitHub,
    config: &Config,
    number: u64,
    record: &Record,
    cancelled: bool,
    previous: Option<&Record>,
) {
    let body = ctx
        .console
        .redact(&summary::outcome_comment(ctx, record, cancelled, previous));
    match gh.comment_issue(&config.repository, number, &body).await {
        Ok(()) => ctx.console.info(&format!(
            "Commented the outcome on issue #{number} of {}",
            config.repository
        )),
        Err(e) => ctx.console.warning(&format!(
            "the outcome is recorded, but issue #{number} was not told: {}",
            relay_runtime::error_text(&e.into())
        )),
    }
}

/// Images as `key=image` lines, the form every `images` input takes.
fn image_lines(images: &std::collections::BTreeMap<String, String>) -> String {
    images
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `mode: previous`: the previous good sha before what is deployed now (or
/// before `replaced`), an error when there is none.
async fn previous(
    ctx: &Context,
    config: &Config,
    gh: &GitHub,
    environment: &str,
    app: Option<&str>,
    replaced: Option<&str>,
) -> anyhow::Result<()> {
    let newest = match replaced {
        Some(_) => None,
        None => relay_deployments::newest(gh, &config.repository, environment, app).await?,
    };
    // Without an app, the previous good of the app deployed last.
    let app = app
        .map(str::to_owned)
        .or_else(|| newest.as_ref().map(|n| n.payload.repository.clone()));
    let replaced = match replaced {
        Some(sha) => sha.to_owned(),
        None => match newest {
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
    ctx.outputs.set("images", "")?;
    let found = relay_deployments::find_previous_good(
        gh,
        &config.repository,
        environment,
        app.as_deref(),
        &replaced,
    )
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
    cancelled: bool,
    previous: Option<&Record>,
) -> anyhow::Result<()> {
    ctx.outputs
        .set("deployment-id", &record.deployment.id.to_string())?;
    ctx.outputs
        .set("environment", &record.deployment.environment)?;
    ctx.outputs.set("sha", &record.payload.sha)?;
    ctx.outputs
        .set("images", &image_lines(&record.payload.images))?;
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
        .append(&summary::record(config, record, state, cancelled, previous))?;
    Ok(())
}

fn set_previous(ctx: &Context, previous: Option<&Record>) -> anyhow::Result<()> {
    let (sha, id, images) = match previous {
        Some(p) => (
            p.payload.sha.clone(),
            p.deployment.id.to_string(),
            image_lines(&p.payload.images),
        ),
        None => (String::new(), String::new(), String::new()),
    };
    ctx.outputs.set("previous-sha", &sha)?;
    ctx.outputs.set("previous-deployment-id", &id)?;
    ctx.outputs.set("previous-images", &images)?;
    Ok(())
}

/// The optional `deploy/<environment>` commit status on the app commit. The
/// record is what matters: a refused commit status is a warning, so a
/// deploy that went well is never failed (and rolled back) for it.
async fn commit_status(
    ctx: &Context,
    config: &Config,
    record: &Record,
    state: &DeploymentState,
    cancelled: bool,
) {
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
            cancelled,
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
