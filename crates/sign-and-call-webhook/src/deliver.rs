//! The deploy call end to end: tries as [`crate::retry::next`] allows, the
//! same delivery id on every one, an async deploy followed to its end, and
//! what a retry that meets "duplicate delivery" means.

use std::time::Duration;

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

/// 1 s, 2 s, 4 s … with jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1u64 << (attempt - 1).min(5));
    base.mul_f64(0.5 + rand::random::<f64>() * 0.5)
}

fn tried(result: &Result<Reply, SendError>) -> Option<Tried> {
    match result {
        Err(SendError::Connect { .. }) => Some(Tried::NotSent),
        Err(SendError::Timeout { .. } | SendError::Broken { .. }) => Some(Tried::NoAnswer),
        Err(SendError::Tls { .. } | SendError::Client(_)) => None,
        Ok(r) => Some(Tried::Answered {
            status: r.status,
            exit_code: r.exit_code,
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
    let mut earliest: Option<Reply> = None;
    let mut attempt = 0;
    let done = |ending, attempt, polls| Delivery {
        ending,
        attempts: attempt,
        polls,
        elapsed: start.elapsed(),
    };
    loop {
        attempt += 1;
        let deadline = Instant::now() + config.timeout;
        let request = Request {
            method: config.method.as_reqwest(),
            url: &config.url,
            body: &config.body,
            content_type: "application/json",
            webhook_id: &config.delivery_id,
            timeout: config.timeout,
        };
        let result = send::send(config, &http, &console.masks(), request).await;
        if let Ok(reply) = &result
            && reply.duplicate
            && attempt > 1
        {
            // The delivery reached the receiver on an earlier try after all.
            console.warning(&format!(
                "{url} answered the retry with \"duplicate delivery\": an earlier try of delivery {} reached it; reporting what that try got",
                config.delivery_id
            ));
            let ending = match earliest {
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
                    reply: result.ok(),
                },
            };
            return Ok(done(ending, attempt, 0));
        }
        let Some(tried) = tried(&result) else {
            return Err(result
                .err()
                .unwrap_or(SendError::Client("no answer".into())));
        };
        match retry::next(tried) {
            Next::Retry { after } if attempt <= config.retries => {
                let why = match &result {
                    Ok(reply) => format!("{url} answered {} without a deploy result", reply.status),
                    Err(e) => e.to_string().lines().next().unwrap_or_default().to_owned(),
                };
                if let Ok(reply) = result
                    && earliest.is_none()
                {
                    earliest = Some(reply);
                }
                let wait = after
                    .unwrap_or_else(|| backoff(attempt).mul_f64(config.backoff_scale))
                    .min(Duration::from_secs(60));
                console.warning(&format!(
                    "{why}; nothing ran, retrying in {} (try {} of {}, delivery {})",
                    relay_runtime::duration::format(wait),
                    attempt + 1,
                    config.retries + 1,
                    config.delivery_id
                ));
                tokio::time::sleep(wait).await;
            }
            Next::Retry { .. } | Next::Final => {
                let reply = result?;
                return Ok(done(Ending::Final(reply), attempt, 0));
            }
            Next::Follow => {
                let accepted = result?;
                if accepted.delivery_id.as_deref() != Some(config.delivery_id.as_str()) {
                    // Not deploy-receiver's async answer for this delivery.
                    return Ok(done(Ending::Final(accepted), attempt, 0));
                }
                let ending = match follow::follow(config, &http, console, &accepted, deadline).await
                {
                    Ok((reply, polls)) => return Ok(done(Ending::Final(reply), attempt, polls)),
                    Err(e) => Ending::Unknown {
                        why: e.to_string(),
                        reply: Some(accepted),
                    },
                };
                return Ok(done(ending, attempt, 0));
            }
            Next::Unknown => {
                let ending = match result {
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
                };
                return Ok(done(ending, attempt, 0));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_is_capped() {
        for attempt in 1..10 {
            let d = super::backoff(attempt);
            let full = std::time::Duration::from_secs(1 << (attempt - 1).min(5));
            assert!(d >= full / 2 && d <= full);
        }
    }
}
