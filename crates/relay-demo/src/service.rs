//! The demo service: the "app" the VM runs, one release at a time.
//!
//! `relay-demo service <release dir>` serves the release it was started
//! with (the directory is resolved once, as a container keeps its image
//! while the `current` link moves on): `/` the frontend from the build's
//! artifact, `/api/health` its health, `/api/auth/status` the same for an
//! anonymous probe (401 while healthy: nobody is logged in), `/api/docs`,
//! `/api/version` which release answers. The listening socket is its stdin, handed over by
//! the demo's supervisor, so the port stays the same across restarts and a
//! probe during a restart waits in the queue instead of being refused.
//!
//! A release's `release.json` may say it degrades: it then answers its
//! first `degrades_after_checks` health checks UP — the deploy script's own
//! check passes — and every later one DOWN, so the failure shows in the
//! health window, where `deploy.yml` (not the VM) rolls it back.

use std::ffi::OsString;
use std::os::fd::AsFd as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// The first argument that selects this mode.
pub const MODE: &str = "service";

/// What a release says about itself (`release.json`).
#[derive(Debug, Clone)]
pub struct Release {
    pub number: u64,
    pub sha: String,
    pub title: String,
    pub degrades_after_checks: Option<u64>,
    pub degraded_reason: String,
}

impl Release {
    pub fn json(&self) -> Value {
        json!({
            "release": self.number,
            "sha": self.sha,
            "title": self.title,
            "degrades_after_checks": self.degrades_after_checks,
            "degraded_reason": self.degraded_reason,
        })
    }

    pub fn parse(text: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(text).ok()?;
        Some(Self {
            number: v["release"].as_u64()?,
            sha: v["sha"].as_str()?.to_owned(),
            title: v["title"].as_str().unwrap_or_default().to_owned(),
            degrades_after_checks: v["degrades_after_checks"].as_u64(),
            degraded_reason: v["degraded_reason"].as_str().unwrap_or_default().to_owned(),
        })
    }

    pub fn read(dir: &std::path::Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(dir.join("release.json"))?;
        Self::parse(&text).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("`{}` is not a release", dir.join("release.json").display()),
            )
        })
    }
}

struct App {
    release: Release,
    index: String,
    checks: AtomicU64,
}

/// `relay-demo service <release dir>`, the listener on stdin.
pub fn main(args: &[OsString]) -> ExitCode {
    // The supervisor's thread lives as long as the demo: when it goes, so do we.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM);
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo service: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[OsString]) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let link = args
        .first()
        .map(PathBuf::from)
        .context("usage: relay-demo service <release dir>")?;
    let dir = link
        .canonicalize()
        .with_context(|| format!("couldn't resolve `{}`", link.display()))?;
    let release = Release::read(&dir)?;
    let index = std::fs::read_to_string(dir.join("frontend/index.html")).unwrap_or_default();
    let fd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .context("couldn't take the listening socket from stdin")?;
    let listener = std::net::TcpListener::from(fd);
    listener.set_nonblocking(true)?;
    eprintln!(
        "demo service: release {} ({}) on {}",
        release.number,
        &release.sha[..7.min(release.sha.len())],
        listener.local_addr()?
    );
    let app = Arc::new(App {
        release,
        index,
        checks: AtomicU64::new(0),
    });
    let router = Router::new()
        .route("/", get(index_page))
        .route("/api/health", get(health))
        .route("/api/docs", get(docs))
        .route("/api/auth/status", get(auth_status))
        .route("/api/version", get(version))
        .with_state(app);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, router).await
    })?;
    Ok(())
}

async fn index_page(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        app.index.clone(),
    )
        .into_response()
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let seen = app.checks.fetch_add(1, Ordering::SeqCst);
    let r = &app.release;
    match r.degrades_after_checks {
        Some(limit) if seen >= limit => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "DOWN", "release": r.number, "reason": r.degraded_reason})),
        )
            .into_response(),
        _ => axum::Json(json!({"status": "UP", "release": r.number, "sha": r.sha})).into_response(),
    }
}

/// The API's documentation: there while the release runs.
async fn docs() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><title>API</title><h1>xtp-tour API</h1>",
    )
        .into_response()
}

/// Who is logged in: an anonymous probe gets 401 from a healthy release
/// (seed 004's `/api/auth/status`, which the example accepts with
/// `expected-status: 200,401`), and 503 from a degraded one.
async fn auth_status(State(app): State<Arc<App>>) -> Response {
    let answer = health(State(app)).await;
    if answer.status() == StatusCode::OK {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"status": "UP", "authenticated": false})),
        )
            .into_response()
    } else {
        answer
    }
}

async fn version(State(app): State<Arc<App>>) -> Response {
    axum::Json(json!({"release": app.release.number, "sha": app.release.sha})).into_response()
}
