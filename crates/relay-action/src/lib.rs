//! `relay`, the root action: in the workflow a finished build's
//! `workflow_run` triggers, it relays the build run's artifacts into this
//! run under deployment names (digest-checked, one pass) and sends the
//! deploy repository a `repository_dispatch` whose payload says what to
//! deploy — the commit, its image tags, the environment for its branch, a
//! dispatch id, `artifacts_run_id` (this run, where the re-uploaded
//! artifacts now live) and a `"true"`/`"false"` availability flag per
//! artifact. The image references the build pushed come from its
//! `deploy-relay-images` artifact (`key=reference` lines, read before
//! anything is relayed) and go into the payload as they are. The payload's
//! key count (GitHub's limit is 10) is checked before anything is
//! downloaded, and again once the build's image keys are known.

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
mod images;
mod summary;

use anyhow::Context as _;
use relay_artifacts::{Destination, ListingWords, Transfer, TransferConfig};
use relay_github::{Access, Auth, Permission};
use relay_runtime::{ActionSpec, Context, DEFAULT_ENVIRONMENTS, InputSpec, OutputSpec};
use serde_json::json;
use summary::Dispatch;

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "relay",
    description: "Relay a finished build run's artifacts into this run under deployment names and dispatch the deploy, with image tags, the environment and per-artifact availability flags in the payload",
    context: "the workflow_run that triggered this workflow (its id, repository, head_sha, head_branch, conclusion, head repository), GITHUB_RUN_ID (this run: `artifacts_run_id`), ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN (re-upload), GITHUB_RETENTION_DAYS, GITHUB_API_URL. It needs a runner to re-upload; on the command line use dispatch-deploy and download-and-reupload-artifacts instead.",
    inputs: &[
        InputSpec::github_token("Token that reads the build run's artifacts: `actions: read` (the job's token, for a build run of the same repository)"),
        InputSpec::TOKEN_ALIAS,
        InputSpec::GITHUB_APP_ID,
        InputSpec::GITHUB_APP_PRIVATE_KEY,
        InputSpec::new("dispatch-token", "Token that may send `repository_dispatch` to `repository`: a PAT or GitHub App token with `contents: write` on it (default: `github-token`, which reaches only this repository)").secret(),
        InputSpec::new("deploy-repository", "The deploy repository that receives the dispatch, `owner/repo`").current_repository(),
        InputSpec::new("event-type", "repository_dispatch event type, 1 to 100 characters").default("deploy"),
        InputSpec::new("artifacts", "The build run's artifacts to relay, one per line: `name`, or `name=payload_key` to add a `\"true\"`/`\"false\"` availability flag under that key (default: every artifact, no flags)"),
        InputSpec::new("artifacts-object", "Put the availability flags in one object under this payload key instead of top-level keys (GitHub allows 10 top-level keys)"),
        InputSpec::new("reupload-name", "Name of each re-uploaded artifact: placeholders {name} {repository} {owner} {repo} {sha} {short_sha} {ref_name} {run_id} {run_number} {environment}").default("deploy-{name}-{short_sha}"),
        InputSpec::new("images-artifact", "The build's artifact of image references: lines of `key=reference` (e.g. `image=ghcr.io/o/api@sha256:<digest>`, from docker/build-push-action's `digest` output); each key becomes a payload field holding the reference as it is. Read, not relayed").default(images::DEFAULT_NAME),
        InputSpec::new("images", "Lines of `key=template` added to the payload, for builds that push a tag instead of handing over digests: the template must name the tag the build pushed, e.g. `image=ghcr.io/{repository}/api:{sha}`"),
        InputSpec::new("environments", "Lines of `branch-glob=environment`, first match wins; an unmatched branch gives an empty environment")
            .default(DEFAULT_ENVIRONMENTS),
        InputSpec::new("client-payload", "JSON object merged over the computed payload; its keys win"),
        InputSpec::new("run-id", "The build run whose artifacts to relay (default: the workflow_run that triggered this workflow)"),
        InputSpec::new("require-success", "Skip (exit 0, nothing relayed, dispatched=false) unless the build run concluded success").default("true"),
        InputSpec::new("allow-forks", "Relay and dispatch a build run whose head commit comes from a fork (or a deleted fork) too; by default it is skipped with a notice").default("false"),
        InputSpec::new("trigger-events", "The events a build run may have been started by for its commit to deploy, one per line or comma-separated (default `push`, `workflow_dispatch`); a run of another event (a pull request's, even of a branch of this repository) is skipped with a notice"),
        InputSpec::new("if-no-artifact-found", "`warn`, `error` or `ignore` when a listed artifact is not in the build run (its flag is then `\"false\"`)").default("warn"),
        InputSpec::new("verify-digest", "`error`, `warn` or `off` when an artifact's sha256 differs from the digest GitHub recorded").default("error"),
        InputSpec::new("retention-days", "Days the re-uploaded artifacts are kept, 1-90, capped by the repository's setting (default: the repository's setting)"),
        InputSpec::new("overwrite", "Replace re-uploads of the same name in this run (a re-run of the job)").default("true"),
    ],
    outputs: &[
        OutputSpec { name: "dispatched", description: "`true` when the dispatch was sent" },
        OutputSpec { name: "payload", description: "The client_payload sent, as JSON" },
        OutputSpec { name: "dispatch-id", description: "UUID in the payload, for de-duplication and finding the run" },
        OutputSpec { name: "environment", description: "The environment the branch maps to (may be empty)" },
        OutputSpec { name: "found", description: "`true` when at least one artifact was relayed" },
        OutputSpec { name: "artifacts", description: "JSON array of the relayed artifacts: `name`, `size`, `digest`, `reupload_name`, `reupload_id`" },
        OutputSpec { name: "artifacts-run-id", description: "This run's id, where the re-uploaded artifacts live (`artifacts_run_id` in the payload)" },
    ],
};

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let config = config::parse(&ctx)?;
    for note in &config.notes {
        ctx.console.warning(note);
    }
    ctx.outputs.set("dispatch-id", &config.dispatch_id)?;
    ctx.outputs.set("environment", &config.environment)?;
    ctx.outputs.set(
        "artifacts-run-id",
        config.payload["artifacts_run_id"]
            .as_str()
            .unwrap_or_default(),
    )?;
    let skip = config.distrust.clone().map(|why| {
        format!("it is not trusted: {why} (set `allow-forks: true` to relay forks' runs)")
    });
    let skip = skip.or_else(|| {
        config
            .refused_trigger
            .clone()
            .map(|why| format!("{why} (list its event in `trigger-events` to deploy such runs)"))
    });
    let skip = skip.or_else(|| {
        config
            .source
            .conclusion
            .as_ref()
            .filter(|c| config.require_success && !c.is_success())
            .map(|c| format!("it concluded `{c}` (require-success: true)"))
    });
    if let Some(why) = skip {
        ctx.outputs.set("dispatched", "false")?;
        ctx.outputs.set("found", "false")?;
        ctx.outputs.set("artifacts", "[]")?;
        ctx.console.notice(
            "Deploy skipped",
            &format!(
                "build run {} of {} was not relayed: {why}; nothing was downloaded or dispatched",
                config.run_id, config.source_repository
            ),
        );
        ctx.summary.append(&summary::skipped(&config, &why))?;
        return Ok(());
    }
    let gh = config
        .auth
        .client_for(
            &ctx,
            &Access::new(&config.source_repository, &[Permission::ACTIONS_READ]),
        )
        .await?;
    // The images artifact is read, not relayed, unless `artifacts` names it.
    let images_name = config.images_artifact.as_str();
    let relay_images = config.wanted.iter().any(|w| w.name == images_name);
    let selection = match config.selection() {
        relay_artifacts::Selection::Names(mut names) if !relay_images => {
            names.push(images_name.to_owned());
            relay_artifacts::Selection::Names(names)
        }
        other => other,
    };
    let mut listing =
        relay_artifacts::list(&gh, &config.source_repository, config.run_id, &selection).await?;
    let images_source = match listing.selected.iter().position(|a| a.name == images_name) {
        Some(i) if relay_images => Some(listing.selected[i].clone()),
        Some(i) => Some(listing.selected.remove(i)),
        None => None,
    };
    if !relay_images {
        listing.missing.retain(|n| n != images_name);
        listing.expired.retain(|a| a.name != images_name);
    }
    let mut payload = config.payload.clone();
    match &images_source {
        Some(source) => {
            let found = images::read(
                &gh,
                &config.source_repository,
                source,
                config.digest,
                config.retry,
                ctx.console.clone(),
            )
            .await?;
            for (key, reference) in found {
                if payload.contains_key(&key) {
                    anyhow::bail!(
                        "the build's artifact `{images_name}` names `{key}`, which the payload already has (from `images` or `client-payload`); nothing was relayed or dispatched\nhint: give each image one source: the artifact (digests) or `images` (tags)"
                    );
                }
                ctx.console.info(&format!("Image from the build: {key}={reference}"));
                payload.insert(key, reference.into());
            }
            let counted = config.with_flags(&payload, &[]);
            relay_dispatch::check_limits(&config.kind, &counted).map_err(|e| {
                anyhow::anyhow!(
                    "{}; nothing was relayed or dispatched\nhint: the build's artifact `{images_name}` added image keys; nest the flags with `artifacts-object`, or hand over fewer images",
                    relay_runtime::error_text(&e.into())
                )
            })?;
        }
        None if !config.image_templates => ctx.console.warning(&format!(
            "build run {} has no artifact `{images_name}` and `images` is empty, so the payload names no image to deploy; upload the references the build pushed as `{images_name}` (see README), or pass `images`",
            config.run_id
        )),
        None => {}
    }
    relay_artifacts::report_listing(
        &ctx.console,
        &listing,
        &config.selection(),
        config.if_none,
        &ListingWords {
            run: &format!("build run {}", config.run_id),
            missing_means: "; its flag is `\"false\"`",
            undone: "; nothing was dispatched",
            check: "`artifacts`",
        },
    )?;
    let moves = relay_artifacts::plan_moves(&listing, Some(&config.names))
        .context("input `reupload-name` does not fit the artifacts")?;
    let moved = Transfer::new(
        &gh,
        &config.source_repository,
        relay_artifacts::http_client()?,
        TransferConfig {
            upload: Some(config.upload.clone()),
            destination: Destination::Nothing,
            digest: config.digest,
            retry: config.retry,
        },
        ctx.console.clone(),
    )?
    .run(&moves)
    .await?;
    let relayed: Vec<String> = moved.iter().map(|m| m.name.clone()).collect();
    let list: Vec<serde_json::Value> = moved
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "size": m.size,
                "digest": m.digest,
                "reupload_name": m.reupload.as_ref().map(|r| &r.name),
                "reupload_id": m.reupload.as_ref().map(|r| r.id),
            })
        })
        .collect();
    ctx.outputs
        .set("found", if moved.is_empty() { "false" } else { "true" })?;
    ctx.outputs
        .set("artifacts", &serde_json::to_string(&list)?)?;
    let payload = config.with_flags(&payload, &relayed);
    ctx.outputs
        .set("payload", &serde_json::to_string(&payload)?)?;
    {
        let _group = ctx.console.group("Payload");
        ctx.console
            .untrusted(&serde_json::to_string_pretty(&payload)?);
    }
    let dispatch_auth = match &config.dispatch_token {
        Some(token) => Auth::token(Some(token.clone())),
        None => config.auth.clone(),
    };
    let dispatcher = dispatch_auth
        .client_for(
            &ctx,
            &relay_dispatch::access(&config.repository, &config.kind, false),
        )
        .await?;
    let sent = relay_dispatch::send(
        &dispatcher,
        &ctx.console,
        &config.repository,
        &config.kind,
        &payload,
        &config.dispatch_id,
    )
    .await
    .with_context(|| {
        format!(
            "the artifacts were relayed into this run, but the deploy was not dispatched to `{}`",
            config.repository
        )
    });
    if let Err(e) = sent {
        ctx.outputs.set("dispatched", "false")?;
        ctx.summary.append(&summary::render(
            &config,
            &moved,
            &payload,
            Dispatch::Failed,
        ))?;
        return Err(e);
    }
    ctx.outputs.set("dispatched", "true")?;
    ctx.summary
        .append(&summary::render(&config, &moved, &payload, Dispatch::Sent))?;
    Ok(())
}
