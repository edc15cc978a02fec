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
use http::{HeaderMap, Method, StatusCode, header};
use relay_signature::Secret;
use serde_json::json;
use tokio::sync::Mutex as AsyncMutex;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info, warn};

use crate::auth::Auth;
use crate::check::{Limits, Rejection, check};
use crate::config::{Config, Hook, SecretSource};
use crate::replay::Replay;
use crate::runner::{self, Exit, Job};

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
    config: Config,
    auth: Auth,
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

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
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
    let hook = &state.hook;
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
    let read = tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, app.config.max_body)).await;
    let Ok(read) = read else {
        info!(status = 408, "refused: the body was too slow to arrive");
        return answer(
            StatusCode::REQUEST_TIMEOUT,
            json!({"status": "the body was too slow to arrive"}),
        );
    };
    let body = match read {
        Ok(body) => body,
        Err(e) if is_too_large(&e) => {
            info!(status = 413, "refused: body over the limit");
            let status = format!("the body is larger than {} bytes", app.config.max_body);
            return answer(StatusCode::PAYLOAD_TOO_LARGE, json!({ "status": status }));
        }
        Err(e) => {
            info!(status = 400, error = %e, "refused: the body could not be read");
            return answer(
                StatusCode::BAD_REQUEST,
                json!({"status": "the body could not be read"}),
            );
        }
    };
    let limits = Limits {
        auth: &app.auth,
        max_body: app.config.max_body,
        require_delivery_id: app.config.require_delivery_id,
    };
    let accepted = match check(hook, &limits, &method, &headers, &body, unix_now()) {
        Ok(a) => a,
        Err(r) => {
            info!(status = r.status.as_u16(), reason = %r.reason, "refused");
            return refuse(&r);
        }
    };
    let delivery = accepted.delivery_id.clone().unwrap_or_default();
    tracing::Span::current().record("delivery", delivery.as_str());
    if let Some(id) = &accepted.delivery_id {
        let first = app
            .replay
            .lock()
            .map(|mut r| r.first_time(id, Instant::now()))
            .unwrap_or(false);
        if !first {
            warn!(status = 409, "refused: delivery id already received");
            return answer(
                StatusCode::CONFLICT,
                json!({"status": "duplicate delivery: this delivery id was already received", "delivery_id": id}),
            );
        }
    }
    let guard = if hook.queue {
        state.lock.clone().lock_owned().await
    } else if let Ok(guard) = state.lock.clone().try_lock_owned() {
        guard
    } else {
        if let Some(id) = &accepted.delivery_id
            && let Ok(mut r) = app.replay.lock()
        {
            r.forget(id);
        }
        info!(status = 409, "refused: a deploy is already running");
        return answer(
            StatusCode::CONFLICT,
            json!({"status": "a deploy is already running for this hook; try again later"}),
        );
    };

    let mut env = hook.env.clone();
    env.push((ENV_HOOK_PATH.to_owned(), hook.path.clone()));
    env.push((ENV_DELIVERY_ID.to_owned(), delivery.clone()));
    let env_remove = match &app.config.secret {
        SecretSource::Env(name) => vec![name.clone()],
        SecretSource::File(_) => vec![],
    };
    let job = Job {
        program: hook.command[0].clone(),
        args: hook.command[1..]
            .iter()
            .cloned()
            .chain(accepted.args)
            .collect(),
        env,
        env_remove,
        working_dir: hook.working_dir.clone(),
        timeout: hook.timeout,
        kill_grace: hook.kill_grace,
        output_tail: app.config.output_tail,
    };
    info!("deploy started");
    // The deploy runs in its own task: a client that hangs up must not
    // cancel it half-way through swapping a service.
    let task = app.deploys.spawn(
        async move {
            let outcome = runner::run(job).await;
            drop(guard);
            outcome
        }
        .in_current_span(),
    );
    let Ok(outcome) = task.await else {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"status": "the deploy task failed"}),
        );
    };
    let (status, text, exit_code) = match &outcome.exit {
        Exit::Code(code) => {
            let status = hook.status_for(*code);
            (status, describe(status, *code), Some(*code))
        }
        Exit::Signal(sig) => (500, format!("deploy killed by signal {sig}"), None),
        Exit::TimedOut => (
            504,
            format!(
                "deploy timed out after {}; its process group was killed",
                relay_runtime::duration::format(hook.timeout)
            ),
            None,
        ),
        Exit::NotStarted(why) => (500, why.clone(), None),
    };
    let duration_ms = u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX);
    info!(status, exit_code, duration_ms, "deploy finished");
    let output = redact(&outcome.output, app.auth.secrets());
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    answer(
        status,
        json!({
            "status": text,
            "exit_code": exit_code,
            "duration_ms": duration_ms,
            "output": output,
            "output_truncated": outcome.truncated,
            "delivery_id": accepted.delivery_id,
        }),
    )
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

fn describe(status: u16, code: i32) -> String {
    match status {
        200..=299 => "deployed".into(),
        422 => "image could not be pulled, nothing changed".into(),
        503 => "unhealthy, rolled back".into(),
        _ => format!("deploy failed with exit code {code}"),
    }
}

/// The output with any secret (raw or `whsec_` form) replaced, in case a
/// script echoes it.
fn redact(output: &[u8], secrets: &[Secret]) -> String {
    let mut text = String::from_utf8_lossy(output).into_owned();
    for secret in secrets {
        let raw = String::from_utf8_lossy(secret.expose()).into_owned();
        for form in [raw, secret.to_whsec()] {
            if form.len() >= 4 {
                text = text.replace(&form, "***");
            }
        }
    }
    text
}
