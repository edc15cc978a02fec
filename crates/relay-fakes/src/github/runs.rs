//! Repositories, dispatches and the workflow runs they start.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Extension, Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::State;
use super::server::{Caller, Shared, error, lock, not_found, paginate, query_map, unprocessable};

/// How a run started by a dispatch behaves.
#[derive(Debug, Clone)]
pub struct RunScript {
    /// The run's display title; `{dispatch_id}` is replaced by the
    /// dispatch's `dispatch_id` (as a workflow's `run-name:` would do).
    pub title: String,
    /// GETs of the run before it completes (`None`: never completes).
    pub polls_to_complete: Option<u32>,
    /// The conclusion once completed (`success`, `failure`, …).
    pub conclusion: String,
    /// Create the run only after this many list requests (GitHub takes a
    /// moment to create the run after a dispatch).
    pub appears_after_lists: u32,
    /// The commit the run is for (`head_sha`, filterable when listing).
    pub head_sha: String,
}

impl RunScript {
    /// Completes with `success` on GET number `polls`.
    pub fn succeeds_after(polls: u32) -> Self {
        Self::ends(polls, "success")
    }
    /// Completes with `conclusion` on GET number `polls`.
    pub fn ends(polls: u32, conclusion: &str) -> Self {
        Self {
            title: "Deploy {dispatch_id}".into(),
            polls_to_complete: Some(polls),
            conclusion: conclusion.into(),
            appears_after_lists: 0,
            head_sha: "0000000000000000000000000000000000000000".into(),
        }
    }
    /// Stays in progress however often it is polled.
    pub fn never_ends() -> Self {
        Self {
            polls_to_complete: None,
            ..Self::ends(0, "")
        }
    }
    /// With display title `title` (`{dispatch_id}` replaced).
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.into();
        self
    }
    /// For commit `sha`.
    pub fn head_sha(mut self, sha: &str) -> Self {
        self.head_sha = sha.into();
        self
    }
    /// Created only after `lists` list requests.
    pub fn appears_after(mut self, lists: u32) -> Self {
        self.appears_after_lists = lists;
        self
    }
}

/// How `POST …/workflows/{id}/dispatches` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkflowDispatchMode {
    /// Today's GitHub: 200 with run details when `return_run_details` is
    /// true, else 204.
    #[default]
    Details,
    /// A server that ignores `return_run_details` and answers 204.
    NoContent,
    /// An older server that refuses the unknown `return_run_details` with 400.
    OldServer,
}

/// A workflow run the fake holds, as a test reads it back.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run's id.
    pub id: u64,
    /// Its repository, `owner/repo`.
    pub repo: String,
    /// The workflow it runs; `None` unless `workflow_dispatch` started it.
    pub workflow_id: Option<u64>,
    /// The workflow's name (`name:` in its file).
    pub name: String,
    /// The event that started it (`repository_dispatch`, `workflow_dispatch`).
    pub event: String,
    /// Its display title, `{dispatch_id}` replaced.
    pub title: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// How many times it was fetched by id so far.
    pub polls: u32,
    /// How it progresses.
    pub script: RunScript,
    /// Environments whose required reviewers have not answered yet: the
    /// run is `waiting` (and does not progress) until none is left.
    pub waiting_on: Vec<String>,
}

impl Run {
    /// Its `status` now: `waiting`, `queued`, `in_progress` or `completed`.
    pub fn status(&self) -> &'static str {
        if !self.waiting_on.is_empty() {
            return "waiting";
        }
        match self.script.polls_to_complete {
            Some(n) if self.polls >= n => "completed",
            _ if self.polls == 0 => "queued",
            _ => "in_progress",
        }
    }

    fn json(&self, base: &str) -> Value {
        let status = self.status();
        let created = self.created_at.format(&Rfc3339).unwrap_or_default();
        json!({
            "id": self.id,
            "name": self.name,
            "display_title": self.title,
            "event": self.event,
            "status": status,
            "conclusion": if status == "completed" { Value::from(self.script.conclusion.clone()) } else { Value::Null },
            "workflow_id": self.workflow_id,
            "run_number": self.id % 1000,
            "run_attempt": 1,
            "head_branch": "main",
            "head_sha": self.script.head_sha,
            "created_at": created,
            "updated_at": created,
            "url": format!("{base}/repos/{}/actions/runs/{}", self.repo, self.id),
            "html_url": format!("https://github.com/{}/actions/runs/{}", self.repo, self.id),
        })
    }
}

#[derive(Default)]
pub(crate) struct Runs {
    pub list: Vec<Run>,
    pub scripts: HashMap<String, RunScript>,
    pub modes: HashMap<String, WorkflowDispatchMode>,
    /// Runs waiting to appear: (repo, lists left, run).
    pub pending: Vec<(String, u32, Run)>,
}

pub(crate) fn create_run(
    state: &mut State,
    repo: &str,
    event: &str,
    title: &str,
    workflow: Option<(u64, String)>,
    script: &RunScript,
) -> u64 {
    let id = state.next_id();
    let (workflow_id, name) = match workflow {
        Some((id, name)) => (Some(id), name),
        None => (None, "Deploy".to_owned()),
    };
    let run = Run {
        id,
        repo: repo.into(),
        workflow_id,
        name,
        event: event.into(),
        title: title.into(),
        created_at: OffsetDateTime::now_utc(),
        polls: 0,
        script: script.clone(),
        waiting_on: Vec::new(),
    };
    if script.appears_after_lists > 0 {
        state
            .runs
            .pending
            .push((repo.into(), script.appears_after_lists, run));
    } else {
        state.runs.list.push(run);
    }
    id
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/repos/{owner}/{repo}", get(get_repo))
        .route(
            "/repos/{owner}/{repo}/dispatches",
            post(repository_dispatch),
        )
        .route(
            "/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches",
            post(workflow_dispatch),
        )
        .route("/repos/{owner}/{repo}/actions/runs", get(list_runs))
        .route(
            "/repos/{owner}/{repo}/actions/workflows/{workflow}/runs",
            get(list_workflow_runs),
        )
        .route("/repos/{owner}/{repo}/actions/runs/{id}", get(get_run))
}

fn readable(state: &State, caller: &Caller, repo: &str) -> Result<(), Response> {
    if !caller.sees(state, repo) {
        return Err(not_found());
    }
    Ok(())
}

/// Readable, and the token may write to it.
fn writable(state: &State, caller: &Caller, repo: &str) -> Result<(), Response> {
    readable(state, caller, repo)?;
    caller.write_refusal(repo).map_or(Ok(()), Err)
}

async fn get_repo(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    let full = format!("{owner}/{name}");
    let s = lock(&state);
    if let Err(r) = readable(&s, &caller, &full) {
        return r;
    }
    let repo = &s.repos[&full];
    axum::Json(json!({
        "id": 1, "name": name, "full_name": full, "owner": {"login": owner},
        "private": true, "default_branch": repo.default_branch,
        "html_url": format!("https://github.com/{full}"),
    }))
    .into_response()
}

/// `POST /repos/{owner}/{repo}/dispatches`, validated as GitHub does.
async fn repository_dispatch(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let full = format!("{owner}/{name}");
    let mut s = lock(&state);
    if let Err(r) = writable(&s, &caller, &full) {
        return r;
    }
    if body.len() >= 64 * 1024 {
        return unprocessable("The total size of the payload must be less than 64KB.");
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    if let Some(k) = obj
        .keys()
        .find(|k| *k != "event_type" && *k != "client_payload")
    {
        return unprocessable(&format!("Unknown key `{k}`"));
    }
    match obj.get("event_type") {
        Some(Value::String(t)) if (1..=100).contains(&t.chars().count()) => {}
        Some(Value::String(_)) => {
            return unprocessable("event_type must be between 1 and 100 characters");
        }
        _ => return unprocessable("event_type wasn't supplied."),
    }
    match obj.get("client_payload") {
        None => {}
        Some(Value::Object(p)) if p.len() <= 10 => {}
        Some(Value::Object(p)) => {
            return unprocessable(&format!(
                "No more than 10 properties are allowed; {} were supplied.",
                p.len()
            ));
        }
        Some(_) => return unprocessable("client_payload is not an object."),
    }
    let body = Value::Object(obj);
    s.dispatches
        .entry(full.clone())
        .or_default()
        .push(body.clone());
    if let Some(script) = s.runs.scripts.get(&full).cloned() {
        let title = script
            .title
            .replace("{dispatch_id}", dispatch_id(&body["client_payload"]));
        create_run(&mut s, &full, "repository_dispatch", &title, None, &script);
    }
    StatusCode::NO_CONTENT.into_response()
}

fn dispatch_id(v: &Value) -> &str {
    v.get("dispatch_id").and_then(Value::as_str).unwrap_or("")
}

/// `POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches`.
async fn workflow_dispatch(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, workflow)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let full = format!("{owner}/{name}");
    let mut s = lock(&state);
    if let Err(r) = writable(&s, &caller, &full) {
        return r;
    }
    let repo = s.repos[&full].clone();
    let Some(wf) = repo
        .workflows
        .iter()
        .find(|w| w.file == workflow || w.id.to_string() == workflow)
        .cloned()
    else {
        return not_found();
    };
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    let mode = s.runs.modes.get(&full).copied().unwrap_or_default();
    let allowed: &[&str] = if mode == WorkflowDispatchMode::OldServer {
        &["ref", "inputs"]
    } else {
        &["ref", "inputs", "return_run_details"]
    };
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid request.\n\n\"{k}\" is not a permitted key."),
        );
    }
    let Some(Value::String(git_ref)) = obj.get("ref") else {
        return unprocessable("ref wasn't supplied.");
    };
    let branch = git_ref.trim_start_matches("refs/heads/");
    if !repo.branches.iter().any(|b| b == branch) {
        return unprocessable(&format!("No ref found for: {git_ref}"));
    }
    let inputs = obj.get("inputs").cloned().unwrap_or(json!({}));
    let Value::Object(inputs_map) = &inputs else {
        return unprocessable("inputs is not an object.");
    };
    if inputs_map.len() > 25 {
        return unprocessable(&format!(
            "No more than 25 properties are allowed; {} were supplied.",
            inputs_map.len()
        ));
    }
    if let Some(declared) = &wf.inputs {
        let unexpected: Vec<&String> = inputs_map
            .keys()
            .filter(|k| !declared.contains(k))
            .collect();
        if !unexpected.is_empty() {
            return unprocessable(&format!("Unexpected inputs provided: {unexpected:?}"));
        }
    }
    if let Some((k, _)) = inputs_map.iter().find(|(_, v)| !v.is_string()) {
        return unprocessable(&format!("inputs.{k} is not a string"));
    }
    let details = obj
        .get("return_run_details")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut record = Value::Object(obj.clone());
    record["workflow_id"] = json!(wf.id);
    s.workflow_dispatches
        .entry(full.clone())
        .or_default()
        .push(record);
    let mut script = s.runs.scripts.get(&full).cloned();
    if mode == WorkflowDispatchMode::Details && details {
        // A run GitHub names in its answer exists already.
        if let Some(s) = script.as_mut() {
            s.appears_after_lists = 0;
        }
    }
    let run_id = script.map(|script| {
        let title = script.title.replace("{dispatch_id}", dispatch_id(&inputs));
        create_run(
            &mut s,
            &full,
            "workflow_dispatch",
            &title,
            Some((wf.id, wf.name.clone())),
            &script,
        )
    });
    match (mode, details, run_id) {
        (WorkflowDispatchMode::Details, true, Some(id)) => axum::Json(json!({
            "workflow_run_id": id,
            "run_url": format!("{}/repos/{full}/actions/runs/{id}", s.base_url),
            "html_url": format!("https://github.com/{full}/actions/runs/{id}"),
        }))
        .into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn list_runs(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> Response {
    runs_page(&state, &caller, &format!("{owner}/{name}"), None, &uri)
}

async fn list_workflow_runs(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, workflow)): Path<(String, String, String)>,
    uri: axum::http::Uri,
) -> Response {
    let full = format!("{owner}/{name}");
    let id = {
        let s = lock(&state);
        s.repos
            .get(&full)
            .and_then(|r| {
                r.workflows
                    .iter()
                    .find(|w| w.file == workflow || w.id.to_string() == workflow)
            })
            .map(|w| w.id)
    };
    match id {
        Some(id) => runs_page(&state, &caller, &full, Some(id), &uri),
        None => not_found(),
    }
}

fn runs_page(
    state: &Shared,
    caller: &Caller,
    repo: &str,
    workflow: Option<u64>,
    uri: &axum::http::Uri,
) -> Response {
    let mut s = lock(state);
    if let Err(r) = readable(&s, caller, repo) {
        return r;
    }
    // Runs that were waiting to appear come one list closer.
    let mut appeared = Vec::new();
    s.runs.pending.retain_mut(|(r, left, run)| {
        if r != repo {
            return true;
        }
        *left -= 1;
        if *left == 0 {
            appeared.push(run.clone());
            false
        } else {
            true
        }
    });
    s.runs.list.extend(appeared);
    let q = query_map(uri.query());
    let created_min = q
        .get("created")
        .and_then(|c| c.strip_prefix(">="))
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    let base = s.base_url.clone();
    let mut runs: Vec<Value> = s
        .runs
        .list
        .iter()
        .filter(|r| r.repo == repo)
        .filter(|r| workflow.is_none() || r.workflow_id == workflow)
        .filter(|r| q.get("event").is_none_or(|e| *e == r.event))
        .filter(|r| q.get("status").is_none_or(|st| st == r.status()))
        .filter(|r| q.get("head_sha").is_none_or(|h| *h == r.script.head_sha))
        .filter(|r| {
            created_min
                .is_none_or(|m| r.created_at.replace_nanosecond(0).unwrap_or(r.created_at) >= m)
        })
        .map(|r| r.json(&base))
        .collect();
    runs.reverse(); // newest first, as GitHub lists them
    paginate(&base, uri.path(), &q, runs, Some("workflow_runs"))
}

async fn get_run(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
) -> Response {
    let full = format!("{owner}/{name}");
    let mut s = lock(&state);
    if let Err(r) = readable(&s, &caller, &full) {
        return r;
    }
    let base = s.base_url.clone();
    match s
        .runs
        .list
        .iter_mut()
        .find(|r| r.id == id && r.repo == full)
    {
        Some(run) => {
            let body = run.json(&base);
            if run.waiting_on.is_empty() {
                run.polls += 1;
            }
            axum::Json(body).into_response()
        }
        None => not_found(),
    }
}
