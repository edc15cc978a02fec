//! `verify-provenance`: before a deploy, checks that every image digest it
//! will run was built by CI — GitHub artifact attestations (Sigstore
//! bundles with SLSA provenance v1, as `actions/attest-build-provenance`
//! makes them) listed from the app repository and verified offline by
//! relay-provenance against the embedded trusted roots (or the
//! `trusted-root` files): the digest, the signer workflow, the ref built and
//! the commit deployed. Under `require` (the default for protected
//! environments) an image not verified stops the deploy, and only digest
//! references are accepted; under `warn` it is a warning; `off` checks
//! nothing and says so.

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

mod check;
mod config;
mod images;
mod report;

use relay_provenance::Mode;
use relay_runtime::{ActionSpec, Context, InputSpec, OutputSpec};

use check::{Row, Verdict};
use config::mode_name;

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "verify-provenance",
    description: "Verify each image digest's build provenance (GitHub artifact attestations, offline against embedded trusted roots) before the deploy",
    context: "the event (client_payload.repository/sha/environment under repository_dispatch, the workflow_run's repository/head_sha, the pull request's head sha), else GITHUB_REPOSITORY and GITHUB_SHA; GITHUB_SERVER_URL (the server the signer identities name); GITHUB_API_URL. On the command line pass --app-repository and --sha.",
    inputs: &[
        InputSpec::github_token("Token that reads `app-repository`'s attestations: `attestations: read` (and `metadata: read`, which every token has, for the default-branch lookup). Another repository needs a PAT or GitHub App token"),
        InputSpec::TOKEN_ALIAS,
        InputSpec::GITHUB_APP_ID,
        InputSpec::GITHUB_APP_PRIVATE_KEY,
        InputSpec::new("app-repository", "Repository that builds and attests the images, `owner/repo` (default: client_payload.repository under repository_dispatch, the workflow_run's repository, else GITHUB_REPOSITORY)"),
        InputSpec::new("sha", "Full commit sha being deployed; each attestation must name it (default: client_payload.sha, workflow_run.head_sha, pull_request.head.sha, else GITHUB_SHA)"),
        InputSpec::new("images", "Lines of `key=reference` (or the JSON object record-deployment outputs as `previous-images`); a reference is `name@sha256:<64 hex>`, or a tag `name:tag` where provenance is not required"),
        InputSpec::new("provenance", "`require` (an image not verified fails the step; tags are refused), `warn` (a warning, the step passes) or `off` (nothing checked). Default: `require` when `environment` is one of `protected-environments`, else `warn`"),
        InputSpec::new("environment", "The environment being deployed to (default: client_payload.environment under repository_dispatch)"),
        InputSpec::new("protected-environments", "Environments (comma- or newline-separated globs, not case-sensitive) where `provenance` defaults to `require`").default("production"),
        InputSpec::new("allowed-signer-workflows", "Lines of globs over the signer workflow `owner/repo/.github/workflows/<file>` (`…@<ref>` to match its ref too); `*` stops at `/` (default: any workflow of `app-repository`)"),
        InputSpec::new("allowed-refs", "Lines of globs over the ref that was built (`refs/tags/v*`; a glob without `refs/` names branches, `hotfix/*`); `*` stops at `/`. Default: the default branch, every tag, and the branches `environments` sends to `environment`"),
        InputSpec::new("environments", "`branch-glob=environment` lines, as in dispatch-deploy: the globs that send to `environment` are allowed refs by default").default("main=production\ndevelop=staging\nhotfix/*=production\nfeature/*=dev"),
        InputSpec::new("default-branch", "The app repository's default branch, an allowed ref by default (default: looked up through the API)"),
        InputSpec::new("trusted-root", "Lines of paths of Sigstore `trusted_root.json` files that replace the embedded roots (Sigstore public-good and GitHub's own)"),
    ],
    outputs: &[
        OutputSpec { name: "verified", description: "`true` when every image's provenance verified, else `false` (also under `warn` and `off`)" },
        OutputSpec { name: "mode", description: "The mode applied: `require`, `warn` or `off`" },
        OutputSpec { name: "report", description: "JSON object for the deployment record: `mode`, `verified`, and `images`, one object per image with `key`, `ref`, `digest`, `verdict` (verified, refused, missing, unavailable, tag, skipped), `signer_workflow`, `source_repository`, `source_ref`, `source_commit`, `log_index`, `signed_at`, `timestamped`, `root`, `reason`" },
    ],
};

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let config = config::parse(&ctx)?;
    ctx.console.info(&format!(
        "provenance: {} ({})",
        mode_name(config.mode),
        config.mode_why(|e| format!("`{e}`"))
    ));
    let rows: Vec<Row> = if config.mode == Mode::Off {
        ctx.console.info(
            "provenance: off — no attestation is read and nothing is verified; the deploy goes ahead unverified",
        );
        config
            .images
            .iter()
            .map(|i| Row::new(i, Verdict::Skipped, None))
            .collect()
    } else if config.images.is_empty() {
        ctx.console
            .warning("no images were given, so no provenance was verified");
        Vec::new()
    } else {
        check::verify_all(&ctx, &config).await?
    };

    for row in &rows {
        log_row(&ctx, row);
    }
    let verified = report::all_verified(&rows);
    ctx.outputs
        .set("verified", if verified { "true" } else { "false" })?;
    ctx.outputs.set("mode", mode_name(config.mode))?;
    ctx.outputs.set(
        "report",
        &serde_json::to_string(&report::report(config.mode, &rows))?,
    )?;
    ctx.summary.append(&report::summary(&config, &rows))?;

    let failed: Vec<&Row> = rows
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Verified | Verdict::Skipped))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    match config.mode {
        Mode::Require => {
            let mut text = format!(
                "the provenance of {} of {} image(s) of {} at {} was not verified, and `provenance: require` stops the deploy here:",
                failed.len(),
                rows.len(),
                config.repository,
                config.sha
            );
            for r in &failed {
                text.push_str(&format!(
                    "\n- `{}` ({}): {}",
                    r.image.key,
                    r.image.reference,
                    r.reason.as_deref().unwrap_or(r.verdict.as_str())
                ));
            }
            text.push_str(&format!("\nhint: {}", check::how_to_fix(&rows)));
            Err(anyhow::anyhow!(text))
        }
        Mode::Warn => {
            for r in &failed {
                ctx.console.warning(&format!(
                    "provenance of `{}` ({}) not verified ({}; `provenance: warn`, the deploy goes on): {}",
                    r.image.key,
                    r.image.reference,
                    r.verdict.as_str(),
                    r.reason.as_deref().unwrap_or_default()
                ));
            }
            Ok(())
        }
        Mode::Off => Ok(()),
    }
}

/// One line per image; what the bundle or GitHub said is escaped by the
/// console (line breaks, and a line that could read as a command is fenced).
fn log_row(ctx: &Context, row: &Row) {
    let head = format!("{} ({})", row.image.key, row.image.reference);
    match &row.verified {
        Some(v) => ctx.console.info(&format!(
            "{head}: provenance verified — {} signed by {} building {} at commit {}, {}",
            v.digest,
            v.signer_workflow,
            v.source_ref,
            v.source_commit,
            match v.log_index {
                Some(i) => format!("log index {i}"),
                None => format!("timestamped {}", v.signed_at),
            }
        )),
        None => ctx
            .console
            .info(&format!("{head}: {}", row.verdict.as_str())),
    }
}
