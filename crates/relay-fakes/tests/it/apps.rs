//! Apps and token kinds held to GitHub: the JWT checked by PyJWT (expired,
//! far-future, wrong key, unknown App refused with GitHub's messages), the
//! installation endpoints answering in the shapes of GitHub's OpenAPI
//! description, a revoked token dead, and each token kind refused outside
//! its grant the way GitHub refuses it.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use relay_fakes::{Access, FakeGitHub, Grant};
use relay_github::App;
use relay_runtime::{AppCredentials, AppId, AppKey};
use relay_testkit::app_keys::{AppKeys, TestApp};
use relay_testkit::openapi::OpenApi;
use serde_json::{Value, json};

fn call(
    gh: &FakeGitHub,
    bearer: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let client = reqwest::Client::builder()
                .user_agent("fake-test")
                .build()
                .unwrap();
            let url = format!("{}{path}", gh.url());
            let mut req = match method {
                "POST" => client.post(url),
                "DELETE" => client.delete(url),
                _ => client.get(url),
            };
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.bearer_auth(bearer).send().await.unwrap();
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            (status, resp.json().await.unwrap_or(Value::Null), headers)
        })
}

fn jwt(app: &TestApp, pem: &str, at: SystemTime) -> String {
    let signer = App::new(&AppCredentials {
        id: AppId::parse(&app.client_id).unwrap(),
        key: AppKey::parse(pem).unwrap(),
    })
    .unwrap();
    signer.jwt(at).unwrap().expose().to_owned()
}

fn world() -> Option<(FakeGitHub, TestApp, u64)> {
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main").repo("octo/app", "main");
    let app = TestApp::register(&gh)?;
    let installation = app.install(
        &gh,
        "octo",
        &["octo/deploy"],
        &[("contents", "write"), ("deployments", "read")],
    );
    Some((gh, app, installation))
}

#[test]
fn the_jwt_is_checked_by_pyjwt_with_githubs_rules_and_messages() {
    let Some((gh, app, _)) = world() else { return };
    let now = SystemTime::now();
    let path = "/repos/octo/deploy/installation";
    let (status, _, _) = call(&gh, &jwt(&app, &app.keys.pkcs1, now), "GET", path, None);
    assert_eq!(status, 200);
    let cases = [
        // Our signer backdates `iat` 60 s and lasts 9 minutes: ten minutes
        // ago it is expired, two minutes ahead it is not yet issued, and a
        // clock 3 minutes fast makes `exp` more than 10 minutes away.
        (
            now - Duration::from_secs(600),
            "'Expiration time' claim ('exp') must be a numeric value",
        ),
        (now + Duration::from_secs(180), "'Issued at' claim ('iat')"),
    ];
    for (at, message) in cases {
        let (status, body, _) = call(&gh, &jwt(&app, &app.keys.pkcs1, at), "GET", path, None);
        assert_eq!(status, 401);
        assert!(
            body["message"].as_str().unwrap().starts_with(message),
            "{body}"
        );
    }
    // `exp` more than 10 minutes ahead with `iat` now: signed by PyJWT
    // itself, since our signer never makes one.
    let far = std::process::Command::new("python3")
        .args([
            "-c",
            "import jwt, sys, time; n = int(time.time()); print(jwt.encode({'iat': n - 60, 'exp': n + 900, 'iss': sys.argv[2]}, sys.argv[1], algorithm='RS256'))",
            &app.keys.pkcs1,
            &app.client_id,
        ])
        .output()
        .unwrap();
    let far = String::from_utf8(far.stdout).unwrap();
    let (status, body, _) = call(&gh, far.trim(), "GET", path, None);
    assert_eq!(status, 401);
    assert_eq!(
        body["message"],
        "'Expiration time' claim ('exp') is too far in the future"
    );
    let Some(other) = AppKeys::generate() else {
        return;
    };
    let (status, body, _) = call(&gh, &jwt(&app, &other.pkcs1, now), "GET", path, None);
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("A JSON web token could not be decoded"))
    );
    let stranger = TestApp {
        client_id: "Iv23liSomeOtherApp0001".into(),
        ..app.clone()
    };
    let (status, _, _) = call(
        &gh,
        &jwt(&stranger, &app.keys.pkcs1, now),
        "GET",
        path,
        None,
    );
    assert_eq!(status, 401, "an App GitHub does not know");
}

#[test]
fn installation_lookup_token_creation_and_revocation_answer_as_documented() {
    let Some((gh, app, installation)) = world() else {
        return;
    };
    let api = OpenApi::load();
    let jwt = jwt(&app, &app.keys.pkcs8, SystemTime::now());
    let (status, found, _) = call(&gh, &jwt, "GET", "/repos/octo/deploy/installation", None);
    assert_eq!(status, 200);
    assert_eq!(found["id"], installation);
    assert_eq!(found["permissions"]["contents"], "write");
    let (status, _, _) = call(&gh, &jwt, "GET", "/repos/octo/app/installation", None);
    assert_eq!(status, 404, "not installed on octo/app");
    let path = format!("/app/installations/{installation}/access_tokens");
    let body = json!({"repositories": ["deploy"], "permissions": {"contents": "write"}});
    let (status, created, _) = call(&gh, &jwt, "POST", &path, Some(body.clone()));
    assert_eq!(status, 201, "{created}");
    let (status, refused, _) = call(
        &gh,
        &jwt,
        "POST",
        &path,
        Some(json!({"repositories": ["deploy"], "permissions": {"deployments": "write"}})),
    );
    assert_eq!(status, 422);
    assert_eq!(refused["message"], "Invalid request.");
    let (status, _, _) = call(
        &gh,
        &jwt,
        "POST",
        &path,
        Some(json!({"repositories": ["app"]})),
    );
    assert_eq!(status, 422, "a repository the installation does not reach");
    if let Some(api) = &api {
        api.check_response("GET", "/repos/octo/deploy/installation", 200, &found)
            .unwrap();
        api.check_response("POST", &path, 201, &created).unwrap();
        for r in gh.requests() {
            api.validate(&r).unwrap();
        }
    }
    let token = created["token"].as_str().unwrap();
    let (status, _, _) = call(
        &gh,
        token,
        "POST",
        "/repos/octo/deploy/dispatches",
        Some(json!({"event_type": "deploy"})),
    );
    assert_eq!(status, 204);
    let (status, _, _) = call(&gh, token, "DELETE", "/installation/token", None);
    assert_eq!(status, 204);
    let (status, _, _) = call(
        &gh,
        token,
        "POST",
        "/repos/octo/deploy/dispatches",
        Some(json!({"event_type": "deploy"})),
    );
    assert_eq!(status, 401, "revoked");
    let issued = gh.issued_tokens();
    assert_eq!(issued.len(), 1);
    assert!(issued[0].revoked);
    assert_eq!(issued[0].repos, ["octo/deploy"]);
}

/// A token, its grant, a call, the status and message GitHub answers.
type Case = (
    &'static str,
    Grant,
    &'static str,
    &'static str,
    u16,
    Option<&'static str>,
);

#[test]
fn each_token_kind_is_refused_outside_its_grant_as_github_refuses() {
    let gh = FakeGitHub::start();
    gh.repo("octo/app", "main");
    let cases: [Case; 6] = [
        (
            "github_pat_fg1",
            Grant::fine_grained(&["octo/app"], &[("statuses", "read")]),
            "GET",
            "/repos/octo/app/commits/abc/check-runs",
            403,
            Some("Resource not accessible by personal access token"),
        ),
        (
            "github_pat_fg2",
            Grant::fine_grained(&["octo/other"], &[("statuses", "read")]),
            "GET",
            "/repos/octo/app/commits/abc/status",
            404,
            Some("Not Found"),
        ),
        (
            "ghs_job1",
            Grant::github_token("octo/app", &[("contents", "read")]),
            "POST",
            "/repos/octo/app/dispatches",
            403,
            Some("Resource not accessible by integration"),
        ),
        // Reading environments (the protected-production check) needs `actions: read`.
        (
            "ghs_job2",
            Grant::github_token("octo/app", &[("deployments", "write")]),
            "GET",
            "/repos/octo/app/environments",
            403,
            Some("Resource not accessible by integration"),
        ),
        (
            "ghs_job3",
            Grant::github_token("octo/app", &[("actions", "read")]),
            "GET",
            "/repos/octo/app/environments",
            200,
            None,
        ),
        (
            "ghp_classic",
            Grant::classic(&["repo:status"]),
            "POST",
            "/repos/octo/app/dispatches",
            404,
            Some("Not Found"),
        ),
    ];
    for (token, grant, method, path, want, message) in cases {
        gh.token(token, Access::Grant(grant));
        let body = (method == "POST").then(|| json!({"event_type": "deploy"}));
        let (status, answer, headers) = call(&gh, token, method, path, body);
        assert_eq!(status, want, "{token} {method} {path}: {answer}");
        if let Some(message) = message {
            assert_eq!(answer["message"], message, "{token}");
        }
        if status == 403 {
            assert!(
                headers.contains_key("x-accepted-github-permissions"),
                "{token}"
            );
        }
    }
}
