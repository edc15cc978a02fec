//! Protocol tests against a small in-process fake (blob store + results
//! service) on 127.0.0.1.

#![allow(clippy::unwrap_used)] // test support code outside #[test] fns

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use relay_artifacts::{ArtifactError, RelayOptions, ResultsClient, RetryPolicy, RuntimeToken};
use serde_json::{Value, json};

#[derive(Default)]
struct Fake {
    source: Vec<u8>,
    /// Break the download off after this many bytes, this many times.
    break_after: Option<(usize, u32)>,
    blocks: BTreeMap<String, Vec<u8>>,
    committed: Option<Vec<u8>>,
    saw_authorization: bool,
    ranges: Vec<String>,
    twirp: Vec<(String, Value)>,
    camel: bool,
    artifacts: Vec<String>,
    upload_base: Option<String>,
}

type S = Arc<Mutex<Fake>>;

async fn download(State(s): State<S>, headers: HeaderMap) -> Response {
    let mut f = s.lock().unwrap();
    f.saw_authorization |= headers.contains_key("authorization");
    let start = match headers.get("range") {
        Some(r) => {
            let r = r.to_str().unwrap().to_owned();
            f.ranges.push(r.clone());
            r.trim_start_matches("bytes=")
                .trim_end_matches('-')
                .parse()
                .unwrap()
        }
        None => 0,
    };
    let data = f.source[start..].to_vec();
    let status = if start > 0 {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    if let Some((after, times)) = f.break_after.filter(|(_, t)| *t > 0) {
        f.break_after = Some((after, times - 1));
        let head = Bytes::from(data[..after.min(data.len())].to_vec());
        let items: Vec<Result<Bytes, std::io::Error>> =
            vec![Ok(head), Err(std::io::Error::other("reset"))];
        return (status, Body::from_stream(futures::stream::iter(items))).into_response();
    }
    (status, data).into_response()
}

async fn upload(
    State(s): State<S>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut f = s.lock().unwrap();
    f.saw_authorization |= headers.contains_key("authorization");
    if headers.get("x-ms-version").is_none() || q.get("sig").map(String::as_str) != Some("ok") {
        return StatusCode::FORBIDDEN;
    }
    match q.get("comp").map(String::as_str) {
        Some("block") => {
            let id = q["blockid"].clone();
            f.blocks.insert(id, body.to_vec());
            StatusCode::CREATED
        }
        Some("blocklist") => {
            let xml = String::from_utf8(body.to_vec()).unwrap();
            let mut out = Vec::new();
            for part in xml.split("<Latest>").skip(1) {
                let id = part.split("</Latest>").next().unwrap();
                out.extend_from_slice(&f.blocks[id]);
            }
            f.committed = Some(out);
            StatusCode::CREATED
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

async fn twirp(
    State(s): State<S>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut f = s.lock().unwrap();
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {}", token_str()))
    {
        return (StatusCode::UNAUTHORIZED, "{}").into_response();
    }
    let req: Value = serde_json::from_slice(&body).unwrap();
    f.twirp.push((method.clone(), req.clone()));
    let name = req["name"].as_str().unwrap_or_default().to_owned();
    let camel = f.camel;
    let k = |snake: &'static str, camel_name: &'static str| if camel { camel_name } else { snake };
    let v = match method.as_str() {
        "CreateArtifact" => {
            if f.artifacts.contains(&name) {
                return (
                    StatusCode::CONFLICT,
                    r#"{"code":"already_exists","msg":"exists"}"#,
                )
                    .into_response();
            }
            f.artifacts.push(name);
            {
                let url = match &f.upload_base {
                    Some(b) => format!("{b}/dst?sig=ok"),
                    None => "http://x/?sig=ok".to_owned(),
                };
                json!({"ok": true, k("signed_upload_url", "signedUploadUrl"): url})
            }
        }
        "FinalizeArtifact" => json!({"ok": true, k("artifact_id", "artifactId"): "42"}),
        "ListArtifacts" => json!({"artifacts": [
            {k("database_id", "databaseId"): "42", "name": "a", "size": "3", "digest": "sha256:00"}
        ]}),
        "DeleteArtifact" => json!({"ok": true, k("artifact_id", "artifactId"): 42}),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    axum::Json(v).into_response()
}

fn token_str() -> String {
    let p = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"scp":"Actions.GenericRead Actions.Results:run-1:job-1"}"#);
    format!("e30.{p}.sig")
}

async fn serve(fake: Fake) -> (String, S) {
    let s: S = Arc::new(Mutex::new(fake));
    let app = Router::new()
        .route("/src", get(download))
        .route("/dst", axum::routing::put(upload))
        .route(
            "/twirp/github.actions.results.api.v1.ArtifactService/{method}",
            post(twirp),
        )
        .with_state(s.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}"), s)
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(10),
        multiplier: 1.5,
        stall_timeout: Duration::from_secs(5),
    }
}

fn opts() -> RelayOptions {
    RelayOptions {
        block_size: 1 << 20,
        parallel: 3,
        retry: fast(),
        budget: None,
    }
}

fn pseudo_random(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(b)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn relays_blocks_in_order_without_tokens_and_spools() {
    let data = pseudo_random(5 * (1 << 20) + 12345);
    let (base, s) = serve(Fake {
        source: data.clone(),
        ..Fake::default()
    })
    .await;
    let spool = tempfile::NamedTempFile::new().unwrap();
    let http = reqwest::Client::new();
    let r = relay_artifacts::relay(
        &http,
        &format!("{base}/src"),
        &format!("{base}/dst?sig=ok"),
        Some(spool.path()),
        &opts(),
    )
    .await
    .unwrap();
    assert_eq!(r.size, data.len() as u64);
    assert_eq!(r.blocks, 6);
    assert_eq!(r.sha256, sha256_hex(&data));
    let f = s.lock().unwrap();
    assert_eq!(f.committed.as_deref(), Some(&data[..]));
    assert!(!f.saw_authorization);
    assert_eq!(std::fs::read(spool.path()).unwrap(), data);
}

#[tokio::test]
async fn a_download_reset_mid_body_resumes_with_range() {
    let data = pseudo_random(3 * (1 << 20) + 7);
    let (base, s) = serve(Fake {
        source: data.clone(),
        break_after: Some((1_500_000, 2)),
        ..Fake::default()
    })
    .await;
    let http = reqwest::Client::new();
    let r = relay_artifacts::relay(
        &http,
        &format!("{base}/src"),
        &format!("{base}/dst?sig=ok"),
        None,
        &opts(),
    )
    .await
    .unwrap();
    assert_eq!(r.sha256, sha256_hex(&data));
    let f = s.lock().unwrap();
    assert_eq!(f.committed.as_deref(), Some(&data[..]));
    assert_eq!(f.ranges, ["bytes=1500000-", "bytes=3000000-"]);
}

#[tokio::test]
async fn an_expired_upload_url_fails_with_a_hint() {
    let (base, _s) = serve(Fake {
        source: vec![1, 2, 3],
        ..Fake::default()
    })
    .await;
    let http = reqwest::Client::new();
    let err = relay_artifacts::relay(
        &http,
        &format!("{base}/src"),
        &format!("{base}/dst?sig=expired"),
        None,
        &opts(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ArtifactError::Blob { status: 403, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("expired"));
}

async fn client(camel: bool) -> (ResultsClient, S) {
    let (base, s) = serve(Fake {
        camel,
        ..Fake::default()
    })
    .await;
    let c = ResultsClient::new(
        reqwest::Client::new(),
        &base,
        RuntimeToken::new(Some(token_str())).unwrap(),
        fast(),
    )
    .unwrap();
    (c, s)
}

#[tokio::test]
async fn twirp_requests_are_snake_case_and_responses_read_in_both_cases() {
    for camel in [false, true] {
        let (c, s) = client(camel).await;
        let url = c
            .create_artifact("deploy-a", Some("2026-12-01T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!(url, "http://x/?sig=ok");
        assert_eq!(c.finalize_artifact("deploy-a", 3, "ab").await.unwrap(), 42);
        let listed = c.list_artifacts(Some("a")).await.unwrap();
        assert_eq!((listed[0].id, listed[0].size), (42, 3));
        assert_eq!(c.delete_artifact("deploy-a").await.unwrap(), 42);
        let f = s.lock().unwrap();
        assert_eq!(
            f.twirp[0].1,
            json!({"workflow_run_backend_id": "run-1", "workflow_job_run_backend_id": "job-1",
                   "name": "deploy-a", "version": 7, "mime_type": "application/zip",
                   "expires_at": "2026-12-01T00:00:00Z"})
        );
        assert_eq!(f.twirp[1].1["size"], "3");
        assert_eq!(f.twirp[1].1["hash"], "sha256:ab");
        assert_eq!(f.twirp[2].1["name_filter"], "a");
    }
}

#[tokio::test]
async fn an_existing_name_is_a_409_naming_the_artifact() {
    let (c, _s) = client(false).await;
    c.create_artifact("deploy-a", None).await.unwrap();
    let err = c.create_artifact("deploy-a", None).await.unwrap_err();
    assert!(matches!(err, ArtifactError::AlreadyExists { .. }));
    assert!(err.to_string().contains("`deploy-a`"), "{err}");
}

#[tokio::test]
async fn invalid_names_fail_before_any_request() {
    let (c, s) = client(false).await;
    let err = c.create_artifact("a/b", None).await.unwrap_err();
    assert!(matches!(err, ArtifactError::Name(_)));
    assert!(s.lock().unwrap().twirp.is_empty());
}

async fn reupload_with(
    expected: &str,
    policy: relay_artifacts::DigestPolicy,
) -> (Result<relay_artifacts::Reuploaded, ArtifactError>, S) {
    let data = pseudo_random(50_000);
    let (base, s) = serve(Fake {
        source: data,
        ..Fake::default()
    })
    .await;
    let results = ResultsClient::new(
        reqwest::Client::new(),
        &base,
        RuntimeToken::new(Some(token_str())).unwrap(),
        fast(),
    )
    .unwrap();
    // The fake's signed upload URL points nowhere; aim it at /dst.
    let http = reqwest::Client::new();
    let download = format!("{base}/src");
    let job = relay_artifacts::Reupload {
        download_url: &download,
        new_name: "deploy-web",
        expires_at: None,
        expected_digest: Some(expected),
        digest_policy: policy,
        overwrite: false,
        spool: None,
    };
    s.lock().unwrap().upload_base = Some(base.clone());
    (
        relay_artifacts::reupload(&results, &http, &job, &opts()).await,
        s,
    )
}

#[tokio::test]
async fn a_digest_mismatch_under_error_is_never_finalized() {
    let (r, s) = reupload_with("sha256:0000", relay_artifacts::DigestPolicy::Error).await;
    let err = r.unwrap_err();
    assert!(matches!(err, ArtifactError::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains("`deploy-web`"));
    let f = s.lock().unwrap();
    assert!(
        f.twirp.iter().all(|(m, _)| m != "FinalizeArtifact"),
        "{:?}",
        f.twirp
    );
}

#[tokio::test]
async fn a_digest_match_finalizes_with_size_and_hash() {
    let digest = format!("sha256:{}", sha256_hex(&pseudo_random(50_000)));
    let (r, s) = reupload_with(&digest, relay_artifacts::DigestPolicy::Error).await;
    let done = r.unwrap();
    assert_eq!((done.id, done.size), (42, 50_000));
    assert_eq!(done.digest, relay_artifacts::DigestCheck::Match);
    let f = s.lock().unwrap();
    let (_, fin) = f
        .twirp
        .iter()
        .find(|(m, _)| m == "FinalizeArtifact")
        .unwrap();
    assert_eq!(fin["hash"], digest);
    assert_eq!(fin["size"], "50000");
}

#[tokio::test]
async fn a_digest_mismatch_under_warn_is_finalized_and_reported() {
    let (r, _s) = reupload_with("sha256:0000", relay_artifacts::DigestPolicy::Warn).await;
    assert!(matches!(
        r.unwrap().digest,
        relay_artifacts::DigestCheck::Mismatch { .. }
    ));
}

mod against_testkit {
    use super::*;
    use relay_artifacts::{DigestPolicy, Reupload};
    use relay_testkit::blob::BlobFault;
    use relay_testkit::results::{FakeArtifacts, TwirpFault};

    fn results(fake: &FakeArtifacts, run: &str, job: &str) -> ResultsClient {
        let token = RuntimeToken::new(Some(FakeArtifacts::runtime_token(run, job))).unwrap();
        ResultsClient::new(reqwest::Client::new(), fake.url(), token, fast()).unwrap()
    }

    async fn relay_into_current(
        fake: &FakeArtifacts,
        url: &str,
        digest: &str,
        overwrite: bool,
    ) -> Result<relay_artifacts::Reuploaded, ArtifactError> {
        relay_into_current_with(fake, url, digest, overwrite, fast()).await
    }

    async fn relay_into_current_with(
        fake: &FakeArtifacts,
        url: &str,
        digest: &str,
        overwrite: bool,
        retry: RetryPolicy,
    ) -> Result<relay_artifacts::Reuploaded, ArtifactError> {
        let job = Reupload {
            download_url: url,
            new_name: "deploy-web",
            expires_at: Some("2026-12-01T00:00:00Z"),
            expected_digest: Some(digest),
            digest_policy: DigestPolicy::Error,
            overwrite,
            spool: None,
        };
        let token =
            RuntimeToken::new(Some(FakeArtifacts::runtime_token("current-run", "job-1"))).unwrap();
        let c = ResultsClient::new(reqwest::Client::new(), fake.url(), token, retry).unwrap();
        let opts = RelayOptions { retry, ..opts() };
        relay_artifacts::reupload(&c, &reqwest::Client::new(), &job, &opts).await
    }

    /// Relays with `max_attempts` and a 300 ms stall timeout, and checks that
    /// the stalls the fakes hold for [`relay_testkit::blob::STALL`] were
    /// abandoned and retried, not waited out.
    async fn relay_abandoning_stalls(
        fake: &FakeArtifacts,
        url: &str,
        digest: &str,
        max_attempts: u32,
    ) {
        let retry = RetryPolicy {
            max_attempts,
            stall_timeout: Duration::from_millis(300),
            ..fast()
        };
        let started = std::time::Instant::now();
        relay_into_current_with(fake, url, digest, false, retry)
            .await
            .unwrap();
        assert!(
            started.elapsed() < relay_testkit::blob::STALL / 2,
            "waited a stall out instead of abandoning it and retrying"
        );
    }

    fn github(gh: &relay_testkit::FakeGitHub) -> relay_github::GitHub {
        let env = relay_runtime::Env::from_pairs([
            ("GITHUB_API_URL", gh.url()),
            ("DEPLOY_RELAY_BACKOFF_SCALE", "0.01"),
        ]);
        let (console, _) = relay_runtime::Console::capture(false);
        let token =
            relay_github::Token::new(relay_runtime::Secret::new(relay_testkit::DEFAULT_TOKEN));
        relay_github::GitHub::new(&env, console, Some(token)).unwrap()
    }

    fn o_r() -> relay_runtime::RepoName {
        relay_runtime::RepoName::parse("o/r").unwrap()
    }

    #[tokio::test]
    async fn rest_lists_every_page_newest_per_name_and_sets_expired_aside() {
        use relay_testkit::github::ArtifactSeed;
        let gh = relay_testkit::FakeGitHub::start();
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
        let got = relay_artifacts::rest::list_run_artifacts(&client, &o_r(), 7, None)
            .await
            .unwrap();
        assert_eq!(got.artifacts.len(), 131, "two pages of 100");
        let web = got.artifacts.iter().find(|a| a.name == "web").unwrap();
        assert_eq!(web.id, new_web);
        assert_ne!(web.id, old_web);
        assert_eq!(got.expired, ["old"]);
        let only = relay_artifacts::rest::list_run_artifacts(&client, &o_r(), 7, Some("n007"))
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
        use relay_testkit::github::ArtifactSeed;
        let fake = FakeArtifacts::start();
        let data = pseudo_random(100_000);
        let (_, blob_url, digest) = fake.seed("source-run", "web", data.clone());
        let gh = relay_testkit::FakeGitHub::start();
        gh.repo("o/r", "main");
        let seed = ArtifactSeed::new("web", &blob_url, data.len() as u64).digest(&digest);
        let id = gh.add_artifact("o/r", 7, seed.clone());
        let client = github(&gh);
        let listed = relay_artifacts::rest::list_run_artifacts(&client, &o_r(), 7, None)
            .await
            .unwrap();
        assert_eq!(listed.artifacts[0].id, id);
        assert_eq!(listed.artifacts[0].digest.as_deref(), Some(digest.as_str()));
        let url = relay_artifacts::rest::zip_url(&client, &o_r(), &listed.artifacts[0])
            .await
            .unwrap();
        assert_eq!(url, blob_url);
        let done = relay_into_current(&fake, &url, &digest, false)
            .await
            .unwrap();
        assert_eq!(done.size, data.len() as u64);
        assert!(
            !fake.blob_saw_authorization(),
            "a token went to blob storage"
        );

        let expired_id = gh.add_artifact("o/r", 7, seed.expired());
        let mut expired = listed.artifacts[0].clone();
        expired.id = expired_id;
        let err = relay_artifacts::rest::zip_url(&client, &o_r(), &expired)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ArtifactError::Expired { ref name } if name == "web"),
            "{err}"
        );
        relay_artifacts::rest::delete_artifact(&client, &o_r(), id)
            .await
            .unwrap();
        relay_artifacts::rest::delete_artifact(&client, &o_r(), id)
            .await
            .expect("a second delete finds it gone, which is fine");
        assert_eq!(gh.deleted_artifacts(), [id]);
    }

    #[tokio::test]
    async fn relays_sharing_a_one_block_budget_all_finish_in_order() {
        let fake = FakeArtifacts::start();
        let budget = std::sync::Arc::new(tokio::sync::Semaphore::new(1));
        let opts = RelayOptions {
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
            .map(|(url, upload, _)| relay_artifacts::relay(&http, url, upload, None, &opts));
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
        assert_eq!((stored[0].id, stored[0].size), (done.id, data.len() as u64));
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
}

// The official client on both ends of a relay is tested where the relay is
// driven as users drive it: crates/download-and-reupload-artifacts/tests/it/interop.rs.

/// Our block upload checked by a real Azure implementation: azurite.
mod azurite {
    use super::*;
    use hmac::{Hmac, Mac as _};
    use std::process::{Child, Command, Stdio};

    const ACCOUNT: &str = "devstoreaccount1";
    /// azurite's published well-known development key (not a secret).
    const KEY: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    struct Azurite(Child);
    impl Drop for Azurite {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// An account SAS (sv 2023-11-03) for blob service, container and object.
    fn account_sas() -> String {
        let (sp, ss, srt, se, sv) = ("rwdlac", "b", "sco", "2099-01-01T00:00:00Z", "2023-11-03");
        let to_sign = format!("{ACCOUNT}\n{sp}\n{ss}\n{srt}\n\n{se}\n\n\n{sv}\n\n");
        let key = base64::engine::general_purpose::STANDARD
            .decode(KEY)
            .unwrap();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(to_sign.as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let sig = sig
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        format!("sv={sv}&ss={ss}&srt={srt}&sp={sp}&se={se}&sig={sig}")
    }

    #[tokio::test]
    async fn block_upload_is_accepted_and_assembled_by_azurite() {
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/node/node_modules/.bin/azurite-blob");
        if !relay_testkit::peers::require(&bin, "cd crates/relay-artifacts/tests/node && npm ci") {
            return;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let _azurite = Azurite(
            Command::new(&bin)
                .args([
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    &port.to_string(),
                    "--silent",
                    "--location",
                ])
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let base = format!("http://127.0.0.1:{port}/{ACCOUNT}");
        let sas = account_sas();
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(r) = http
                .put(format!("{base}/artifacts?restype=container&{sas}"))
                .header("x-ms-version", relay_artifacts::X_MS_VERSION)
                .send()
                .await
            {
                assert!(
                    r.status().is_success() || r.status() == 409,
                    "create container: {}",
                    r.status()
                );
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(ready, "azurite did not start");

        let data = pseudo_random(2 * (1 << 20) + 4321);
        let (src, _s) = serve(Fake {
            source: data.clone(),
            ..Fake::default()
        })
        .await;
        let upload = format!("{base}/artifacts/web.zip?{sas}");
        let r = relay_artifacts::relay(&http, &format!("{src}/src"), &upload, None, &opts())
            .await
            .unwrap();
        assert_eq!(r.blocks, 3);
        let got = http
            .get(&upload)
            .header("x-ms-version", relay_artifacts::X_MS_VERSION)
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.headers()["content-type"], "application/zip");
        assert_eq!(got.bytes().await.unwrap().to_vec(), data);
    }
}
