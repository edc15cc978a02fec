//! `verify-ci-status`: decides whether a commit's CI has passed — its check
//! runs (newest per name), commit statuses (newest per context) and named
//! workflows — for a sha in any repository the token can read, polling with
//! conditional requests until the answer is known. It fails on the first
//! failed check without waiting for the rest and never passes on a timeout.
//! Jobs of its own workflow run count once they have finished; unfinished
//! ones (its own job among them) are waited for only when `checks` names
//! them.

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
mod decide;
mod fallback;
mod gather;
mod summary;

use relay_runtime::{ActionSpec, Context, InputSpec, OutputSpec};

use decide::Verdict;

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "verify-ci-status",
    description: "Decide whether a commit's CI passed (check runs, commit statuses, named workflows), waiting until it is decided",
    context: "the event (client_payload.repository/sha under repository_dispatch, the workflow_run's repository/head_sha, the pull request's head sha), else GITHUB_REPOSITORY and GITHUB_SHA; GITHUB_RUN_ID to recognise this run's own jobs; GITHUB_API_URL. On the command line pass --repository and --sha.",
    inputs: &[
        InputSpec::github_token("Token that can read `repository`: `checks: read`, `statuses: read`, and `actions: read` for `workflows`. Another repository needs a PAT or GitHub App token"),
        InputSpec::TOKEN_ALIAS,
        InputSpec::GITHUB_APP_ID,
        InputSpec::GITHUB_APP_PRIVATE_KEY,
        InputSpec::new("repository", "Repository of the commit, `owner/repo` (default: client_payload.repository under repository_dispatch, the workflow_run's repository, else GITHUB_REPOSITORY)"),
        InputSpec::new("sha", "Commit to verify (default: client_payload.sha, workflow_run.head_sha, pull_request.head.sha, else GITHUB_SHA)"),
        InputSpec::new("checks", "Lines of globs naming checks that must exist and pass (default: every check that exists). A job of this workflow run counts once finished; a running one is waited for only when named here (never name the job running this step)"),
        InputSpec::new("ignore", "Lines of globs naming checks and commit statuses to leave out"),
        InputSpec::new("workflows", "Lines of workflow names whose run for the sha must have concluded `success`"),
        InputSpec::new("allowed-conclusions", "Comma-separated check conclusions that count as passing").default("success,neutral,skipped"),
        InputSpec::new("include-statuses", "Also verify commit statuses (the older API used by external CI)").default("true"),
        InputSpec::new("wait", "Poll while checks are pending; false decides from one look").default("true"),
        InputSpec::new("timeout", "How long the whole verification may take, from the step's start, before it fails as `timeout` (it never passes on a timeout)").default("30m"),
        InputSpec::new("discovery-timeout", "How long required checks (and, with none required, any check) may take to appear").default("2m"),
        InputSpec::new("interval", "Time between polls; it grows by half up to four times this while nothing changes").default("15s"),
        InputSpec::new("require-check-runs", "Fail when the token cannot read check runs, instead of deciding from commit statuses and the Actions jobs for the sha (what a fine-grained PAT can read) with a warning").default("false"),
        InputSpec::new("allow-empty", "Pass when the commit has no checks at all (only when `checks` is empty)").default("false"),
    ],
    outputs: &[
        OutputSpec { name: "state", description: "`success`, `failure` or `timeout`" },
        OutputSpec { name: "checks", description: "JSON array of the checks seen: `name`, `kind` (check_run, status (a commit status), workflow), `status` (its run status), `conclusion`, `url`" },
        OutputSpec { name: "failed", description: "Comma-separated names of the checks that failed or were missing" },
    ],
};

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let config = config::parse(&ctx)?;
    let outcome = gather::poll(&ctx, &config).await?;
    let (state, failed) = match &outcome.verdict {
        Verdict::Success => ("success", Vec::new()),
        Verdict::Failure { failed, .. } => ("failure", failed.clone()),
        Verdict::Timeout { pending } => ("timeout", pending.clone()),
        Verdict::Pending { .. } => ("timeout", Vec::new()),
    };
    ctx.outputs.set("state", state)?;
    ctx.outputs
        .set("checks", &serde_json::to_string(&outcome.checks)?)?;
    ctx.outputs.set("failed", &failed.join(","))?;
    ctx.summary
        .append(&summary::render(&config, &outcome, state))?;
    ctx.console.info(&format!(
        "{} requests to GitHub, {} of them answered 304 Not Modified (no rate limit spent), {} retried",
        outcome.stats.requests, outcome.stats.not_modified, outcome.stats.retries
    ));
    match outcome.verdict {
        Verdict::Success => Ok(()),
        Verdict::Failure { reason, .. } if outcome.fell_back => {
            Err(anyhow::anyhow!("{reason}\nnote: {}", fallback::HIDDEN))
        }
        Verdict::Failure { reason, .. } => Err(anyhow::anyhow!("{reason}")),
        Verdict::Timeout { pending } | Verdict::Pending { pending } => {
            // A `checks` glob that names a job of this run may name the job
            // running this step, which cannot finish while the step waits.
            let own: Vec<&str> = outcome
                .checks
                .iter()
                .filter(|c| c.own_run && !c.completed() && pending.contains(&c.name))
                .map(|c| c.name.as_str())
                .collect();
            let hint = if own.is_empty() {
                "raise `timeout`, or check why these checks never finish".to_owned()
            } else {
                format!(
                    "`{}` {} a job of this workflow run named by `checks`; if one is the job running this step it cannot finish while the step waits for it: take it out of `checks`",
                    own.join("`, `"),
                    if own.len() == 1 { "is" } else { "are" }
                )
            };
            Err(anyhow::anyhow!(
                "CI of {}@{} was not decided within timeout ({}); still pending: {}\nhint: {hint}",
                config.repository,
                config.sha,
                relay_runtime::duration::format(config.timeout),
                pending.join(", ")
            ))
        }
    }
}
