//! Against the test kit's strict fakes: the results service with its
//! block-blob store and fault injection, and the fake GitHub's REST side.

use super::*;
use relay_fakes::BlobFault;
use relay_fakes::{FakeArtifacts, TwirpFault};

fn results(fake: &FakeArtifacts, run: &str, job: &str) -> ResultsClient {
    let token = RuntimeToken::new(Some(FakeArtifacts::runtime_token(run, job))).unwrap();
    ResultsClient::new(reqwest::Client::new(), fake.url(), token, fast()).unwrap()
}

async fn relay_into_current(
    fake: &FakeArtifacts,
    url: &str,
    digest: &str,
    overwrite: bool,
) -> Result<(i64, Passed), ArtifactError> {
    relay_into_current_with(fake, url, digest, overwrite, fast()).await
}

async fn relay_into_current_with(
    fake: &FakeArtifacts,
    url: &str,
    digest: &str,
    overwrite: bool,
    retry: RetryPolicy,
) -> Result<(i64, Passed), ArtifactError> {
    let token =
        RuntimeToken::new(Some(FakeArtifacts::runtime_token("current-run", "job-1"))).unwrap();
    let c = ResultsClient::new(reqwest::Client::new(), fake.url(), token, retry).unwrap();
    let opts = PipeOptions { retry, ..opts() };
    if overwrite && !c.list_artifacts(Some("deploy-web")).await?.is_empty() {
        c.delete_artifact("deploy-web").await?;
    }
    stage_and_finalize(
        &c,
        url,
        "deploy-web",
        Some("2026-12-01T00:00:00Z"),
        digest,
        DigestPolicy::Error,
        &opts,
    )
    .await
    .map(|(id, passed, _)| (id, passed))
}

/// Relays with `max_attempts` and a 300 ms stall timeout, and checks that
/// the stalls the fakes hold for [`relay_fakes::STALL`] were
/// abandoned and retried, not waited out.
async fn relay_abandoning_stalls(fake: &FakeArtifacts, url: &str, digest: &str, max_attempts: u32) {
    let mut retry = RetryPolicy {
        stall_timeout: Duration::from_millis(300),
        ..fast()
    };
    retry.backoff.max_retries = max_attempts - 1;
    let started = std::time::Instant::now();
    relay_into_current_with(fake, url, digest, false, retry)
        .await
        .unwrap();
    assert!(
        started.elapsed() < relay_fakes::STALL / 2,
        "waited a stall out instead of abandoning it and retrying"
    );
}

fn github(gh: &relay_fakes::FakeGitHub) -> relay_github::GitHub {
    let env = relay_runtime::Env::from_pairs([
        ("GITHUB_API_URL", gh.url()),
        ("DEPLOY_RELAY_BACKOFF_SCALE", "0.01"),
    ]);
    let (console, _) = relay_runtime::Console::capture();
    let token = relay_runtime::Secret::new(relay_fakes::DEFAULT_TOKEN);
    relay_github::GitHub::new(&env, console, Some(token)).unwrap()
}

fn o_r() -> relay_runtime::RepoName {
    relay_runtime::RepoName::parse("o/r").unwrap()
}

#[tokio::test]
async fn rest_lists_every_page_newest_per_name_and_sets_expired_aside() {
    use relay_fakes::ArtifactSeed;
    let gh = relay_fakes::FakeGitHub::start();
    gh.repo("o/r", "main");
    for i in 0..130 {
        gh.add_artifact(
            "o/r",
            7,
            ArtifactSeed::new(&format!("n{i:03}"), "http://b/x", 1),
        );
    }
    let old_web = gh.add_artifact("o/r", 7, ArtifactSeed::new("web", "http://b/1", 1));
    let new_web = gh.add_artifact(
        "o/r",
        7,
        ArtifactSeed::new("web", "http://b/2", 1).created_at("2026-11-22T11:00:00Z"),
    );
    gh.add_artifact(
        "o/r",
        7,
        ArtifactSeed::new("old", "http://b/3", 1).expired(),
    );
    let client = github(&gh);
    let got = crate::rest::list_run_artifacts(&client, &o_r(), 7, None)
        .await
        .unwrap();
    assert_eq!(got.artifacts.len(), 131, "two pages of 100");
    let web = got.artifacts.iter().find(|a| a.name == "web").unwrap();
    assert_eq!(web.id, new_web);
    assert_ne!(web.id, old_web);
    assert_eq!(got.expired[0].name, "old");
    let only = crate::rest::list_run_artifacts(&client, &o_r(), 7, Some("n007"))
        .await
        .unwrap();
    assert_eq!(only.artifacts.len(), 1);
    let lists = gh
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/runs/7/artifacts"))
        .count();
    assert_eq!(lists, 3);
}

#[tokio::test]
async fn zip_redirect_is_followed_without_the_github_token_and_410_means_expired() {
    use relay_fakes::ArtifactSeed;
    let fake = FakeArtifacts::start();
    let data = pseudo_random(100_000);
    let (_, blob_url, digest) = fake.seed("source-run", "web", data.clone());
    let gh = relay_fakes::FakeGitHub::start();
    gh.repo("o/r", "main");
    let seed = ArtifactSeed::new("web", &blob_url, data.len() as u64).digest(&digest);
    let id = gh.add_artifact("o/r", 7, seed.clone());
    let client = github(&gh);
    let listed = crate::rest::list_run_artifacts(&client, &o_r(), 7, None)
        .await
        .unwrap();
    assert_eq!(listed.artifacts[0].id, id);
    assert_eq!(listed.artifacts[0].digest.as_deref(), Some(digest.as_str()));
    let url = crate::rest::zip_url(&client, &o_r(), &listed.artifacts[0])
        .await
        .unwrap();
    assert_eq!(url, blob_url);
    let done = relay_into_current(&fake, &url, &digest, false)
        .await
        .unwrap();
    assert_eq!(done.1.size, data.len() as u64);
    assert!(
        !fake.blob_saw_authorization(),
        "a token went to blob storage"
    );

    let expired_id = gh.add_artifact("o/r", 7, seed.expired());
    let mut expired = listed.artifacts[0].clone();
    expired.id = expired_id;
    let err = crate::rest::zip_url(&client, &o_r(), &expired)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ArtifactError::Expired { ref name } if name == "web"),
        "{err}"
    );
}

#[tokio::test]
async fn relays_sharing_a_one_block_budget_all_finish_in_order() {
    let fake = FakeArtifacts::start();
    let budget = std::sync::Arc::new(tokio::sync::Semaphore::new(1));
    let opts = PipeOptions {
        budget: Some(budget.clone()),
        ..opts()
    };
    let current = results(&fake, "current-run", "job-1");
    let http = reqwest::Client::new();
    let mut jobs = Vec::new();
    for i in 0..3 {
        let data = pseudo_random(3 * (1 << 20) + 1 + i);
        let (_, url, _) = fake.seed("source-run", &format!("a{i}"), data.clone());
        let upload = current
            .create_artifact(&format!("b{i}"), None)
            .await
            .unwrap();
        jobs.push((url, upload, data));
    }
    let runs = jobs
        .iter()
        .map(|(url, upload, _)| pipe_one(&http, url, upload, None, &opts));
    let done = tokio::time::timeout(Duration::from_secs(30), futures::future::join_all(runs))
        .await
        .expect("relays sharing a budget must not wait on each other forever");
    for (i, (r, (_, _, data))) in done.into_iter().zip(&jobs).enumerate() {
        assert_eq!(r.unwrap().blocks, 4);
        current
            .finalize_artifact(&format!("b{i}"), data.len() as u64, "00")
            .await
            .unwrap();
        assert_eq!(
            &fake.content("current-run", &format!("b{i}")).unwrap(),
            data
        );
    }
    assert_eq!(budget.available_permits(), 1, "every permit came back");
}

#[tokio::test]
async fn relays_through_503s_and_a_reset() {
    let fake = FakeArtifacts::start();
    let data = pseudo_random(3 * (1 << 20) + 99);
    let (_, url, digest) = fake.seed("source-run", "web", data.clone());
    fake.blob_fault(BlobFault::Status(503));
    fake.blob_fault(BlobFault::ResetAfter(700_000));
    let done = relay_into_current(&fake, &url, &digest, false)
        .await
        .unwrap();
    assert_eq!(fake.content("current-run", "deploy-web").unwrap(), data);
    let stored = fake.artifacts("current-run");
    assert_eq!(stored.len(), 1);
    assert!(stored[0].finalized);
    assert_eq!((stored[0].id, stored[0].size), (done.0, data.len() as u64));
    assert_eq!(stored[0].hash.as_deref(), Some(digest.as_str()));
    assert_eq!(stored[0].version, 7);
    assert!(!fake.blob_saw_authorization());
}

#[tokio::test]
async fn relays_through_a_stalled_body_and_a_stalled_block_upload() {
    let fake = FakeArtifacts::start();
    let data = pseudo_random(3 * (1 << 20) + 99);
    let (_, url, digest) = fake.seed("source-run", "web", data.clone());
    // The download stops moving after 1.5 MiB (block 0 is on its way by
    // then); block 0's upload is held without an answer.
    fake.blob_fault(BlobFault::StallAfter(3 << 19));
    fake.blob_fault(BlobFault::StallUpload);
    relay_abandoning_stalls(&fake, &url, &digest, 3).await;
    assert_eq!(fake.content("current-run", "deploy-web").unwrap(), data);
    assert!(fake.artifacts("current-run")[0].finalized);
}

#[tokio::test]
async fn twirp_calls_are_retried_through_5xx_stalls_and_broken_answers() {
    let fake = FakeArtifacts::start();
    let data = pseudo_random(200_000);
    let (_, url, digest) = fake.seed("source-run", "web", data.clone());
    // Five attempts, as the official client makes: CreateArtifact meets
    // each fault in turn and gets through on the fifth.
    for f in [
        TwirpFault::Status(503),
        TwirpFault::Stall,
        TwirpFault::Status(429),
        TwirpFault::ResetBody,
    ] {
        fake.twirp_fault(f);
    }
    relay_abandoning_stalls(&fake, &url, &digest, 5).await;
    assert_eq!(fake.content("current-run", "deploy-web").unwrap(), data);
    let methods: Vec<String> = fake.calls().into_iter().map(|(m, _)| m).collect();
    assert_eq!(methods, ["CreateArtifact", "FinalizeArtifact"]);
}

#[tokio::test]
async fn twirp_gives_up_after_the_last_attempt_naming_the_method() {
    let fake = FakeArtifacts::start();
    let (_, url, digest) = fake.seed("source-run", "web", pseudo_random(1000));
    for _ in 0..3 {
        fake.twirp_fault(TwirpFault::Status(502));
    }
    let err = relay_into_current(&fake, &url, &digest, false)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("CreateArtifact")
            && msg.contains("3 attempts")
            && msg.contains("502")
            && msg.contains("hint: "),
        "{msg}"
    );
    assert!(fake.artifacts("current-run").is_empty());
    // A 4xx other than 409 is not retried.
    fake.twirp_fault(TwirpFault::Status(400));
    let err = relay_into_current(&fake, &url, &digest, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    assert!(fake.calls().is_empty(), "a 400 was retried");
    // A refused token says which token and what to do.
    fake.twirp_fault(TwirpFault::Status(401));
    let err = relay_into_current(&fake, &url, &digest, false)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("refused the runtime token"),
        "{err}"
    );
}

#[tokio::test]
async fn a_corrupted_download_leaves_no_artifact() {
    let fake = FakeArtifacts::start();
    let (_, url, digest) = fake.seed("source-run", "web", pseudo_random(10_000));
    fake.blob_fault(BlobFault::Corrupt);
    let err = relay_into_current(&fake, &url, &digest, false)
        .await
        .unwrap_err();
    assert!(matches!(err, ArtifactError::DigestMismatch { .. }), "{err}");
    assert!(fake.artifacts("current-run").iter().all(|a| !a.finalized));
    let listed = results(&fake, "current-run", "job-1")
        .list_artifacts(None)
        .await
        .unwrap();
    assert!(listed.is_empty());
}

#[tokio::test]
async fn an_expired_download_url_fails_and_leaves_no_artifact() {
    let fake = FakeArtifacts::start();
    let (_, url, digest) = fake.seed("source-run", "web", pseudo_random(10_000));
    fake.blob_fault(BlobFault::Expired);
    let err = relay_into_current(&fake, &url, &digest, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(fake.artifacts("current-run").iter().all(|a| !a.finalized));
}

#[tokio::test]
async fn an_existing_name_is_refused_unless_overwrite() {
    let fake = FakeArtifacts::start();
    let (_, url, digest) = fake.seed("source-run", "web", pseudo_random(1000));
    fake.seed("current-run", "deploy-web", b"old".to_vec());
    let err = relay_into_current(&fake, &url, &digest, false)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("`deploy-web` already exists"),
        "{err}"
    );
    relay_into_current(&fake, &url, &digest, true)
        .await
        .unwrap();
    assert_eq!(
        fake.content("current-run", "deploy-web").unwrap(),
        pseudo_random(1000)
    );
}

#[tokio::test]
async fn the_fake_refuses_ids_the_token_does_not_grant() {
    let fake = FakeArtifacts::start();
    // A token for another run cannot create in this one: simulate by
    // a client whose token names a different job than its requests.
    let token = RuntimeToken::new(Some(FakeArtifacts::runtime_token("r", "j"))).unwrap();
    let c = ResultsClient::new(reqwest::Client::new(), fake.url(), token, fast()).unwrap();
    c.create_artifact("ok", None).await.unwrap();
    let raw = reqwest::Client::new()
        .post(format!(
            "{}/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact",
            fake.url()
        ))
        .bearer_auth(FakeArtifacts::runtime_token("r", "j"))
        .json(&json!({"workflow_run_backend_id": "other", "workflow_job_run_backend_id": "j", "name": "x", "version": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 403);
    let unknown = reqwest::Client::new()
        .post(format!(
            "{}/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact",
            fake.url()
        ))
        .bearer_auth(FakeArtifacts::runtime_token("r", "j"))
        .json(&json!({"workflowRunBackendId": "r", "workflow_job_run_backend_id": "j", "name": "x", "version": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
}
