//! A fake artifacts v4 results service (Twirp JSON) with its blob store, on
//! 127.0.0.1 and its own thread. Strict like the real one: unknown or
//! missing fields are refused, the bearer token's `scp` claim must name the
//! run and job the request names, an existing name is a 409, and an
//! artifact is only listed once finalized.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::blob::{BlobFault, BlobStore, signed_url};

const PREFIX: &str = "/twirp/github.actions.results.api.v1.ArtifactService/";

/// An artifact the fake holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredArtifact {
    /// The id `FinalizeArtifact` answers with.
    pub id: i64,
    /// The artifact's name, unique within its run.
    pub name: String,
    /// The size `FinalizeArtifact` declared (it must match the blob).
    pub size: u64,
    /// The `hash` `FinalizeArtifact` declared, `sha256:<hex>`.
    pub hash: Option<String>,
    /// Whether `FinalizeArtifact` was called; until then a new
    /// `CreateArtifact` of the name does not conflict.
    pub finalized: bool,
    /// The artifact protocol version `CreateArtifact` sent.
    pub version: i64,
    /// `CreateArtifact`'s `expires_at`, as sent.
    pub expires_at: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct FakeState {
    base: String,
    next_id: i64,
    /// run backend id → name → artifact
    runs: BTreeMap<String, BTreeMap<String, StoredArtifact>>,
    pub(crate) blob: BlobStore,
    calls: Vec<(String, Value)>,
    conflict_next: bool,
    twirp_faults: std::collections::VecDeque<TwirpFault>,
}

/// One queued misbehaviour of the Twirp endpoint; each fires once, on the
/// next call whatever its method, before the call is looked at or recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwirpFault {
    /// Answer with this status and a Twirp error body.
    Status(u16),
    /// Hold the call for [`crate::blob::STALL`] without answering, then 503.
    Stall,
    /// Answer 200, then break the connection before the body arrives.
    ResetBody,
}

pub(crate) type Shared = Arc<Mutex<FakeState>>;

pub(crate) fn lock(s: &Shared) -> std::sync::MutexGuard<'_, FakeState> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The running fake; stops when dropped.
pub struct FakeArtifacts {
    url: String,
    state: Shared,
    _server: crate::serve::Background,
}

impl FakeArtifacts {
    /// Starts the service and its blob store on a free port of 127.0.0.1.
    pub fn start() -> Self {
        let state: Shared = Arc::new(Mutex::new(FakeState {
            next_id: 1000,
            ..FakeState::default()
        }));
        let app = Router::new()
            .route(&format!("{PREFIX}{{method}}"), post(twirp))
            .route("/blob/{key}", put(crate::blob::put).get(crate::blob::get))
            // Azure takes blocks up to 4000 MiB; axum's 2 MiB default would
            // refuse the 4 MiB blocks every real client sends.
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(state.clone());
        let (url, server) = crate::serve::spawn(app, "fake artifacts service");
        lock(&state).base.clone_from(&url);
        Self {
            url,
            state,
            _server: server,
        }
    }

    /// `ACTIONS_RESULTS_URL` for clients of this fake.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// An `ACTIONS_RUNTIME_TOKEN` whose `scp` claim names `run` and `job`.
    pub fn runtime_token(run: &str, job: &str) -> String {
        let claims = json!({"scp": format!("Actions.GenericRead:abc Actions.Results:{run}:{job}")});
        let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("eyJhbGciOiJub25lIn0.{p}.fake-signature")
    }

    /// Puts a finalized artifact with `zip` as content into `run`; returns
    /// its id, a signed download URL and its `sha256:` digest.
    pub fn seed(&self, run: &str, name: &str, zip: Vec<u8>) -> (i64, String, String) {
        use sha2::Digest as _;
        let digest = crate::hex(&sha2::Sha256::digest(&zip));
        let size = zip.len() as u64;
        let mut s = lock(&self.state);
        s.next_id += 1;
        let id = s.next_id;
        let key = blob_key(run, name);
        s.blob.blobs.entry(key.clone()).or_default().committed = Some(Bytes::from(zip).into());
        s.runs.entry(run.to_owned()).or_default().insert(
            name.to_owned(),
            StoredArtifact {
                id,
                name: name.to_owned(),
                size,
                hash: Some(format!("sha256:{digest}")),
                finalized: true,
                version: 7,
                expires_at: None,
            },
        );
        let url = signed_url(&s.base, &key, far_future());
        (id, url, format!("sha256:{digest}"))
    }

    /// The artifacts of `run`, finalized or not.
    pub fn artifacts(&self, run: &str) -> Vec<StoredArtifact> {
        lock(&self.state)
            .runs
            .get(run)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The committed content of `run`'s artifact `name`.
    pub fn content(&self, run: &str, name: &str) -> Option<Vec<u8>> {
        let s = lock(&self.state);
        s.blob
            .blobs
            .get(&blob_key(run, name))
            .and_then(|b| b.committed.as_ref())
            .map(super::blob::Chunks::to_vec)
    }

    /// A signed URL for blob `name` of `run`, to PUT a whole blob to (or
    /// read it back), as a raw copy would.
    pub fn blob_url(&self, run: &str, name: &str) -> String {
        signed_url(&lock(&self.state).base, &blob_key(run, name), far_future())
    }

    /// Every Twirp call as (method, request body).
    pub fn calls(&self) -> Vec<(String, Value)> {
        lock(&self.state).calls.clone()
    }

    /// Queues a blob-store fault.
    pub fn blob_fault(&self, f: BlobFault) {
        lock(&self.state).blob.faults.push_back(f);
    }

    /// Queues a fault for the next Twirp call.
    pub fn twirp_fault(&self, f: TwirpFault) {
        lock(&self.state).twirp_faults.push_back(f);
    }

    /// The next `CreateArtifact` answers 409 whatever the name.
    pub fn conflict_next(&self) {
        lock(&self.state).conflict_next = true;
    }

    /// The `Range` header of every Get Blob request so far, in order
    /// (`None`: the whole blob was asked for).
    pub fn blob_ranges(&self) -> Vec<Option<String>> {
        lock(&self.state).blob.ranges.clone()
    }

    /// Whether any blob request carried an `Authorization` header.
    pub fn blob_saw_authorization(&self) -> bool {
        lock(&self.state).blob.saw_authorization
    }

    /// From now on the blob store counts what is uploaded instead of
    /// keeping it (sizes still checked at finalize; contents not readable):
    /// a benchmark's server then costs as little as a server can.
    pub fn discard_uploads(&self) {
        lock(&self.state).blob.discard = true;
    }
}

fn blob_key(run: &str, name: &str) -> String {
    let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!("{}.{}", enc(run), enc(name))
}

fn far_future() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() + 3600
}

fn twirp_error(status: StatusCode, code: &str, msg: &str) -> Response {
    (status, axum::Json(json!({"code": code, "msg": msg}))).into_response()
}

/// The `Actions.Results:<run>:<job>` of a bearer token.
fn token_ids(headers: &HeaderMap) -> Option<(String, String)> {
    let auth = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let payload = auth.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["scp"].as_str()?.split(' ').find_map(|s| {
        let mut p = s.split(':');
        (p.next()? == "Actions.Results").then_some(())?;
        Some((p.next()?.to_owned(), p.next()?.to_owned()))
    })
}

/// Fields a method accepts, and which of them are required.
fn schema(method: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    const IDS: [&str; 2] = ["workflow_run_backend_id", "workflow_job_run_backend_id"];
    Some(match method {
        "CreateArtifact" => (
            &[
                "workflow_run_backend_id",
                "workflow_job_run_backend_id",
                "name",
                "expires_at",
                "version",
                "mime_type",
            ],
            &[
                "workflow_run_backend_id",
                "workflow_job_run_backend_id",
                "name",
                "version",
            ],
        ),
        "FinalizeArtifact" => (
            &[
                "workflow_run_backend_id",
                "workflow_job_run_backend_id",
                "name",
                "size",
                "hash",
            ],
            &[
                "workflow_run_backend_id",
                "workflow_job_run_backend_id",
                "name",
                "size",
            ],
        ),
        "ListArtifacts" => (
            &[
                "workflow_run_backend_id",
                "workflow_job_run_backend_id",
                "name_filter",
                "id_filter",
            ],
            &IDS,
        ),
        "GetSignedArtifactURL" | "DeleteArtifact" => (
            &[
                "workflow_run_backend_id",
                "workflow_job_run_backend_id",
                "name",
            ],
            &[
                "workflow_run_backend_id",
                "workflow_job_run_backend_id",
                "name",
            ],
        ),
        _ => return None,
    })
}

async fn twirp(
    AxState(state): AxState<Shared>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = lock(&state).twirp_faults.pop_front();
    match fault {
        Some(TwirpFault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return twirp_error(status, "unavailable", "injected fault");
        }
        Some(TwirpFault::Stall) => {
            tokio::time::sleep(crate::blob::STALL).await;
            return twirp_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "stalled");
        }
        Some(TwirpFault::ResetBody) => {
            let broken =
                futures::stream::iter([Err::<Bytes, _>(std::io::Error::other("reset by fault"))]);
            return (StatusCode::OK, axum::body::Body::from_stream(broken)).into_response();
        }
        None => {}
    }
    let Some((allowed, required)) = schema(&method) else {
        return twirp_error(StatusCode::NOT_FOUND, "bad_route", "no such method");
    };
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return twirp_error(
            StatusCode::BAD_REQUEST,
            "malformed",
            "body is not a JSON object",
        );
    };
    if let Some(k) = req.keys().find(|k| !allowed.contains(&k.as_str())) {
        return twirp_error(
            StatusCode::BAD_REQUEST,
            "malformed",
            &format!("unknown field {k}"),
        );
    }
    if let Some(k) = required.iter().find(|k| !req.contains_key(**k)) {
        return twirp_error(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            &format!("{k} is required"),
        );
    }
    let Some((run, job)) = token_ids(&headers) else {
        return twirp_error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "invalid runtime token",
        );
    };
    if req["workflow_run_backend_id"] != json!(run)
        || req["workflow_job_run_backend_id"] != json!(job)
    {
        return twirp_error(
            StatusCode::FORBIDDEN,
            "permission_denied",
            "backend ids do not match the token",
        );
    }
    let req = Value::Object(req);
    let mut s = lock(&state);
    s.calls.push((method.clone(), req.clone()));
    let name = req["name"].as_str().unwrap_or_default().to_owned();
    let base = s.base.clone();
    match method.as_str() {
        "CreateArtifact" => {
            let Some(version) = req["version"].as_i64() else {
                return twirp_error(
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    "version must be an integer",
                );
            };
            let conflict = std::mem::take(&mut s.conflict_next);
            let existing = s
                .runs
                .get(&run)
                .and_then(|m| m.get(&name))
                .is_some_and(|a| a.finalized);
            if conflict || existing {
                return twirp_error(
                    StatusCode::CONFLICT,
                    "already_exists",
                    &format!(
                        "an artifact with this name already exists on the workflow run: {name}"
                    ),
                );
            }
            s.next_id += 1;
            let id = s.next_id;
            let expires_at = req["expires_at"].as_str().map(str::to_owned);
            s.runs.entry(run.clone()).or_default().insert(
                name.clone(),
                StoredArtifact {
                    id,
                    name: name.clone(),
                    size: 0,
                    hash: None,
                    finalized: false,
                    version,
                    expires_at,
                },
            );
            let url = signed_url(&base, &blob_key(&run, &name), far_future());
            axum::Json(json!({"ok": true, "signed_upload_url": url})).into_response()
        }
        "FinalizeArtifact" => {
            let Some(size) = req["size"].as_str().and_then(|v| v.parse::<u64>().ok()) else {
                return twirp_error(
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    "size must be an int64 string",
                );
            };
            let committed = s
                .blob
                .blobs
                .get(&blob_key(&run, &name))
                .and_then(|b| b.committed.as_ref())
                .map(|b| b.len() as u64);
            let Some(a) = s.runs.get_mut(&run).and_then(|m| m.get_mut(&name)) else {
                return twirp_error(StatusCode::NOT_FOUND, "not_found", "no such artifact");
            };
            if committed != Some(size) {
                return twirp_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_argument",
                    "size does not match the uploaded blob",
                );
            }
            a.size = size;
            a.hash = req["hash"].as_str().map(str::to_owned);
            a.finalized = true;
            axum::Json(json!({"ok": true, "artifact_id": a.id.to_string()})).into_response()
        }
        "ListArtifacts" => {
            let filter = req.get("name_filter").and_then(Value::as_str);
            // Int64Value travels as a decimal string (or a number).
            let id_filter = req.get("id_filter").and_then(|v| match v {
                Value::String(s) => s.parse::<i64>().ok(),
                v => v.as_i64(),
            });
            let list: Vec<Value> = s
                .runs
                .get(&run)
                .into_iter()
                .flat_map(|m| m.values())
                .filter(|a| {
                    a.finalized && filter.is_none_or(|f| f == a.name) && id_filter.is_none_or(|i| i == a.id)
                })
                .map(|a| {
                    json!({"workflow_run_backend_id": run, "workflow_job_run_backend_id": job,
                           "database_id": a.id.to_string(), "name": a.name, "size": a.size.to_string(),
                           "created_at": "2026-11-22T00:00:00Z", "digest": a.hash})
                })
                .collect();
            axum::Json(json!({"artifacts": list})).into_response()
        }
        "GetSignedArtifactURL" => {
            if !s
                .runs
                .get(&run)
                .and_then(|m| m.get(&name))
                .is_some_and(|a| a.finalized)
            {
                return twirp_error(StatusCode::NOT_FOUND, "not_found", "no such artifact");
            }
            let url = signed_url(&base, &blob_key(&run, &name), far_future());
            axum::Json(json!({"signed_url": url})).into_response()
        }
        "DeleteArtifact" => match s.runs.get_mut(&run).and_then(|m| m.remove(&name)) {
            Some(a) => {
                s.blob.blobs.remove(&blob_key(&run, &name));
                axum::Json(json!({"ok": true, "artifact_id": a.id.to_string()})).into_response()
            }
            None => twirp_error(StatusCode::NOT_FOUND, "not_found", "no such artifact"),
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
