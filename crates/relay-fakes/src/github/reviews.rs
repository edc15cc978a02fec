//! Environments with required reviewers, and the runs they hold: a job
//! that names such an environment leaves its run `waiting`, with a
//! deployment of GitHub's own (`task: deploy`) `pending`, until a reviewer
//! answers `POST …/actions/runs/{id}/pending_deployments`. Approval lets
//! the run go on (its deployment `queued`); rejection ends the run with
//! `failure` (its deployment `failure`).

use axum::Router;
use axum::extract::{Extension, Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::deployments::{
    actions_deployment, actions_status, add_status, environment, insert, user,
};
use super::runs::{RunScript, create_run};
use super::server::{Caller, Shared, error, lock, not_found, unprocessable};
use super::{Access, FakeGitHub};

pub(super) fn routes() -> Router<Shared> {
    Router::new().route(
        "/repos/{owner}/{repo}/actions/runs/{id}/pending_deployments",
        get(pending).post(review),
    )
}

/// `GET …/actions/runs/{id}/pending_deployments`.
async fn pending(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
) -> Response {
    let repo = format!("{owner}/{name}");
    let s = lock(&state);
    if !caller.sees(&s, &repo) || !s.runs.list.iter().any(|r| r.id == id && r.repo == repo) {
        return not_found();
    }
    let base = s.base_url.clone();
    let can_approve = !matches!(caller.access, Access::ReadOnly(_));
    // GitHub's timestamps have whole seconds.
    let started = s.runs.list.iter().find(|r| r.id == id).and_then(|r| {
        r.created_at
            .replace_nanosecond(0)
            .ok()?
            .format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    let items: Vec<Value> = s
        .deployments
        .pending
        .get(&id)
        .into_iter()
        .flatten()
        .filter_map(|(env, _)| {
            let e = s
                .deployments
                .environments
                .get(&repo)?
                .iter()
                .find(|e| &e.name == env)?;
            let full = e.json(&base, &repo);
            Some(json!({
                "environment": {
                    "id": full["id"], "node_id": full["node_id"], "name": full["name"],
                    "url": full["url"], "html_url": full["html_url"],
                },
                "wait_timer": 0,
                "wait_timer_started_at": started,
                "current_user_can_approve": can_approve,
                "reviewers": e.reviewers.iter()
                    .map(|r| json!({"type": "User", "reviewer": user(r)}))
                    .collect::<Vec<_>>(),
            }))
        })
        .collect();
    axum::Json(items).into_response()
}

/// `POST …/actions/runs/{id}/pending_deployments`.
async fn review(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
    body: axum::body::Bytes,
) -> Response {
    let repo = format!("{owner}/{name}");
    let mut s = lock(&state);
    if !caller.sees(&s, &repo) || !s.runs.list.iter().any(|r| r.id == id && r.repo == repo) {
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
        .find(|k| !["environment_ids", "state", "comment"].contains(&k.as_str()))
    {
        return unprocessable(&format!("\"{k}\" is not a permitted key."));
    }
    let ids: Vec<u64> = match obj.get("environment_ids") {
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_u64) => {
            a.iter().filter_map(Value::as_u64).collect()
        }
        _ => return unprocessable("environment_ids must be a non-empty array of integers."),
    };
    let approved = match obj.get("state").and_then(Value::as_str) {
        Some("approved") => true,
        Some("rejected") => false,
        _ => return unprocessable("state must be approved or rejected."),
    };
    if !obj.get("comment").is_some_and(Value::is_string) {
        return unprocessable("comment wasn't supplied.");
    }
    let names: Vec<String> = s
        .deployments
        .environments
        .get(&repo)
        .into_iter()
        .flatten()
        .filter(|e| ids.contains(&e.id))
        .map(|e| e.name.clone())
        .collect();
    let waiting = s.deployments.pending.get(&id).cloned().unwrap_or_default();
    let reviewed: Vec<(String, u64)> = waiting
        .iter()
        .filter(|(env, _)| names.contains(env))
        .cloned()
        .collect();
    if reviewed.len() != ids.len() {
        return unprocessable(&format!(
            "No pending deployment requests to approve or reject for environment ids {ids:?}"
        ));
    }
    s.deployments
        .pending
        .entry(id)
        .or_default()
        .retain(|(env, _)| !names.contains(env));
    for (_, deployment) in &reviewed {
        let st = if approved { "queued" } else { "failure" };
        add_status(&mut s, *deployment, actions_status(st), true);
    }
    if let Some(run) = s.runs.list.iter_mut().find(|r| r.id == id) {
        run.waiting_on.retain(|env| !names.contains(env));
        if !approved {
            run.waiting_on.clear();
            run.script.polls_to_complete = Some(run.polls);
            run.script.conclusion = "failure".into();
        }
    }
    let base = s.base_url.clone();
    let answer: Vec<Value> = s
        .deployments
        .list
        .iter()
        .filter(|d| reviewed.iter().any(|(_, id)| *id == d.id))
        .map(|d| d.json(&base))
        .collect();
    axum::Json(answer).into_response()
}

impl FakeGitHub {
    /// Protects environment `name` of `repo` with required reviewers
    /// (creating it if needed). Returns its id.
    pub fn environment(&self, repo: &str, name: &str, reviewers: &[&str]) -> u64 {
        let mut s = self.state();
        let env = environment(&mut s, repo, name);
        env.reviewers = reviewers.iter().map(|r| (*r).to_owned()).collect();
        env.id
    }

    /// A run (`push`, titled `title`) whose job names `environment`: it
    /// waits for the environment's reviewers (one, `octocat`, unless
    /// [`FakeGitHub::environment`] named others), with GitHub's own
    /// deployment of it `pending`; approved, it goes on as `script` says.
    pub fn waiting_run(
        &self,
        repo: &str,
        environment_name: &str,
        title: &str,
        script: RunScript,
    ) -> u64 {
        let mut s = self.state();
        let env = environment(&mut s, repo, environment_name);
        if env.reviewers.is_empty() {
            env.reviewers = vec!["octocat".into()];
        }
        let script = script.appears_after(0);
        let run = create_run(&mut s, repo, "push", title, None, &script);
        let head_sha = script.head_sha.clone();
        let deployment = insert(
            &mut s,
            actions_deployment(repo, environment_name, &head_sha),
        );
        add_status(&mut s, deployment, actions_status("pending"), true);
        s.deployments
            .pending
            .entry(run)
            .or_default()
            .push((environment_name.to_owned(), deployment));
        if let Some(r) = s.runs.list.iter_mut().find(|r| r.id == run) {
            r.waiting_on.push(environment_name.to_owned());
        }
        run
    }
}
