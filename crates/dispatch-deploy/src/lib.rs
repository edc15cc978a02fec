//! `dispatch-deploy`: tells a deploy repository to deploy. It computes the
//! payload from the event (under `workflow_run`, the finished run's commit
//! and branch, not the runner's), adds image tags and the environment for the
//! branch, checks GitHub's limits before sending, sends `repository_dispatch`
//! or `workflow_dispatch`, and can wait for the run it started.

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

use relay_dispatch::{WaitError, WaitOptions};
use relay_runtime::{ActionSpec, Context, DEFAULT_ENVIRONMENTS, InputSpec, OutputSpec};
use time::OffsetDateTime;

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "dispatch-deploy",
    description: "Send repository_dispatch (or workflow_dispatch) to a deploy repository with a computed payload, and optionally wait for the run it starts",
    context: "the event (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH: under workflow_run the finished run's repository, head_sha, head_branch and id), else GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF_NAME, GITHUB_RUN_ID and GITHUB_RUN_NUMBER; GITHUB_API_URL. On the command line pass --app-repository, --sha and --app-ref to override them, and --deploy-repository for the target.",
    inputs: &[
        InputSpec::github_token("Token that may dispatch to `deploy-repository`: `contents: write` for repository_dispatch, `actions: write` for workflow_dispatch. Another repository needs a PAT or GitHub App token"),
        InputSpec::TOKEN_ALIAS,
        InputSpec::GITHUB_APP_ID,
        InputSpec::GITHUB_APP_PRIVATE_KEY,
        InputSpec::new("deploy-repository", "The repository that receives the dispatch, `owner/repo`").current_repository(),
        InputSpec::new("event-type", "repository_dispatch event type, 1 to 100 characters").default("deploy"),
        InputSpec::new("workflow", "Send workflow_dispatch to this workflow file name or id instead of repository_dispatch"),
        InputSpec::new("ref", "Branch or tag the workflow_dispatch runs on (default: the target's default branch)"),
        InputSpec::new("client-payload", "JSON object merged over the computed payload; its keys win"),
        InputSpec::new("images", "Lines of `key=template` added to the payload; placeholders {repository} {owner} {repo} {sha} {short_sha} {ref_name} {run_id} {run_number} {environment}"),
        InputSpec::new("environments", "Lines of `branch-glob=environment`, first match wins; an unmatched branch gives an empty environment")
            .default(DEFAULT_ENVIRONMENTS),
        InputSpec::new("sha", "Commit to deploy (default: the workflow_run's head_sha, else GITHUB_SHA; on the command line, the checkout's HEAD)"),
        InputSpec::new("app-ref", "Branch of the commit (default: the workflow_run's head_branch, else GITHUB_REF_NAME; on the command line, the checkout's branch)"),
        InputSpec::new("app-repository", "Repository that built the commit, the payload's `repository` (default: the workflow_run's repository, else GITHUB_REPOSITORY; on the command line, the checkout's `origin`)"),
        InputSpec::new("require-success", "Under workflow_run, skip (exit 0, dispatched=false) unless the run concluded success").default("true"),
        InputSpec::new("allow-forks", "Under workflow_run, dispatch a run whose head commit comes from a fork (a fork's pull request) too; by default it is skipped (exit 0, dispatched=false)").default("false"),
        InputSpec::new("trigger-events", "Under workflow_run, the events the finished run may have been started by for its commit to deploy, one per line or comma-separated (default `push`, `workflow_dispatch`); a run of another event (a pull request's) is skipped (exit 0, dispatched=false)"),
        InputSpec::new("wait", "Wait for the started run to finish and fail unless it succeeds").default("false"),
        InputSpec::new("wait-timeout", "How long to wait for the started run to finish, from the dispatch; a timeout fails the step").default("30m"),
        InputSpec::new("wait-interval", "How often to poll the run while waiting").default("10s"),
        InputSpec::new("dry-run", "Validate and print the payload, send nothing").default("false"),
    ],
    outputs: &[
        OutputSpec { name: "dispatched", description: "`true` when the dispatch was sent" },
        OutputSpec { name: "payload", description: "The payload (client_payload or workflow inputs) as JSON" },
        OutputSpec { name: "environment", description: "The environment the branch maps to (may be empty)" },
        OutputSpec { name: "dispatch-id", description: "UUID in the payload, for de-duplication and finding the run" },
        OutputSpec { name: "run-id", description: "Id of the started run (when known or waited for)" },
        OutputSpec { name: "run-url", description: "Link to the started run (when known or waited for)" },
        OutputSpec { name: "conclusion", description: "The started run's conclusion when waited for, `timeout` when the wait ran out" },
    ],
};

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let config = config::parse(&ctx)?;
    let payload_json = serde_json::to_string(&config.payload)?;
    ctx.outputs.set("payload", &payload_json)?;
    ctx.outputs.set("environment", &config.environment)?;
    ctx.outputs.set("dispatch-id", &config.dispatch_id)?;
    {
        let _group = ctx.console.group("Payload");
        ctx.console
            .untrusted(&serde_json::to_string_pretty(&config.payload)?);
    }
    if let Some(why) = &config.distrust {
        ctx.outputs.set("dispatched", "false")?;
        ctx.console.notice(
            "Deploy skipped",
            &format!(
                "the run {} that triggered this workflow is not deployed: {why}; nothing was dispatched",
                config.source.run_id
            ),
        );
        ctx.summary.append(&summary::render(
            &config,
            summary::Outcome::Untrusted(why),
            None,
        ))?;
        return Ok(());
    }
    if config.require_success
        && let Some(conclusion) = config
            .source
            .conclusion
            .as_ref()
            .filter(|c| !c.is_success())
            .map(relay_github::Conclusion::as_str)
    {
        ctx.outputs.set("dispatched", "false")?;
        let workflow = config.source.workflow.as_deref().unwrap_or("workflow");
        ctx.console.notice(
            "Deploy skipped",
            &format!(
                "the `{workflow}` run {} of {} concluded `{conclusion}`, so nothing was dispatched (require-success: true)",
                config.source.run_id, config.source.repository
            ),
        );
        ctx.summary.append(&summary::render(
            &config,
            summary::Outcome::Skipped(conclusion),
            None,
        ))?;
        return Ok(());
    }
    if config.dry_run {
        ctx.outputs.set("dispatched", "false")?;
        ctx.console.notice(
            "Dry run",
            &format!("would dispatch to {}; nothing was sent", config.repository),
        );
        ctx.summary
            .append(&summary::render(&config, summary::Outcome::DryRun, None))?;
        return Ok(());
    }
    if config.auth.is_missing() {
        return Err(relay_runtime::InputError::new(
            "github-token",
            "is empty",
            "pass `github-app-id` and `github-app-private-key` (a GitHub App installed on the target), or `github-token: ${{ secrets.DEPLOY_TOKEN }}`",
        )
        .into());
    }
    let access = relay_dispatch::access(&config.repository, &config.kind, config.wait);
    let gh = config.auth.client_for(&ctx, &access).await?;
    let sent_at = OffsetDateTime::now_utc();
    let started = relay_dispatch::send(
        &gh,
        &ctx.console,
        &config.repository,
        &config.kind,
        &config.payload,
        &config.dispatch_id,
    )
    .await?;
    ctx.outputs.set("dispatched", "true")?;
    let started = started.map(|r| summary::RunLink {
        id: r.id,
        html_url: r.html_url,
        conclusion: None,
    });
    if let Some(run) = &started {
        ctx.outputs.set("run-id", &run.id.to_string())?;
        ctx.outputs.set("run-url", &run.html_url)?;
    }
    if !config.wait {
        ctx.summary.append(&summary::render(
            &config,
            summary::Outcome::Sent,
            started.as_ref(),
        ))?;
        return Ok(());
    }
    let opts = WaitOptions {
        repository: &config.repository,
        kind: &config.kind,
        dispatch_id: &config.dispatch_id,
        sent_at,
        timeout: config.wait_timeout,
        interval: config.wait_interval,
    };
    let known = started.as_ref().map(|r| relay_github::RunDetails {
        id: r.id,
        html_url: r.html_url.clone(),
    });
    let result = relay_dispatch::wait(&gh, &ctx.console, &opts, known.as_ref()).await;
    match &result {
        Ok(run) => finished(&ctx, &config, run)?,
        Err(WaitError::Failed(run)) => finished(&ctx, &config, run)?,
        Err(WaitError::Timeout { run, .. }) => {
            ctx.outputs.set("conclusion", "timeout")?;
            let link = run.as_deref().map(summary::RunLink::of);
            if let Some(run) = &link {
                ctx.outputs.set("run-id", &run.id.to_string())?;
                ctx.outputs.set("run-url", &run.html_url)?;
            }
            ctx.summary.append(&summary::render(
                &config,
                summary::Outcome::TimedOut,
                link.as_ref(),
            ))?;
        }
        Err(WaitError::GitHub(_)) => {}
    }
    result?;
    Ok(())
}

fn finished(
    ctx: &Context,
    config: &config::Config,
    run: &relay_github::WorkflowRun,
) -> anyhow::Result<()> {
    let link = summary::RunLink::of(run);
    ctx.outputs.set("run-id", &link.id.to_string())?;
    ctx.outputs.set("run-url", &link.html_url)?;
    ctx.outputs.set(
        "conclusion",
        link.conclusion.as_ref().map_or("", |c| c.as_str()),
    )?;
    ctx.summary.append(&summary::render(
        config,
        summary::Outcome::Finished,
        Some(&link),
    ))?;
    Ok(())
}
