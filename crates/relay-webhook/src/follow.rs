//! Following an async deploy (deploy-receiver's `mode = "async"`): its
//! status is at `<url>/deliveries/<delivery-id>` — derived from our own URL,
//! never taken from the server — polled with a signed
//! `deploy-relay-status <id> <unix-time>` body (see
//! [`relay_signature::status`]) until an answer with `exit_code` comes, or
//! the try's `timeout` runs out. Polls are read-only, so a poll that fails
//! in passing (a dropped connection, a proxy's 502) is simply made again.
//! The pace is `relay_http::Poll`'s: the receiver's `Retry-After` (at
//! least a second), else [`DEFAULT_INTERVAL`], never past the deadline.

use std::time::Duration;

use relay_http::Poll;
use relay_runtime::Console;
use relay_signature::status;
use reqwest::Url;
use tokio::time::Instant;

use crate::call::Call;
use crate::send::{self, Reply, Request, SendError};

/// Between polls when the receiver names no interval, and at most
/// (whatever its `Retry-After` says); at least is `Poll`'s floor for a
/// server's word, a second.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
const MAX_INTERVAL: Duration = Duration::from_secs(30);
/// One poll's answer may take this long.
const POLL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why following ended without a final answer.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(
        "the deploy of delivery `{id}` was still running when `timeout` ({timeout}) ran out; its outcome is unknown\nhint: it may still finish on the receiver; raise `timeout` above the hook's timeout, or check the receiver's log for the delivery"
    )]
    /// The try's `timeout` ran out before the deploy's verdict came.
    StillRunning {
        /// The delivery id.
        id: String,
        /// The `timeout` as the log shows it (`15m`).
        timeout: String,
    },
    #[error(
        "{url} refused the status poll ({status}); the deploy was accepted but its outcome is unknown\nhint: check that `secret` and `signature-scheme` match the hook's own secret"
    )]
    /// The receiver refused the signed poll (401 or 403): most likely the
    /// secret or scheme does not match the hook's.
    Refused {
        /// The status URL, redacted for the log.
        url: String,
        /// The refusal's status.
        status: u16,
    },
    #[error(
        "{url} does not know delivery `{id}` (404) although it accepted it; its outcome is unknown\nhint: the receiver may have restarted (results are kept in memory) — check its log for the delivery"
    )]
    /// The receiver answered 404 for a delivery it had accepted, e.g.
    /// after a restart lost the results it keeps in memory.
    Unknown {
        /// The status URL, redacted for the log.
        url: String,
        /// The delivery id.
        id: String,
    },
    #[error(
        "{url} answered the status poll with {status}, which is not a deploy result: {excerpt}"
    )]
    /// A poll answer that is neither a verdict, "still running", nor one
    /// worth asking again, or a poll the client could not make at all.
    Unexpected {
        /// The status URL, redacted for the log.
        url: String,
        /// The answer's status; 0 when no request could be made (client
        /// or TLS failure).
        status: u16,
        /// The first 200 characters of the masked body, or the client's
        /// error.
        excerpt: String,
    },
    #[error("the status path `{0}` cannot be made from `url`")]
    /// The delivery id cannot be one path segment (empty, too long, or a
    /// character besides letters, digits and `-_.~`); holds the path it
    /// would have made.
    Path(String),
    #[error(
        "{url} answered the status poll with {status} and a body longer than {max} bytes, cut before its verdict could be read and without a `Deploy-Exit-Code` header; the outcome of delivery `{id}` is unknown\nhint: check the receiver's log for the delivery"
    )]
    /// A poll answer too long to read whole, with no verdict header.
    Cut {
        /// The status URL, redacted for the log.
        url: String,
        /// The answer's status.
        status: u16,
        /// The most of a body read ([`crate::MAX_RESPONSE`]).
        max: usize,
        /// The delivery id.
        id: String,
    },
}

/// `<url>/deliveries/<id>`, keeping the URL's query (a proxy may need it).
pub fn status_url(url: &Url, id: &str) -> Result<Url, FollowError> {
    let mut out = url.clone();
    let path = status::path(url.path(), id);
    if !status::path_safe(id) {
        return Err(FollowError::Path(path));
    }
    out.set_path(&path);
    Ok(out)
}

/// Polls until the final answer; `deadline` ends the try. Returns the
/// answer and how many polls it took.
pub(crate) async fn follow(
    call: &Call,
    http: &reqwest::Client,
    console: &Console,
    first: &Reply,
    deadline: Instant,
) -> Result<(Reply, u32), FollowError> {
    let url = status_url(&call.url, &call.delivery_id)?;
    let shown = call.shown(&url);
    console.info(&format!(
        "answered {}: following {shown} until the deploy ends",
        first.status
    ));
    let mut poll = Poll::new(DEFAULT_INTERVAL, deadline).scaled(call.backoff_scale);
    // The receiver's word holds until it says otherwise.
    let mut interval = first.retry_after;
    let mut polls = 0;
    let mut warned = false;
    loop {
        poll.server_asked(interval.map(|i| i.min(MAX_INTERVAL)));
        if poll.sleep().await.is_err() {
            return Err(FollowError::StillRunning {
                id: call.delivery_id.clone(),
                timeout: relay_runtime::duration::format(call.timeout),
            });
        }
        polls += 1;
        let body = status::body(&call.delivery_id, send::unix_now());
        let poll_id = format!("poll_{}", uuid::Uuid::new_v4().simple());
        let request = Request {
            method: reqwest::Method::POST,
            url: &url,
            body: body.as_bytes(),
            content_type: status::CONTENT_TYPE,
            webhook_id: &poll_id,
            timeout: POLL_TIMEOUT.min(deadline.saturating_duration_since(Instant::now())),
        };
        let reply = match send::send(call, http, console, request).await {
            Ok(reply) => reply,
            Err(e @ (SendError::Client(_) | SendError::Tls { .. })) => {
                return Err(FollowError::Unexpected {
                    url: shown,
                    status: 0,
                    excerpt: e.to_string(),
                });
            }
            Err(e) => {
                if !warned {
                    console.warning(&format!("a status poll failed ({e}); polling on"));
                    warned = true;
                }
                continue;
            }
        };
        interval = reply.retry_after.or(interval);
        match reply.status {
            _ if reply.exit_code => return Ok((reply, polls)),
            _ if reply.verdict_unread => {
                return Err(FollowError::Cut {
                    url: shown,
                    status: reply.status,
                    max: send::MAX_RESPONSE,
                    id: call.delivery_id.clone(),
                });
            }
            202 => {}
            401 | 403 => {
                return Err(FollowError::Refused {
                    url: shown,
                    status: reply.status,
                });
            }
            404 => {
                return Err(FollowError::Unknown {
                    url: shown,
                    id: call.delivery_id.clone(),
                });
            }
            // A proxy or a busy receiver between polls: ask again.
            429 | 500..=599 => {
                if !warned {
                    console.warning(&format!(
                        "a status poll was answered {}; polling on",
                        reply.status
                    ));
                    warned = true;
                }
            }
            status => {
                return Err(FollowError::Unexpected {
                    url: shown,
                    status,
                    excerpt: reply.body.chars().take(200).collect(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_url_extends_ours_and_keeps_the_query() {
        let url = Url::parse("https://vm.example.com:8443/hooks/deploy?token=x").unwrap();
        assert_eq!(
            status_url(&url, "d-1").unwrap().as_str(),
            "https://vm.example.com:8443/hooks/deploy/deliveries/d-1?token=x"
        );
        let slash = Url::parse("https://vm.example.com/deploy/").unwrap();
        assert_eq!(
            status_url(&slash, "d-1").unwrap().path(),
            "/deploy/deliveries/d-1"
        );
        assert!(status_url(&url, "a/b").is_err());
    }
}
