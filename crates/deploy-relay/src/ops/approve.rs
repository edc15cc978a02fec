//! `deploy-relay approve`: lists the runs waiting for an environment's
//! required reviewers and approves (or, with `--reject`, rejects) one
//! through GitHub's pending-deployments API. With no `--run-id` it acts
//! only when exactly one run waits; otherwise it lists them and asks.

use relay_github::{GitHub, PendingDeployment, Review, WorkflowRun};
use relay_runtime::{ActionSpec, Context, InputSpec, Secret};

use super::table::Table;
use super::{clean, guarded, print};

pub static SPEC: ActionSpec = ActionSpec {
    name: "approve",
    description: "List the runs waiting for an environment's required reviewers, and approve or reject one",
    context: "GH_TOKEN or GITHUB_TOKEN (read first to last): the token of a required reviewer (`gh auth token`, or a PAT with `repo`); GITHUB_API_URL for GitHub Enterprise Server. --repository defaults to GITHUB_REPOSITORY, else the checkout's `origin`.",
    inputs: &[
        InputSpec::new("repository", "The repository whose runs wait, `owner/repo`")
            .current_repository(),
        InputSpec::new(
            "environment",
            "Only runs waiting for this environment (default: any)",
        ),
        InputSpec::new(
            "run-id",
            "The run to review (default: the only waiting run, if exactly one waits)",
        ),
        InputSpec::new("reject", "Reject instead of approve").default("false"),
        InputSpec::new("comment", "The comment GitHub keeps with the review"),
    ],
    outputs: &[],
};

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    guarded(
        ctx,
        "a required reviewer's access (`gh auth token`)",
        review,
    )
    .await
}

/// A waiting run and what it waits for (the environments asked for).
struct Waiting {
    run: WorkflowRun,
    pending: Vec<PendingDeployment>,
}

async fn review(ctx: &Context, gh: &GitHub, secret: &Secret) -> anyhow::Result<()> {
    let i = &ctx.inputs;
    let repo = i.current_repository(
        "repository",
        "name the repository, e.g. `--repository my-org/platform`",
    )?;
    let environment = i.get("environment");
    let run_id = i.opt_int("run-id", 1..=u64::MAX)?;
    let verdict = if i.bool("reject")? {
        Review::Rejected
    } else {
        Review::Approved
    };
    let comment = i.get("comment").unwrap_or_default();
    let mut waiting = Vec::new();
    for run in gh.waiting_runs(&repo).await? {
        let pending: Vec<PendingDeployment> = gh
            .pending_deployments(&repo, run.id)
            .await?
            .into_iter()
            .filter(|p| environment.is_none_or(|e| p.environment.name == e))
            .collect();
        if !pending.is_empty() {
            waiting.push(Waiting { run, pending });
        }
    }
    let which = environment
        .map(|e| format!(" for `{}`", clean(e)))
        .unwrap_or_default();
    if waiting.is_empty() {
        if let Some(id) = run_id {
            anyhow::bail!(
                "run {id} of `{repo}` is not waiting for review{which}\nhint: run without --run-id to list the runs that wait"
            );
        }
        print(
            ctx,
            secret,
            &[format!("No run of {repo} is waiting for review{which}")],
        );
        return Ok(());
    }
    let mut lines = vec![format!("Runs of {repo} waiting for review{which}:")];
    lines.extend(listing(&waiting));
    print(ctx, secret, &lines);
    let target = match run_id {
        Some(id) => waiting.iter().find(|w| w.run.id == id).ok_or_else(|| {
            anyhow::anyhow!(
                "run {id} of `{repo}` is not waiting for review{which}\nhint: pass --run-id with one of: {}",
                ids(&waiting)
            )
        })?,
        None if waiting.len() == 1 => &waiting[0],
        None => anyhow::bail!(
            "{} runs of `{repo}` wait for review{which}; name the one to {}\nhint: pass --run-id with one of: {}",
            waiting.len(),
            if verdict == Review::Approved { "approve" } else { "reject" },
            ids(&waiting)
        ),
    };
    if let Some(p) = target.pending.iter().find(|p| !p.current_user_can_approve) {
        let reviewers: Vec<String> = p.reviewers.iter().map(|r| clean(r.name())).collect();
        anyhow::bail!(
            "the token's user may not review `{}` of run {}: it is not one of its required reviewers ({})\nhint: use the token of a reviewer: export GH_TOKEN=$(gh auth token)",
            clean(&p.environment.name),
            target.run.id,
            reviewers.join(", ")
        );
    }
    let env_ids: Vec<u64> = target.pending.iter().map(|p| p.environment.id).collect();
    let names: Vec<String> = target
        .pending
        .iter()
        .map(|p| clean(&p.environment.name))
        .collect();
    let deployments = gh
        .review_pending_deployments(&repo, target.run.id, &env_ids, verdict, comment)
        .await?;
    let done = match verdict {
        Review::Approved => "Approved",
        Review::Rejected => "Rejected",
    };
    let mut said = vec![format!(
        "{done} run {} for {}: {}",
        target.run.id,
        names.join(", "),
        clean(&target.run.html_url)
    )];
    if verdict == Review::Approved && !deployments.is_empty() {
        let ids: Vec<String> = deployments.iter().map(|d| d.id.to_string()).collect();
        said.push(format!("GitHub goes on with deployment {}", ids.join(", ")));
    }
    print(ctx, secret, &said);
    Ok(())
}

fn ids(waiting: &[Waiting]) -> String {
    waiting
        .iter()
        .map(|w| w.run.id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn listing(waiting: &[Waiting]) -> Vec<String> {
    let mut table = Table::new(&[
        "RUN",
        "WORKFLOW",
        "TITLE",
        "BRANCH",
        "SHA",
        "ENVIRONMENT",
        "REVIEWERS",
        "SINCE",
    ]);
    for w in waiting {
        let envs: Vec<String> = w
            .pending
            .iter()
            .map(|p| p.environment.name.clone())
            .collect();
        let mut reviewers: Vec<String> = w
            .pending
            .iter()
            .flat_map(|p| p.reviewers.iter().map(|r| r.name().to_owned()))
            .collect();
        reviewers.dedup();
        let mine = if w.pending.iter().all(|p| p.current_user_can_approve) {
            ""
        } else {
            " (not you)"
        };
        table.row(vec![
            w.run.id.to_string(),
            clean(w.run.name.as_deref().unwrap_or("")),
            clean(w.run.display_title.as_deref().unwrap_or("")),
            clean(w.run.head_branch.as_deref().unwrap_or("")),
            clean(w.run.head_sha.get(..7).unwrap_or(&w.run.head_sha)),
            clean(&envs.join(", ")),
            format!("{}{mine}", clean(&reviewers.join(", "))),
            clean(
                w.pending
                    .iter()
                    .find_map(|p| p.wait_timer_started_at.as_deref())
                    .or(w.run.created_at.as_deref())
                    .unwrap_or(""),
            ),
        ]);
    }
    table.lines()
}
