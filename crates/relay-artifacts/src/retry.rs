//! Retries as `@actions/artifact` does them (5 attempts, 3 s base, x1.5
//! backoff, on 429/500/502/503/504 and transport errors), applied to the
//! blob requests too, where the official client leaves it to the Azure SDK.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub multiplier: f64,
    /// A body that yields nothing for this long counts as a stalled transfer.
    pub stall_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base: Duration::from_millis(3000),
            multiplier: 1.5,
            stall_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The default with its delays multiplied by `scale` (the
    /// `DEPLOY_RELAY_BACKOFF_SCALE` tests use to make retries cheap).
    pub fn scaled(scale: f64) -> Self {
        let d = Self::default();
        Self {
            base: d.base.mul_f64(scale.clamp(0.0, 1.0)),
            ..d
        }
    }

    /// Delay before attempt `attempt + 1` (0-based), the lower bound of the
    /// official client's jittered window.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.base.mul_f64(self.multiplier.powi(attempt as i32))
    }
}

pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_matches_the_official_client() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0), Duration::from_millis(3000));
        assert_eq!(p.delay(1), Duration::from_millis(4500));
        assert_eq!(p.delay(2), Duration::from_millis(6750));
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
