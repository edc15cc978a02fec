//! The check-runs and statuses fake behaves as GitHub documents.

#![allow(clippy::unwrap_used)]

use relay_fakes::CheckScript;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use serde_json::Value;

const REPO: &str = "octo/app";
const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";

fn get(gh: &FakeGitHub, path: &str, etag: Option<&str>) -> (u16, Option<String>, Value) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let client = reqwest::Client::builder()
                .user_agent("testkit-test")
                .build()
                .unwrap();
            let mut req = client
                .get(format!("{}{path}", gh.url()))
                .bearer_auth(DEFAULT_TOKEN);
            if let Some(e) = etag {
                req = req.header("if-none-match", e);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let etag = resp
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = resp.json().await.unwrap_or(Value::Null);
            (status, etag, body)
        })
}

fn names(body: &Value) -> Vec<String> {
    body["check_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}={}",
                c["name"].as_str().unwrap(),
                c["status"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn check_runs_progress_per_poll_and_latest_keeps_the_newest_per_suite() {
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    gh.check_run(REPO, SHA, CheckScript::done("test", "failure"));
    gh.check_run(REPO, SHA, CheckScript::done("test", "success"));
    gh.check_run(REPO, SHA, CheckScript::done("test", "success").suite(2));
    gh.check_run(
        REPO,
        SHA,
        CheckScript::after("build", 2, "success").appears_at(1),
    );
    let path = format!("/repos/{REPO}/commits/{SHA}/check-runs");
    let (status, _, first) = get(&gh, &path, None);
    assert_eq!(status, 200);
    assert_eq!(
        names(&first),
        ["test=completed", "test=completed"],
        "one per suite, build not yet there"
    );
    let (_, _, second) = get(&gh, &format!("{path}?filter=all"), None);
    assert_eq!(second["total_count"], 4, "all: every attempt, build queued");
    assert!(
        names(&second).contains(&"build=queued".to_owned()),
        "{second}"
    );
    let (_, _, third) = get(&gh, &path, None);
    assert!(
        names(&third).contains(&"build=completed".to_owned()),
        "{third}"
    );
    assert_eq!(
        gh.check_run_polls(REPO, SHA),
        3,
        "every first-page list is a poll"
    );
    let (status, _, _) = get(&gh, &format!("{path}?filter=newest"), None);
    assert_eq!(status, 422);
}

#[test]
fn pages_etags_and_hidden_repos() {
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    for i in 0..150 {
        gh.check_run(REPO, SHA, CheckScript::pending(&format!("job {i}")));
    }
    let path = format!("/repos/{REPO}/commits/{SHA}/check-runs?per_page=100");
    let (_, etag, page1) = get(&gh, &path, None);
    assert_eq!(page1["total_count"], 150);
    assert_eq!(page1["check_runs"].as_array().unwrap().len(), 100);
    let (_, _, page2) = get(&gh, &format!("{path}&page=2"), None);
    assert_eq!(page2["check_runs"].as_array().unwrap().len(), 50);
    // Poll 2 moves everything from queued to in_progress, so the old ETag
    // no longer matches; poll 3 changes nothing and is a 304.
    let (status, etag2, _) = get(&gh, &path, etag.as_deref());
    assert_eq!(status, 200);
    let (status, _, _) = get(&gh, &path, etag2.as_deref());
    assert_eq!(status, 304);
    let (status, _, _) = get(
        &gh,
        &format!("/repos/other/repo/commits/{SHA}/check-runs"),
        None,
    );
    assert_eq!(status, 404);
}

#[test]
fn combined_status_keeps_the_newest_per_context() {
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    gh.commit_status(REPO, SHA, CheckScript::done("ci/jenkins", "failure"));
    gh.commit_status(REPO, SHA, CheckScript::after("ci/jenkins", 1, "success"));
    let path = format!("/repos/{REPO}/commits/{SHA}/status");
    let (_, _, first) = get(&gh, &path, None);
    assert_eq!(first["total_count"], 1);
    assert_eq!(first["statuses"][0]["state"], "pending");
    assert_eq!(first["state"], "pending");
    let (_, _, second) = get(&gh, &path, None);
    assert_eq!(second["statuses"][0]["state"], "success");
    assert_eq!(second["state"], "success");
}
