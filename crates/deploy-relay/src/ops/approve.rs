//! `deploy-relay approve`: lists the runs waiting for an environment's
//! required reviewers — with the head repository, branch, event and actor
//! of each, the facts that say whose code it would deploy — and approves
//! (or, with `--reject`, rejects) one through GitHub's pending-deployments
//! API. With no `--run-id` it acts only when exactly one run waits, and
//! approves it only when it is the repository's own: its head repository
//! is the repository itself and its event is one our workflows deploy
//! from. Any other run is approved only when named with `--run-id` and
//! confirmed — typed at a prompt in a terminal, or `--yes` elsewhere.

use std::io::{BufRead, IsTerminal as _};

use relay_github::{GitHub, PendingDeployment, Review, WorkflowRun};
use relay_runtime::{ActionSpec, Context, InputSpec, RepoName, Secret, vars};

use super::table::Table;
use super::{clean, guarded, print};

pub(crate) static SPEC: ActionSpec = ActionSpec {
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
        InputSpec::new(
            "yes",
            "Approve a run that is not the repository's own (a fork's, or started by another event) without being asked; only with --run-id",
        )
        .default("false"),
        InputSpec::new("comment", "The comment GitHub keeps with the review"),
    ],
    outputs: &[],
};

pub(crate) async fn run(ctx: Context) -> anyhow::Result<()> {
    guarded(
        ctx,
        "a required reviewer's access (`gh auth token`)",
        review,
    )
    .await
}

/// The events our workflows deploy from (a `workflow_run` relay, a
/// dispatch, a push, a manual run): a waiting run started by any other —
/// `pull_request`, `pull_request_target`, `issue_comment`… — is not one of
/// our deploys, whatever it waits for.
const DEPLOY_EVENTS: [&str; 4] = [
    "repository_dispatch",
    "workflow_dispatch",
    "push",
    "workflow_run",
];

/// Why `run` is not the repository's own deploy, if it is not: its head
/// commit comes from a fork (or a deleted fork), or another event started
/// it. See the workflow run object's `head_repository` and `event`:
/// <https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-repository>
fn distrust(run: &WorkflowRun, repo: &RepoName) -> Option<String> {
    if let Some(why) = run.provenance(repo.as_str()).distrust() {
        return Some(why);
    }
    match run.event.as_deref() {
        Some(event) if DEPLOY_EVENTS.contains(&event) => None,
        Some(event) => Some(format!(
            "it was started by a `{}` event, not one the deploy workflows run on ({})",
            clean(event),
            DEPLOY_EVENTS.join(", ")
        )),
        None => Some("GitHub did not say which event started it".to_owned()),
    }
}

/// Who started the run (this attempt's actor, when it was re-run).
fn actor(run: &WorkflowRun) -> &str {
    run.triggering_actor
        .as_ref()
        .or(run.actor.as_ref())
        .map_or("", |a| a.login.as_str())
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
    let confirmation = if i.bool("yes")? {
        Confirmation::Given
    } else {
        Confirmation::Prompt
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
    lines.extend(listing(&waiting, &repo));
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
    // Rejecting is always safe; approving lets the run deploy.
    if verdict == Review::Approved
        && let Some(why) = distrust(&target.run, &repo)
    {
        let id = target.run.id;
        let url = clean(&target.run.html_url);
        if run_id.is_none() {
            anyhow::bail!(
                "run {id} of `{repo}` waits for review, but {why}: approving it would deploy code that is not the repository's own\nhint: look at it first ({url}); to approve it anyway, name it: --run-id {id}"
            );
        }
        confirm(ctx, confirmation, id, &repo, &why, &url)?;
    }
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

/// How the approval of a run that is not the repository's own is
/// confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirmation {
    /// Given on the command line (`--yes`).
    Given,
    /// Asked for at a prompt, when stdin is a terminal.
    Prompt,
}

/// The operator's confirmation that run `id`, not the repository's own
/// (`why`), is to be approved: `--yes`, or the run id typed at a prompt
/// when stdin is a terminal. Anything else approves nothing.
fn confirm(
    ctx: &Context,
    confirmation: Confirmation,
    id: u64,
    repo: &RepoName,
    why: &str,
    url: &str,
) -> anyhow::Result<()> {
    if confirmation == Confirmation::Given {
        ctx.console.warning(&format!(
            "approving run {id} of {repo} although {why} (--yes)"
        ));
        return Ok(());
    }
    let stdin = std::io::stdin();
    if ctx.env.get(vars::GITHUB_ACTIONS).is_some() || !stdin.is_terminal() {
        anyhow::bail!(
            "run {id} of `{repo}` is not the repository's own: {why}; approving it needs a confirmation\nhint: look at it first ({url}); then run again in a terminal to be asked, or add --yes"
        );
    }
    ctx.console.info(&format!(
        "Run {id} of {repo} is not the repository's own: {why}. Approving it lets it deploy with the environment's secrets. Type the run id ({id}) to approve it:"
    ));
    if confirmed(&mut stdin.lock(), id) {
        Ok(())
    } else {
        anyhow::bail!("run {id} was not approved: the confirmation did not match")
    }
}

/// Whether the next line of `input` is exactly `id`.
fn confirmed(input: &mut impl BufRead, id: u64) -> bool {
    let mut line = String::new();
    input.read_line(&mut line).is_ok() && line.trim() == id.to_string()
}

fn ids(waiting: &[Waiting]) -> String {
    waiting
        .iter()
        .map(|w| w.run.id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn listing(waiting: &[Waiting], repo: &RepoName) -> Vec<String> {
    let mut table = Table::new(&[
        "RUN",
        "WORKFLOW",
        "TITLE",
        "EVENT",
        "HEAD REPOSITORY",
        "BRANCH",
        "SHA",
        "ACTOR",
        "ENVIRONMENT",
        "REVIEWERS",
        "SINCE",
        "NOTE",
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
        let head = match &w.run.head_repository {
            Some(head) => clean(&head.full_name),
            None => "(deleted fork)".to_owned(),
        };
        let note = if distrust(&w.run, repo).is_some() {
            "not the repository's own: --run-id and a confirmation"
        } else {
            ""
        };
        table.row(vec![
            w.run.id.to_string(),
            clean(w.run.name.as_deref().unwrap_or("")),
            clean(w.run.display_title.as_deref().unwrap_or("")),
            clean(w.run.event.as_deref().unwrap_or("")),
            head,
            clean(w.run.head_branch.as_deref().unwrap_or("")),
            clean(w.run.head_sha.get(..7).unwrap_or(&w.run.head_sha)),
            clean(actor(&w.run)),
            clean(&envs.join(", ")),
            format!("{}{mine}", clean(&reviewers.join(", "))),
            clean(
                w.pending
                    .iter()
                    .find_map(|p| p.wait_timer_started_at.as_deref())
                    .or(w.run.created_at.as_deref())
                    .unwrap_or(""),
            ),
            note.to_owned(),
        ]);
    }
    table.lines()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_run_id_typed_confirms() {
        for (typed, ok) in [
            ("4242\n", true),
            ("  4242  \n", true),
            ("y\n", false),
            ("yes\n", false),
            ("42420\n", false),
            ("", false),
        ] {
            assert_eq!(
                confirmed(&mut std::io::Cursor::new(typed), 4242),
                ok,
                "{typed:?}"
            );
        }
    }

    fn run(json: serde_json::Value) -> WorkflowRun {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn only_the_repositorys_own_runs_of_deploy_events_are_trusted() {
        let repo = RepoName::parse("octo/deploy").unwrap();
        let own = serde_json::json!({"id": 1, "full_name": "octo/deploy", "name": "deploy", "owner": {"login": "octo"}});
        let fork = serde_json::json!({"id": 2, "full_name": "mallory/deploy", "name": "deploy", "owner": {"login": "mallory"}});
        for event in DEPLOY_EVENTS {
            let r = run(
                serde_json::json!({"id": 7, "head_sha": "a", "event": event, "repository": own, "head_repository": own}),
            );
            assert_eq!(distrust(&r, &repo), None, "{event}");
        }
        let cases = [
            (
                serde_json::json!({"id": 7, "head_sha": "a", "event": "push", "repository": own, "head_repository": fork}),
                "mallory/deploy",
            ),
            (
                serde_json::json!({"id": 7, "head_sha": "a", "event": "workflow_run", "repository": own, "head_repository": null}),
                "deleted",
            ),
            (
                serde_json::json!({"id": 7, "head_sha": "a", "event": "pull_request", "repository": own, "head_repository": own}),
                "`pull_request`",
            ),
            (
                serde_json::json!({"id": 7, "head_sha": "a", "repository": own, "head_repository": own}),
                "which event",
            ),
        ];
        for (json, needle) in cases {
            let why = distrust(&run(json), &repo).unwrap();
            assert!(why.contains(needle), "{why}");
        }
    }
}
