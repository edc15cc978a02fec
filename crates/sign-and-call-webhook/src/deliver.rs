//! The deploy call end to end: tries as [`crate::retry::next`] allows, the
//! same delivery id on every one, an async deploy followed to its end, and
//! what a retry that meets "duplicate delivery" means.

use std::cell::RefCell;
use std::time::Duration;

use relay_http::{Attempt, Backoff, RetryError, Retrying};
use relay_runtime::Console;
use tokio::time::Instant;

use crate::config::Config;
use crate::follow;
use crate::retry::{self, Next, Tried};
use crate::send::{self, Reply, Request, SendError};

/// How the call ended.
pub enum Ending {
    /// A final answer, judged by `expected-status`.
    Final(Reply),
    /// The deploy may or may not have run; `reply` is the answer that says
    /// so, if there was one.
    Unknown { reply: Option<Reply>, why: String },
}

pub struct Delivery {
    pub ending: Ending,
    pub attempts: u32,
    pub polls: u32,
    pub elapsed: Duration,
}

/// The shortest wait a server's `Retry-After` buys (SPEC: a 1 s floor).
pub const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The webhook's back-off: 1 s, 2 s, 4 s … up to 32 s, jittered; a
/// receiver's `retry-after` is honoured up to a minute.
fn backoff(config: &Config) -> Backoff {
    Backoff {
        max_retries: config.retries,
        ..backoff_policy()
    }
    .scaled(config.backoff_scale)
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
pub async fn deliver(config: &Config, console: &Console) -> Result<Delivery, SendError> {
    let http = send::client(config)?;
    let url = config.shown(&config.url);
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
        &backoff(config),
        |r: Retrying<'_, Again>| {
            console.warning(&format!(
                "{}; nothing ran, retrying in {} (try {} of {}, delivery {})",
                r.why.why,
                relay_runtime::duration::format(r.wait),
                r.retry + 1,
                r.max_retries + 1,
                config.delivery_id
            ));
        },
        |n| {
            let (earliest, url, http, done) = (&earliest, &url, &http, &done);
            async move {
                let attempt = n + 1;
                let deadline = Instant::now() + config.timeout;
                let request = Request {
                    method: config.method.as_reqwest(),
                    url: &config.url,
                    body: &config.body,
                    content_type: "application/json",
                    webhook_id: &config.delivery_id,
                    timeout: config.timeout,
                };
                let result = send::send(config, http, &console.masks(), request).await;
                if let Ok(reply) = &result
                    && reply.duplicate
                    && attempt > 1
                {
                    // The delivery reached the receiver on an earlier try after all.
                    console.warning(&format!(
                        "{url} answered the retry with \"duplicate delivery\": an earlier try of delivery {} reached it; reporting what that try got",
                        config.delivery_id
                    ));
                    let ending = duplicate(earliest.borrow_mut().take(), result);
                    return Attempt::Done(Ok(done(ending, attempt, 0)));
                }
                let Some(tried) = tried(&result) else {
                    return Attempt::Done(Err(result
                        .err()
                        .unwrap_or(SendError::Client("no answer".into()))));
                };
                match retry::next(tried) {
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
                            wait: after.map(|a| a.clamp(MIN_RETRY_AFTER, Duration::from_secs(60))),
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
                        if accepted.delivery_id.as_deref() != Some(config.delivery_id.as_str()) {
                            // Not deploy-receiver's async answer for this delivery.
                            return Attempt::Done(Ok(done(Ending::Final(accepted), attempt, 0)));
                        }
                        let ending =
                            match follow::follow(config, http, console, &accepted, deadline).await {
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
                    Next::Unknown => Attempt::Done(Ok(done(unknown(config, url, result), attempt, 0))),
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
fn unknown(config: &Config, url: &str, result: Result<Reply, SendError>) -> Ending {
    match result {
        Ok(reply) if reply.verdict_unread => Ending::Unknown {
            why: format!(
                "{url} answered {} with a body longer than {} bytes, cut before its verdict could be read and without a `Deploy-Exit-Code` header, so whether the deploy ran is unknown; it was not retried, which could deploy twice\nhint: check the receiver's log for delivery {}; deploy-receiver keeps its answers within 32 KiB and sends the header",
                reply.status,
                send::MAX_RESPONSE,
                config.delivery_id
            ),
            reply: Some(reply),
        },
        Ok(reply) => Ending::Unknown {
            why: format!(
                "{url} answered {} without a deploy result — a proxy that gave up waiting or lost its backend — so the deploy may have run, or still be running; it was not retried, which could deploy twice\nhint: check the receiver's log for delivery {}; for deploys longer than the proxy waits, set the hook's `mode = \"async\"`",
                reply.status, config.delivery_id
            ),
            reply: Some(reply),
        },
        Err(e) => Ending::Unknown {
            why: format!(
                "{e}; the request was sent, so the deploy may have run or still be running; it was not retried, which could deploy twice\nhint: check the receiver's log for delivery {}; raise `timeout` above the hook's timeout, or use the hook's `mode = \"async\"`",
                config.delivery_id
            ),
            reply: None,
        },
    }
}

#[cfg(test)]
mod tests {
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
