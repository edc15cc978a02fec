//! Check runs and commit statuses per repository and sha, scripted to change
//! as they are polled: each list of the first page is one "poll", and every
//! check appears, runs and completes at the poll its script says.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{Extension, Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::FakeGitHub;
use super::server::{Caller, Shared, lock, not_found, paginate, query_map};

/// How one check run (or commit status) behaves across polls.
#[derive(Debug, Clone)]
pub struct CheckScript {
    /// The check run's name (a status's context).
    pub name: String,
    /// The poll (0-based) at which it first shows, queued.
    pub appears_at: u32,
    /// The poll at which it is completed (`None`: never).
    pub completes_at: Option<u32>,
    /// Its conclusion (for a status: its final state, `success`,
    /// `failure` or `error`).
    pub conclusion: String,
    /// Where `details_url` points (an Actions job URL for jobs).
    pub details_url: Option<String>,
    /// Check suite; `filter=latest` keeps the newest run per name within
    /// a suite, so a re-run in another suite still repeats the name.
    pub suite: u64,
}

impl CheckScript {
    /// Completed from the first look.
    pub fn done(name: &str, conclusion: &str) -> Self {
        Self {
            name: name.into(),
            appears_at: 0,
            completes_at: Some(0),
            conclusion: conclusion.into(),
            details_url: None,
            suite: 1,
        }
    }
    /// Runs for `polls` looks, then concludes.
    pub fn after(name: &str, polls: u32, conclusion: &str) -> Self {
        Self {
            completes_at: Some(polls),
            ..Self::done(name, conclusion)
        }
    }
    /// Never completes.
    pub fn pending(name: &str) -> Self {
        Self {
            completes_at: None,
            ..Self::done(name, "")
        }
    }
    /// First shows at poll `poll` (completing no earlier).
    pub fn appears_at(mut self, poll: u32) -> Self {
        self.appears_at = poll;
        self.completes_at = self.completes_at.map(|c| c.max(poll));
        self
    }
    /// A job of Actions run `run_id` in `repo` (`details_url` as GitHub
    /// writes it for Actions jobs).
    pub fn job_of(mut self, repo: &str, run_id: u64, job_id: u64) -> Self {
        self.details_url = Some(format!(
            "https://github.com/{repo}/actions/runs/{run_id}/job/{job_id}"
        ));
        self
    }
    /// In check suite `suite`.
    pub fn suite(mut self, suite: u64) -> Self {
        self.suite = suite;
        self
    }
    fn state_at(&self, poll: u32) -> Option<(&'static str, Option<&str>)> {
        if poll < self.appears_at {
            return None;
        }
        Some(match self.completes_at {
            Some(c) if poll >= c => ("completed", Some(self.conclusion.as_str())),
            _ if poll == self.appears_at => ("queued", None),
            _ => ("in_progress", None),
        })
    }
}

#[derive(Clone)]
struct Entry {
    id: u64,
    script: CheckScript,
}

/// Check runs and statuses per repository and sha.
#[derive(Default)]
pub(crate) struct Checks {
    runs: BTreeMap<(String, String), Vec<Entry>>,
    statuses: BTreeMap<(String, String), Vec<Entry>>,
    /// (endpoint, repo, sha) → looks so far.
    polls: HashMap<(&'static str, String, String), u32>,
}

impl Checks {
    /// A status created through the API (`POST …/statuses/{sha}`), shown by
    /// the combined status from the next look on.
    pub(crate) fn add_created_status(
        &mut self,
        repo: &str,
        sha: &str,
        id: u64,
        script: CheckScript,
    ) {
        self.statuses
            .entry((repo.to_owned(), sha.to_owned()))
            .or_default()
            .push(Entry { id, script });
    }

    /// Every context of `sha` as a deployment's `required_contexts` check
    /// sees it now (at the last poll made): check runs by name and commit
    /// statuses by context, newest of each, with `success` only for a
    /// completed successful one.
    pub(crate) fn contexts(&self, repo: &str, sha: &str) -> Vec<(String, String)> {
        let key = (repo.to_owned(), sha.to_owned());
        let mut newest: BTreeMap<String, (u64, String)> = BTreeMap::new();
        for (kind, entries) in [("check-runs", &self.runs), ("status", &self.statuses)] {
            let poll = self
                .polls
                .get(&(kind, repo.to_owned(), sha.to_owned()))
                .map_or(0, |n| n.saturating_sub(1));
            for e in entries.get(&key).into_iter().flatten() {
                let Some((status, conclusion)) = e.script.state_at(poll) else {
                    continue;
                };
                let state = match (status, conclusion) {
                    ("completed", Some(c)) => c.to_owned(),
                    _ => "pending".to_owned(),
                };
                let slot = newest.entry(e.script.name.clone()).or_default();
                if e.id >= slot.0 {
                    *slot = (e.id, state);
                }
            }
        }
        newest
            .into_iter()
            .map(|(name, (_, state))| (name, state))
            .collect()
    }
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/commits/{sha}/check-runs",
            get(list_check_runs),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{sha}/status",
            get(combined_status),
        )
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
            get(list_jobs),
        )
}

/// `GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs`: the run's jobs
/// are the check runs of its head sha whose `details_url` is a job of this
/// run ([`CheckScript::job_of`]), as on GitHub, where each Actions job is
/// a check run. They progress with the looks at this list.
async fn list_jobs(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, run_id)): Path<(String, String, u64)>,
    uri: axum::http::Uri,
) -> Response {
    let repo = format!("{owner}/{name}");
    let mut s = lock(&state);
    if !caller.sees(&s, &repo) {
        return not_found();
    }
    let Some(run) = s
        .runs
        .list
        .iter()
        .find(|r| r.repo == repo && r.id == run_id)
        .cloned()
    else {
        return not_found();
    };
    let q = query_map(uri.query());
    match q.get("filter").map(String::as_str) {
        None | Some("latest" | "all") => {}
        Some(_) => return super::server::unprocessable("filter must be latest or all"),
    }
    let sha = run.script.head_sha.clone();
    let page = q.get("page").cloned().unwrap_or_else(|| "1".into());
    let poll = look(
        &mut s.checks,
        "jobs",
        &repo,
        &format!("{sha}/{run_id}"),
        &page,
    );
    let marker = format!("/actions/runs/{run_id}/job/");
    let base = s.base_url.clone();
    let entries = s
        .checks
        .runs
        .get(&(repo.clone(), sha.clone()))
        .cloned()
        .unwrap_or_default();
    let items: Vec<Value> = entries
        .iter()
        .filter(|e| e.script.details_url.as_deref().is_some_and(|u| u.contains(&marker)))
        .filter_map(|e| {
            let (status, conclusion) = e.script.state_at(poll)?;
            let html_url = e.script.details_url.clone().unwrap_or_default();
            let job_id: u64 = html_url.rsplit('/').next().and_then(|id| id.parse().ok()).unwrap_or(e.id);
            Some(json!({
                "id": job_id, "node_id": format!("J_{job_id}"), "run_id": run_id,
                "run_url": format!("{base}/repos/{repo}/actions/runs/{run_id}"),
                "run_attempt": 1, "head_sha": sha, "workflow_name": run.name,
                "head_branch": "main", "name": e.script.name,
                "url": format!("{base}/repos/{repo}/actions/jobs/{job_id}"),
                "html_url": html_url, "status": status, "conclusion": conclusion,
                "started_at": "2026-01-01T00:00:00Z",
                "completed_at": if status == "completed" { Value::from("2026-01-01T00:05:00Z") } else { Value::Null },
                "created_at": "2026-01-01T00:00:00Z",
                "check_run_url": format!("{base}/repos/{repo}/check-runs/{}", e.id),
                "labels": ["ubuntu-latest"], "runner_id": null, "runner_name": null,
                "runner_group_id": null, "runner_group_name": null, "steps": [],
            }))
        })
        .collect();
    paginate(&base, uri.path(), &q, items, Some("jobs"))
}

/// Counts a look when the first page is asked for, and returns the poll
/// number this request sees.
fn look(checks: &mut Checks, kind: &'static str, repo: &str, sha: &str, page: &str) -> u32 {
    let key = (kind, repo.to_owned(), sha.to_owned());
    let n = checks.polls.entry(key).or_insert(0);
    if page == "1" {
        *n += 1;
    }
    n.saturating_sub(1)
}

async fn list_check_runs(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, sha)): Path<(String, String, String)>,
    uri: axum::http::Uri,
) -> Response {
    let repo = format!("{owner}/{name}");
    let mut s = lock(&state);
    if !caller.sees(&s, &repo) {
        return not_found();
    }
    let q = query_map(uri.query());
    match q.get("filter").map(String::as_str) {
        None | Some("latest" | "all") => {}
        Some(_) => return super::server::unprocessable("filter must be latest or all"),
    }
    let page = q.get("page").cloned().unwrap_or_else(|| "1".into());
    let poll = look(&mut s.checks, "check-runs", &repo, &sha, &page);
    let entries = s
        .checks
        .runs
        .get(&(repo.clone(), sha.clone()))
        .cloned()
        .unwrap_or_default();
    let latest = q.get("filter").is_none_or(|f| f == "latest");
    let mut newest: BTreeMap<(u64, String), u64> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.script.state_at(poll).is_some()) {
        let slot = newest
            .entry((e.script.suite, e.script.name.clone()))
            .or_default();
        *slot = (*slot).max(e.id);
    }
    let base = s.base_url.clone();
    let mut items: Vec<Value> = entries
        .iter()
        .filter(|e| !latest || newest.values().any(|id| *id == e.id))
        .filter_map(|e| {
            let (status, conclusion) = e.script.state_at(poll)?;
            Some(json!({
                "id": e.id,
                "head_sha": sha,
                "node_id": format!("CR_{}", e.id),
                "external_id": "",
                "url": format!("{base}/repos/{repo}/check-runs/{}", e.id),
                "html_url": format!("https://github.com/{repo}/runs/{}", e.id),
                "details_url": e.script.details_url.clone().unwrap_or_else(|| format!("https://ci.example.com/{}", e.id)),
                "status": status,
                "conclusion": conclusion,
                "started_at": "2026-01-01T00:00:00Z",
                "completed_at": if status == "completed" { Value::from("2026-01-01T00:05:00Z") } else { Value::Null },
                "output": {"title": null, "summary": null, "text": null, "annotations_count": 0, "annotations_url": ""},
                "name": e.script.name,
                "check_suite": {"id": e.script.suite},
                "app": null,
                "pull_requests": [],
            }))
        })
        .collect();
    // GitHub lists the newest first.
    items.reverse();
    paginate(&base, uri.path(), &q, items, Some("check_runs"))
}

async fn combined_status(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, sha)): Path<(String, String, String)>,
    uri: axum::http::Uri,
) -> Response {
    let repo = format!("{owner}/{name}");
    let mut s = lock(&state);
    if !caller.sees(&s, &repo) {
        return not_found();
    }
    let q = query_map(uri.query());
    let page = q.get("page").cloned().unwrap_or_else(|| "1".into());
    let poll = look(&mut s.checks, "status", &repo, &sha, &page);
    let entries = s
        .checks
        .statuses
        .get(&(repo.clone(), sha.clone()))
        .cloned()
        .unwrap_or_default();
    // Newest per context, newest first, as the combined status reports.
    let mut seen = std::collections::HashSet::new();
    let statuses: Vec<Value> = entries
        .iter()
        .rev()
        .filter_map(|e| {
            let (status, conclusion) = e.script.state_at(poll)?;
            let state = if status == "completed" { conclusion.unwrap_or("error") } else { "pending" };
            Some((e, state))
        })
        .filter(|(e, _)| seen.insert(e.script.name.clone()))
        .map(|(e, state)| {
            json!({
                "id": e.id,
                "context": e.script.name,
                "state": state,
                "target_url": e.script.details_url.clone().unwrap_or_else(|| format!("https://ci.example.com/status/{}", e.id)),
                "description": null,
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            })
        })
        .collect();
    let overall = if statuses
        .iter()
        .any(|v| v["state"] == "failure" || v["state"] == "error")
    {
        "failure"
    } else if statuses.iter().all(|v| v["state"] == "success") && !statuses.is_empty() {
        "success"
    } else {
        "pending"
    };
    let per_page = q
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page_n = page.parse::<usize>().unwrap_or(1).max(1);
    let total = statuses.len();
    let slice: Vec<Value> = statuses
        .into_iter()
        .skip((page_n - 1) * per_page)
        .take(per_page)
        .collect();
    axum::Json(json!({
        "state": overall,
        "sha": sha,
        "total_count": total,
        "statuses": slice,
        "repository": {"full_name": repo},
        "commit_url": format!("{base}/repos/{repo}/commits/{sha}", base = s.base_url),
        "url": format!("{base}/repos/{repo}/commits/{sha}/status", base = s.base_url),
    }))
    .into_response()
}

impl FakeGitHub {
    /// Adds a check run for `sha` of `repo`; a later one with the same name
    /// is a re-run (a higher id). Returns its id.
    pub fn check_run(&self, repo: &str, sha: &str, script: CheckScript) -> u64 {
        let mut s = self.state();
        let id = s.next_id();
        s.checks
            .runs
            .entry((repo.into(), sha.into()))
            .or_default()
            .push(Entry { id, script });
        id
    }

    /// Adds a commit status for `sha` of `repo` (its `name` is the context).
    pub fn commit_status(&self, repo: &str, sha: &str, script: CheckScript) -> u64 {
        let mut s = self.state();
        let id = s.next_id();
        s.checks
            .statuses
            .entry((repo.into(), sha.into()))
            .or_default()
            .push(Entry { id, script });
        id
    }

    /// How many times the first page of check runs of `sha` was listed.
    pub fn check_run_polls(&self, repo: &str, sha: &str) -> u32 {
        self.state()
            .checks
            .polls
            .get(&("check-runs", repo.into(), sha.into()))
            .copied()
            .unwrap_or(0)
    }
}
