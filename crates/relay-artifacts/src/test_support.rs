//! What the unit tests of the protocol share: fast retry policies, test
//! data, and clients of the strict fakes in `relay-fakes` (the results
//! service with its block-blob store, the fake GitHub). No fake of its own:
//! every request goes to the same fakes the actions' tests use.

#![allow(clippy::unwrap_used)] // test support code outside #[test] fns

use std::sync::Arc;
use std::time::Duration;

use relay_fakes::{FakeArtifacts, FakeGitHub};
use relay_http::DisplaySafeUrl;

use crate::pipe::{Passed, PipeOptions, Spool};
use crate::results::ResultsClient;
use crate::{ArtifactError, DigestCheck, DigestPolicy, RetryPolicy, RuntimeToken};

/// Three attempts, 10 ms apart.
pub(crate) fn fast() -> RetryPolicy {
    RetryPolicy {
        backoff: relay_http::Backoff {
            base: Duration::from_millis(10),
            multiplier: 1.5,
            cap: Duration::from_secs(1),
            max_retries: 2,
            jitter: false,
        },
        stall_timeout: Duration::from_secs(5),
    }
}

/// 1 MiB blocks, three in flight, [`fast`] retries.
pub(crate) fn opts() -> PipeOptions {
    PipeOptions {
        block_size: 1 << 20,
        parallel: 3,
        retry: fast(),
        budget: None,
        stop: Arc::default(),
    }
}

/// `n` bytes that do not repeat in any block.
pub(crate) fn pseudo_random(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// Lowercase hex sha256 of `b`.
pub(crate) fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest as _;
    crate::pipe::hex(&sha2::Sha256::digest(b))
}

/// `text` as a URL.
pub(crate) fn url(text: &str) -> DisplaySafeUrl {
    DisplaySafeUrl::parse(text).unwrap()
}

/// A results client of `fake` for job `job` of `run`.
pub(crate) fn results(fake: &FakeArtifacts, run: &str, job: &str) -> ResultsClient {
    results_with(fake, run, job, fast())
}

fn results_with(fake: &FakeArtifacts, run: &str, job: &str, retry: RetryPolicy) -> ResultsClient {
    let token = RuntimeToken::new(Some(FakeArtifacts::runtime_token(run, job))).unwrap();
    ResultsClient::new(reqwest::Client::new(), fake.url(), token, retry).unwrap()
}

/// A GitHub client of `gh`, with the fakes' token.
pub(crate) fn github(gh: &FakeGitHub) -> relay_github::GitHub {
    let env = relay_runtime::Env::from_pairs([
        ("GITHUB_API_URL", gh.url()),
        ("DEPLOY_RELAY_BACKOFF_SCALE", "0.01"),
    ]);
    let token = relay_runtime::Secret::new(relay_fakes::DEFAULT_TOKEN);
    relay_github::GitHub::new(&env, relay_runtime::Console::capture().0, Some(token)).unwrap()
}

/// `o/r`.
pub(crate) fn o_r() -> relay_runtime::RepoName {
    relay_runtime::RepoName::parse("o/r").unwrap()
}

/// A relay of `src` into `dst`, spooled to `spool` when given.
pub(crate) async fn pipe_one(
    http: &reqwest::Client,
    src: &DisplaySafeUrl,
    dst: &str,
    spool: Option<&std::path::Path>,
    opts: &PipeOptions,
) -> Result<Passed, ArtifactError> {
    let spool = spool.map(|path| Spool {
        path,
        charge: None,
        index: None,
    });
    crate::pipe::pipe(http, src, Some(dst), spool, opts).await
}

/// What `Transfer` does for one artifact, without the REST side: create,
/// relay, check, finalize.
pub(crate) async fn stage_and_finalize(
    results: &ResultsClient,
    download: &DisplaySafeUrl,
    new_name: &str,
    expected: &str,
    policy: DigestPolicy,
    opts: &PipeOptions,
) -> Result<(i64, Passed, DigestCheck), ArtifactError> {
    let upload = results
        .create_artifact(new_name, Some("2026-12-01T00:00:00Z"))
        .await?;
    let http = reqwest::Client::new();
    let passed = crate::pipe::pipe(&http, download, Some(&upload), None, opts).await?;
    let check = crate::digest::verify_digest(policy, Some(expected), &passed.sha256, new_name)?;
    let id = results
        .finalize_artifact(new_name, passed.size, &passed.sha256)
        .await?;
    Ok((id, passed, check))
}

/// Relays `url` into `deploy-web` of `current-run` (deleting an artifact of
/// that name first when `overwrite`), checked against `digest`.
pub(crate) async fn relay_into_current(
    fake: &FakeArtifacts,
    url: &DisplaySafeUrl,
    digest: &str,
    overwrite: Overwrite,
) -> Result<(i64, Passed), ArtifactError> {
    relay_into_current_with(fake, url, digest, overwrite, fast()).await
}

/// Whether [`relay_into_current`] replaces an artifact of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overwrite {
    Refuse,
    Replace,
}

/// [`relay_into_current`] with its own retry policy.
pub(crate) async fn relay_into_current_with(
    fake: &FakeArtifacts,
    url: &DisplaySafeUrl,
    digest: &str,
    overwrite: Overwrite,
    retry: RetryPolicy,
) -> Result<(i64, Passed), ArtifactError> {
    let c = results_with(fake, "current-run", "job-1", retry);
    let opts = PipeOptions { retry, ..opts() };
    if overwrite == Overwrite::Replace && !c.list_artifacts(Some("deploy-web")).await?.is_empty() {
        c.delete_artifact("deploy-web").await?;
    }
    stage_and_finalize(&c, url, "deploy-web", digest, DigestPolicy::Error, &opts)
        .await
        .map(|(id, passed, _)| (id, passed))
}

/// Relays with `max_attempts` and a 300 ms stall timeout, and checks that
/// the stalls the fakes hold for [`relay_fakes::STALL`] were abandoned and
/// retried, not waited out.
pub(crate) async fn relay_abandoning_stalls(
    fake: &FakeArtifacts,
    url: &DisplaySafeUrl,
    digest: &str,
    max_attempts: u32,
) {
    let mut retry = RetryPolicy {
        stall_timeout: Duration::from_millis(300),
        ..fast()
    };
    retry.backoff.max_retries = max_attempts - 1;
    let started = std::time::Instant::now();
    relay_into_current_with(fake, url, digest, Overwrite::Refuse, retry)
        .await
        .unwrap();
    assert!(
        started.elapsed() < relay_fakes::STALL / 2,
        "waited a stall out instead of abandoning it and retrying"
    );
}
