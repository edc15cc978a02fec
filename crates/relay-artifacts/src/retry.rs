//! The artifacts retry policy, run through `relay_http`'s one retry loop: as
//! `@actions/artifact` retries its Twirp calls (5 attempts, 3 s base, x1.5,
//! on 429/500/502/503/504 and transport errors), applied to the blob
//! requests too, where the official client leaves it to the Azure SDK, plus
//! a stall timeout the official client does not have.

use std::time::Duration;

use relay_http::{Attempt, Backoff, RetryError};

use crate::error::ArtifactError;

/// How the artifact transfers retry and when they call a transfer stalled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Waits and tries, `@actions/artifact`'s.
    pub backoff: Backoff,
    /// A request or body that yields nothing for this long counts as a
    /// stalled transfer and is retried.
    pub stall_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            backoff: Backoff {
                base: Duration::from_secs(3),
                multiplier: 1.5,
                // Never reached in 4 retries (3, 4.5, 6.75, 10.1 s).
                cap: Duration::from_secs(30),
                max_retries: 4,
                // The lower bound of the official client's jittered window.
                jitter: false,
            },
            stall_timeout: Duration::from_mins(1),
        }
    }
}

impl RetryPolicy {
    /// The default with its delays multiplied by `scale` (the
    /// `DEPLOY_RELAY_BACKOFF_SCALE` tests use to make retries cheap).
    pub fn scaled(scale: f64) -> Self {
        let d = Self::default();
        Self {
            backoff: d.backoff.scaled(scale.clamp(0.0, 1.0)),
            ..d
        }
    }

    /// Runs `attempt` under this policy; `what` names the transfer in the
    /// error when every attempt failed.
    pub(crate) async fn run<T, F, Fut>(&self, what: &str, attempt: F) -> Result<T, ArtifactError>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Attempt<T, ArtifactError, String>>,
    {
        match relay_http::retry(&self.backoff, |_| {}, attempt).await {
            Ok(v) => Ok(v),
            Err(RetryError::Failed(e)) => Err(e),
            Err(RetryError::Exhausted { attempts, last }) => Err(ArtifactError::Exhausted {
                what: what.to_owned(),
                attempts,
                last,
            }),
        }
    }
}

/// The HTTP statuses `@actions/artifact` retries.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// A transport failure, as text worth a retry: the innermost cause (what
/// actually went wrong, `connection refused`), never the URL, whose query
/// is a credential.
pub(crate) fn transport(what: &str, e: reqwest::Error) -> String {
    format!("{what}: {}", relay_runtime::root_cause(&e.without_url()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_matches_the_official_client() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff.max_retries + 1, 5, "five attempts");
        assert_eq!(p.backoff.delay(0), Duration::from_secs(3));
        assert_eq!(p.backoff.delay(1), Duration::from_millis(4500));
        assert_eq!(p.backoff.delay(2), Duration::from_millis(6750));
        assert_eq!(
            RetryPolicy::scaled(0.001).backoff.delay(0),
            Duration::from_millis(3)
        );
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(retryable_status(s));
        }
        for s in [400, 401, 403, 404, 409, 501] {
            assert!(!retryable_status(s));
        }
    }
}
