//! When the token cannot read check runs — a fine-grained PAT has no
//! Checks permission at all, so GitHub answers 403 "Resource not accessible
//! by personal access token" — the verdict comes from what it can read:
//! the commit statuses, and the jobs of the Actions workflow runs for the
//! sha (`actions: read`), each of which is also a check run of the same
//! name. Check runs of other apps (third-party CI) cannot be seen, which a
//! warning and the summary say, with the permission that would show them;
//! `require-check-runs: true` makes this a failure instead.
//!
//! Checks permission and fine-grained PATs:
//! <https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference>
//! (GitHub Apps and classic PATs only).

use std::collections::HashMap;

use relay_github::{CheckRun, GitHub, RunFilter};

use crate::config::Config;

/// What the warning and the summary say could not be seen.
pub(crate) const HIDDEN: &str = "check runs of apps other than GitHub Actions (third-party CI) could not be seen: this token cannot read check runs. A GitHub App or a classic PAT with `checks: read` shows them (fine-grained PATs have no Checks permission); `require-check-runs: true` turns this into a failure";

/// Whether `e` is GitHub refusing to show check runs to this token.
pub(crate) fn cannot_read_check_runs(e: &relay_github::Error) -> bool {
    matches!(e, relay_github::Error::Status { status: 403, message, .. }
        if message.contains("Resource not accessible"))
}

/// The jobs of the newest run of each workflow for the sha, as the check
/// runs they are.
pub(crate) async fn job_check_runs(
    client: &GitHub,
    config: &Config,
) -> Result<Vec<CheckRun>, relay_github::Error> {
    let filter = RunFilter {
        head_sha: Some(&config.sha),
        ..RunFilter::default()
    };
    let runs = client.workflow_runs(&config.repository, &filter).await?;
    let mut newest = HashMap::new();
    for run in runs {
        let key = run.name.clone().unwrap_or_else(|| run.id.to_string());
        let keep = newest.get(&key).is_none_or(|id: &u64| *id < run.id);
        if keep {
            newest.insert(key, run.id);
        }
    }
    let mut out = Vec::new();
    for run_id in newest.into_values() {
        for job in client.run_jobs(&config.repository, run_id).await? {
            out.push(CheckRun {
                id: job.id,
                name: job.name,
                status: job.status,
                conclusion: job.conclusion,
                details_url: job.html_url.clone(),
                html_url: job.html_url,
            });
        }
    }
    Ok(out)
}
