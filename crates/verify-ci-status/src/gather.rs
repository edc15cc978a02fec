//! Reading check runs, commit statuses and workflow runs, and the polling loop.

use std::collections::HashMap;

use relay_github::{
    CheckRun, CommitState, GitHub, RunFilter, RunStatus, StatsSnapshot, WorkflowRun,
};
use relay_http::{AtDeadline, Poll};
use relay_runtime::Context;
use tokio::time::Instant;

use crate::config::Config;
use crate::decide::{Check, Discovery, Ending, Kind, Verdict, decide};

pub(crate) struct Outcome {
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    pub stats: StatsSnapshot,
    /// Check runs could not be read: the verdict came from statuses and
    /// Actions jobs ([`crate::fallback`]).
    pub fell_back: bool,
}

/// Polls until decided, the timeout, or (without `wait`) after one look.
pub(crate) async fn poll(ctx: &Context, config: &Config) -> anyhow::Result<Outcome> {
    let client = config.auth.client_for(ctx, &config.access()).await?;
    let mut fell_back = false;
    let start = Instant::now();
    let discovery_deadline = start + config.discovery_timeout.min(config.timeout);
    // A last look at the deadline itself, and one when discovery ends:
    // either moment can decide the case.
    let mut poll = Poll::new(config.interval, start + config.timeout)
        .backing_off(1.5, config.interval * 4)
        .at_deadline(AtDeadline::LookOnceMore);
    poll.wake_at(discovery_deadline);
    let mut last: Option<Vec<Check>> = None;
    ctx.console.info(&format!(
        "Verifying CI of {}@{}",
        config.repository, config.sha
    ));
    loop {
        let checks = look(ctx, &client, config, &mut fell_back).await?;
        let discovery = if !config.wait || Instant::now() >= discovery_deadline {
            Discovery::Over
        } else {
            Discovery::Open
        };
        let verdict = decide(config, &checks, discovery);
        if last.as_ref() == Some(&checks) {
            // Nothing moved: back off, up to four times the interval.
            poll.unchanged();
        } else {
            let done = checks.iter().filter(|c| c.completed()).count();
            ctx.console
                .info(&format!("{} checks, {done} completed", checks.len()));
            // Back to the configured pace once things move again.
            poll.changed();
        }
        last = Some(checks);
        let verdict = match verdict {
            Verdict::Pending { pending } if !config.wait => Verdict::Timeout { pending },
            Verdict::Pending { pending } => {
                if poll.sleep().await.is_ok() {
                    continue;
                }
                Verdict::Timeout { pending }
            }
            v => v,
        };
        return Ok(Outcome {
            verdict,
            checks: last.unwrap_or_default(),
            stats: client.stats(),
            fell_back,
        });
    }
}

/// One look at everything GitHub reports for the sha.
async fn look(
    ctx: &Context,
    client: &GitHub,
    config: &Config,
    fell_back: &mut bool,
) -> anyhow::Result<Vec<Check>> {
    let mut checks = if *fell_back {
        select(
            config,
            crate::fallback::job_check_runs(client, config).await?,
        )
    } else {
        match check_runs(client, config).await {
            Ok(checks) => checks,
            Err(e) if crate::fallback::cannot_read_check_runs(&e) => {
                if config.require_check_runs {
                    return Err(anyhow::Error::new(e).context(
                        "this token cannot read check runs, and `require-check-runs` is true\nhint: use a GitHub App (`github-app-id`, `github-app-private-key`) or a token with `checks: read`; fine-grained PATs have no Checks permission",
                    ));
                }
                ctx.console.warning(&format!(
                    "{}@{}: {}",
                    config.repository,
                    config.sha,
                    crate::fallback::HIDDEN
                ));
                *fell_back = true;
                select(
                    config,
                    crate::fallback::job_check_runs(client, config).await?,
                )
            }
            Err(e) => return Err(e.into()),
        }
    };
    if config.include_statuses {
        checks.extend(statuses(client, config).await?);
    }
    if !config.workflows.is_empty() {
        checks.extend(workflow_runs(client, config).await?);
    }
    Ok(checks)
}

/// All pages of check runs, newest per name.
async fn check_runs(client: &GitHub, config: &Config) -> Result<Vec<Check>, relay_github::Error> {
    let runs = client.check_runs(&config.repository, &config.sha).await?;
    Ok(select(config, runs))
}

/// Newest per name, with this run's own jobs (when the sha is this run's)
/// judged by where they are: a completed job of this run counts like any
/// other check — when a deploy workflow is called at the end of CI, CI's
/// finished test jobs are in this run — while an unfinished one is left out
/// unless a `checks` glob names it, then it is waited for. This job itself
/// is one of the unfinished ones, so by default the step never waits on
/// itself. Within this run the newest attempt of a name decides even while
/// it is still running, so a re-run does not inherit the failure of the
/// attempt it replaces.
fn select(config: &Config, runs: Vec<CheckRun>) -> Vec<Check> {
    // `filter=latest` keeps the newest run per name within a check suite;
    // re-runs in other suites still repeat a name, so the newest (highest
    // id) is picked here as well.
    fn keep_newest(map: &mut HashMap<String, CheckRun>, run: CheckRun) {
        match map.get(&run.name) {
            Some(seen) if seen.id > run.id => {}
            _ => {
                map.insert(run.name.clone(), run);
            }
        }
    }
    let own = config
        .own_run_id
        .as_ref()
        .map(|id| format!("/actions/runs/{id}/job/"));
    let is_own = |r: &CheckRun| {
        own.as_deref()
            .zip(r.details_url.as_deref())
            .is_some_and(|(own, url)| url.contains(own))
    };
    let (mut newest, mut own_newest) = (HashMap::new(), HashMap::new());
    for run in runs {
        if is_own(&run) {
            keep_newest(&mut own_newest, run);
        } else {
            keep_newest(&mut newest, run);
        }
    }
    let named = |name: &str| config.required.iter().any(|(_, m)| m.is_match(name));
    let mut own_ids = std::collections::HashSet::new();
    for run in own_newest.into_values() {
        if run.status.is_completed() || named(&run.name) {
            own_ids.insert(run.id);
            keep_newest(&mut newest, run);
        }
    }
    let mut out: Vec<Check> = newest
        .into_values()
        .map(|r| Check {
            own_run: own_ids.contains(&r.id),
            url: r.html_url.or(r.details_url).unwrap_or_default(),
            name: r.name,
            kind: Kind::CheckRun,
            status: r.status,
            conclusion: r.conclusion.map(Ending::Conclusion),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The context prefix of the commit statuses record-deployment sets.
const OWN_STATUS_PREFIX: &str = "deploy/";

/// Commit statuses, newest per context (the combined commit status already keeps
/// only the newest per context).
async fn statuses(client: &GitHub, config: &Config) -> Result<Vec<Check>, relay_github::Error> {
    let all = client
        .commit_statuses(&config.repository, &config.sha)
        .await?;
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Check> = all
        .into_iter()
        // Our own `deploy/<environment>` statuses say what was deployed,
        // not whether CI passed: they never count (SPEC). A failed deploy
        // leaves one `failure` on the commit, and the next deploy of the
        // same commit must not be refused for it.
        .filter(|s| !s.context.starts_with(OWN_STATUS_PREFIX))
        .filter(|s| seen.insert(s.context.clone()))
        .map(|s| {
            let pending = s.state == CommitState::Pending;
            Check {
                name: s.context,
                kind: Kind::CommitStatus,
                status: if pending {
                    RunStatus::Pending
                } else {
                    RunStatus::Completed
                },
                conclusion: (!pending).then_some(Ending::CommitState(s.state)),
                url: s.target_url.unwrap_or_default(),
                own_run: false,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The newest run of each named workflow for the sha.
async fn workflow_runs(
    client: &GitHub,
    config: &Config,
) -> Result<Vec<Check>, relay_github::Error> {
    let filter = RunFilter {
        head_sha: Some(&config.sha),
        ..RunFilter::default()
    };
    let runs = client.workflow_runs(&config.repository, &filter).await?;
    let mut newest: HashMap<String, WorkflowRun> = HashMap::new();
    for run in runs {
        if config.own_run_id.as_deref() == Some(run.id.to_string().as_str()) {
            continue;
        }
        let Some(name) = run.name.clone() else {
            continue;
        };
        if !config.workflows.contains(&name) {
            continue;
        }
        match newest.get(&name) {
            Some(seen) if seen.id > run.id => {}
            _ => {
                newest.insert(name, run);
            }
        }
    }
    let mut out: Vec<Check> = newest
        .into_iter()
        .map(|(name, r)| Check {
            name,
            kind: Kind::Workflow,
            status: r.status.unwrap_or(RunStatus::Other(String::new())),
            conclusion: r.conclusion.map(Ending::Conclusion),
            url: r.html_url,
            own_run: false,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
