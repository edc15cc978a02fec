//! The deploy call end to end: tries as [`crate::retry::next`] allows, the
//! same delivery id on every one, an async deploy followed to its end, and
//! what a retry that meets "duplicate delivery" means.

use std::cell::RefCell;
use std::time::Duration;

use relay_http::{Attempt, Backoff, RetryError, Retrying};
use relay_runtime::Console;
use tokio::time::Instant;

use crate::call::Call;
use crate::follow;
use crate::retry::{self, Next, Tried};
use crate::send::{self, Reply, Request, SendError};

/// How the call ended.
pub enum Ending {
    /// A final answer, judged by `expected-status`.
    Final(Reply),
    /// The deploy may or may not have run; `reply` is the answer that says
    /// so, if there was one.
    Unknown {
        /// The answer that left the outcome open, if one came.
        reply: Option<Reply>,
        /// Why the outcome is open, as one sentence for the log.
        why: String,
    },
}

/// What [`deliver`] came to, with what it took to get there.
pub struct Delivery {
    /// The outcome.
    pub ending: Ending,
    /// Tries sent, the first included.
    pub attempts: u32,
    /// Status polls of an async deploy made before its final answer; 0
    /// when there was nothing to follow, or following did not end.
    pub polls: u32,
    /// From the first try to the end.
    pub elapsed: Duration,
}

/// The shortest wait a server's `Retry-After` buys (SPEC: a 1 s floor,
/// the one `relay_http::Poll` keeps too).
pub const MIN_RETRY_AFTER: Duration = relay_http::MIN_SERVER_WAIT;

/// The webhook's back-off: 1 s, 2 s, 4 s … up to 32 s, jittered; a
/// receiver's `retry-after` is honoured up to a minute.
fn backoff(call: &Call) -> Backoff {
    Backoff {
        max_retries: call.retries,
        ..backoff_policy()
    }
    .scaled(call.backoff_scale)
}

fn backoff_policy() -> Backoff {
    Backoff {
        base: Duration::from_secs(1),
        multiplier: 2.0,
        cap: Duration::from_secs(32),
        max_retries: 0,
        jitter: true,
    }
}

/// A try worth repeating: what to say about it, and its result, which is
/// what the step reports if the retries run out.
struct Again {
    why: String,
    result: Result<Reply, SendError>,
}

fn tried(result: &Result<Reply, SendError>) -> Option<Tried> {
    match result {
        Err(SendError::Connect { .. }) => Some(Tried::NotSent),
        Err(SendError::Timeout { .. } | SendError::Broken { .. }) => Some(Tried::NoAnswer),
        Err(SendError::Tls { .. } | SendError::Client(_)) => None,
        Ok(r) => Some(Tried::Answered {
            status: r.status,
            exit_code: r.exit_code,
            verdict_unread: r.verdict_unread,
            status_path: r.status_path.is_some(),
            retry_after: r.retry_after,
        }),
    }
}

/// Sends the deploy. `Err` only when no answer ever came and none could
/// have been lost: nothing reached the receiver.
pub async fn deliver(call: &Call, console: &Console) -> Result<Delivery, SendError> {
    let http = send::client(call)?;
    deliver_with(call, &http, console).await
}

/// [`deliver`] with a client of the caller's ([`crate::client`]), so many
/// calls share its connections and TLS settings.
pub async fn deliver_with(
    call: &Call,
    http: &reqwest::Client,
    console: &Console,
) -> Result<Delivery, SendError> {
    let url = call.shown(&call.url);
    let start = Instant::now();
    // The first answer that was retried, for a later "duplicate delivery".
    let earliest: RefCell<Option<Reply>> = RefCell::new(None);
    let done = |ending, attempts, polls| Delivery {
        ending,
        attempts,
        polls,
        elapsed: start.elapsed(),
    };
    let outcome = relay_http::retry(
        &backoff(call),
        |r: Retrying<'_, Again>| {
            console.warning(&format!(
                "{}; nothing ran, retrying in {} (try {} of {}, delivery {})",
                r.why.why,
                relay_runtime::duration::format(r.wait),
                r.retry + 1,
                r.max_retries + 1,
                call.delivery_id
            ));
        },
        |n| {
            let (earliest, url, done) = (&earliest, &url, &done);
            async move {
                let attempt = n + 1;
                let deadline = Instant::now() + call.timeout;
                let request = Request {
                    method: call.method.clone(),
                    url: &call.url,
                    body: &call.body,
                    content_type: "application/json",
                    webhook_id: &call.delivery_id,
                    timeout: call.timeout,
                };
                let result = send::send(call, http, console, request).await;
                if let Ok(reply) = &result
                    && reply.duplicate
                    && attempt > 1
                {
                    // The delivery reached the receiver on an earlier try after all.
                    console.warning(&format!(
                        "{url} answered the retry with \"duplicate delivery\": an earlier try of delivery {} reached it; reporting what that try got",
                        call.delivery_id
                    ));
                    let ending = duplicate(earliest.borrow_mut().take(), result);
                    return Attempt::Done(Ok(done(ending, attempt, 0)));
                }
                let Some(tried) = tried(&result) else {
                    return Attempt::Done(Err(result
                        .err()
                        .unwrap_or(SendError::Client("no answer".into()))));
                };
                let decision = match retry::next(tried) {
                    Next::Final if call.retry_busy && busy(&result) => Next::Retry { after: None },
                    decision => decision,
                };
                match decision {
                    Next::Retry { after } => {
                        let why = match &result {
                            Ok(reply) => {
                                format!("{url} answered {} without a deploy result", reply.status)
                            }
                            Err(e) => e.to_string().lines().next().unwrap_or_default().to_owned(),
                        };
                        if let Ok(reply) = &result
                            && earliest.borrow().is_none()
                        {
                            *earliest.borrow_mut() = Some(reply.clone());
                        }
                        Attempt::Again {
                            why: Again { why, result },
                            // `Retry-After: 0` is no reason to hammer the
                            // receiver: a second at least, a minute at most.
                            wait: after.map(|a| a.clamp(MIN_RETRY_AFTER, Duration::from_mins(1))),
                        }
                    }
                    Next::Final => {
                        Attempt::Done(result.map(|reply| done(Ending::Final(reply), attempt, 0)))
                    }
                    Next::Follow => {
                        let accepted = match result {
                            Ok(accepted) => accepted,
                            Err(e) => return Attempt::Done(Err(e)),
                        };
                        if accepted.delivery_id.as_deref() != Some(call.delivery_id.as_str()) {
                            // Not deploy-receiver's async answer for this delivery.
                            return Attempt::Done(Ok(done(Ending::Final(accepted), attempt, 0)));
                        }
                        let ending =
                            match follow::follow(call, http, console, &accepted, deadline).await {
                                Ok((reply, polls)) => {
                                    return Attempt::Done(Ok(done(
                                        Ending::Final(reply),
                                        attempt,
                                        polls,
                                    )));
                                }
                                Err(e) => Ending::Unknown {
                                    why: e.to_string(),
                                    reply: Some(accepted),
                                },
                            };
                        Attempt::Done(Ok(done(ending, attempt, 0)))
                    }
                    Next::Unknown => Attempt::Done(Ok(done(unknown(call, url, result), attempt, 0))),
                }
            }
        },
    )
    .await;
    match outcome {
        Ok(delivery) => Ok(delivery),
        Err(RetryError::Failed(e)) => Err(e),
        // Retries ran out on an answer worth retrying: it is the final one.
        Err(RetryError::Exhausted { attempts, last }) => last
            .result
            .map(|reply| done(Ending::Final(reply), attempts, 0)),
    }
}

/// deploy-receiver's `409` for a hook that runs another deploy (or the
/// same body) right now: nothing ran for this delivery, and its id was
/// not kept. Not a duplicate, no verdict, a body read whole.
fn busy(result: &Result<Reply, SendError>) -> bool {
    result.as_ref().is_ok_and(|r| {
        r.status == 409 && !r.exit_code && !r.duplicate && !r.verdict_unread && !r.truncated
    })
}

/// What a retry that met "duplicate delivery" means: the earlier try
/// reached the receiver, so its answer (if it had one) is the result.
fn duplicate(earliest: Option<Reply>, now: Result<Reply, SendError>) -> Ending {
    match earliest {
        Some(first) if first.exit_code => Ending::Final(first),
        Some(first) => Ending::Unknown {
            why: format!(
                "an earlier try was answered {} without a deploy result, and a retry found the delivery already received, so the deploy ran or is running",
                first.status
            ),
            reply: Some(first),
        },
        None => Ending::Unknown {
            why: "an earlier try got no answer, and a retry found the delivery already received, so the deploy ran or is running".into(),
            reply: now.ok(),
        },
    }
}

/// An answer (or a broken request) that leaves the outcome open.
fn unknown(call: &Call, url: &str, result: Result<Reply, SendError>) -> Ending {
    match result {
        Ok(reply) if reply.verdict_unread => Ending::Unknown {
            why: format!(
                "{url} answered {} with a body longer than {} bytes, cut before its verdict could be read and without a `Deploy-Exit-Code` header, so whether the deploy ran is unknown; it was not retried, which could deploy twice\nhint: check the receiver's log for delivery {}; deploy-receiver keeps its answers within 32 KiB and sends the header",
                reply.status,
                send::MAX_RESPONSE,
                call.delivery_id
            ),
            reply: Some(reply),
        },
        Ok(reply) => Ending::Unknown {
            why: format!(
                "{url} answered {} without a deploy result — a proxy that gave up waiting or lost its backend — so the deploy may have run, or still be running; it was not retried, which could deploy twice\nhint: check the receiver's log for delivery {}; for deploys longer than the proxy waits, set the hook's `mode = \"async\"`",
                reply.status, call.delivery_id
            ),
            reply: Some(reply),
        },
        Err(e) => Ending::Unknown {
            why: format!(
                "{e}; the request was sent, so the deploy may have run or still be running; it was not retried, which could deploy twice\nhint: check the receiver's log for delivery {}; raise `timeout` above the hook's timeout, or use the hook's `mode = \"async\"`",
                call.delivery_id
            ),
            reply: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        send::interpret(
            status,
            &reqwest::header::HeaderMap::new(),
            body.as_bytes(),
            &[],
        )
    }

    #[test]
    fn busy_is_deploy_receivers_409_where_nothing_ran() {
        let busy_now = reply(
            409,
            r#"{"status":"a deploy is already running for this hook; try again later"}"#,
        );
        let same_body = reply(
            409,
            r#"{"status":"a deploy with the same signed body is already queued or running for this hook; nothing was started"}"#,
        );
        assert!(busy(&Ok(busy_now)) && busy(&Ok(same_body)));
        let duplicate = reply(
            409,
            r#"{"status":"duplicate delivery","delivery_id":"d-1","duplicate":true,"status_path":"/deploy/deliveries/d-1"}"#,
        );
        let ran = reply(
            409,
            r#"{"status":"deploy failed with exit code 9","exit_code":9}"#,
        );
        for not_busy in [duplicate, ran, reply(503, r#"{"status":"busy"}"#)] {
            assert!(!busy(&Ok(not_busy.clone())), "{}", not_busy.body);
        }
    }

    #[test]
    fn backoff_doubles_from_a_second_up_to_32_seconds() {
        let b = super::backoff_policy();
        for retry in 0..10 {
            let d = b.delay(retry);
            let full = std::time::Duration::from_secs(1 << retry.min(5));
            assert!(d >= full / 2 && d <= full, "{retry}: {d:?}");
        }
    }
}
