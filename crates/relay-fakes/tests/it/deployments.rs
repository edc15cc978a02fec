//! The deployments fake behaves as GitHub documents: required contexts,
//! `auto_inactive`, environments, pending reviews — and answers in the
//! shapes of GitHub's OpenAPI description.

#![allow(clippy::unwrap_used)]

use relay_fakes::CheckScript;
use relay_fakes::{Access, DEFAULT_TOKEN, FakeGitHub, RunScript};
use relay_testkit::openapi::OpenApi;
use serde_json::{Value, json};

const REPO: &str = "octo/deploy";
const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
const READER: &str = "ghs_ReadOnlyToken";

fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    gh.token(READER, Access::ReadOnly(vec![REPO.into()]));
    gh
}

fn call(gh: &FakeGitHub, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call_as(gh, DEFAULT_TOKEN, method, path, body)
}

fn call_as(
    gh: &FakeGitHub,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let client = reqwest::Client::builder()
                .user_agent("testkit-test")
                .build()
                .unwrap();
            let url = format!("{}{path}", gh.url());
            let mut req = match method {
                "POST" => client.post(url),
                _ => client.get(url),
            };
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.bearer_auth(token).send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json().await.unwrap_or(Value::Null))
        })
}

/// Checks an answer against the documented response schema, when the
/// OpenAPI peer is installed.
fn documented(api: Option<&OpenApi>, method: &str, path: &str, status: u16, body: &Value) {
    if let Some(api) = api {
        api.check_response(method, path, status, body)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

fn deploy_body(environment: &str) -> Value {
    json!({
        "ref": SHA, "task": "deploy-relay", "environment": environment,
        "payload": {"sha": SHA}, "description": "d", "auto_merge": false,
        "required_contexts": [], "transient_environment": false,
    })
}

fn create(gh: &FakeGitHub, body: Value) -> (u16, Value) {
    call(
        gh,
        "POST",
        &format!("/repos/{REPO}/deployments"),
        Some(body),
    )
}

fn status(gh: &FakeGitHub, id: u64, state: &str) -> (u16, Value) {
    call(
        gh,
        "POST",
        &format!("/repos/{REPO}/deployments/{id}/statuses"),
        Some(json!({"state": state, "log_url": "https://github.com/octo/deploy/actions/runs/1"})),
    )
}

#[test]
fn a_deployment_is_created_in_githubs_shape_with_its_environment() {
    let api = OpenApi::load();
    let gh = fake();
    assert!(gh.environments(REPO).is_empty());
    let (code, d) = create(&gh, deploy_body("staging"));
    assert_eq!(code, 201, "{d}");
    documented(
        api.as_ref(),
        "POST",
        &format!("/repos/{REPO}/deployments"),
        201,
        &d,
    );
    assert_eq!(
        (d["sha"].as_str(), d["task"].as_str()),
        (Some(SHA), Some("deploy-relay"))
    );
    assert_eq!(d["production_environment"], false);
    if let Some(api) = &api {
        let mut broken = d.clone();
        broken.as_object_mut().unwrap().remove("sha");
        let path = format!("/repos/{REPO}/deployments");
        assert!(
            api.check_response("POST", &path, 201, &broken).is_err(),
            "the check can fail"
        );
    }
    assert_eq!(
        gh.environments(REPO),
        ["staging"],
        "created by its first deployment"
    );
    let (_, prod) = create(&gh, deploy_body("production"));
    assert_eq!(
        prod["production_environment"], true,
        "GitHub's default for `production`"
    );
    let (code, envs) = call(&gh, "GET", &format!("/repos/{REPO}/environments"), None);
    assert_eq!((code, envs["total_count"].as_u64()), (200, Some(2)));
    documented(
        api.as_ref(),
        "GET",
        &format!("/repos/{REPO}/environments"),
        200,
        &envs,
    );
    // One environment: unprotected as first use made it, then with reviewers.
    let one = format!("/repos/{REPO}/environments/production");
    let (code, env) = call(&gh, "GET", &one, None);
    assert_eq!((code, env["name"].as_str()), (200, Some("production")));
    assert_eq!(env["protection_rules"], json!([]));
    documented(api.as_ref(), "GET", &one, 200, &env);
    gh.environment(REPO, "production", &["octocat"]);
    let (_, env) = call(&gh, "GET", &one, None);
    assert_eq!(env["protection_rules"][0]["type"], "required_reviewers");
    documented(api.as_ref(), "GET", &one, 200, &env);
    let (code, _) = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/environments/nope"),
        None,
    );
    assert_eq!(code, 404, "an environment nothing created yet");
    // A branch resolves to a commit; an unknown ref does not.
    let (code, by_branch) = create(
        &gh,
        json!({"ref": "main", "auto_merge": false, "required_contexts": []}),
    );
    assert_eq!(code, 201);
    assert_eq!(by_branch["sha"].as_str().unwrap().len(), 40);
    assert_eq!(
        by_branch["environment"], "production",
        "GitHub's default environment"
    );
    let (code, _) = create(
        &gh,
        json!({"ref": "nope", "auto_merge": false, "required_contexts": []}),
    );
    assert_eq!(code, 422);
    if let Some(api) = &api {
        for r in gh.requests().iter().filter(|r| r.method == "POST") {
            api.validate(r).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn strict_like_github_about_the_request() {
    let gh = fake();
    for bad in [
        json!({"task": "x"}),
        json!({"ref": SHA, "auto_merge": false, "required_contexts": "ci"}),
        json!({"ref": SHA, "auto_merge": false, "payload": 3}),
        json!({"ref": SHA, "auto_merge": false, "colour": "red"}),
        json!({"ref": SHA, "auto_merge": "no"}),
        json!({"ref": SHA, "required_contexts": []}),
    ] {
        let (code, body) = create(&gh, bad.clone());
        assert_eq!(code, 422, "{bad} → {body}");
    }
    let (code, _) = call_as(
        &gh,
        READER,
        "POST",
        &format!("/repos/{REPO}/deployments"),
        Some(deploy_body("staging")),
    );
    assert_eq!(code, 403, "a token that may only read");
    let (code, _) = call(
        &gh,
        "POST",
        "/repos/octo/other/deployments",
        Some(deploy_body("staging")),
    );
    assert_eq!(code, 404);
    let (_, d) = create(&gh, deploy_body("staging"));
    let id = d["id"].as_u64().unwrap();
    let path = format!("/repos/{REPO}/deployments/{id}/statuses");
    for bad in [
        json!({}),
        json!({"state": "done"}),
        json!({"state": "success", "description": "x".repeat(141)}),
        json!({"state": "success", "auto_inactive": "yes"}),
        json!({"state": "success", "environment_url": "javascript:alert(1)"}),
        json!({"state": "success", "colour": "red"}),
    ] {
        let (code, body) = call(&gh, "POST", &path, Some(bad.clone()));
        assert_eq!(code, 422, "{bad} → {body}");
    }
    let (code, _) = call(
        &gh,
        "POST",
        &format!("/repos/{REPO}/deployments/999999/statuses"),
        Some(json!({"state": "success"})),
    );
    assert_eq!(code, 404);
}

#[test]
fn required_contexts_are_checked_unless_sent_empty() {
    let api = OpenApi::load();
    let gh = fake();
    gh.check_run(REPO, SHA, CheckScript::after("build", 1, "success"));
    gh.commit_status(REPO, SHA, CheckScript::done("lint", "success"));
    let mut omitted = deploy_body("staging");
    omitted.as_object_mut().unwrap().remove("required_contexts");
    let (code, body) = create(&gh, omitted.clone());
    assert_eq!(code, 409, "build is still running: {body}");
    assert_eq!(
        body["message"],
        format!("Conflict: Commit status checks failed for {SHA}.")
    );
    assert_eq!(body["errors"][0]["field"], "required_contexts");
    let contexts = body["errors"][0]["contexts"].to_string();
    assert!(
        contexts.contains(r#"{"context":"build","state":"pending"}"#),
        "{contexts}"
    );
    let mut named = deploy_body("staging");
    named["required_contexts"] = json!(["lint"]);
    assert_eq!(
        create(&gh, named).0,
        201,
        "only `lint` is required, and it passed"
    );
    let mut missing = deploy_body("staging");
    missing["required_contexts"] = json!(["security-scan"]);
    assert_eq!(
        create(&gh, missing).0,
        409,
        "a required context never reported"
    );
    assert_eq!(
        create(&gh, deploy_body("staging")).0,
        201,
        "`[]` skips the check"
    );
    // Once the build has passed (a poll later), every context is green.
    call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/commits/{SHA}/check-runs"),
        None,
    );
    call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/commits/{SHA}/check-runs"),
        None,
    );
    assert_eq!(create(&gh, omitted).0, 201);
    if let Some(api) = &api {
        for r in gh.requests().iter().filter(|r| r.method == "POST") {
            api.validate(r).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn auto_inactive_marks_earlier_non_production_successes() {
    let api = OpenApi::load();
    let gh = fake();
    let mut ids = std::collections::BTreeMap::new();
    for env in ["staging", "production"] {
        let mut made = Vec::new();
        for _ in 0..3 {
            let (_, d) = create(&gh, deploy_body(env));
            made.push(d["id"].as_u64().unwrap());
        }
        ids.insert(env, made);
    }
    for env in ["staging", "production"] {
        let [first, second, third] = ids[env][..] else {
            unreachable!()
        };
        status(&gh, first, "success");
        status(&gh, second, "failure");
        let (code, st) = status(&gh, third, "success");
        assert_eq!(code, 201);
        documented(
            api.as_ref(),
            "POST",
            &format!("/repos/{REPO}/deployments/{third}/statuses"),
            201,
            &st,
        );
        assert_eq!(st["target_url"], st["log_url"], "log_url sets target_url");
        let want: &[&str] = if env == "staging" {
            &["success", "inactive"]
        } else {
            &["success"]
        };
        assert_eq!(gh.deployment_states(first), want, "{env}");
        assert_eq!(
            gh.deployment_states(second),
            ["failure"],
            "only successes turn inactive"
        );
    }
    // Newest first, with the inactive GitHub added.
    let first = ids["staging"][0];
    let path = format!("/repos/{REPO}/deployments/{first}/statuses");
    let (_, list) = call(&gh, "GET", &path, None);
    documented(api.as_ref(), "GET", &path, 200, &list);
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["inactive", "success"]);
    // auto_inactive: false, and transient environments, are left alone.
    let (_, a) = create(&gh, deploy_body("qa"));
    let a = a["id"].as_u64().unwrap();
    status(&gh, a, "success");
    let (_, b) = create(&gh, deploy_body("qa"));
    call(
        &gh,
        "POST",
        &format!("/repos/{REPO}/deployments/{}/statuses", b["id"]),
        Some(json!({"state": "success", "auto_inactive": false})),
    );
    assert_eq!(gh.deployment_states(a), ["success"]);
    let mut transient = deploy_body("preview");
    transient["transient_environment"] = json!(true);
    let (_, t) = create(&gh, transient);
    let t = t["id"].as_u64().unwrap();
    status(&gh, t, "success");
    let (_, later) = create(&gh, deploy_body("preview"));
    status(&gh, later["id"].as_u64().unwrap(), "success");
    assert_eq!(gh.deployment_states(t), ["success"]);
    // GitHub's own deployments of environment jobs count too.
    let job = gh.environment_job(REPO, "staging", SHA, "success");
    let third = ids["staging"][2];
    assert_eq!(gh.deployment_states(third), ["success", "inactive"]);
    assert_eq!(
        gh.deployment_states(job),
        ["queued", "in_progress", "success"]
    );
}

#[test]
fn lists_filter_page_and_keep_githubs_order() {
    let api = OpenApi::load();
    let gh = fake();
    for i in 0..130 {
        let mut body = deploy_body(if i % 2 == 0 { "staging" } else { "production" });
        body["description"] = json!(format!("n{i}"));
        create(&gh, body);
    }
    gh.environment_job(REPO, "staging", SHA, "success");
    let path =
        format!("/repos/{REPO}/deployments?task=deploy-relay&environment=staging&per_page=50");
    let (code, page) = call(&gh, "GET", &path, None);
    assert_eq!(code, 200);
    documented(api.as_ref(), "GET", &path, 200, &page);
    let list = page.as_array().unwrap();
    assert_eq!(list.len(), 50);
    assert_eq!(list[0]["description"], "n128", "newest first");
    assert!(
        list.iter()
            .all(|d| d["environment"] == "staging" && d["task"] == "deploy-relay")
    );
    let (_, by_task) = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/deployments?task=deploy"),
        None,
    );
    assert_eq!(by_task.as_array().unwrap().len(), 1);
    let (_, none) = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/deployments?sha=0000000000000000000000000000000000000000"),
        None,
    );
    assert_eq!(none, json!([]));
    let id = list[0]["id"].as_u64().unwrap();
    let one = format!("/repos/{REPO}/deployments/{id}");
    let (code, got) = call(&gh, "GET", &one, None);
    assert_eq!((code, &got["id"]), (200, &json!(id)));
    documented(api.as_ref(), "GET", &one, 200, &got);
}

#[test]
fn a_run_waits_for_reviewers_until_approved() {
    let api = OpenApi::load();
    let gh = fake();
    let env_id = gh.environment(REPO, "production", &["alice"]);
    let run = gh.waiting_run(
        REPO,
        "production",
        "Deploy production",
        RunScript::succeeds_after(1).head_sha(SHA),
    );
    let other = gh.add_run(REPO, "push", "CI", RunScript::succeeds_after(1));
    let (_, waiting) = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/actions/runs?status=waiting"),
        None,
    );
    let ids: Vec<u64> = waiting["workflow_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [run], "not {other}");
    let path = format!("/repos/{REPO}/actions/runs/{run}/pending_deployments");
    let (code, pending) = call(&gh, "GET", &path, None);
    assert_eq!(code, 200);
    documented(api.as_ref(), "GET", &path, 200, &pending);
    assert_eq!(pending[0]["environment"]["id"], env_id);
    assert_eq!(pending[0]["reviewers"][0]["reviewer"]["login"], "alice");
    assert_eq!(pending[0]["current_user_can_approve"], true);
    let (_, as_reader) = call_as(&gh, READER, "GET", &path, None);
    assert_eq!(as_reader[0]["current_user_can_approve"], false);
    let approve = json!({"environment_ids": [env_id], "state": "approved", "comment": "ship it"});
    assert_eq!(
        call_as(&gh, READER, "POST", &path, Some(approve.clone())).0,
        403
    );
    for bad in [
        json!({"environment_ids": [env_id + 100], "state": "approved", "comment": ""}),
        json!({"environment_ids": [], "state": "approved", "comment": ""}),
        json!({"environment_ids": [env_id], "state": "ok", "comment": ""}),
        json!({"environment_ids": [env_id], "state": "approved"}),
    ] {
        assert_eq!(call(&gh, "POST", &path, Some(bad.clone())).0, 422, "{bad}");
    }
    let (code, answer) = call(&gh, "POST", &path, Some(approve.clone()));
    assert_eq!(code, 200, "{answer}");
    documented(api.as_ref(), "POST", &path, 200, &answer);
    assert_eq!(
        (
            answer[0]["task"].as_str(),
            answer[0]["environment"].as_str()
        ),
        (Some("deploy"), Some("production"))
    );
    let job = answer[0]["id"].as_u64().unwrap();
    assert_eq!(gh.deployment_states(job), ["pending", "queued"]);
    assert_eq!(call(&gh, "GET", &path, None).1, json!([]));
    let (_, r) = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/actions/runs/{run}"),
        None,
    );
    assert_eq!(r["status"], "queued", "it goes on");
    assert_eq!(
        call(&gh, "POST", &path, Some(approve)).0,
        422,
        "nothing left to review"
    );
    if let Some(api) = &api {
        for r in gh.requests().iter().filter(|r| r.status < 300) {
            api.validate(r).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn a_rejected_run_fails() {
    let gh = fake();
    let run = gh.waiting_run(REPO, "production", "Deploy", RunScript::succeeds_after(1));
    let path = format!("/repos/{REPO}/actions/runs/{run}/pending_deployments");
    let (_, pending) = call(&gh, "GET", &path, None);
    let env_id = pending[0]["environment"]["id"].clone();
    assert_eq!(pending[0]["reviewers"][0]["reviewer"]["login"], "octocat");
    let (code, answer) = call(
        &gh,
        "POST",
        &path,
        Some(json!({"environment_ids": [env_id], "state": "rejected", "comment": "not today"})),
    );
    assert_eq!(code, 200);
    let job = answer[0]["id"].as_u64().unwrap();
    assert_eq!(gh.deployment_states(job), ["pending", "failure"]);
    let (_, r) = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/actions/runs/{run}"),
        None,
    );
    assert_eq!(
        (r["status"].as_str(), r["conclusion"].as_str()),
        (Some("completed"), Some("failure"))
    );
}

#[test]
fn created_commit_statuses_are_checked_and_show_in_the_combined_status() {
    let gh = fake();
    let path = format!("/repos/{REPO}/statuses/{SHA}");
    for bad in [
        json!({"state": "done", "context": "deploy/staging"}),
        json!({"context": "deploy/staging"}),
        json!({"state": "success", "colour": "red"}),
        json!({"state": "success", "context": 3}),
    ] {
        assert_eq!(call(&gh, "POST", &path, Some(bad.clone())).0, 422, "{bad}");
    }
    let short = format!("/repos/{REPO}/statuses/{}", &SHA[..7]);
    assert_eq!(
        call(&gh, "POST", &short, Some(json!({"state": "success"}))).0,
        422
    );
    assert_eq!(
        call_as(
            &gh,
            READER,
            "POST",
            &path,
            Some(json!({"state": "success"}))
        )
        .0,
        403
    );
    let (code, created) = call(
        &gh,
        "POST",
        &path,
        Some(
            json!({"state": "pending", "context": "deploy/staging", "description": "Deploying", "target_url": null}),
        ),
    );
    assert_eq!(code, 201);
    if let Some(api) = OpenApi::load() {
        api.check_response("POST", &path, 201, &created).unwrap();
    }
    call(
        &gh,
        "POST",
        &path,
        Some(json!({"state": "success", "context": "deploy/staging"})),
    );
    let (_, combined) = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/commits/{SHA}/status"),
        None,
    );
    assert_eq!(combined["statuses"][0]["context"], "deploy/staging");
    assert_eq!(combined["state"], "success", "the newest per context");
    assert_eq!(gh.created_statuses(REPO, SHA).len(), 2);
}

#[test]
fn an_issue_comment_is_made_strictly_and_in_githubs_shape() {
    let api = OpenApi::load();
    let gh = fake();
    let number = gh.issue(REPO, "Health check failed", "body", &["deploy-health"]);
    let path = format!("/repos/{REPO}/issues/{number}/comments");
    let (code, c) = call(&gh, "POST", &path, Some(json!({"body": "Rolled back"})));
    assert_eq!(code, 201, "{c}");
    documented(api.as_ref(), "POST", &path, 201, &c);
    assert_eq!(gh.issue_comments(REPO, number), ["Rolled back"]);
    let (code, _) = call(&gh, "POST", &path, Some(json!({"body": "x", "title": "y"})));
    assert_eq!(code, 422, "unknown keys are refused");
    let (code, _) = call(&gh, "POST", &path, Some(json!({})));
    assert_eq!(code, 422, "a body is required");
    let missing = format!("/repos/{REPO}/issues/99/comments");
    let (code, _) = call(&gh, "POST", &missing, Some(json!({"body": "x"})));
    assert_eq!(code, 404);
    let (code, _) = call_as(&gh, READER, "POST", &path, Some(json!({"body": "x"})));
    assert_eq!(code, 403, "a read-only token cannot comment");
    assert_eq!(gh.issue_comments(REPO, number).len(), 1);
    if let Some(api) = &api {
        for r in gh
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/comments"))
            .take(1)
        {
            api.validate(r).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
