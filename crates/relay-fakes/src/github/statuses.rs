//! Creating commit statuses (`POST /repos/{owner}/{repo}/statuses/{sha}`):
//! validated as GitHub does, recorded, and shown from then on by the
//! combined status of the commit.

use axum::Router;
use axum::extract::{Extension, Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::FakeGitHub;
use super::checks::CheckScript;
use super::deployments::{TOKEN_USER, now, user};
use super::server::{Caller, Shared, error, lock, not_found, unprocessable};

pub(super) fn routes() -> Router<Shared> {
    Router::new().route("/repos/{owner}/{repo}/statuses/{sha}", post(create_status))
}

async fn create_status(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, sha)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let repo = format!("{owner}/{name}");
    let mut s = lock(&state);
    if !caller.sees(&s, &repo) {
        return not_found();
    }
    if let Some(refusal) = caller.write_refusal(&repo) {
        return refusal;
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["state", "target_url", "description", "context"].contains(&k.as_str()))
    {
        return unprocessable(&format!("\"{k}\" is not a permitted key."));
    }
    if !(sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit())) {
        return unprocessable(&format!("No commit found for SHA: {sha}"));
    }
    let state_name = match obj.get("state").and_then(Value::as_str) {
        Some(st @ ("error" | "failure" | "pending" | "success")) => st.to_owned(),
        _ => return unprocessable("state must be one of error, failure, pending, success."),
    };
    for key in ["target_url", "description", "context"] {
        if obj
            .get(key)
            .is_some_and(|v| !(v.is_string() || (v.is_null() && key != "context")))
        {
            return unprocessable(&format!("{key} is not a string."));
        }
    }
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
    let context = text("context").unwrap_or_else(|| "default".into());
    let target_url = text("target_url");
    let id = s.next_id();
    let mut script = if state_name == "pending" {
        CheckScript::pending(&context)
    } else {
        CheckScript::done(&context, &state_name)
    };
    script.details_url.clone_from(&target_url);
    s.checks.add_created_status(&repo, &sha, id, script);
    let created = now();
    let creator = user(TOKEN_USER);
    let answer = json!({
        "url": format!("{}/repos/{repo}/statuses/{sha}", s.base_url),
        "avatar_url": creator["avatar_url"], "id": id, "node_id": format!("SC_{id}"),
        "state": state_name, "description": text("description"), "target_url": target_url,
        "context": context, "created_at": created, "updated_at": created, "creator": creator,
    });
    s.deployments
        .commit_statuses
        .push((repo, sha, answer.clone()));
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

impl FakeGitHub {
    /// The commit statuses created through the API on `sha` of `repo`, in order.
    pub fn created_statuses(&self, repo: &str, sha: &str) -> Vec<Value> {
        self.state()
            .deployments
            .commit_statuses
            .iter()
            .filter(|(r, s, _)| r == repo && s == sha)
            .map(|(_, _, v)| v.clone())
            .collect()
    }
}
