//! `download-and-reupload-artifacts`: takes the artifacts of another
//! workflow run (by default the one whose completion triggered this
//! `workflow_run` workflow), verifies each against its recorded digest,
//! extracts it safely and re-uploads it into this run under a deployment
//! name — one pass over each zip, several at a time, memory bounded.

mod config;
mod summary;
mod transfer;

use std::collections::BTreeMap;

use anyhow::Context as _;
use relay_artifacts::{ResultsClient, RetryPolicy, RunArtifacts, rest};
use relay_github::GitHub;
use relay_runtime::{ActionSpec, Context, InputSpec, OutputSpec};
use serde_json::json;

use config::{Config, NoneFound};
use summary::human_size;
use transfer::Planned;

pub static SPEC: ActionSpec = ActionSpec {
    name: "download-and-reupload-artifacts",
    description: "Download another workflow run's artifacts and re-upload them into this run under deployment names (Actions artifacts v4)",
    context: "the source run (the workflow_run's id and repository, or client_payload.workflow_run_id/repository under repository_dispatch), ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN (re-upload), GITHUB_RETENTION_DAYS, GITHUB_WORKSPACE, GITHUB_API_URL. On the command line pass --run-id and --repository; re-uploading needs a runner (use --reupload false).",
    inputs: &[
        InputSpec::github_token("Token that can read the source run's artifacts: `actions: read` on `repository` (another repository needs a PAT or GitHub App token)"),
        InputSpec::TOKEN_ALIAS,
        InputSpec::new("run-id", "Workflow run whose artifacts to take (default: the `workflow_run` that triggered this workflow, or `client_payload.workflow_run_id` under `repository_dispatch`)"),
        InputSpec::new("repository", "Repository of that run, `owner/repo` (default: the event's `workflow_run.repository`, or `client_payload.repository` under `repository_dispatch`, else GITHUB_REPOSITORY)"),
        InputSpec::new("name", "Exact artifact names, one per line (default: every artifact of the run)"),
        InputSpec::new("pattern", "Glob on artifact names, e.g. `frontend-*` (ignored when `name` is set)"),
        InputSpec::new("path", "Where artifacts are written: each in `path/<name>/`, or all in `path` with `merge-multiple`").default("artifacts"),
        InputSpec::new("merge-multiple", "Extract every artifact into `path` itself; a file two artifacts share is an error").default("false"),
        InputSpec::new("extract", "Unpack each artifact; false keeps no files (or, with `reupload: false`, saves `path/<name>.zip`)").default("true"),
        InputSpec::new("reupload", "Re-upload each artifact into this run").default("true"),
        InputSpec::new("reupload-name", "Name of each re-uploaded artifact: dispatch-deploy's placeholders plus `{name}`").default("deploy-{name}-{short_sha}"),
        InputSpec::new("retention-days", "Days the re-uploaded artifacts are kept, 1-90, capped by the repository's setting (default: the repository's setting)"),
        InputSpec::new("compression-level", "0-9; accepted for parity with upload-artifact, but artifacts are relayed as the zips they are and never re-compressed"),
        InputSpec::new("overwrite", "Replace an artifact of this run that already has a re-upload name; false makes that an error").default("false"),
        InputSpec::new("if-no-artifact-found", "`warn`, `error` or `ignore` when nothing matches (or a `name` is missing)").default("warn"),
        InputSpec::new("verify-digest", "`error`, `warn` or `off` when an artifact's sha256 differs from the digest GitHub recorded").default("error"),
        InputSpec::new("environments", "`branch-glob=environment` lines for the `{environment}` placeholder, as in dispatch-deploy (default: main=production, develop=staging, hotfix/*=production, feature/*=dev)"),
        InputSpec::new("extract-max-size", "Largest total size extraction may write (zip-bomb guard), e.g. `20GiB`").default("20GiB"),
        InputSpec::new("extract-max-files", "Most entries extraction may write (zip-bomb guard)").default("1000000"),
    ],
    outputs: &[
        OutputSpec { name: "found", description: "`true` when at least one artifact was relayed (seed 000's `frontend_artifacts_available`)" },
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
    let gh = GitHub::from_context(&ctx, config.token.clone())?;
    // One client and one retry policy for the results service and blob
    // storage alike; the GitHub token never goes through this client.
    let http = relay_http::client_builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .context("couldn't start the HTTP client")?;
    let retry = RetryPolicy::scaled(ctx.env.backoff_scale());
    let results = match &config.upload {
        Some(up) => Some(ResultsClient::new(
            http.clone(),
            &up.results_url,
            up.token.clone(),
            retry,
        )?),
        None => None,
    };

    let server_filter = match config.names.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    };
    let listed =
        rest::list_run_artifacts(&gh, &config.repository, config.run_id, server_filter).await?;
    let (selected, expired, missing) = select(&config, listed);
    for name in &expired {
        ctx.console.warning(&format!(
            "artifact `{name}` of run {} has expired and was skipped",
            config.run_id
        ));
    }
    let download_path = config.path.display().to_string();
    if selected.is_empty() || !missing.is_empty() {
        let what = if selected.is_empty() {
            format!(
                "no artifact of run {} in `{}` matched{}",
                config.run_id,
                config.repository,
                selection_text(&config)
            )
        } else {
            format!(
                "run {} in `{}` has no live artifact named {}",
                config.run_id,
                config.repository,
                quoted(&missing)
            )
        };
        match config.if_none {
            NoneFound::Error => {
                return Err(anyhow::anyhow!(
                    "{what}\nhint: check the names against the run's artifacts, or set `if-no-artifact-found: warn`"
                ));
            }
            NoneFound::Warn => ctx.console.warning(&what),
            NoneFound::Ignore => ctx.console.info(&what),
        }
    }
    let plan = plan(&config, selected)?;
    if let Some(results) = &results {
        make_room(&ctx, &config, results, &plan).await?;
    }

    let shared = transfer::Shared::new(
        &config,
        &gh,
        results.as_ref(),
        http,
        ctx.console.clone(),
        retry,
    )?;
    let moved = match transfer::move_all(&shared, &plan).await {
        Ok(moved) => moved,
        Err(e) => {
            if let Some(results) = &results {
                undo(&ctx, results, &plan).await;
            }
            return Err(e);
        }
    };

    let list: Vec<serde_json::Value> = moved
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "id": m.id,
                "size": m.size,
                "digest": m.digest,
                "path": m.path.as_ref().map(|p| p.display().to_string()),
                "reupload_name": m.reupload_name,
                "reupload_id": m.reupload_id,
            })
        })
        .collect();
    ctx.outputs
        .set("found", if moved.is_empty() { "false" } else { "true" })?;
    ctx.outputs.set("count", &moved.len().to_string())?;
    ctx.outputs.set("download-path", &download_path)?;
    ctx.outputs
        .set("artifacts", &serde_json::to_string(&list)?)?;
    ctx.summary
        .append(&summary::render(&config, &moved, &expired))?;
    for m in &moved {
        let to = match &m.reupload_name {
            Some(n) => format!(" -> `{n}`"),
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

/// The artifacts to move, the expired ones among those asked for, and the
/// `name`s that match no live artifact.
fn select(
    config: &Config,
    listed: RunArtifacts,
) -> (Vec<relay_artifacts::RestArtifact>, Vec<String>, Vec<String>) {
    let wanted = |name: &str| {
        if !config.names.is_empty() {
            config.names.iter().any(|n| n == name)
        } else {
            config
                .pattern
                .as_ref()
                .is_none_or(|(_, glob)| glob.is_match(name))
        }
    };
    let selected: Vec<_> = listed
        .artifacts
        .into_iter()
        .filter(|a| wanted(&a.name))
        .collect();
    let expired: Vec<String> = listed.expired.into_iter().filter(|n| wanted(n)).collect();
    let missing = config
        .names
        .iter()
        .filter(|n| !selected.iter().any(|a| &a.name == *n) && !expired.contains(n))
        .cloned()
        .collect();
    (selected, expired, missing)
}

fn selection_text(config: &Config) -> String {
    if !config.names.is_empty() {
        format!(" the names {}", quoted(&config.names))
    } else if let Some((p, _)) = &config.pattern {
        format!(" the pattern `{p}`")
    } else {
        String::new()
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each artifact's new name, checked before anything moves: rendered from
/// the template, accepted by GitHub, and not shared by two artifacts.
fn plan(
    config: &Config,
    selected: Vec<relay_artifacts::RestArtifact>,
) -> anyhow::Result<Vec<Planned>> {
    let mut by_new: BTreeMap<String, String> = BTreeMap::new();
    let mut plan = Vec::with_capacity(selected.len());
    for source in selected {
        let new_name = match &config.upload {
            Some(up) => {
                let name = config
                    .placeholders
                    .clone()
                    .with("name", &source.name)
                    .render(&up.template)
                    .map_err(|why| anyhow::anyhow!("input `reupload-name` {why}"))?;
                relay_artifacts::validate_artifact_name(&name).with_context(|| {
                    format!(
                        "input `reupload-name` makes a bad name for artifact `{}`",
                        source.name
                    )
                })?;
                if let Some(other) = by_new.insert(name.clone(), source.name.clone()) {
                    anyhow::bail!(
                        "input `reupload-name` gives artifacts `{other}` and `{}` the same name `{name}`\nhint: put `{{name}}` in the template",
                        source.name
                    );
                }
                Some(name)
            }
            None => None,
        };
        plan.push(Planned { source, new_name });
    }
    Ok(plan)
}

/// Before anything is downloaded: a re-upload name this run already has is
/// an error naming it, or (with `overwrite`) the old artifact is deleted.
async fn make_room(
    ctx: &Context,
    config: &Config,
    results: &ResultsClient,
    plan: &[Planned],
) -> anyhow::Result<()> {
    let existing = results.list_artifacts(None).await?;
    let taken: Vec<String> = plan
        .iter()
        .filter_map(|p| p.new_name.clone())
        .filter(|n| existing.iter().any(|e| &e.name == n))
        .collect();
    if taken.is_empty() {
        return Ok(());
    }
    if !config.upload.as_ref().is_some_and(|u| u.overwrite) {
        anyhow::bail!(
            "this run already has an artifact named {}\nhint: pick another `reupload-name`, or set `overwrite: true` to replace it",
            quoted(&taken)
        );
    }
    for name in &taken {
        results.delete_artifact(name).await?;
        ctx.console.info(&format!(
            "deleted this run's artifact `{name}` to replace it"
        ));
    }
    Ok(())
}

/// After a failure: deletes whatever this step finalized, so no partial set
/// of deployment artifacts is left for a later step to pick up.
async fn undo(ctx: &Context, results: &ResultsClient, plan: &[Planned]) {
    let Ok(existing) = results.list_artifacts(None).await else {
        ctx.console
            .warning("couldn't list this run's artifacts to remove the ones this step re-uploaded");
        return;
    };
    for p in plan {
        let Some(name) = &p.new_name else { continue };
        if existing.iter().any(|e| &e.name == name) {
            match results.delete_artifact(name).await {
                Ok(_) => ctx.console.info(&format!(
                    "deleted re-uploaded artifact `{name}` because the step failed"
                )),
                Err(e) => ctx.console.warning(&format!(
                    "couldn't delete re-uploaded artifact `{name}` after the failure: {e}"
                )),
            }
        }
    }
}
