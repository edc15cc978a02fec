//! A run's artifacts on the REST side: listed newest first with GitHub's
//! `name` filter and pagination, `/zip` answered by a 302 to a signed blob
//! URL (410 once expired), and deleted with 204. The blob behind the URL is
//! usually a [`crate::FakeArtifacts`] store, seeded with the same zip.

use axum::Router;
use axum::extract::{Extension, Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::FakeGitHub;
use super::server::{Caller, Shared, error, lock, not_found, paginate, query_map};

/// An artifact as a test puts it into a run.
#[derive(Debug, Clone)]
pub struct ArtifactSeed {
    /// The artifact's name, unique within its run.
    pub name: String,
    /// Where `/zip` redirects.
    pub download_url: String,
    /// `size_in_bytes`, as listed.
    pub size: u64,
    /// `sha256:<hex>`; `None` for artifacts from before digests were recorded.
    pub digest: Option<String>,
    /// Listed as expired: past its retention, no longer downloadable.
    pub expired: bool,
    /// RFC 3339, as listed.
    pub created_at: String,
}

impl ArtifactSeed {
    /// A current artifact without a digest, created 2026-11-22.
    pub fn new(name: &str, download_url: &str, size: u64) -> Self {
        Self {
            name: name.into(),
            download_url: download_url.into(),
            size,
            digest: None,
            expired: false,
            created_at: "2026-11-22T10:00:00Z".into(),
        }
    }
    /// With `digest`, `sha256:<hex>`.
    pub fn digest(mut self, digest: &str) -> Self {
        self.digest = Some(digest.into());
        self
    }
    /// Past its retention.
    pub fn expired(mut self) -> Self {
        self.expired = true;
        self
    }
    /// Created at `at`, RFC 3339.
    pub fn created_at(mut self, at: &str) -> Self {
        self.created_at = at.into();
        self
    }
}

#[derive(Debug, Clone)]
struct Stored {
    id: u64,
    repo: String,
    run_id: u64,
    seed: ArtifactSeed,
}

/// Every artifact of every run, in the order they were added.
#[derive(Default)]
pub(crate) struct Artifacts {
    list: Vec<Stored>,
    deleted: Vec<u64>,
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts",
            get(list),
        )
        .route("/repos/{owner}/{repo}/actions/artifacts/{id}/zip", get(zip))
        .route(
            "/repos/{owner}/{repo}/actions/artifacts/{id}",
            get(one).delete(delete),
        )
}

fn view(base: &str, a: &Stored) -> Value {
    let url = format!("{base}/repos/{}/actions/artifacts/{}", a.repo, a.id);
    let mut v = json!({
        "id": a.id,
        "node_id": format!("MDg6QXJ0aWZhY3Q{}", a.id),
        "name": a.seed.name,
        "size_in_bytes": a.seed.size,
        "url": url,
        "archive_download_url": format!("{url}/zip"),
        "expired": a.seed.expired,
        "created_at": a.seed.created_at,
        "updated_at": a.seed.created_at,
        "expires_at": "2027-02-20T10:00:00Z",
        "workflow_run": {
            "id": a.run_id,
            "repository_id": 1,
            "head_repository_id": 1,
            "head_branch": "main",
            "head_sha": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
        },
    });
    // Artifacts from before digests were recorded have no `digest` at all.
    if let Some(d) = &a.seed.digest {
        v["digest"] = json!(d);
    }
    v
}

/// `GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts`: newest first.
async fn list(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, run_id)): Path<(String, String, u64)>,
    uri: axum::http::Uri,
) -> Response {
    let full = format!("{owner}/{name}");
    let s = lock(&state);
    if !caller.sees(&s, &full) {
        return not_found();
    }
    let query = query_map(uri.query());
    let wanted = query.get("name").map(|n| super::issues::decode(n));
    let mut items: Vec<&Stored> = s
        .artifacts
        .list
        .iter()
        .filter(|a| a.repo == full && a.run_id == run_id)
        .filter(|a| wanted.as_ref().is_none_or(|n| *n == a.seed.name))
        .collect();
    items.sort_by(|a, b| (&b.seed.created_at, b.id).cmp(&(&a.seed.created_at, a.id)));
    let items = items.into_iter().map(|a| view(&s.base_url, a)).collect();
    paginate(&s.base_url, uri.path(), &query, items, Some("artifacts"))
}

fn find<'a>(s: &'a super::State, caller: &Caller, full: &str, id: u64) -> Option<&'a Stored> {
    if !caller.can_read(full) {
        return None;
    }
    s.artifacts
        .list
        .iter()
        .find(|a| a.repo == full && a.id == id)
}

/// `GET /repos/{owner}/{repo}/actions/artifacts/{id}`.
async fn one(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
) -> Response {
    let s = lock(&state);
    match find(&s, &caller, &format!("{owner}/{name}"), id) {
        Some(a) => axum::Json(view(&s.base_url, a)).into_response(),
        None => not_found(),
    }
}

/// `GET .../artifacts/{id}/zip`: 302 to the blob, 410 once expired.
async fn zip(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
) -> Response {
    let s = lock(&state);
    match find(&s, &caller, &format!("{owner}/{name}"), id) {
        Some(a) if a.seed.expired => error(StatusCode::GONE, "Artifact has expired"),
        Some(a) => (
            StatusCode::FOUND,
            [("location", a.seed.download_url.clone())],
        )
            .into_response(),
        None => not_found(),
    }
}

/// `DELETE .../artifacts/{id}`: 204.
async fn delete(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
) -> Response {
    let full = format!("{owner}/{name}");
    if let Some(refusal) = caller.write_refusal(&full) {
        return refusal;
    }
    let mut s = lock(&state);
    let before = s.artifacts.list.len();
    s.artifacts.list.retain(|a| !(a.repo == full && a.id == id));
    if s.artifacts.list.len() == before {
        return not_found();
    }
    s.artifacts.deleted.push(id);
    StatusCode::NO_CONTENT.into_response()
}

impl FakeGitHub {
    /// Puts an artifact into run `run_id` of `repo`; returns its id.
    pub fn add_artifact(&self, repo: &str, run_id: u64, seed: ArtifactSeed) -> u64 {
        let mut s = self.state();
        let id = s.next_id();
        s.artifacts.list.push(Stored {
            id,
            repo: repo.into(),
            run_id,
            seed,
        });
        id
    }

    /// Ids of the artifacts deleted through the API.
    pub fn deleted_artifacts(&self) -> Vec<u64> {
        self.state().artifacts.deleted.clone()
    }
}
