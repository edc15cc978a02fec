//! Reading check runs, statuses and workflow runs, and the polling loop.

use std::collections::HashMap;
use std::time::Duration;

use relay_github::{CheckRun, GitHub, RunFilter, StatsSnapshot, WorkflowRun};
use relay_runtime::Context;
use tokio::time::Instant;

use crate::config::Config;
use crate::decide::{Check, Kind, Verdict, decide};

pub(crate) struct Outcome {
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    pub stats: StatsSnapshot,
}

/// Polls until decided, the timeout, or (without `wait`) after one look.
pub(crate) async fn poll(ctx: &Context, config: &Config) -> Result<Outcome, relay_github::Error> {
    let client = GitHub::from_context(ctx, config.token.clone())?;
    let start = Instant::now();
    let deadline = start + config.timeout;
    let discovery_deadline = start + config.discovery_timeout.min(config.timeout);
    let mut interval = config.interval;
    let mut last: Option<Vec<Check>> = None;
    ctx.console.info(&format!(
        "Verifying CI of {}@{}",
        config.repository, config.sha
    ));
    loop {
        let checks = look(&client, config).await?;
        let now = Instant::now();
        let discovery_over = !config.wait || now >= discovery_deadline;
        let verdict = decide(config, &checks, discovery_over);
        let changed = last.as_ref() != Some(&checks);
        if changed {
            let done = checks.iter().filter(|c| c.status == "completed").count();
            ctx.console
                .info(&format!("{} checks, {done} completed", checks.len()));
            // Back to the configured pace once things move again.
            interval = config.interval;
        } else {
            // Nothing moved: back off, up to four times the interval.
            interval = (interval + interval / 2).min(config.interval * 4);
        }
        last = Some(checks);
        let verdict = match verdict {
            Verdict::Pending { pending } if !config.wait => Verdict::Timeout { pending },
            Verdict::Pending { pending } => {
                if now >= deadline {
                    Verdict::Timeout { pending }
                } else {
                    // Never sleep past a deadline that would decide the case.
                    let next = (now + interval).min(deadline.max(now));
                    let next = if now < discovery_deadline {
                        next.min(discovery_deadline)
                    } else {
                        next
                    };
                    tokio::time::sleep_until(next.max(now + Duration::from_millis(1))).await;
                    continue;
                }
            }
            v => v,
        };
        return Ok(Outcome {
            verdict,
            checks: last.unwrap_or_default(),
            stats: client.stats(),
        });
    }
}

/// One look at everything GitHub reports for the sha.
async fn look(client: &GitHub, config: &Config) -> Result<Vec<Check>, relay_github::Error> {
    let mut checks = check_runs(client, config).await?;
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
        if run.status == "completed" || named(&run.name) {
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
            conclusion: r.conclusion,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Whether `context` is a commit status deploy-relay itself sets on the
/// app commit (`deploy/<environment>`), which is a deploy's outcome, not CI.
pub(crate) fn is_own_context(context: &str) -> bool {
    context
        .strip_prefix("deploy/")
        .is_some_and(|env| !env.is_empty())
}

/// Commit statuses, newest per context (the combined status already keeps
/// only the newest per context).
async fn statuses(client: &GitHub, config: &Config) -> Result<Vec<Check>, relay_github::Error> {
    let all = client
        .commit_statuses(&config.repository, &config.sha)
        .await?;
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Check> = all
        .into_iter()
        .filter(|s| seen.insert(s.context.clone()))
        // Our own: record-deployment's `deploy/<environment>`. A failed
        // deploy leaves it `failure` on the commit, and the next deploy of
        // the same commit must not be refused for it.
        .filter(|s| !is_own_context(&s.context))
        .map(|s| {
            let pending = s.state == "pending";
            Check {
                name: s.context,
                kind: Kind::Status,
                status: if pending { "pending" } else { "completed" }.into(),
                conclusion: (!pending).then_some(s.state),
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
            status: r.status.unwrap_or_default(),
            conclusion: r.conclusion,
            url: r.html_url,
            own_run: false,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
