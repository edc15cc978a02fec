//! On failure: one issue per commit and environment, and the rollback event.

use relay_fakes::Access;
use relay_testkit::health::Behavior;
use relay_testkit::openapi::OpenApi;
use serde_json::json;

use crate::{action, fake, run, service};

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";

#[test]
fn one_issue_per_sha_and_environment() {
    let gh = fake();
    let s = service(&[("/h", Behavior::Json(503, json!({})))]);
    let failing = |env: &str| {
        action(&[s.url("/h")])
            .api(gh.url())
            .input("duration", "500ms")
            .input("create-issue", "true")
            .input("environment", env)
            .input("sha", SHA)
    };
    let first = run(failing("production"));
    first.assert_failure();
    let issues = gh.issues("octo/app");
    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!(issue["title"], "Health check failed: production at 9f86d08");
    assert_eq!(issue["labels"][0]["name"], "deploy-health");
    let body = issue["body"].as_str().unwrap();
    assert!(body.contains(SHA), "{body}");
    assert!(body.contains("`production`"), "{body}");
    assert!(
        body.contains("https://github.com/octo/app/actions/runs/4242"),
        "{body}"
    );
    assert!(body.contains("| endpoint | verdict |"), "{body}");
    assert_eq!(
        first.output("issue-url"),
        "https://github.com/octo/app/issues/1"
    );

    // A re-run finds the open issue instead of opening another.
    let again = run(failing("production"));
    again.assert_failure();
    assert_eq!(gh.issues("octo/app").len(), 1);
    assert_eq!(
        again.output("issue-url"),
        "https://github.com/octo/app/issues/1"
    );

    // Another environment is another issue; so is the same one once closed.
    run(failing("staging")).assert_failure();
    assert_eq!(gh.issues("octo/app").len(), 2);
    gh.close_issue("octo/app", 1);
    let reopened = run(failing("production"));
    assert_eq!(gh.issues("octo/app").len(), 3);
    assert_eq!(
        reopened.output("issue-url"),
        "https://github.com/octo/app/issues/3"
    );

    let lists: Vec<_> = gh
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/repos/octo/app/issues")
        .collect();
    assert_eq!(lists.len(), 4);
    assert!(
        lists
            .iter()
            .all(|r| r.query.contains("state=open") && r.query.contains("labels=deploy-health"))
    );
    if let Some(api) = OpenApi::load() {
        for r in gh.requests() {
            api.validate(&r).unwrap();
        }
    }
}

#[test]
fn a_healthy_window_opens_no_issue() {
    let gh = fake();
    let s = service(&[("/h", Behavior::Up)]);
    run(action(&[s.url("/h")])
        .api(gh.url())
        .input("duration", "300ms")
        .input("create-issue", "true"))
    .assert_success();
    assert!(gh.requests().is_empty());
}

#[test]
fn issue_without_permission_names_it_and_still_rolls_back() {
    let gh = fake();
    gh.repo("octo/deploy", "main");
    gh.token(
        "ghs_readonly0000000000000000000000000000",
        Access::ReadOnly(vec!["octo/app".into()]),
    );
    let s = service(&[("/h", Behavior::Json(500, json!({})))]);
    let out = run(action(&[s.url("/h")])
        .api(gh.url())
        .input("duration", "500ms")
        .input("github-token", "ghs_readonly0000000000000000000000000000")
        .input("create-issue", "true")
        .input("rollback-repository", "octo/deploy")
        .input("rollback-token", relay_fakes::DEFAULT_TOKEN));
    out.assert_failure();
    out.assert_secret_hidden("ghs_readonly0000000000000000000000000000");
    let err = out.error();
    assert!(err.contains("issues: write"), "{err}");
    assert_eq!(gh.dispatches("octo/deploy").len(), 1);
}

#[test]
fn rollback_dispatch_payload() {
    let gh = fake();
    gh.repo("octo/deploy", "main");
    const PAT: &str = "github_pat_RollbackToken0123456789abcdefghij";
    gh.token(PAT, Access::Repos(vec!["octo/deploy".into()]));
    let s = service(&[("/good", Behavior::Up), ("/bad", Behavior::DiesAfter(2))]);
    // `github-token` may not write to octo/deploy: the dispatch only goes
    // through with the rollback token.
    const READ_ONLY: &str = "ghs_readonly0000000000000000000000000000";
    gh.token(READ_ONLY, Access::ReadOnly(vec!["octo/app".into()]));
    let out = run(action(&[s.url("/good"), s.url("/bad")])
        .api(gh.url())
        .input("success-threshold", "50")
        .input("github-token", READ_ONLY)
        .input("environment", "production")
        .input("sha", SHA)
        .input("rollback-repository", "octo/deploy")
        .input("rollback-event-type", "rollback-production")
        .input("rollback-token", PAT));
    out.assert_failure();
    out.assert_secret_hidden(PAT);
    assert!(out.commands("add-mask").iter().any(|m| m == PAT));
    let sent = gh.dispatches("octo/deploy");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["event_type"], "rollback-production");
    let p = &sent[0]["client_payload"];
    assert_eq!(p["environment"], "production");
    assert_eq!(p["sha"], SHA);
    assert_eq!(p["failed_endpoints"], json!([s.url("/bad")]));
    let reason = p["reason"].as_str().unwrap();
    assert!(reason.contains("3 consecutive failures"), "{reason}");
    assert_eq!(
        p["run_url"],
        "https://github.com/octo/app/actions/runs/4242"
    );
}

#[test]
fn sha_and_environment_default_from_the_event() {
    let gh = fake();
    gh.repo("octo/deploy", "main");
    let s = service(&[("/h", Behavior::Json(500, json!({})))]);
    let event = relay_testkit::events::workflow_run("octo/app", SHA, "main", 77, "success");
    let out = run(action(&[s.url("/h")])
        .api(gh.url())
        .event("workflow_run", event)
        .input("duration", "500ms")
        .input("rollback-repository", "octo/deploy"));
    out.assert_failure();
    let sent = gh.dispatches("octo/deploy");
    assert_eq!(sent[0]["client_payload"]["sha"], SHA);
    assert_eq!(sent[0]["client_payload"]["environment"], "");
}
