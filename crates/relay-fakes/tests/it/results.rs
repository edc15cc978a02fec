//! The artifacts results service refuses what the real one refuses, and
//! its blob store records what a client asked for.

#![allow(clippy::unwrap_used)]

use relay_fakes::{BlobFault, FakeArtifacts};
use serde_json::{Value, json};

const CREATE: &str = "/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact";

async fn create(fake: &FakeArtifacts, token: &str, body: Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{}{CREATE}", fake.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_fake_refuses_ids_the_token_does_not_grant() {
    let fake = FakeArtifacts::start();
    let token = FakeArtifacts::runtime_token("r", "j");
    let ids = |run: &str, name: &str| json!({"workflow_run_backend_id": run, "workflow_job_run_backend_id": "j", "name": name, "version": 7});
    assert_eq!(create(&fake, &token, ids("r", "ok")).await, 200);
    // A token for one run cannot create in another.
    assert_eq!(create(&fake, &token, ids("other", "x")).await, 403);
    // A field the service does not know is refused, not ignored.
    let unknown = json!({"workflowRunBackendId": "r", "workflow_job_run_backend_id": "j", "name": "x", "version": 7});
    assert_eq!(create(&fake, &token, unknown).await, 400);
}

#[tokio::test]
async fn every_download_is_recorded_with_its_range() {
    let fake = FakeArtifacts::start();
    let data: Vec<u8> = (0..=255).collect();
    let (_, url, _) = fake.seed("run", "web", data.clone());
    fake.blob_fault(BlobFault::Status(503));
    let http = reqwest::Client::new();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 503);
    let rest = http
        .get(&url)
        .header("range", "bytes=200-")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 206);
    assert_eq!(rest.bytes().await.unwrap(), data[200..]);
    assert_eq!(fake.blob_ranges(), [None, Some("bytes=200-".to_owned())]);
}

#[tokio::test]
async fn a_download_fault_waits_out_the_uploads_before_it() {
    let fake = FakeArtifacts::start();
    let (_, url, _) = fake.seed("run", "web", vec![7; 1000]);
    fake.blob_fault(BlobFault::ResetAfter(10));
    let http = reqwest::Client::new();
    let put = http
        .put(fake.blob_url("run", "other"))
        .header("x-ms-version", "2023-11-03")
        .body(vec![1; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.status(),
        201,
        "the upload is not the download it waits for"
    );
    assert_eq!(fake.content("run", "other").unwrap(), [1; 100]);
    let cut = async { http.get(&url).send().await?.bytes().await }.await;
    assert!(cut.is_err(), "the download is reset: {cut:?}");
    // A new connection: the reset one is gone.
    let whole = reqwest::Client::new()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(whole.len(), 1000, "the fault fired once");
}

#[tokio::test]
async fn an_ignored_range_answers_the_whole_blob() {
    let fake = FakeArtifacts::start();
    let data: Vec<u8> = (0..=255).collect();
    let (_, url, _) = fake.seed("run", "web", data.clone());
    fake.blob_fault(BlobFault::IgnoreRange);
    let http = reqwest::Client::new();
    let get = || http.get(&url).header("range", "bytes=200-").send();
    let whole = get().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap(), data);
    let rest = get().await.unwrap();
    assert_eq!(rest.status(), 206, "the fault fired once");
    assert_eq!(rest.bytes().await.unwrap(), data[200..]);
}
