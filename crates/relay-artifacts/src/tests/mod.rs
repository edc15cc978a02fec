//! Protocol tests: against a small in-process fake (blob store + results
//! service) on 127.0.0.1, against the test kit's strict fakes, and against
//! azurite. They reach the crate's internals (the relay, the results
//! client), which are not part of its public surface.

#![allow(clippy::unwrap_used)] // test support code outside #[test] fns

mod azurite;
mod testkit;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::pipe::{Passed, PipeOptions, Spool};
use crate::results::ResultsClient;
use crate::{ArtifactError, DigestCheck, DigestPolicy, RetryPolicy, RuntimeToken};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

#[derive(Default)]
pub(crate) struct Fake {
    pub source: Vec<u8>,
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

pub(crate) fn token_str() -> String {
    let p = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"scp":"Actions.GenericRead Actions.Results:run-1:job-1"}"#);
    format!("e30.{p}.sig")
}

pub(crate) async fn serve(fake: Fake) -> (String, S) {
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

/// A relay of `src` into `dst`, spooled to `spool` when given.
pub(crate) async fn pipe_one(
    http: &reqwest::Client,
    src: &str,
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
    download: &str,
    new_name: &str,
    expires_at: Option<&str>,
    expected: &str,
    policy: DigestPolicy,
    opts: &PipeOptions,
) -> Result<(i64, Passed, DigestCheck), ArtifactError> {
    let upload = results.create_artifact(new_name, expires_at).await?;
    let http = reqwest::Client::new();
    let passed = crate::pipe::pipe(&http, download, Some(&upload), None, opts).await?;
    let check = crate::verify::verify_digest(policy, Some(expected), &passed.sha256, new_name)?;
    let id = results
        .finalize_artifact(new_name, passed.size, &passed.sha256)
        .await?;
    Ok((id, passed, check))
}

pub(crate) fn opts() -> PipeOptions {
    PipeOptions {
        block_size: 1 << 20,
        parallel: 3,
        retry: fast(),
        budget: None,
        stop: Default::default(),
    }
}

pub(crate) fn pseudo_random(n: usize) -> Vec<u8> {
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

pub(crate) fn sha256_hex(b: &[u8]) -> String {
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
    let r = pipe_one(
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
    let r = pipe_one(
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
    let err = pipe_one(
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
    policy: DigestPolicy,
) -> (Result<(i64, Passed, DigestCheck), ArtifactError>, S) {
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
    s.lock().unwrap().upload_base = Some(base.clone());
    let download = format!("{base}/src");
    let r = stage_and_finalize(
        &results,
        &download,
        "deploy-web",
        None,
        expected,
        policy,
        &opts(),
    )
    .await;
    (r, s)
}

#[tokio::test]
async fn a_digest_mismatch_under_error_is_never_finalized() {
    let (r, s) = reupload_with("sha256:0000", DigestPolicy::Error).await;
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
    let (r, s) = reupload_with(&digest, DigestPolicy::Error).await;
    let (id, passed, check) = r.unwrap();
    assert_eq!((id, passed.size), (42, 50_000));
    assert_eq!(check, DigestCheck::Match);
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
    let (r, _s) = reupload_with("sha256:0000", DigestPolicy::Warn).await;
    assert!(matches!(r.unwrap().2, DigestCheck::Mismatch { .. }));
}
