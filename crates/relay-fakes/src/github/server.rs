//! The HTTP side of the fake: its own thread and runtime, auth, faults,
//! recording, `ETag`s and pagination.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Access, Fault, Recorded, State};

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) use crate::serve::Background as Handle;

pub(crate) fn spawn(state: Shared) -> (String, Handle) {
    crate::serve::spawn(router(state), "fake GitHub")
}

fn router(state: Shared) -> Router {
    super::runs::routes()
        .merge(super::apps::routes())
        .merge(super::checks::routes())
        .merge(super::issues::routes())
        .merge(super::artifacts::routes())
        .merge(super::attestations::routes())
        .merge(super::deployments::routes())
        .merge(super::reviews::routes())
        .merge(super::statuses::routes())
        .fallback(|| async { not_found() })
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

pub(crate) fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
        ),
    )
        .into_response()
}

pub(crate) fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

pub(crate) fn unprocessable(message: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({"message": "Invalid request.", "errors": [message]})),
    )
        .into_response()
}

/// The caller as the fake knows it, put in request extensions by [`gate`].
#[derive(Clone)]
pub(crate) struct Caller {
    pub access: Access,
    /// The App a verified JWT speaks for.
    pub app: Option<u64>,
    /// The token as sent (for `DELETE /installation/token`).
    pub token: Option<String>,
}

impl Caller {
    /// Whether this token reaches `repo` at all (else answer 404).
    pub(crate) fn can_read(&self, repo: &str) -> bool {
        match &self.access {
            Access::All => true,
            Access::ReadOnly(r) | Access::Repos(r) => r.iter().any(|x| x == repo),
            Access::Grant(g) => g.covers_repo(repo),
        }
    }
    /// Whether `repo` exists and this token may read it (else answer 404).
    pub(crate) fn sees(&self, state: &State, repo: &str) -> bool {
        state.repos.contains_key(repo) && self.can_read(repo)
    }
    /// The refusal for a write, if any.
    pub(crate) fn write_refusal(&self, repo: &str) -> Option<Response> {
        if !self.can_read(repo) {
            return Some(not_found());
        }
        matches!(self.access, Access::ReadOnly(_)).then(|| {
            error(
                StatusCode::FORBIDDEN,
                "Resource not accessible by integration",
            )
        })
    }
}

/// Everything every request goes through: recording, faults, the checks
/// GitHub makes of every request, and `ETag`s on the way out.
async fn gate(AxState(state): AxState<Shared>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let headers: BTreeMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            let value = if k == "authorization" {
                "<redacted>".into()
            } else {
                v.to_str().unwrap_or("").to_owned()
            };
            (k.as_str().to_owned(), value)
        })
        .collect();
    let body_json: Option<Value> = if bytes.is_empty() {
        None
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    let index = {
        let mut s = lock(&state);
        s.requests.push(Recorded {
            method: method.clone(),
            path: path.clone(),
            query,
            headers,
            body: body_json,
            status: 0,
        });
        s.requests.len() - 1
    };
    let fault = lock(&state)
        .faults
        .get_mut(&(method.clone(), path.clone()))
        .and_then(std::collections::VecDeque::pop_front);
    let response = match fault {
        Some(fault) => serve_fault(fault).await,
        None => match check(&state, &parts.headers, &parts.method, &path, &bytes) {
            Err(refusal) => refusal,
            Ok(caller) => {
                parts.extensions.insert(caller);
                let if_none_match = parts.headers.get("if-none-match").cloned();
                let resp = next
                    .run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
                with_etag(resp, if_none_match).await
            }
        },
    };
    let mut s = lock(&state);
    s.requests[index].status = response.status().as_u16();
    if response.status() != StatusCode::NOT_MODIFIED {
        s.rate_limit_used += 1;
    }
    response
}

fn check(
    state: &Shared,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    body: &Bytes,
) -> Result<Caller, Response> {
    if headers.get("user-agent").is_none() {
        return Err(error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        ));
    }
    if let Some(v) = headers.get("x-github-api-version")
        && v != "2022-11-28"
        && v != "2026-03-10"
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Invalid API version provided",
        ));
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        });
    let Some(token) = token else {
        return Err(error(StatusCode::UNAUTHORIZED, "Requires authentication"));
    };
    let mut app = None;
    let access = {
        let mut s = lock(state);
        if super::jwt::looks_like_jwt(token) {
            app = Some(s.apps.verify(token)?);
            // An App's JWT reaches the App's own endpoints only.
            Access::Repos(Vec::new())
        } else if let Some(access) = s.tokens.get(token) {
            access.clone()
        } else {
            match s.apps.grant(token) {
                Ok(Some(grant)) => Access::Grant(grant),
                _ => return Err(error(StatusCode::UNAUTHORIZED, "Bad credentials")),
            }
        }
    };
    if let Access::Grant(grant) = &access
        && let Some(need) = super::grants::need(method.as_str(), path)
        && let Some(refusal) = grant.refusal(&need)
    {
        return Err(refusal);
    }
    if *method == Method::POST && !body.is_empty() && serde_json::from_slice::<Value>(body).is_err()
    {
        return Err(error(StatusCode::BAD_REQUEST, "Problems parsing JSON"));
    }
    Ok(Caller {
        access,
        app,
        token: Some(token.to_owned()),
    })
}

async fn serve_fault(fault: Fault) -> Response {
    tokio::time::sleep(fault.delay).await;
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match fault.reset_after {
        None => Body::from(fault.body),
        Some(n) => {
            let head = Bytes::from(fault.body.into_bytes()).slice(..n);
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(head),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "fault: reset",
                )),
            ]);
            Body::from_stream(stream)
        }
    };
    let mut resp = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (k, v) in fault.headers {
        resp = resp.header(k, v);
    }
    resp.body(body).unwrap_or_else(|_| not_found())
}

/// Adds a strong `ETag` to successful GETs and answers 304 when it matches.
async fn with_etag(resp: Response, if_none_match: Option<HeaderValue>) -> Response {
    if resp.status() != StatusCode::OK || resp.headers().contains_key("etag") {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let etag = format!("\"{:x}\"", Sha256::digest(&bytes));
    if if_none_match.as_ref().and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(
            "etag",
            HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
        );
        return r;
    }
    parts.headers.insert(
        "etag",
        HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
    );
    Response::from_parts(parts, Body::from(bytes))
}

/// A page of `items` with GitHub's `Link` header (`per_page` ≤ 100, default 30).
pub(crate) fn paginate(
    base_url: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    items: Vec<Value>,
    key: Option<&str>,
) -> Response {
    let per_page = query
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link_to = |p: usize| {
        let mut q = query.clone();
        q.insert("page".into(), p.to_string());
        q.insert("per_page".into(), per_page.to_string());
        let qs: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("<{base_url}{path}?{}>", qs.join("&"))
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    let body = match key {
        Some(k) => json!({"total_count": total, k: slice}),
        None => Value::Array(slice),
    };
    let mut resp = axum::Json(body).into_response();
    if !links.is_empty()
        && let Ok(v) = HeaderValue::from_str(&links.join(", "))
    {
        resp.headers_mut().insert("link", v);
    }
    resp
}

/// Parses a query string (no percent-decoding beyond `%3E`/`%3D`/`%3A`, which
/// is what `created>=` filters use).
pub(crate) fn query_map(query: Option<&str>) -> BTreeMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v
                .replace("%3E", ">")
                .replace("%3e", ">")
                .replace("%3D", "=")
                .replace("%3d", "=")
                .replace("%3A", ":")
                .replace("%3a", ":")
                .replace('+', " ")
                .replace("%2B", "+");
            (k.to_owned(), v)
        })
        .collect()
}
