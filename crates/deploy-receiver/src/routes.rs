//! The HTTP side: a route per hook, its status path
//! (`<hook>/deliveries/<id>`), `/healthz`, and the JSON answers.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use relay_signature::status;
use serde_json::json;
use tracing::{Instrument, debug, info, warn};

use crate::admission::Ticket;
use crate::app::{App, HookState};
use crate::config::Mode;
use crate::decision::{Limits, Rejection, decide};
use crate::deliveries::DeliveryState;
use crate::{body, deploy, in_flight};

/// The client's address, put on each request by the accept loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub std::net::SocketAddr);

pub(crate) async fn healthz() -> Response {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})).into_response()
}

pub(crate) async fn not_found() -> Response {
    answer(
        StatusCode::NOT_FOUND,
        json!({"status": "no hook at this path"}),
    )
}

pub(crate) fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

fn refuse(r: &Rejection) -> Response {
    info!(status = r.status.as_u16(), reason = %r.reason, "refused");
    let mut response = answer(r.status, json!({"status": r.message}));
    if r.status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// The 405 for anything but POST.
fn not_post(method: &Method) -> Option<Response> {
    (method != Method::POST).then(|| {
        refuse(&Rejection {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: "use POST".into(),
            reason: format!("method {method}"),
        })
    })
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Gives the connection's budget back however the handler returns.
struct Release<'a>(&'a Ticket);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.release_all();
    }
}

fn span(hook: &str, request: &Request) -> tracing::Span {
    let peer = request
        .extensions()
        .get::<Peer>()
        .map(|Peer(a)| a.to_string())
        .unwrap_or_default();
    tracing::info_span!(
        "delivery",
        hook = %hook,
        request = %uuid::Uuid::new_v4(),
        peer = %peer,
        delivery = tracing::field::Empty
    )
}

/// The 500 for a request that did not come through the accept loop.
fn no_ticket() -> Response {
    answer(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"status": "the request did not come through the accept loop"}),
    )
}

pub(crate) async fn deliver(State(app): State<Arc<App>>, request: Request) -> Response {
    let path = request.uri().path();
    let Some(state) = app.hooks.get(path.strip_suffix('/').unwrap_or(path)) else {
        return not_found().await;
    };
    let span = span(&state.hook.path, &request);
    async {
        let ticket = request
            .extensions()
            .get::<Arc<Ticket>>()
            .cloned()
            .ok_or_else(no_ticket)?;
        let (parts, body) = request.into_parts();
        handle(&app, state, &ticket, &parts.method, &parts.headers, body).await
    }
    .instrument(span)
    .await
    .unwrap_or_else(|refusal| refusal)
}

async fn handle(
    app: &Arc<App>,
    state: &HookState,
    ticket: &Ticket,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    // Nothing is read from a request that could never be accepted.
    if let Some(refusal) = not_post(method) {
        return Err(refusal);
    }
    let raw = body::read(body, headers, app.config.max_body, ticket).await?;
    let _release = Release(ticket);
    let limits = Limits {
        auth: &state.auth,
        max_body: app.config.max_body,
        require_delivery_id: app.config.require_delivery_id,
    };
    let accepted =
        decide(&state.hook, &limits, method, headers, &raw, unix_now()).map_err(|r| refuse(&r))?;
    // Authenticated: out of the budget, and never evicted from here on.
    ticket.trust();
    if let Some(id) = &accepted.delivery_id {
        tracing::Span::current().record("delivery", id.as_str());
    }
    if state.hook.mode == Mode::Async && accepted.delivery_id.is_none() {
        return Err(refuse(&Rejection {
            status: StatusCode::BAD_REQUEST,
            message: format!(
                "this hook answers asynchronously: send a delivery id (`X-Deploy-Delivery` or `webhook-id`) of {}",
                crate::decision::DELIVERY_ID_RULE
            ),
            reason: "async hook without a delivery id".into(),
        }));
    }
    // A redelivery of an id that already ran is told so (and where its
    // answer is) before its body is compared with what runs.
    if let Some(id) = &accepted.delivery_id
        && app.seen(id)
    {
        return Err(duplicate(&state.hook.path, id));
    }
    let limit = state.hook.queue.then_some(state.hook.queue_limit);
    let place = in_flight::join(&state.in_flight, &raw, limit).map_err(turned_away)?;
    drop(raw);
    // Only now, with a place among those in flight, is the id written to the
    // delivery-id memory (and its state file).
    let claim = match &accepted.delivery_id {
        Some(id) => Some(
            app.claim(id)
                .ok_or_else(|| duplicate(&state.hook.path, id))?,
        ),
        None => None,
    };
    Ok(deploy::start(app, state, accepted, claim, place).await)
}

/// A deploy that could not join the hook's deploys in flight: nothing ran, and the id was
/// not recorded.
fn turned_away(refusal: in_flight::Refusal) -> Response {
    match refusal {
        in_flight::Refusal::SameBody => {
            warn!(
                status = 409,
                "refused: the same body is already queued or running"
            );
            answer(
                StatusCode::CONFLICT,
                json!({ "status": "a deploy with the same signed body is already queued or running for this hook; nothing was started" }),
            )
        }
        in_flight::Refusal::Full { limit } => {
            warn!(status = 429, limit, "refused: the hook's queue is full");
            let mut response = answer(
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "status": format!("{limit} deploys already wait for this hook (`queue_limit`); nothing was started, try again later") }),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            response
        }
    }
}

fn duplicate(hook: &str, id: &str) -> Response {
    warn!(status = 409, "refused: delivery id already received");
    let status = "duplicate delivery: this delivery id was already received";
    let mut body = json!({ "status": status, "delivery_id": id, "duplicate": true });
    if status::path_safe(id) {
        body["status_path"] = status::path(hook, id).into();
    }
    answer(StatusCode::CONFLICT, body)
}

/// `POST <hook>/deliveries/<id>`: the status of one delivery, for a poll
/// signed like a deploy (see [`relay_signature::status`]).
pub(crate) async fn poll(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let hook = request
        .uri()
        .path()
        .rsplit_once(&format!("/{}/", status::SEGMENT))
        .map(|(hook, _)| hook.to_owned())
        .unwrap_or_default();
    let Some(state) = app.hooks.get(&hook) else {
        return not_found().await;
    };
    let span = span(&state.hook.path, &request);
    span.record("delivery", id.as_str());
    async {
        let ticket = request
            .extensions()
            .get::<Arc<Ticket>>()
            .cloned()
            .ok_or_else(no_ticket)?;
        let (parts, body) = request.into_parts();
        if let Some(refusal) = not_post(&parts.method) {
            return Err(refusal);
        }
        let raw = body::read(body, &parts.headers, app.config.max_body, &ticket).await?;
        let _release = Release(&ticket);
        let now = unix_now();
        if let Err(why) = state.auth.verify(&parts.headers, &raw, now) {
            return Err(refuse(&Rejection {
                status: StatusCode::UNAUTHORIZED,
                message: "unauthorized".into(),
                reason: format!("status poll: {why}"),
            }));
        }
        let tolerance = state.auth.tolerance().as_secs();
        if let Err(why) = status::check(&raw, &id, now, tolerance) {
            let (code, message) = match why {
                status::PollError::Stale => (StatusCode::UNAUTHORIZED, "unauthorized".into()),
                other => (StatusCode::BAD_REQUEST, other.to_string()),
            };
            return Err(refuse(&Rejection {
                status: code,
                message,
                reason: format!("status poll: {why}"),
            }));
        }
        debug!("status poll");
        Ok(status_answer(
            &state.hook.path,
            &id,
            app.deliveries.get(&hook, &id),
        ))
    }
    .instrument(span)
    .await
    .unwrap_or_else(|refusal| refusal)
}

/// What a status path says: 202 while queued or running, the deploy's own
/// answer once it ended, 404 for a delivery it does not know.
pub(crate) fn status_answer(hook: &str, id: &str, state: Option<DeliveryState>) -> Response {
    let (word, since) = match state {
        None => {
            return answer(
                StatusCode::NOT_FOUND,
                json!({
                    "status": "no such delivery: never received here, or its result has expired (`result_ttl`) or was lost in a restart",
                    "delivery_id": id,
                }),
            );
        }
        Some(DeliveryState::Done { status, body, .. }) => {
            return crate::answer::response(status, body);
        }
        Some(DeliveryState::Queued { since }) => ("queued", since),
        Some(DeliveryState::Running { since }) => ("running", since),
    };
    accepted(hook, id, word, since.elapsed().as_millis())
}

/// `202` with the status path (also as `Location`) and a poll interval.
pub(crate) fn accepted(hook: &str, id: &str, word: &str, elapsed_ms: u128) -> Response {
    let path = status::path(hook, id);
    let mut response = answer(
        StatusCode::ACCEPTED,
        json!({
            "status": word,
            "delivery_id": id,
            "status_path": path,
            "duration_ms": u64::try_from(elapsed_ms).unwrap_or(u64::MAX),
        }),
    );
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&path) {
        headers.insert(header::LOCATION, location);
    }
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    response
}
