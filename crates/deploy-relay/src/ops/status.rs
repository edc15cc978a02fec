//! `deploy-relay status`: the recorded deploys of a repository per
//! environment — sha, images, state, when, the build provenance verified
//! before it, a fleet's wave — and each environment's previous good sha
//! (what a rollback of what runs now would deploy).

use std::collections::BTreeMap;

use relay_deployments::{Fleet, FleetKind, Record};
use relay_github::GitHub;
use relay_runtime::{ActionSpec, Context, InputSpec, Secret};

use super::table::Table;
use super::{clean, guarded, print};

pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "status",
    description: "Show the deploys recorded by record-deployment in a repository, per environment, with each environment's previous good sha",
    context: "GH_TOKEN or GITHUB_TOKEN (read first to last): a token with `deployments: read` on the repository; GITHUB_API_URL for GitHub Enterprise Server. --repository defaults to GITHUB_REPOSITORY, else the checkout's `origin`.",
    inputs: &[
        InputSpec::new("repository", "The deploy repository, `owner/repo`").current_repository(),
        InputSpec::new(
            "environment",
            "Only this environment (default: every environment with records)",
        ),
        InputSpec::new("limit", "Deploys shown per environment, newest first").default("10"),
    ],
    outputs: &[],
};

pub(crate) async fn run(ctx: Context) -> anyhow::Result<()> {
    guarded(ctx, "`deployments: read`", show).await
}

async fn show(ctx: &Context, gh: &GitHub, secret: &Secret) -> anyhow::Result<()> {
    let i = &ctx.inputs;
    let repo = i.current_repository(
        "repository",
        "name the deploy repository, e.g. `--repository my-org/deploy`",
    )?;
    let environment = i.get("environment");
    // At most 100: it fits any usize.
    let limit = usize::try_from(i.int("limit", 1..=100)?).unwrap_or(100);
    let records = relay_deployments::records(gh, &repo, environment, limit).await?;
    let mut by_env: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
    for r in &records {
        by_env
            .entry(r.deployment.environment.as_str())
            .or_default()
            .push(r);
    }
    if by_env.is_empty() {
        let which = environment
            .map(|e| format!(" of `{}`", clean(e)))
            .unwrap_or_default();
        print(
            ctx,
            secret,
            &[format!("No deploy-relay records{which} in {repo}")],
        );
        return Ok(());
    }
    for (env, list) in by_env {
        let newest = list[0];
        let previous = relay_deployments::find_previous_good(
            gh,
            &repo,
            env,
            Some(&newest.payload.repository),
            newest.sha(),
        )
        .await?;
        let mut lines = vec![format!("{repo} · {}", clean(env))];
        lines.push(format!(
            "  now: {} ({}) · previous good: {}",
            newest.payload.short_sha(),
            newest.state().map_or("no status", |s| s.as_str()),
            match &previous {
                Some(p) => format!("{} (deployment {})", p.payload.sha, p.deployment.id),
                None => "none".to_owned(),
            }
        ));
        let mut table = Table::new(&[
            "DEPLOYMENT",
            "SHA",
            "STATE",
            "WHEN",
            "APP",
            "IMAGES",
            "PROVENANCE",
            "NOTE",
        ]);
        for r in list {
            let images: Vec<String> = r
                .payload
                .images
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let mut note = match (r.payload.rollback, r.payload.reason.as_str()) {
                (true, "") => vec!["rollback".to_owned()],
                (true, why) => vec![format!("rollback: {why}")],
                _ => Vec::new(),
            };
            note.extend(Fleet::of(&r.deployment).as_ref().map(wave));
            table.row(vec![
                r.deployment.id.to_string(),
                clean(r.payload.short_sha()),
                r.state().map_or("—", |s| s.as_str()).to_owned(),
                clean(r.updated_at()),
                clean(&r.payload.repository),
                clean(&images.join(" ")),
                clean(&provenance(&r.payload.provenance)),
                clean(&note.join(" · ")),
            ]);
        }
        lines.extend(table.lines());
        lines.push(String::new());
        print(ctx, secret, &lines);
    }
    Ok(())
}

/// The PROVENANCE cell: what verify-provenance said before the deploy, as
/// the record keeps its report (`verified (require)`, `not verified
/// (warn)`), `—` when the record holds none (provenance off, an older
/// record, a fleet's rollback).
fn provenance(report: &serde_json::Value) -> String {
    // Only the modes verify-provenance writes: a record is anyone's with
    // `deployments: write`, and its text must not pass for a verdict.
    let mode = report
        .get("mode")
        .and_then(serde_json::Value::as_str)
        .filter(|m| ["require", "warn", "off"].contains(m));
    match (
        report.get("verified").and_then(serde_json::Value::as_bool),
        mode,
    ) {
        (Some(true), Some(mode)) => format!("verified ({mode})"),
        (Some(false), Some(mode)) => format!("not verified ({mode})"),
        _ => "—".to_owned(),
    }
}

/// A fleet record's place in its rollout: `wave 1/2 canary: vm-1`, or
/// `vm-1 after wave rest`, the targets a rollback put back; more than
/// three targets as a count.
fn wave(fleet: &Fleet) -> String {
    let targets = match fleet.targets.as_slice() {
        t if t.len() > 3 => format!("{} targets", t.len()),
        t => t.join(", "),
    };
    match fleet.kind {
        FleetKind::Wave => format!(
            "wave {}/{} {}: {targets}",
            fleet.position, fleet.waves, fleet.wave
        ),
        FleetKind::Rollback => format!("{targets} after wave {}", fleet.wave),
    }
}
