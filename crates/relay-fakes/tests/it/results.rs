//! The artifacts results service refuses what the real one refuses.

#![allow(clippy::unwrap_used)]

use relay_fakes::FakeArtifacts;
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
