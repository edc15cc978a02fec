//! One artifact's pass against the strict fakes of `relay-fakes`: blocks in
//! order, no token on blob storage, the spool, resumption with `Range` after
//! a reset or a stall (and from a server that ignores it), a shared block
//! budget, and what an expired or corrupted blob does.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use relay_fakes::{BlobFault, FakeArtifacts};

use super::*;
use crate::test_support::{
    Overwrite, opts, pipe_one, pseudo_random, relay_abandoning_stalls, relay_into_current, results,
    sha256_hex, url,
};

#[tokio::test]
async fn relays_blocks_in_order_without_tokens_and_spools() {
    let fake = FakeArtifacts::start();
    let data = pseudo_random(5 * (1 << 20) + 12345);
    let (_, src, _) = fake.seed("source-run", "web", data.clone());
    let r = relay_spooled_every_byte_once(&fake, &src, &data).await;
    assert_eq!(r.blocks, 6);
    assert!(!fake.blob_saw_authorization());
}

#[tokio::test]
async fn a_download_reset_mid_body_twice_still_relays_every_byte_once() {
    let fake = FakeArtifacts::start();
    let data = pseudo_random(3 * (1 << 20) + 7);
    let (_, src, _) = fake.seed("source-run", "web", data.clone());
    fake.blob_fault(BlobFault::ResetAfter(1_500_000));
    fake.blob_fault(BlobFault::ResetAfter(1_500_000));
    relay_spooled_every_byte_once(&fake, &src, &data).await;
    // Each resumption asks for exactly the bytes not yet received.
    assert_eq!(
        fake.blob_ranges(),
        [
            None,
            Some("bytes=1500000-".to_owned()),
            Some("bytes=3000000-".to_owned())
        ]
    );
}

#[tokio::test]
async fn an_expired_upload_url_fails_with_a_hint() {
    let fake = FakeArtifacts::start();
    let (_, src, _) = fake.seed("source-run", "web", vec![1, 2, 3]);
    let dst = results(&fake, "current-run", "job-1")
        .create_artifact("deploy-web", None)
        .await
        .unwrap();
    // The same signed URL, expired long ago.
    let (head, tail) = dst.split_once("se=").unwrap();
    let rest = tail.split_once('&').map_or("", |(_, r)| r);
    let expired = format!("{head}se=1&{rest}");
    let err = pipe_one(&reqwest::Client::new(), &url(&src), &expired, None, &opts())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ArtifactError::Blob { status: 403, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("expired"), "{err}");
}

#[tokio::test]
async fn relays_sharing_a_one_block_budget_all_finish_in_order() {
    let fake = FakeArtifacts::start();
    let budget = Arc::new(Semaphore::new(1));
    let opts = PipeOptions {
        budget: Some(budget.clone()),
        ..opts()
    };
    let current = results(&fake, "current-run", "job-1");
    let http = reqwest::Client::new();
    let mut jobs = Vec::new();
    for i in 0..3 {
        let data = pseudo_random(3 * (1 << 20) + 1 + i);
        let (_, src, _) = fake.seed("source-run", &format!("a{i}"), data.clone());
        let upload = current
            .create_artifact(&format!("b{i}"), None)
            .await
            .unwrap();
        jobs.push((url(&src), upload, data));
    }
    let runs = jobs
        .iter()
        .map(|(src, upload, _)| pipe_one(&http, src, upload, None, &opts));
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
    let (_, src, digest) = fake.seed("source-run", "web", data.clone());
    fake.blob_fault(BlobFault::Status(503));
    fake.blob_fault(BlobFault::ResetAfter(700_000));
    let done = relay_into_current(&fake, &url(&src), &digest, Overwrite::Refuse)
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
    let (_, src, digest) = fake.seed("source-run", "web", data.clone());
    // The download stops moving after 1.5 MiB (block 0 is on its way by
    // then); block 0's upload is held without an answer.
    fake.blob_fault(BlobFault::StallAfter(3 << 19));
    fake.blob_fault(BlobFault::StallUpload);
    relay_abandoning_stalls(&fake, &url(&src), &digest, 3).await;
    assert_eq!(fake.content("current-run", "deploy-web").unwrap(), data);
    assert!(fake.artifacts("current-run")[0].finalized);
    // The abandoned download resumes where its body stopped.
    assert_eq!(
        fake.blob_ranges(),
        [None, Some(format!("bytes={}-", 3 << 19))]
    );
}

#[tokio::test]
async fn a_resumed_download_the_server_answers_whole_skips_what_it_has() {
    let fake = FakeArtifacts::start();
    let data = pseudo_random(3 * (1 << 20) + 5);
    let (_, src, _) = fake.seed("source-run", "web", data.clone());
    fake.blob_fault(BlobFault::ResetAfter(1_000_000));
    fake.blob_fault(BlobFault::IgnoreRange);
    relay_spooled_every_byte_once(&fake, &src, &data).await;
    assert_eq!(
        fake.blob_ranges(),
        [None, Some("bytes=1000000-".to_owned())],
        "the resumption asked for the rest and got all of it"
    );
}

/// Relays `src` into the current run's `deploy-web` through a spool and
/// checks that the artifact, the spool and the reported size and digest
/// are `data`, each byte once.
async fn relay_spooled_every_byte_once(fake: &FakeArtifacts, src: &str, data: &[u8]) -> Passed {
    let current = results(fake, "current-run", "job-1");
    let dst = current.create_artifact("deploy-web", None).await.unwrap();
    let spool = tempfile::NamedTempFile::new().unwrap();
    let r = pipe_one(
        &reqwest::Client::new(),
        &url(src),
        &dst,
        Some(spool.path()),
        &opts(),
    )
    .await
    .unwrap();
    assert_eq!(
        (r.size, r.sha256.as_str()),
        (data.len() as u64, sha256_hex(data).as_str())
    );
    assert_eq!(fake.content("current-run", "deploy-web").unwrap(), data);
    assert_eq!(std::fs::read(spool.path()).unwrap(), data);
    r
}

#[tokio::test]
async fn a_corrupted_download_leaves_no_artifact() {
    let fake = FakeArtifacts::start();
    let (_, src, digest) = fake.seed("source-run", "web", pseudo_random(10_000));
    fake.blob_fault(BlobFault::Corrupt);
    let err = relay_into_current(&fake, &url(&src), &digest, Overwrite::Refuse)
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
    let (_, src, digest) = fake.seed("source-run", "web", pseudo_random(10_000));
    fake.blob_fault(BlobFault::Expired);
    let err = relay_into_current(&fake, &url(&src), &digest, Overwrite::Refuse)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(fake.artifacts("current-run").iter().all(|a| !a.finalized));
}

#[tokio::test]
async fn a_download_url_prints_without_its_signature() {
    let fake = FakeArtifacts::start();
    let (_, src, digest) = fake.seed("source-run", "web", pseudo_random(10_000));
    for _ in 0..3 {
        fake.blob_fault(BlobFault::Status(503));
    }
    let err = relay_into_current(&fake, &url(&src), &digest, Overwrite::Refuse)
        .await
        .unwrap_err()
        .to_string();
    let sig = src.split("sig=").nth(1).unwrap();
    assert!(err.contains("download of"), "{err}");
    assert!(!err.contains(sig), "the signature leaked: {err}");
}
