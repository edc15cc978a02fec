//! A block-blob store behind signed URLs, enough of Azure's Blob service for
//! artifacts: Put Block, Put Block List (blocks assembled in list order,
//! unknown ids refused), Get Blob with `Range`. URLs carry a signature and an
//! expiry; faults (503s, a reset mid-body, a stalled body or request, an
//! expired URL, a corrupted download) are queued per test.

use std::collections::{BTreeMap, VecDeque};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;

use crate::results::{Shared, lock};

/// One queued misbehaviour of the blob store; each fires once, on the
/// next request it is for (a download's fault waits out the uploads before
/// it, an upload's the downloads), in the order queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobFault {
    /// Answer the next blob request with this status.
    Status(u16),
    /// Send this many bytes of the next download, then reset the connection.
    ResetAfter(usize),
    /// Treat the next request's URL as expired (403 `AuthenticationFailed`).
    Expired,
    /// Flip a byte in the next download.
    Corrupt,
    /// Send this many bytes of the next download, then nothing more for
    /// [`STALL`]: the connection stays open but the body stops moving.
    StallAfter(usize),
    /// Hold the next upload request for [`STALL`] without answering, then
    /// answer 503 without storing anything.
    StallUpload,
    /// Answer the next download 200 with the whole blob, whatever its
    /// `Range` asks for: a server may ignore the header (RFC 9110 §14.2).
    IgnoreRange,
}

impl BlobFault {
    /// Whether the fault is for a request of this kind.
    fn is_for(&self, request: Request) -> bool {
        match self {
            Self::Status(_) | Self::Expired => true,
            Self::ResetAfter(_) | Self::Corrupt | Self::StallAfter(_) | Self::IgnoreRange => {
                request == Request::Download
            }
            Self::StallUpload => request == Request::Upload,
        }
    }
}

/// What a blob request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    /// Get Blob.
    Download,
    /// Put Block, Put Block List or Put Blob.
    Upload,
}

/// How long a stalled request or body hangs; far longer than any client's
/// stall timeout in the tests, short enough that a server shutting down does
/// not wait on it for long.
pub const STALL: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, Default)]
pub(crate) struct Blob {
    blocks: BTreeMap<String, Chunks>,
    pub(crate) committed: Option<Chunks>,
}

/// A body as it arrived, kept as the pieces it came in: committing a block
/// list or serving a blob shares them instead of copying, so the store is
/// never what bounds a transfer measured against it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Chunks {
    parts: Vec<Bytes>,
    len: usize,
}

impl Chunks {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn to_vec(&self) -> Vec<u8> {
        self.parts.concat()
    }

    fn push(&mut self, part: Bytes) {
        self.len += part.len();
        if !part.is_empty() {
            self.parts.push(part);
        }
    }

    fn extend(&mut self, other: &Chunks) {
        self.len += other.len;
        self.parts.extend(other.parts.iter().cloned());
    }

    /// The pieces from byte `start` on.
    fn parts_from(&self, mut start: usize) -> Vec<Bytes> {
        let mut out = Vec::new();
        for part in &self.parts {
            if start >= part.len() {
                start -= part.len();
                continue;
            }
            out.push(part.slice(start..));
            start = 0;
        }
        out
    }

    /// Reads a request body without joining its pieces; with `discard`,
    /// only its length is kept.
    async fn read(body: Body, discard: bool) -> Result<Self, axum::Error> {
        let mut stream = body.into_data_stream();
        let mut chunks = Chunks::default();
        while let Some(part) = stream.next().await {
            let part = part?;
            if discard {
                chunks.len += part.len();
            } else {
                chunks.push(part);
            }
        }
        Ok(chunks)
    }
}

impl From<Bytes> for Chunks {
    fn from(b: Bytes) -> Self {
        let mut c = Chunks::default();
        c.push(b);
        c
    }
}

#[derive(Debug, Default)]
pub(crate) struct BlobStore {
    pub(crate) blobs: BTreeMap<String, Blob>,
    pub(crate) faults: VecDeque<BlobFault>,
    pub(crate) saw_authorization: bool,
    pub(crate) requests: usize,
    /// The `Range` header of each Get Blob request, in order.
    pub(crate) ranges: Vec<Option<String>>,
    /// Uploads are counted, not kept (see `FakeArtifacts::discard_uploads`).
    pub(crate) discard: bool,
}

/// The signature the store expects on `key`; tests never need to forge one.
pub(crate) fn signature(key: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(format!("fake-blob-secret:{key}").as_bytes());
    crate::hex(&d[..12])
}

pub(crate) fn signed_url(base: &str, key: &str, expires_unix: i64) -> String {
    format!(
        "{base}/blob/{key}?sv=2023-11-03&se={expires_unix}&sig={}",
        signature(key)
    )
}

fn azure_error(status: StatusCode, code: &str) -> Response {
    let xml = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{code}</Message></Error>"#
    );
    (status, [("x-ms-error-code", code.to_owned())], xml).into_response()
}

/// Checks signature and expiry, records tokens leaking to blob storage and
/// takes the first queued fault that is for this `request`.
fn admit(
    state: &Shared,
    key: &str,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
    request: Request,
) -> Result<Option<BlobFault>, Response> {
    let mut s = lock(state);
    let store = &mut s.blob;
    store.requests += 1;
    store.saw_authorization |= headers.contains_key("authorization");
    if q.get("sig").map(String::as_str) != Some(signature(key).as_str()) {
        return Err(azure_error(StatusCode::FORBIDDEN, "AuthenticationFailed"));
    }
    let expires: i64 = q.get("se").and_then(|e| e.parse().ok()).unwrap_or(0);
    let fault = store
        .faults
        .iter()
        .position(|f| f.is_for(request))
        .and_then(|i| store.faults.remove(i));
    if fault == Some(BlobFault::Expired)
        || expires < time::OffsetDateTime::now_utc().unix_timestamp()
    {
        return Err(azure_error(StatusCode::FORBIDDEN, "AuthenticationFailed"));
    }
    if let Some(BlobFault::Status(code)) = fault {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return Err(azure_error(status, "ServerBusy"));
    }
    Ok(fault)
}

pub(crate) async fn put(
    AxState(state): AxState<Shared>,
    Path(key): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match admit(&state, &key, &q, &headers, Request::Upload) {
        Err(r) => return r,
        Ok(Some(BlobFault::StallUpload)) => {
            tokio::time::sleep(STALL).await;
            return azure_error(StatusCode::SERVICE_UNAVAILABLE, "ServerBusy");
        }
        Ok(_) => {}
    }
    if !headers.contains_key("x-ms-version") {
        return azure_error(StatusCode::BAD_REQUEST, "MissingRequiredHeader");
    }
    let discard =
        lock(&state).blob.discard && q.get("comp").map(String::as_str) != Some("blocklist");
    let Ok(body) = Chunks::read(body, discard).await else {
        return azure_error(StatusCode::BAD_REQUEST, "InvalidInput");
    };
    let mut s = lock(&state);
    let blob = s.blob.blobs.entry(key).or_default();
    match q.get("comp").map(String::as_str) {
        Some("block") => {
            let Some(id) = q.get("blockid") else {
                return azure_error(StatusCode::BAD_REQUEST, "InvalidQueryParameterValue");
            };
            // Azure: ids of one blob must have equal length.
            if blob
                .blocks
                .keys()
                .next()
                .is_some_and(|k| k.len() != id.len())
            {
                return azure_error(StatusCode::BAD_REQUEST, "InvalidBlobOrBlock");
            }
            blob.blocks.insert(id.clone(), body);
            StatusCode::CREATED.into_response()
        }
        Some("blocklist") => {
            let xml = String::from_utf8_lossy(&body.to_vec()).into_owned();
            let mut out = Chunks::default();
            for part in xml.split("<Latest>").skip(1) {
                let id = part.split("</Latest>").next().unwrap_or_default();
                match blob.blocks.get(id) {
                    Some(b) => out.extend(b),
                    None => return azure_error(StatusCode::BAD_REQUEST, "InvalidBlockList"),
                }
            }
            blob.committed = Some(out);
            blob.blocks.clear();
            StatusCode::CREATED.into_response()
        }
        _ => {
            // Put Blob in one request (what small uploads may use).
            blob.committed = Some(body);
            StatusCode::CREATED.into_response()
        }
    }
}

pub(crate) async fn get(
    AxState(state): AxState<Shared>,
    Path(key): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let range = headers
        .get(axum::http::header::RANGE)
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
    lock(&state).blob.ranges.push(range);
    let fault = match admit(&state, &key, &q, &headers, Request::Download) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let data = {
        let s = lock(&state);
        match s.blob.blobs.get(&key).and_then(|b| b.committed.clone()) {
            Some(d) => d,
            None => return azure_error(StatusCode::NOT_FOUND, "BlobNotFound"),
        }
    };
    let start = headers
        .get("range")
        .filter(|_| fault != Some(BlobFault::IgnoreRange))
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
        .unwrap_or(0)
        .min(data.len());
    let status = if start > 0 {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut parts = data.parts_from(start);
    let head = |n: usize| {
        let mut left = n;
        let mut out = Vec::new();
        for p in &parts {
            let take = left.min(p.len());
            if take > 0 {
                out.push(p.slice(..take));
            }
            left -= take;
        }
        out.into_iter().map(Ok::<Bytes, std::io::Error>)
    };
    match fault {
        Some(BlobFault::Corrupt) if !parts.is_empty() => {
            let mut bad = parts[0].to_vec();
            bad[0] ^= 0xff;
            parts[0] = Bytes::from(bad);
        }
        Some(BlobFault::ResetAfter(n)) => {
            let items = head(n).chain([Err(std::io::Error::other("reset by fault"))]);
            return (status, Body::from_stream(futures::stream::iter(items))).into_response();
        }
        Some(BlobFault::StallAfter(n)) => {
            let stalled = futures::stream::once(async move {
                tokio::time::sleep(STALL).await;
                Err::<Bytes, _>(std::io::Error::other("stalled by fault"))
            });
            let items = futures::stream::iter(head(n)).chain(stalled);
            return (status, Body::from_stream(items)).into_response();
        }
        _ => {}
    }
    let len = data.len() - start;
    let body = Body::from_stream(futures::stream::iter(
        parts.into_iter().map(Ok::<Bytes, std::io::Error>),
    ));
    (
        status,
        [
            ("content-type", "application/zip".to_owned()),
            ("content-length", len.to_string()),
        ],
        body,
    )
        .into_response()
}
