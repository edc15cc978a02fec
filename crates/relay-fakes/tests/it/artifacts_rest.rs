//! The REST artifacts fake answers as GitHub documents it.

#![allow(clippy::unwrap_used)]

use relay_fakes::ArtifactSeed;
use relay_fakes::{Access, DEFAULT_TOKEN, FakeGitHub};
use relay_testkit::openapi::OpenApi;
use serde_json::Value;

const REPO: &str = "octo/app";

struct Answer {
    status: u16,
    location: Option<String>,
    link: Option<String>,
    body: Value,
}

fn call(gh: &FakeGitHub, method: &str, path: &str, token: &str) -> Answer {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let client = reqwest::Client::builder()
                .user_agent("testkit-test")
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let url = format!("{}{path}", gh.url());
            let req = match method {
                "DELETE" => client.delete(url),
                _ => client.get(url),
            };
            let resp = req.bearer_auth(token).send().await.unwrap();
            let header = |n: &str| {
                resp.headers()
                    .get(n)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            let (location, link) = (header("location"), header("link"));
            Answer {
                status: resp.status().as_u16(),
                location,
                link,
                body: resp.json().await.unwrap_or(Value::Null),
            }
        })
}

#[test]
fn lists_newest_first_with_pages_and_the_name_filter_in_the_documented_shape() {
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    for i in 0..120 {
        gh.add_artifact(
            REPO,
            7,
            ArtifactSeed::new(&format!("a{i:03}"), "http://blob/x", 10).created_at(&format!(
                "2026-11-22T10:{:02}:{:02}Z",
                i / 60,
                i % 60
            )),
        );
    }
    gh.add_artifact(REPO, 8, ArtifactSeed::new("other-run", "http://blob/y", 1));
    let first = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/actions/runs/7/artifacts?per_page=100"),
        DEFAULT_TOKEN,
    );
    assert_eq!(first.status, 200);
    assert_eq!(first.body["total_count"], 120);
    assert_eq!(first.body["artifacts"].as_array().unwrap().len(), 100);
    assert_eq!(first.body["artifacts"][0]["name"], "a119", "newest first");
    assert!(first.link.unwrap().contains("page=2"));
    if let Some(api) = OpenApi::load() {
        let schema = api
            .response_schema(
                "GET",
                &format!("/repos/{REPO}/actions/runs/7/artifacts"),
                200,
            )
            .unwrap();
        let v = jsonschema::validator_for(schema).unwrap();
        let errors: Vec<String> = v.iter_errors(&first.body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    let named = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/actions/runs/7/artifacts?name=a005"),
        DEFAULT_TOKEN,
    );
    assert_eq!(named.body["total_count"], 1);
    assert_eq!(named.body["artifacts"][0]["name"], "a005");
}

#[test]
fn zip_redirects_to_the_blob_until_expired_and_delete_answers_204() {
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    let live = gh.add_artifact(
        REPO,
        7,
        ArtifactSeed::new("web", "http://blob/web?sig=1", 5),
    );
    let old = gh.add_artifact(
        REPO,
        7,
        ArtifactSeed::new("old", "http://blob/old", 5).expired(),
    );
    let zip = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/actions/artifacts/{live}/zip"),
        DEFAULT_TOKEN,
    );
    assert_eq!(zip.status, 302);
    assert_eq!(zip.location.as_deref(), Some("http://blob/web?sig=1"));
    let gone = call(
        &gh,
        "GET",
        &format!("/repos/{REPO}/actions/artifacts/{old}/zip"),
        DEFAULT_TOKEN,
    );
    assert_eq!(gone.status, 410);

    gh.token("ghs_readonly", Access::ReadOnly(vec![REPO.into()]));
    let path = format!("/repos/{REPO}/actions/artifacts/{live}");
    assert_eq!(call(&gh, "DELETE", &path, "ghs_readonly").status, 403);
    assert_eq!(call(&gh, "DELETE", &path, DEFAULT_TOKEN).status, 204);
    assert_eq!(call(&gh, "DELETE", &path, DEFAULT_TOKEN).status, 404);
    assert_eq!(gh.deleted_artifacts(), [live]);
    assert_eq!(call(&gh, "GET", &path, DEFAULT_TOKEN).status, 404);
}
