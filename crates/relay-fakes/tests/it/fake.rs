//! The fake is strict: what GitHub refuses, it refuses. These tests keep it so.

#![allow(clippy::unwrap_used)]

use relay_fakes::{Access, DEFAULT_TOKEN, FakeGitHub, Fault, WorkflowDispatchMode};
use serde_json::{Value, json};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn send(
    gh: &FakeGitHub,
    method: &str,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (u16, String) {
    rt().block_on(async {
        let client = reqwest::Client::builder()
            .user_agent("testkit-test")
            .build()
            .unwrap();
        let mut req = client.request(method.parse().unwrap(), format!("{}{path}", gh.url()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    })
}

fn gh() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo("o/r", "main");
    gh
}

fn dispatch(gh: &FakeGitHub, body: Value) -> (u16, String) {
    send(
        gh,
        "POST",
        "/repos/o/r/dispatches",
        Some(body),
        Some(DEFAULT_TOKEN),
    )
}

#[test]
fn repository_dispatch_is_validated_like_github() {
    let gh = gh();
    let eleven: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!(i))).collect();
    assert_eq!(dispatch(&gh, json!({"event_type": "deploy"})).0, 204);
    let (s, body) = dispatch(
        &gh,
        json!({"event_type": "deploy", "client_payload": eleven}),
    );
    assert_eq!(s, 422);
    assert!(body.contains("No more than 10 properties"), "{body}");
    assert_eq!(dispatch(&gh, json!({"event_type": "x".repeat(101)})).0, 422);
    assert_eq!(dispatch(&gh, json!({"event_type": ""})).0, 422);
    assert_eq!(dispatch(&gh, json!({"client_payload": {}})).0, 422);
    assert_eq!(
        dispatch(&gh, json!({"event_type": "d", "client_payload": [1]})).0,
        422
    );
    assert_eq!(dispatch(&gh, json!({"event_type": "d", "extra": 1})).0, 422);
    assert_eq!(
        dispatch(
            &gh,
            json!({"event_type": "d", "client_payload": {"a": "x".repeat(64 * 1024)}})
        )
        .0,
        422
    );
    assert_eq!(
        gh.dispatches("o/r").len(),
        1,
        "only the valid one is recorded"
    );
}

#[test]
fn auth_and_headers_are_checked() {
    let gh = gh();
    assert_eq!(send(&gh, "GET", "/repos/o/r", None, None).0, 401);
    assert_eq!(send(&gh, "GET", "/repos/o/r", None, Some("wrong")).0, 401);
    assert_eq!(
        send(&gh, "GET", "/repos/o/other", None, Some(DEFAULT_TOKEN)).0,
        404
    );
    gh.token("scoped", Access::Repos(vec!["o/x".into()]));
    assert_eq!(
        send(&gh, "GET", "/repos/o/r", None, Some("scoped")).0,
        404,
        "hidden, as GitHub hides private repos"
    );
    gh.token("ro", Access::ReadOnly(vec!["o/r".into()]));
    let (s, body) = dispatch_with(&gh, "ro");
    assert_eq!(s, 403);
    assert!(body.contains("Resource not accessible by integration"));
    let no_ua = rt().block_on(async {
        reqwest::Client::new()
            .get(format!("{}/repos/o/r", gh.url()))
            .bearer_auth(DEFAULT_TOKEN)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(
        no_ua.as_u16(),
        403,
        "GitHub refuses requests without User-Agent"
    );
}

fn dispatch_with(gh: &FakeGitHub, token: &str) -> (u16, String) {
    send(
        gh,
        "POST",
        "/repos/o/r/dispatches",
        Some(json!({"event_type": "d"})),
        Some(token),
    )
}

#[test]
fn workflow_dispatch_modes_and_inputs() {
    let gh = gh();
    gh.workflow("o/r", "deploy.yml", "Deploy", Some(&["sha"]));
    gh.on_dispatch("o/r", relay_fakes::RunScript::succeeds_after(1));
    let path = "/repos/o/r/actions/workflows/deploy.yml/dispatches";
    let (s, body) = send(
        &gh,
        "POST",
        path,
        Some(json!({"ref": "main", "inputs": {"sha": "a"}, "return_run_details": true})),
        Some(DEFAULT_TOKEN),
    );
    assert_eq!(s, 200);
    let details: Value = serde_json::from_str(&body).unwrap();
    assert!(details["workflow_run_id"].is_u64() && details["html_url"].is_string());
    assert_eq!(
        send(
            &gh,
            "POST",
            path,
            Some(json!({"ref": "main"})),
            Some(DEFAULT_TOKEN)
        )
        .0,
        204
    );
    assert_eq!(
        send(
            &gh,
            "POST",
            path,
            Some(json!({"ref": "main", "inputs": {"nope": "a"}})),
            Some(DEFAULT_TOKEN)
        )
        .0,
        422
    );
    assert_eq!(
        send(
            &gh,
            "POST",
            path,
            Some(json!({"ref": "main", "inputs": {"sha": 1}})),
            Some(DEFAULT_TOKEN)
        )
        .0,
        422
    );
    assert_eq!(
        send(
            &gh,
            "POST",
            path,
            Some(json!({"ref": "nobranch"})),
            Some(DEFAULT_TOKEN)
        )
        .0,
        422
    );
    assert_eq!(
        send(
            &gh,
            "POST",
            path,
            Some(json!({"inputs": {}})),
            Some(DEFAULT_TOKEN)
        )
        .0,
        422
    );
    assert_eq!(
        send(
            &gh,
            "POST",
            "/repos/o/r/actions/workflows/none.yml/dispatches",
            Some(json!({"ref": "main"})),
            Some(DEFAULT_TOKEN)
        )
        .0,
        404
    );
    gh.workflow_dispatch_mode("o/r", WorkflowDispatchMode::OldServer);
    assert_eq!(
        send(
            &gh,
            "POST",
            path,
            Some(json!({"ref": "main", "return_run_details": true})),
            Some(DEFAULT_TOKEN)
        )
        .0,
        400
    );
    gh.workflow_dispatch_mode("o/r", WorkflowDispatchMode::NoContent);
    assert_eq!(
        send(
            &gh,
            "POST",
            path,
            Some(json!({"ref": "main", "return_run_details": true})),
            Some(DEFAULT_TOKEN)
        )
        .0,
        204
    );
}

#[test]
fn runs_progress_as_they_are_polled() {
    let gh = gh();
    let id = gh.add_run(
        "o/r",
        "push",
        "Build",
        relay_fakes::RunScript::ends(2, "failure"),
    );
    let status = |gh: &FakeGitHub| {
        let (_, body) = send(
            gh,
            "GET",
            &format!("/repos/o/r/actions/runs/{id}"),
            None,
            Some(DEFAULT_TOKEN),
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        (
            v["status"].as_str().unwrap().to_owned(),
            v["conclusion"].clone(),
        )
    };
    assert_eq!(status(&gh), ("queued".into(), Value::Null));
    assert_eq!(status(&gh), ("in_progress".into(), Value::Null));
    assert_eq!(status(&gh), ("completed".into(), json!("failure")));
}

#[test]
fn faults_are_served_in_order_then_normal_answers() {
    let gh = gh();
    gh.fault(
        "GET",
        "/repos/o/r",
        [Fault::status(503), Fault::too_many(1)],
    );
    assert_eq!(
        send(&gh, "GET", "/repos/o/r", None, Some(DEFAULT_TOKEN)).0,
        503
    );
    assert_eq!(
        send(&gh, "GET", "/repos/o/r", None, Some(DEFAULT_TOKEN)).0,
        429
    );
    assert_eq!(
        send(&gh, "GET", "/repos/o/r", None, Some(DEFAULT_TOKEN)).0,
        200
    );
}

#[test]
fn a_reset_mid_body_breaks_the_read() {
    let gh = gh();
    gh.fault("GET", "/repos/o/r", [Fault::reset_mid_body(10)]);
    let failed = rt().block_on(async {
        let client = reqwest::Client::builder().user_agent("t").build().unwrap();
        match client
            .get(format!("{}/repos/o/r", gh.url()))
            .bearer_auth(DEFAULT_TOKEN)
            .send()
            .await
        {
            Err(_) => true,
            Ok(resp) => resp.bytes().await.is_err(),
        }
    });
    assert!(failed, "the body must not arrive whole");
}

#[test]
fn etag_answers_304_and_costs_no_rate_limit() {
    let gh = gh();
    let (etag, second) = rt().block_on(async {
        let client = reqwest::Client::builder().user_agent("t").build().unwrap();
        let url = format!("{}/repos/o/r", gh.url());
        let first = client
            .get(&url)
            .bearer_auth(DEFAULT_TOKEN)
            .send()
            .await
            .unwrap();
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let second = client
            .get(&url)
            .bearer_auth(DEFAULT_TOKEN)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        (etag, second.status().as_u16())
    });
    assert!(etag.starts_with('"'));
    assert_eq!(second, 304);
    assert_eq!(gh.rate_limit_used(), 1);
}
