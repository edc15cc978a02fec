//! Reading a body that is not yet authenticated: a declared length over
//! `max_body` is refused before a byte is read (so hyper never sends
//! `100 Continue` for it), and every byte held counts against the shared
//! budget ([`crate::admission`]) until the signature has been checked.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::json;
use tracing::{debug, info};

use crate::admission::Ticket;
use crate::routes::answer;

/// A body trickling in slower than this holds a connection slot for
/// nothing; webhook bodies are small.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// A refusal that also closes the connection: the rest of the body is not
/// read, so the connection cannot carry another request.
fn closing(status: StatusCode, text: &str) -> Response {
    let mut response = answer(status, json!({ "status": text }));
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The busy answer: no `exit_code`, so a sender may retry it.
pub(crate) fn busy(text: &str) -> Response {
    let mut response = closing(StatusCode::SERVICE_UNAVAILABLE, text);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// 413 when the declared `Content-Length` is over `max_body`; checked
/// before the body is touched.
pub(crate) fn refuse_declared(headers: &HeaderMap, max_body: usize) -> Option<Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())?;
    if declared <= max_body as u64 {
        return None;
    }
    info!(
        status = 413,
        declared, "refused: declared body over the limit"
    );
    Some(closing(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the body is larger than {max_body} bytes"),
    ))
}

/// Reads the whole body, at most `max_body` bytes, within [`BODY_TIMEOUT`],
/// charging the budget for the buffer as it grows. The bytes stay charged
/// to `ticket` until [`Ticket::trust`] or [`Ticket::release_all`].
pub(crate) async fn read(
    body: Body,
    headers: &HeaderMap,
    max_body: usize,
    ticket: &Ticket,
) -> Result<Vec<u8>, Response> {
    if let Some(refusal) = refuse_declared(headers, max_body) {
        return Err(refusal);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let read = async {
        let mut body = body;
        let mut buf: Vec<u8> = Vec::new();
        let mut charged = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                info!(status = 400, error = %e, "refused: the body could not be read");
                closing(StatusCode::BAD_REQUEST, "the body could not be read")
            })?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            let needed = buf.len() + chunk.len();
            if needed > max_body {
                info!(status = 413, "refused: body over the limit");
                return Err(closing(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the body is larger than {max_body} bytes"),
                ));
            }
            if needed > charged {
                // A declared length is charged (and allocated) once, so the
                // buffer never moves; a chunked body grows by doubling.
                let grow_to = match declared {
                    Some(length) => length.max(needed),
                    None => needed.max(charged * 2).min(max_body),
                };
                if ticket.charge(grow_to - charged).await.is_err() {
                    info!(
                        status = 503,
                        "refused: the unauthenticated body budget is spent"
                    );
                    return Err(busy(
                        "the receiver is busy reading other requests; try again",
                    ));
                }
                buf.reserve_exact(grow_to - buf.len());
                charged = grow_to;
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    };
    tokio::select! {
        biased;
        () = ticket.evicted() => {
            debug!(status = 503, "refused: evicted for a newer request while the body was incomplete");
            Err(busy("the receiver is busy reading other requests; try again"))
        }
        read = tokio::time::timeout(BODY_TIMEOUT, read) => {
            let Ok(result) = read else {
                info!(status = 408, "refused: the body was too slow to arrive");
                return Err(closing(StatusCode::REQUEST_TIMEOUT, "the body was too slow to arrive"));
            };
            result
        }
    }
}
