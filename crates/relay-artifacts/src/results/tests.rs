//! The results service client: what it sends (`snake_case`, as the official
//! client), what it reads (either case), its retries, and its refusals —
//! against the strict fake results service of `relay-fakes`.

#![allow(clippy::unwrap_used)]

use relay_fakes::{FakeArtifacts, TwirpFault};
use serde_json::json;

use super::*;
use crate::DigestCheck;
use crate::DigestPolicy;
use crate::test_support::{
    Overwrite, opts, pseudo_random, relay_abandoning_stalls, relay_into_current, results,
    sha256_hex, stage_and_finalize, url,
};

#[test]
fn answers_read_in_snake_case_and_in_camel_case() {
    for (created, finalized, listed) in [
        (
            json!({"ok": true, "signed_upload_url": "https://b/x?sig=1"}),
            json!({"ok": true, "artifact_id": "42"}),
            json!({"artifacts": [{"database_id": "42", "name": "a", "size": "3", "digest": "sha256:00"}]}),
        ),
        (
            json!({"ok": true, "signedUploadUrl": "https://b/x?sig=1"}),
            json!({"ok": true, "artifactId": 42}),
            json!({"artifacts": [{"databaseId": 42, "name": "a", "size": "3", "digest": "sha256:00"}]}),
        ),
    ] {
        assert_eq!(upload_url_of(&created, "a").unwrap(), "https://b/x?sig=1");
        assert_eq!(
            artifact_id_of(&finalized, "FinalizeArtifact", "a").unwrap(),
            42
        );
        assert_eq!(
            listed_of(&listed).unwrap(),
            [ListedArtifact {
                id: 42,
                name: "a".into(),
                size: 3,
                digest: Some("sha256:00".into())
            }]
        );
    }
    let refused = upload_url_of(&json!({"ok": false}), "a").unwrap_err();
    assert!(
        refused.to_string().contains("`ok` is not true for `a`"),
        "{refused}"
    );
    assert!(listed_of(&json!({"artifacts": [{"name": "a"}]})).is_err());
}

#[tokio::test]
async fn requests_are_snake_case_with_the_backend_ids() {
    let fake = FakeArtifacts::start();
    let c = results(&fake, "run-1", "job-1");
    let upload = c
        .create_artifact("deploy-a", Some("2026-12-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(upload.contains("sig="), "{upload}");
    c.list_artifacts(Some("deploy-a")).await.unwrap();
    c.delete_artifact("deploy-a").await.unwrap();
    let calls = fake.calls();
    assert_eq!(
        calls[0],
        (
            "CreateArtifact".to_owned(),
            json!({"workflow_run_backend_id": "run-1", "workflow_job_run_backend_id": "job-1",
                   "name": "deploy-a", "version": 7, "mime_type": "application/zip",
                   "expires_at": "2026-12-01T00:00:00Z"})
        )
    );
    assert_eq!(calls[1].1["name_filter"], "deploy-a");
    assert_eq!(calls[2].0, "DeleteArtifact");
}

#[tokio::test]
async fn an_existing_name_is_a_409_naming_the_artifact() {
    let fake = FakeArtifacts::start();
    fake.seed("run-1", "deploy-a", b"zip".to_vec());
    let err = results(&fake, "run-1", "job-1")
        .create_artifact("deploy-a", None)
        .await
        .unwrap_err();
    assert!(matches!(err, ArtifactError::AlreadyExists { .. }));
    assert!(err.to_string().contains("`deploy-a`"), "{err}");
}

#[tokio::test]
async fn invalid_names_fail_before_any_request() {
    let fake = FakeArtifacts::start();
    let err = results(&fake, "run-1", "job-1")
        .create_artifact("a/b", None)
        .await
        .unwrap_err();
    assert!(matches!(err, ArtifactError::Name(_)));
    assert!(fake.calls().is_empty());
}

/// Relays a 50 kB artifact into `current-run`, checked against `expected`.
async fn reupload_with(
    expected: &str,
    policy: DigestPolicy,
) -> (
    Result<(i64, crate::pipe::Passed, DigestCheck), ArtifactError>,
    FakeArtifacts,
) {
    let fake = FakeArtifacts::start();
    let (_, src, _) = fake.seed("source-run", "web", pseudo_random(50_000));
    let current = results(&fake, "current-run", "job-1");
    let r = stage_and_finalize(
        &current,
        &url(&src),
        "deploy-web",
        expected,
        policy,
        &opts(),
    )
    .await;
    (r, fake)
}

#[tokio::test]
async fn a_digest_mismatch_under_error_is_never_finalized() {
    let (r, fake) = reupload_with("sha256:0000", DigestPolicy::Error).await;
    let err = r.unwrap_err();
    assert!(matches!(err, ArtifactError::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains("`deploy-web`"));
    let calls = fake.calls();
    assert!(
        calls.iter().all(|(m, _)| m != "FinalizeArtifact"),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_digest_match_finalizes_with_size_and_hash() {
    let digest = format!("sha256:{}", sha256_hex(&pseudo_random(50_000)));
    let (r, fake) = reupload_with(&digest, DigestPolicy::Error).await;
    let (id, passed, check) = r.unwrap();
    assert_eq!(passed.size, 50_000);
    assert_eq!(check, DigestCheck::Match);
    let stored = fake.artifacts("current-run");
    assert_eq!((stored[0].id, stored[0].finalized), (id, true));
    let calls = fake.calls();
    let (_, fin) = calls.iter().find(|(m, _)| m == "FinalizeArtifact").unwrap();
    assert_eq!(fin["hash"], digest);
    assert_eq!(fin["size"], "50000");
}

#[tokio::test]
async fn a_digest_mismatch_under_warn_is_finalized_and_reported() {
    let (r, fake) = reupload_with("sha256:0000", DigestPolicy::Warn).await;
    assert!(matches!(r.unwrap().2, DigestCheck::Mismatch { .. }));
    assert!(fake.artifacts("current-run")[0].finalized);
}

#[tokio::test]
async fn twirp_calls_are_retried_through_5xx_stalls_and_broken_answers() {
    let fake = FakeArtifacts::start();
    let data = pseudo_random(200_000);
    let (_, src, digest) = fake.seed("source-run", "web", data.clone());
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
    relay_abandoning_stalls(&fake, &url(&src), &digest, 5).await;
    assert_eq!(fake.content("current-run", "deploy-web").unwrap(), data);
    let methods: Vec<String> = fake.calls().into_iter().map(|(m, _)| m).collect();
    assert_eq!(methods, ["CreateArtifact", "FinalizeArtifact"]);
}

#[tokio::test]
async fn twirp_gives_up_after_the_last_attempt_naming_the_method() {
    let fake = FakeArtifacts::start();
    let (_, src, digest) = fake.seed("source-run", "web", pseudo_random(1000));
    let src = url(&src);
    for _ in 0..3 {
        fake.twirp_fault(TwirpFault::Status(502));
    }
    let err = relay_into_current(&fake, &src, &digest, Overwrite::Refuse)
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
    let err = relay_into_current(&fake, &src, &digest, Overwrite::Refuse)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    assert!(fake.calls().is_empty(), "a 400 was retried");
    // A refused token says which token and what to do.
    fake.twirp_fault(TwirpFault::Status(401));
    let err = relay_into_current(&fake, &src, &digest, Overwrite::Refuse)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("refused the runtime token"),
        "{err}"
    );
}

#[tokio::test]
async fn an_existing_name_is_refused_unless_overwrite() {
    let fake = FakeArtifacts::start();
    let (_, src, digest) = fake.seed("source-run", "web", pseudo_random(1000));
    let src = url(&src);
    fake.seed("current-run", "deploy-web", b"old".to_vec());
    let err = relay_into_current(&fake, &src, &digest, Overwrite::Refuse)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("`deploy-web` already exists"),
        "{err}"
    );
    relay_into_current(&fake, &src, &digest, Overwrite::Replace)
        .await
        .unwrap();
    assert_eq!(
        fake.content("current-run", "deploy-web").unwrap(),
        pseudo_random(1000)
    );
}
