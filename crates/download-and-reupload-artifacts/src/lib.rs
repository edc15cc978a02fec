//! `download-and-reupload-artifacts`: takes the artifacts of another
//! workflow run (by default the one whose completion triggered this
//! `workflow_run` workflow), verifies each against its recorded digest,
//! extracts it safely and re-uploads it into this run under a deployment
//! name — one pass over each zip, several at a time, memory bounded.

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

use anyhow::Context as _;
use relay_artifacts::{ListingWords, RetryPolicy, Transfer, TransferConfig, Transferred};
use relay_github::{Access, Permission};
use relay_runtime::{ActionSpec, Context, DEFAULT_ENVIRONMENTS, InputSpec, OutputSpec};
use serde_json::json;

use config::Config;
use summary::human_size;

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "download-and-reupload-artifacts",
    description: "Download another workflow run's artifacts and re-upload them into this run under deployment names (Actions artifacts v4)",
    context: "the source run (the workflow_run's id and repository, or client_payload.workflow_run_id/repository under repository_dispatch), ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN (re-upload), GITHUB_RETENTION_DAYS, GITHUB_WORKSPACE, GITHUB_API_URL. On the command line pass --run-id and --repository; re-uploading needs a runner (use --reupload false).",
    inputs: &[
        InputSpec::github_token("Token that can read the source run's artifacts: `actions: read` on `repository` (another repository needs a PAT or GitHub App token)"),
        InputSpec::GITHUB_APP_ID,
        InputSpec::GITHUB_APP_PRIVATE_KEY,
        InputSpec::TOKEN_ALIAS,
        InputSpec::new("run-id", "Workflow run whose artifacts to take (default: the `workflow_run` that triggered this workflow, or `client_payload.workflow_run_id` under `repository_dispatch`)"),
        InputSpec::new("repository", "Repository of that run, `owner/repo` (default: the event's `workflow_run.repository`, or `client_payload.repository` under `repository_dispatch`, else GITHUB_REPOSITORY)"),
        InputSpec::new("name", "Exact artifact names, one per line (default: every artifact of the run); a single name extracts into `path` itself"),
        InputSpec::new("artifact-ids", "Artifact ids, comma-separated, instead of `name` (as in download-artifact)"),
        InputSpec::new("pattern", "Glob on artifact names, e.g. `frontend-*` (ignored when `name` or `artifact-ids` is set)"),
        InputSpec::new("path", "Where artifacts are written: each in `path/<name>/`; in `path` itself for a single `name` or with `merge-multiple`").default("artifacts"),
        InputSpec::new("merge-multiple", "Extract every artifact into `path` itself; a file two artifacts share is an error").default("false"),
        InputSpec::new("extract", "Unpack each artifact; false keeps no files (or, with `reupload: false`, saves `path/<name>.zip`)").default("true"),
        InputSpec::new("reupload", "Re-upload each artifact into this run").default("true"),
        InputSpec::new("reupload-name", "Name of each re-uploaded artifact: dispatch-deploy's placeholders plus `{name}`").default("deploy-{name}-{short_sha}"),
        InputSpec::new("retention-days", "Days the re-uploaded artifacts are kept, 1-90, capped by the repository's setting (default: the repository's setting)"),
        InputSpec::new("compression-level", "0-9; accepted for parity with upload-artifact, but artifacts are relayed as the zips they are and never re-compressed"),
        InputSpec::new("overwrite", "Replace an artifact of this run that already has a re-upload name; false makes that an error").default("false"),
        InputSpec::new("if-no-artifact-found", "`warn`, `error` or `ignore` when nothing matches (or a `name` is missing)").default("warn"),
        InputSpec::new("verify-digest", "`error`, `warn` or `off` when an artifact's sha256 differs from the digest GitHub recorded").default("error"),
        InputSpec::new("environments", "`branch-glob=environment` lines for the `{environment}` placeholder, as in dispatch-deploy").default(DEFAULT_ENVIRONMENTS),
        InputSpec::new("extract-max-size", "Largest total size extraction may write (zip-bomb guard), e.g. `6GiB`; the zips waiting to be extracted get as much again").default("6GiB"),
        InputSpec::new("extract-max-files", "Most entries extraction may write (zip-bomb guard)").default("1000000"),
        InputSpec::new("allow-forks", "Relay the artifacts of a `workflow_run` whose head commit comes from a fork (or a deleted fork); false skips it with a notice").default("false"),
        InputSpec::new("trigger-events", "Under workflow_run, the events the finished run may have been started by for its artifacts to be relayed, one per line or comma-separated (default `push`, `workflow_dispatch`); another event's run (a pull request's) is skipped with a notice"),
    ],
    outputs: &[
        OutputSpec { name: "found", description: "`true` when at least one artifact was relayed; `false` when none matched or the run was skipped as untrusted" },
        OutputSpec { name: "count", description: "How many artifacts were relayed" },
        OutputSpec { name: "download-path", description: "Absolute path the artifacts were written under" },
        OutputSpec { name: "artifacts", description: "JSON array: `name`, `id`, `size`, `digest`, `path`, `reupload_name`, `reupload_id`" },
    ],
};

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let config = config::parse(&ctx)?;
    for note in &config.notes {
        ctx.console.warning(note);
    }
    if let Some(why) = &config.distrust {
        ctx.console.notice(
            "Skipped",
            &format!(
                "run {} of `{}` is not relayed: {why}. Nothing was downloaded or re-uploaded",
                config.run_id, config.repository
            ),
        );
        return finish(&ctx, &config, &[], &[], Some(why));
    }
    let gh = config
        .auth
        .client_for(
            &ctx,
            &Access::new(&config.repository, &[Permission::ACTIONS_READ]),
        )
        .await?;
    let listing =
        relay_artifacts::list(&gh, &config.repository, config.run_id, &config.selection).await?;
    relay_artifacts::report_listing(
        &ctx.console,
        &listing,
        &config.selection,
        config.if_none,
        &ListingWords {
            run: &format!("run {} in `{}`", config.run_id, config.repository),
            missing_means: "",
            undone: "",
            check: "the selection",
        },
    )?;
    let moves = relay_artifacts::plan_moves(&listing, config.names.as_ref())
        .context("input `reupload-name` does not fit the artifacts")?;
    if matches!(config.destination, relay_artifacts::Destination::Nothing) {
        // `download-path` names a directory even when nothing lands in it.
        std::fs::create_dir_all(&config.path)
            .with_context(|| format!("couldn't create `{}`", config.path.display()))?;
    }
    let relay = Transfer::new(
        &gh,
        &config.repository,
        relay_artifacts::http_client()?,
        TransferConfig {
            upload: config.upload.clone(),
            destination: config.destination.clone(),
            digest: config.digest,
            retry: RetryPolicy::scaled(ctx.env.backoff_scale()),
        },
        ctx.console.clone(),
    )?;
    let moved = relay.run(&moves).await?;
    let expired: Vec<String> = listing.expired.iter().map(|a| a.name.clone()).collect();
    finish(&ctx, &config, &moved, &expired, None)?;
    for m in &moved {
        let to = match &m.reupload {
            Some(r) => format!(" -> `{}`", r.name),
            None => String::new(),
        };
        ctx.console.info(&format!(
            "artifact `{}` ({}, {}){to}",
            m.name,
            human_size(m.size),
            m.digest
        ));
    }
    Ok(())
}

/// The outputs and the summary.
fn finish(
    ctx: &Context,
    config: &Config,
    moved: &[Transferred],
    expired: &[String],
    skipped: Option<&str>,
) -> anyhow::Result<()> {
    let list: Vec<serde_json::Value> = moved
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "id": m.id,
                "size": m.size,
                "digest": m.digest,
                "path": m.path.as_ref().map(|p| p.display().to_string()),
                "reupload_name": m.reupload.as_ref().map(|r| &r.name),
                "reupload_id": m.reupload.as_ref().map(|r| r.id),
            })
        })
        .collect();
    ctx.outputs
        .set("found", if moved.is_empty() { "false" } else { "true" })?;
    ctx.outputs.set("count", &moved.len().to_string())?;
    ctx.outputs
        .set("download-path", &config.path.display().to_string())?;
    ctx.outputs
        .set("artifacts", &serde_json::to_string(&list)?)?;
    ctx.summary
        .append(&summary::render(config, moved, expired, skipped))?;
    Ok(())
}
