//! The HTTP side: one route per hook plus `/healthz`, the per-hook lock
//! (409 or a queue), the replay memory, and the JSON answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, header};
use relay_signature::Secret;
use serde_json::json;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info, warn};

use crate::auth::Auth;
use crate::check::{Limits, Rejection, check};
use crate::config::{Config, Hook};
use crate::deploy;
use crate::replay::Replay;

/// The client's address, put on each request by the accept loop.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

/// A body trickling in slower than this holds a connection slot for
/// nothing; webhook bodies are small.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Env vars every command gets, so a script can log which delivery it serves.
pub const ENV_DELIVERY_ID: &str = "DEPLOY_DELIVERY_ID";
pub const ENV_HOOK_PATH: &str = "DEPLOY_HOOK_PATH";

pub struct App {
    pub(crate) config: Config,
    pub(crate) auth: Auth,
    hooks: HashMap<String, HookState>,
    replay: Mutex<Replay>,
    /// Every running deploy, so shutdown can wait for them even when the
    /// client that started one has gone away.
    pub(crate) deploys: TaskTracker,
}

struct HookState {
    hook: Hook,
    lock: Arc<AsyncMutex<()>>,
}

impl App {
    pub fn new(config: Config, secrets: Vec<Secret>) -> Arc<Self> {
        let auth = Auth::new(&config, secrets);
        let hooks = config
            .hooks
            .iter()
            .map(|h| {
                let state = HookState {
                    hook: h.clone(),
                    lock: Arc::new(AsyncMutex::new(())),
                };
                (h.path.clone(), state)
            })
            .collect();
        let replay = Replay::new(config.replay_window, config.replay_capacity);
        Arc::new(Self {
            config,
            auth,
            hooks,
            replay: Mutex::new(replay),
            deploys: TaskTracker::new(),
        })
    }

    pub fn max_connections(&self) -> usize {
        self.config.max_connections
    }

    pub fn router(self: &Arc<Self>) -> Router {
        let mut router = Router::new().route("/healthz", get(healthz));
        for path in self.hooks.keys() {
            router = router.route(path, any(deliver));
        }
        router.fallback(not_found).with_state(self.clone())
    }
}

async fn healthz() -> Response {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})).into_response()
}

async fn not_found() -> Response {
    answer(
        StatusCode::NOT_FOUND,
        json!({"status": "no hook at this path"}),
    )
}

pub(crate) fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

fn refuse(r: &Rejection) -> Response {
    let mut response = answer(r.status, json!({"status": r.message}));
    if r.status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, http::HeaderValue::from_static("POST"));
    }
    response
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

async fn deliver(State(app): State<Arc<App>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(state) = app.hooks.get(parts.uri.path()) else {
        return not_found().await;
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let peer = parts
        .extensions
        .get::<Peer>()
        .map(|Peer(a)| a.to_string())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "delivery",
        hook = %state.hook.path,
        request = %request_id,
        peer = %peer,
        delivery = tracing::field::Empty
    );
    handle(&app, state, parts.method, parts.headers, body)
        .instrument(span)
        .await
}

async fn handle(
    app: &Arc<App>,
    state: &HookState,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Nothing is read from a request that could never be accepted.
    if method != Method::POST {
        let r = Rejection {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: "use POST".into(),
            reason: format!("method {method}"),
        };
        info!(status = 405, reason = %r.reason, "refused");
        return refuse(&r);
    }
    let body = match read_body(app, body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let limits = Limits {
        auth: &app.auth,
        max_body: app.config.max_body,
        require_delivery_id: app.config.require_delivery_id,
    };
    let accepted = match check(&state.hook, &limits, &method, &headers, &body, unix_now()) {
        Ok(a) => a,
        Err(r) => {
            info!(status = r.status.as_u16(), reason = %r.reason, "refused");
            return refuse(&r);
        }
    };
    if let Some(id) = &accepted.delivery_id {
        tracing::Span::current().record("delivery", id.as_str());
    }
    let turn = match take_turn(app, state, accepted.delivery_id.as_deref()).await {
        Ok(turn) => turn,
        Err(refusal) => return refusal,
    };
    deploy::run(app, &state.hook, accepted, turn).await
}

/// The body, up to `max_body`, within [`BODY_TIMEOUT`].
async fn read_body(app: &App, body: Body) -> Result<Bytes, Response> {
    let read = tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, app.config.max_body)).await;
    let Ok(read) = read else {
        info!(status = 408, "refused: the body was too slow to arrive");
        let status = "the body was too slow to arrive";
        return Err(answer(
            StatusCode::REQUEST_TIMEOUT,
            json!({ "status": status }),
        ));
    };
    read.map_err(|e| {
        if is_too_large(&e) {
            info!(status = 413, "refused: body over the limit");
            let status = format!("the body is larger than {} bytes", app.config.max_body);
            answer(StatusCode::PAYLOAD_TOO_LARGE, json!({ "status": status }))
        } else {
            info!(status = 400, error = %e, "refused: the body could not be read");
            let status = "the body could not be read";
            answer(StatusCode::BAD_REQUEST, json!({ "status": status }))
        }
    })
}

/// Refuses a delivery id seen before, then takes the hook's lock (waiting
/// for it with `queue = true`). A delivery turned away as busy is forgotten,
/// so the sender may send it again.
async fn take_turn(
    app: &App,
    state: &HookState,
    delivery_id: Option<&str>,
) -> Result<OwnedMutexGuard<()>, Response> {
    if let Some(id) = delivery_id {
        let now = Instant::now();
        let first = app
            .replay
            .lock()
            .map(|mut r| r.first_time(id, now))
            .unwrap_or(false);
        if !first {
            warn!(status = 409, "refused: delivery id already received");
            let status = "duplicate delivery: this delivery id was already received";
            return Err(answer(
                StatusCode::CONFLICT,
                json!({ "status": status, "delivery_id": id }),
            ));
        }
    }
    if state.hook.queue {
        return Ok(state.lock.clone().lock_owned().await);
    }
    state.lock.clone().try_lock_owned().map_err(|_| {
        if let Some(id) = delivery_id
            && let Ok(mut r) = app.replay.lock()
        {
            r.forget(id);
        }
        info!(status = 409, "refused: a deploy is already running");
        let status = "a deploy is already running for this hook; try again later";
        answer(StatusCode::CONFLICT, json!({ "status": status }))
    })
}

fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}
