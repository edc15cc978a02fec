//! `fleet-deploy`: one deploy to a fleet of deploy-receivers, in one step.
//! The fleet file in the deploy repository lists, per environment, ordered
//! waves of targets (a receiver hook each, the name of the secret that
//! signs for it, its health URLs) and each wave's gate. For each wave in
//! order the step records it, signs and calls its targets (at most
//! `max-parallel` at once, async receivers followed, a busy receiver waited
//! for), runs the health window across the wave, and only then goes on. A
//! failed target or gate stops the rollout: what the rollout left on the
//! release is rolled back to each target's own previous good release, the
//! waves after it are never called, and one issue says what failed and
//! what was rolled back. A wave that waits for an approval ends the step
//! with `state: paused`; the workflow's next job, in the approving
//! environment, continues with `from-wave`.

#![warn(unreachable_pub, clippy::pedantic)]
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
mod file;
mod gate;
mod report;
mod rollout;
mod target;

use relay_deployments::History;
use relay_github::{Access, Permission};
use relay_runtime::{ActionSpec, Context, InputSpec, OutputSpec};

use rollout::{End, Rollout};

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "fleet-deploy",
    description: "Deploy one release to a fleet of deploy-receivers in waves, canary first, with a health gate between waves and a rollback of exactly what changed",
    context: "GITHUB_WORKSPACE (the fleet file), the event (the repository_dispatch payload's repository and sha, else GITHUB_REPOSITORY and GITHUB_SHA), GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT (the rollout's records and delivery ids), GITHUB_SERVER_URL, GITHUB_API_URL. On the command line pass --app-repository and --sha.",
    inputs: &[
        InputSpec::new("environment", "The environment of the fleet file to deploy to; its records are this environment's").required(),
        InputSpec::new("secrets", "The secrets as a JSON object of names and values: `${{ toJSON(secrets) }}`. Each target's `secret` names one; every value is masked at once, and a target whose secret is missing stops the step before any call").required().secret(),
        InputSpec::new("fleet-file", "The fleet file, relative to the workspace (the deploy repository's checkout)").default(file::DEFAULT_FILE),
        InputSpec::new("app-repository", "The app repository deployed, `owner/repo` (default: the repository_dispatch payload's `repository`, the workflow_run's repository, else GITHUB_REPOSITORY)"),
        InputSpec::new("sha", "The app commit deployed, all 40 characters (default: the repository_dispatch payload's `sha`, the workflow_run's head_sha, else GITHUB_SHA)"),
        InputSpec::new("images", "Lines of `key=reference` (`image=ghcr.io/o/api@sha256:<digest>`, or a tag the build pushed; a name alone is refused): each is sent to every target as a payload field of its own, and recorded"),
        InputSpec::new("dispatch-id", "The dispatch that asked for the deploy, sent and recorded"),
        InputSpec::new("provenance-report", "verify-provenance's `report` output on the images (JSON), kept in every wave's record as `provenance`, as deploy.yml's records keep it. This step verifies no provenance itself"),
        InputSpec::new("from-wave", "The wave to start at, by name or place (1 is the first): the `next-wave` output of the step that paused before an approval"),
        InputSpec::new("repository", "The deploy repository that holds the records and the issue, `owner/repo`").current_repository(),
        InputSpec::new("ref", "The deploy repository's commit the records are made at").current_sha(),
        InputSpec::new("ca-cert", "PEM of the CA that signed the receivers' certificates (a private CA), or a path to it"),
        InputSpec::new("create-issue", "When the rollout fails, open one issue (once per run) saying which targets failed and which were rolled back; needs `issues: write`").default("true"),
        InputSpec::new("issue-labels", "Comma-separated labels of that issue; the first ones also find it open on a re-run").default("deploy-fleet"),
        InputSpec::github_token("Token for `repository`: `deployments: write`, and `issues: write` for the issue"),
        InputSpec::TOKEN_ALIAS,
        InputSpec::GITHUB_APP_ID,
        InputSpec::GITHUB_APP_PRIVATE_KEY,
    ],
    outputs: &[
        OutputSpec { name: "state", description: "`success` (every wave from `from-wave` on passed), `paused` (a wave waits for an approval: see `next-wave`) or `failure` (stopped and rolled back)" },
        OutputSpec { name: "next-wave", description: "When paused: the wave that waits, by name (pass it as `from-wave` to the job that continues)" },
        OutputSpec { name: "approval-environment", description: "When paused: the environment whose reviewers approve `next-wave` (the continuing job's `environment`)" },
        OutputSpec { name: "failed", description: "The targets whose call or health gate failed, comma-separated" },
        OutputSpec { name: "rolled-back", description: "The targets put back on their previous good release, comma-separated" },
        OutputSpec { name: "report", description: "JSON array, one object per target: name, wave, call (deployed, already-on-release, not-called, failed, unknown, nothing-changed, rolled-back-by-receiver), status, said, gate (passed, failed, not-run), gate_reason, rollback (none, done, failed, no-previous-release), rolled_back_to, rollback_said" },
        OutputSpec { name: "deployment-ids", description: "The records this step wrote (waves and rollbacks), comma-separated" },
        OutputSpec { name: "issue-url", description: "The issue of the failed rollout" },
    ],
};

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let config = config::parse(&ctx)?;
    let mut needs = vec![Permission::DEPLOYMENTS_WRITE];
    if config.create_issue {
        needs.push(Permission::ISSUES_WRITE);
    }
    let gh = config
        .auth
        .client_for(&ctx, &Access::new(&config.repository, &needs))
        .await?;
    ctx.console.info(&format!(
        "Fleet deploy of {} ({}) to `{}`: {} wave(s), {} target(s), from wave `{}`",
        rollout::short(&config.release.sha),
        config.app,
        config.fleet.environment,
        config.fleet.waves.len(),
        config.fleet.targets().count(),
        config.fleet.waves[config.from_wave].name
    ));
    let names: Vec<&str> = config
        .fleet
        .targets()
        .map(|(_, t)| t.name.as_str())
        .collect();
    let history = History::read(
        &gh,
        &config.repository,
        &config.fleet.environment,
        &config.app,
        &names,
        &config.release.sha,
        &config.run_id,
    )
    .await?;
    let mut rollout = Rollout::new(&ctx, &config, gh, history)?;
    rollout.check_resume()?;
    let end = rollout.run().await?;
    let o = &rollout.outcomes;
    ctx.outputs.set(
        "state",
        match &end {
            End::Done => "success",
            End::Paused { .. } => "paused",
            End::Failed { .. } => "failure",
        },
    )?;
    if let End::Paused { next, approval } = &end {
        ctx.outputs
            .set("next-wave", &config.fleet.waves[*next].name)?;
        ctx.outputs.set("approval-environment", approval)?;
    }
    ctx.outputs.set("failed", &report::failed(o).join(","))?;
    ctx.outputs
        .set("rolled-back", &report::rolled_back(o).join(","))?;
    ctx.outputs
        .set("report", &report::json(&config, o).to_string())?;
    ctx.outputs.set(
        "deployment-ids",
        &rollout
            .records
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(","),
    )?;
    ctx.summary
        .append(&report::markdown(&config, &rollout, &end))?;
    match end {
        End::Done => {
            ctx.console.info("Every wave passed");
            Ok(())
        }
        End::Paused { next, approval } => {
            ctx.console.notice(
                "Fleet deploy paused",
                &format!(
                    "wave `{}` waits for the reviewers of `{approval}`; the job that continues passes `from-wave: {}`",
                    config.fleet.waves[next].name, config.fleet.waves[next].name
                ),
            );
            Ok(())
        }
        End::Failed { why, .. } => {
            let mut message = format!("The fleet deploy stopped: {why}");
            let back = report::rolled_back(o);
            message.push_str(&if back.is_empty() {
                "; nothing was rolled back".to_owned()
            } else {
                format!("; rolled back: {}", back.join(", "))
            });
            if config.create_issue {
                match report::issue(&ctx, &config, &rollout, &why).await {
                    Ok(url) => ctx.outputs.set("issue-url", &url)?,
                    Err(e) => message.push_str(&format!(
                        "; no issue was opened: {}",
                        relay_runtime::error_text(&e)
                    )),
                }
            }
            anyhow::bail!(message)
        }
    }
}
