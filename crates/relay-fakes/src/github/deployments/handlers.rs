//! The HTTP side of the deployments fake: strict request checks, the
//! `required_contexts` check, filters and pages.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Extension, Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::super::State;
use super::super::server::{
    Caller, Shared, error, lock, not_found, paginate, query_map, unprocessable,
};
use super::{FakeDeployment, FakeStatus, TOKEN_USER, add_status, insert, now};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/deployments",
            get(list_deployments).post(create_deployment),
        )
        .route(
            "/repos/{owner}/{repo}/deployments/{id}",
            get(get_deployment),
        )
        .route(
            "/repos/{owner}/{repo}/deployments/{id}/statuses",
            get(list_statuses).post(create_status),
        )
        .route("/repos/{owner}/{repo}/environments", get(list_environments))
        .route(
            "/repos/{owner}/{repo}/environments/{name}",
            get(get_environment),
        )
}

fn writable(state: &State, caller: &Caller, repo: &str) -> Result<(), Response> {
    if !caller.sees(state, repo) {
        return Err(not_found());
    }
    caller.write_refusal(repo).map_or(Ok(()), Err)
}

/// A stand-in commit for a branch, stable per repository and branch.
fn branch_sha(repo: &str, branch: &str) -> String {
    let digest = Sha256::digest(format!("{repo}@{branch}").as_bytes());
    crate::hex(&digest[..20])
}

/// What `ref` names: a full sha, or a branch of the repository.
fn resolve(state: &State, repo: &str, git_ref: &str) -> Option<String> {
    if git_ref.len() == 40 && git_ref.chars().all(|c| c.is_ascii_hexdigit()) {
        return Some(git_ref.to_ascii_lowercase());
    }
    let branch = git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref);
    state.repos[repo]
        .branches
        .iter()
        .any(|b| b == branch)
        .then(|| branch_sha(repo, branch))
}

/// Whether a value is of the JSON kind a field takes.
type JsonKind = fn(&Value) -> bool;

/// A 422 unless `obj[key]` is absent or of the JSON kind `ok` accepts.
fn typed(obj: &Map<String, Value>, key: &str, what: &str, ok: JsonKind) -> Result<(), Response> {
    match obj.get(key) {
        Some(v) if !ok(v) => Err(unprocessable(&format!("{key} is not {what}."))),
        _ => Ok(()),
    }
}

/// `POST /repos/{owner}/{repo}/deployments`.
async fn create_deployment(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let repo = format!("{owner}/{name}");
    let mut s = lock(&state);
    if let Err(r) = writable(&s, &caller, &repo) {
        return r;
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    let keys: [&str; 9] = [
        "ref",
        "task",
        "auto_merge",
        "required_contexts",
        "payload",
        "environment",
        "description",
        "transient_environment",
        "production_environment",
    ];
    if let Some(k) = obj.keys().find(|k| !keys.contains(&k.as_str())) {
        return unprocessable(&format!("\"{k}\" is not a permitted key."));
    }
    let checks: [(&str, &str, JsonKind); 8] = [
        ("ref", "a string", Value::is_string),
        ("task", "a string", Value::is_string),
        ("environment", "a string", Value::is_string),
        ("description", "a string", |v| v.is_string() || v.is_null()),
        ("auto_merge", "a boolean", Value::is_boolean),
        ("transient_environment", "a boolean", Value::is_boolean),
        ("production_environment", "a boolean", Value::is_boolean),
        ("payload", "an object or a string", |v| {
            v.is_object() || v.is_string()
        }),
    ];
    for (key, what, ok) in checks {
        if let Err(r) = typed(&obj, key, what, ok) {
            return r;
        }
    }
    let Some(git_ref) = obj.get("ref").and_then(Value::as_str) else {
        return unprocessable("ref wasn't supplied.");
    };
    let required = match obj.get("required_contexts") {
        None => None,
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        ),
        Some(_) => return unprocessable("required_contexts is not an array of strings."),
    };
    let Some(sha) = resolve(&s, &repo, git_ref) else {
        return unprocessable(&format!("No ref found for: {git_ref}"));
    };
    if obj
        .get("auto_merge")
        .and_then(Value::as_bool)
        .unwrap_or(true)
    {
        // Merging the default branch in is out of this fake's reach; refuse
        // loudly rather than pretend it happened.
        return unprocessable("this fake does not merge: send auto_merge: false");
    }
    let contexts = s.checks.contexts(&repo, &sha);
    let failing = match &required {
        None => contexts.iter().any(|(_, state)| state != "success"),
        Some(names) => names.iter().any(|n| {
            !contexts
                .iter()
                .any(|(c, state)| c == n && state == "success")
        }),
    };
    if failing {
        let listed: Vec<Value> = contexts
            .iter()
            .map(|(c, state)| json!({"context": c, "state": state}))
            .collect();
        return (
            StatusCode::CONFLICT,
            axum::Json(json!({
                "message": format!("Conflict: Commit status checks failed for {git_ref}."),
                "errors": [{"contexts": listed, "resource": "Deployment", "field": "required_contexts", "code": "invalid"}],
                "documentation_url": "https://docs.github.com/rest/deployments/deployments#create-a-deployment",
            })),
        )
            .into_response();
    }
    let environment = obj
        .get("environment")
        .and_then(Value::as_str)
        .unwrap_or("production")
        .to_owned();
    let production = obj
        .get("production_environment")
        .and_then(Value::as_bool)
        .unwrap_or(environment == "production");
    let d = FakeDeployment {
        id: 0,
        repo: repo.clone(),
        sha,
        git_ref: git_ref.to_owned(),
        task: obj
            .get("task")
            .and_then(Value::as_str)
            .unwrap_or("deploy")
            .to_owned(),
        original_environment: environment.clone(),
        environment,
        payload: obj.get("payload").cloned().unwrap_or(json!({})),
        description: obj
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        creator: TOKEN_USER.into(),
        production,
        transient: obj
            .get("transient_environment")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        created_at: now(),
        statuses: Vec::new(),
    };
    let id = insert(&mut s, d);
    let base = s.base_url.clone();
    let body = s
        .deployments
        .list
        .iter()
        .find(|d| d.id == id)
        .map(|d| d.json(&base));
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// `GET /repos/{owner}/{repo}/deployments`: newest first, filtered by
/// `sha`, `ref`, `task` and `environment`.
async fn list_deployments(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> Response {
    let repo = format!("{owner}/{name}");
    let s = lock(&state);
    if !caller.sees(&s, &repo) {
        return not_found();
    }
    let q = query_map(uri.query());
    let decoded: BTreeMap<&str, String> = ["sha", "ref", "task", "environment"]
        .into_iter()
        .filter_map(|k| q.get(k).map(|v| (k, super::super::issues::decode(v))))
        .collect();
    let matches = |d: &FakeDeployment| {
        decoded.iter().all(|(k, v)| match *k {
            "sha" => d.sha == *v,
            "ref" => d.git_ref == *v,
            "task" => d.task == *v,
            _ => d.environment == *v,
        })
    };
    let items: Vec<Value> = s
        .deployments
        .list
        .iter()
        .rev()
        .filter(|d| d.repo == repo && matches(d))
        .map(|d| d.json(&s.base_url))
        .collect();
    paginate(&s.base_url, uri.path(), &q, items, None)
}

async fn get_deployment(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
) -> Response {
    let repo = format!("{owner}/{name}");
    let s = lock(&state);
    if !caller.sees(&s, &repo) {
        return not_found();
    }
    match s
        .deployments
        .list
        .iter()
        .find(|d| d.id == id && d.repo == repo)
    {
        Some(d) => axum::Json(d.json(&s.base_url)).into_response(),
        None => not_found(),
    }
}

/// `GET …/deployments/{id}/statuses`: newest first.
async fn list_statuses(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
    uri: axum::http::Uri,
) -> Response {
    let repo = format!("{owner}/{name}");
    let s = lock(&state);
    if !caller.sees(&s, &repo) {
        return not_found();
    }
    let Some(d) = s
        .deployments
        .list
        .iter()
        .find(|d| d.id == id && d.repo == repo)
    else {
        return not_found();
    };
    let items: Vec<Value> = d
        .statuses
        .iter()
        .rev()
        .map(|st| st.json(&s.base_url, d))
        .collect();
    paginate(
        &s.base_url,
        uri.path(),
        &query_map(uri.query()),
        items,
        None,
    )
}

/// `POST …/deployments/{id}/statuses`.
async fn create_status(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
    body: axum::body::Bytes,
) -> Response {
    let repo = format!("{owner}/{name}");
    let mut s = lock(&state);
    if let Err(r) = writable(&s, &caller, &repo) {
        return r;
    }
    if !s
        .deployments
        .list
        .iter()
        .any(|d| d.id == id && d.repo == repo)
    {
        return not_found();
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    let keys: [&str; 7] = [
        "state",
        "target_url",
        "log_url",
        "description",
        "environment",
        "environment_url",
        "auto_inactive",
    ];
    if let Some(k) = obj.keys().find(|k| !keys.contains(&k.as_str())) {
        return unprocessable(&format!("\"{k}\" is not a permitted key."));
    }
    let states: [&str; 7] = [
        "error",
        "failure",
        "inactive",
        "in_progress",
        "queued",
        "pending",
        "success",
    ];
    let Some(state_name) = obj.get("state").and_then(Value::as_str) else {
        return unprocessable("state wasn't supplied.");
    };
    if !states.contains(&state_name) {
        return unprocessable(&format!("state `{state_name}` is not included in the list"));
    }
    let mut text = BTreeMap::new();
    for key in [
        "target_url",
        "log_url",
        "description",
        "environment",
        "environment_url",
    ] {
        match obj.get(key) {
            None => {}
            Some(Value::String(v)) => {
                text.insert(key, v.clone());
            }
            Some(_) => return unprocessable(&format!("{key} is not a string.")),
        }
    }
    if text
        .get("description")
        .is_some_and(|d| d.chars().count() > 140)
    {
        return unprocessable("description is too long (maximum is 140 characters)");
    }
    for key in ["target_url", "log_url", "environment_url"] {
        if let Some(url) = text.get(key).filter(|u| !u.is_empty())
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return unprocessable(&format!("{key} must be an http(s) URL"));
        }
    }
    let auto_inactive = match obj.get("auto_inactive") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return unprocessable("auto_inactive is not a boolean."),
    };
    let get = |k: &str| text.get(k).cloned().unwrap_or_default();
    let log_url = get("log_url");
    let status = FakeStatus {
        id: 0,
        state: state_name.to_owned(),
        description: get("description"),
        environment: get("environment"),
        environment_url: get("environment_url"),
        target_url: text
            .get("target_url")
            .cloned()
            .unwrap_or_else(|| log_url.clone()),
        log_url,
        creator: TOKEN_USER.into(),
        created_at: now(),
    };
    add_status(&mut s, id, status, auto_inactive);
    let base = s.base_url.clone();
    let d = s
        .deployments
        .list
        .iter()
        .find(|d| d.id == id)
        .expect("checked above");
    let body = d.statuses.last().map(|st| st.json(&base, d));
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn list_environments(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> Response {
    let repo = format!("{owner}/{name}");
    let s = lock(&state);
    if !caller.sees(&s, &repo) {
        return not_found();
    }
    let items: Vec<Value> = s
        .deployments
        .environments
        .get(&repo)
        .into_iter()
        .flatten()
        .map(|e| e.json(&s.base_url, &repo))
        .collect();
    paginate(
        &s.base_url,
        uri.path(),
        &query_map(uri.query()),
        items,
        Some("environments"),
    )
}

/// One environment, 404 until something created it (a deployment, a job
/// naming it, or its settings).
async fn get_environment(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, environment)): Path<(String, String, String)>,
) -> Response {
    let repo = format!("{owner}/{name}");
    let s = lock(&state);
    if !caller.sees(&s, &repo) {
        return not_found();
    }
    s.deployments
        .environments
        .get(&repo)
        .into_iter()
        .flatten()
        .find(|e| e.name == environment)
        .map_or_else(not_found, |e| {
            axum::Json(e.json(&s.base_url, &repo)).into_response()
        })
}
