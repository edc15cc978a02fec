//! Artifact attestations: `GET /repos/{owner}/{repo}/attestations/{subject_digest}`
//! as GitHub documents it (`repos/list-attestations`): the bundles a test
//! seeds for a digest, oldest first, `predicate_type` filtered, paged by
//! cursor (`after`) in the `Link` header; 404 when the digest has none.
//! <https://docs.github.com/en/rest/repos/attestations#list-attestations>

use axum::Router;
use axum::extract::{Extension, Path, State as AxState};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::FakeGitHub;
use super::server::{Caller, Shared, lock, not_found, query_map};

#[derive(Debug, Clone)]
struct Stored {
    id: u64,
    repo: String,
    digest: String,
    bundle: Value,
}

/// Every attestation of every repository, in the order they were added.
#[derive(Default)]
pub(crate) struct Attestations {
    list: Vec<Stored>,
}

pub(super) fn routes() -> Router<Shared> {
    Router::new().route(
        "/repos/{owner}/{repo}/attestations/{subject_digest}",
        get(list),
    )
}

/// The predicate type of a bundle's statement, if it can be read.
fn predicate_type(bundle: &Value) -> Option<String> {
    use base64::Engine as _;
    let payload = bundle["dsseEnvelope"]["payload"].as_str()?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    let statement: Value = serde_json::from_slice(&payload).ok()?;
    statement["predicateType"].as_str().map(str::to_owned)
}

/// GitHub's `predicate_type` filter: `provenance`, `sbom` and `release`
/// name predicate families; anything else is a predicate type itself.
fn predicate_matches(filter: &str, predicate: Option<&str>) -> bool {
    let Some(p) = predicate else { return false };
    match filter {
        "provenance" => p.starts_with("https://slsa.dev/provenance/"),
        "sbom" => {
            p.starts_with("https://spdx.dev/Document") || p.starts_with("https://cyclonedx.org/bom")
        }
        "release" => p.starts_with("https://in-toto.io/attestation/release/"),
        other => p == other,
    }
}

async fn list(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, digest)): Path<(String, String, String)>,
    uri: axum::http::Uri,
) -> Response {
    let full = format!("{owner}/{name}");
    let s = lock(&state);
    if !caller.sees(&s, &full) {
        return not_found();
    }
    let query = query_map(uri.query());
    let per_page = query
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let after = query
        .get("after")
        .and_then(|c| c.strip_prefix("cursor-"))
        .and_then(|c| c.parse::<u64>().ok())
        .unwrap_or(0);
    let filter = query
        .get("predicate_type")
        .map(|f| super::issues::decode(f));
    let matching: Vec<&Stored> = s
        .attestations
        .list
        .iter()
        .filter(|a| a.repo.eq_ignore_ascii_case(&full) && a.digest == digest)
        .filter(|a| {
            filter
                .as_deref()
                .is_none_or(|f| predicate_matches(f, predicate_type(&a.bundle).as_deref()))
        })
        .collect();
    // GitHub answers 404 for a digest without attestations.
    if matching.is_empty() {
        return not_found();
    }
    let page: Vec<&Stored> = matching
        .iter()
        .filter(|a| a.id > after)
        .take(per_page)
        .copied()
        .collect();
    let items: Vec<Value> = page
        .iter()
        .map(|a| {
            json!({
                "bundle": a.bundle,
                "repository_id": 1,
                "bundle_url": format!("{}/attestations/{}/bundle", s.base_url, a.id),
                "initiator": "user",
            })
        })
        .collect();
    let more = page
        .last()
        .is_some_and(|last| matching.iter().any(|a| a.id > last.id));
    let mut resp = axum::Json(json!({ "attestations": items })).into_response();
    if more && let Some(last) = page.last() {
        let mut q = query.clone();
        q.remove("before");
        q.insert("after".into(), format!("cursor-{}", last.id));
        q.insert("per_page".into(), per_page.to_string());
        let qs: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let link = format!(
            "<{}{}?{}>; rel=\"next\"",
            s.base_url,
            uri.path(),
            qs.join("&")
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert("link", v);
        }
    }
    resp
}

/// Percent-encodes a query value (the cursor and filter GitHub echoes back).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl FakeGitHub {
    /// Stores `bundle` as an attestation of `subject_digest` (`sha256:<hex>`)
    /// in `repo`; returns its id.
    pub fn add_attestation(&self, repo: &str, subject_digest: &str, bundle: Value) -> u64 {
        let mut s = self.state();
        let id = s.next_id();
        s.attestations.list.push(Stored {
            id,
            repo: repo.into(),
            digest: subject_digest.into(),
            bundle,
        });
        id
    }
}
