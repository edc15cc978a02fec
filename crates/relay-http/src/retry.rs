//! The one retry loop. Each caller says how to wait ([`Backoff`]) and, per
//! attempt, whether the result is final or worth another try ([`Attempt`]):
//! GitHub's REST client retries 429/5xx and rate-limit 403s honouring
//! `retry-after`; the artifact transfers retry as `@actions/artifact` does;
//! the signed webhook retries only what cannot have deployed twice.

use std::future::Future;
use std::time::Duration;

/// How long to wait between tries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The wait before the first retry.
    pub base: Duration,
    /// Each retry waits this much longer than the one before.
    pub multiplier: f64,
    /// No computed wait is longer than this. A server's own wait is the
    /// caller's to bound (GitHub's `retry-after` must be honoured whole).
    pub cap: Duration,
    /// Retries after the first try; 0 means one try only.
    pub max_retries: u32,
    /// Wait somewhere in the upper half of the computed delay, so parallel
    /// clients spread out; without it the delay is exact.
    pub jitter: bool,
}

impl Backoff {
    /// The delay before retry `retry` (0-based).
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base
            .mul_f64(
                self.multiplier
                    .powi(i32::try_from(retry.min(32)).unwrap_or(32)),
            )
            .min(self.cap);
        if self.jitter {
            exp.mul_f64(0.5 + rand::random::<f64>() * 0.5)
        } else {
            exp
        }
    }

    /// The same policy with every wait multiplied by `scale` (tests run
    /// retries in milliseconds with `DEPLOY_RELAY_BACKOFF_SCALE`).
    pub fn scaled(self, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale >= 0.0 {
            scale
        } else {
            1.0
        };
        Self {
            base: self.base.mul_f64(scale),
            cap: self.cap.mul_f64(scale),
            ..self
        }
    }
}

/// What one try came to.
#[derive(Debug)]
pub enum Attempt<T, E, W = E> {
    /// Final: a success, or a failure that another try cannot mend.
    Done(Result<T, E>),
    /// Worth another try. `wait` is what the server asked for, if it said;
    /// otherwise the back-off decides.
    Again {
        /// Why, for the log and the error if no try succeeds.
        why: W,
        /// The server's wait, if it named one.
        wait: Option<Duration>,
    },
}

/// Why [`retry`] gave up.
#[derive(Debug, PartialEq, Eq)]
pub enum RetryError<E, W> {
    /// A try ended in a failure not worth retrying.
    Failed(E),
    /// Every try was worth retrying and none succeeded.
    Exhausted {
        /// Tries made.
        attempts: u32,
        /// Why the last one failed.
        last: W,
    },
}

/// One retry about to happen, for the caller to log.
#[derive(Debug)]
pub struct Retrying<'a, W> {
    /// 1 for the first retry.
    pub retry: u32,
    /// Retries allowed in all.
    pub max_retries: u32,
    /// How long it waits first.
    pub wait: Duration,
    /// Why it retries.
    pub why: &'a W,
}

/// Runs `attempt` (given the 0-based try number) until it is done or the
/// retries run out, sleeping between tries and telling `on_retry` first.
pub async fn retry<T, E, W, F, Fut>(
    backoff: &Backoff,
    mut on_retry: impl FnMut(Retrying<'_, W>),
    mut attempt: F,
) -> Result<T, RetryError<E, W>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T, E, W>>,
{
    let mut tried = 0;
    loop {
        match attempt(tried).await {
            Attempt::Done(result) => return result.map_err(RetryError::Failed),
            Attempt::Again { why, wait } => {
                if tried >= backoff.max_retries {
                    return Err(RetryError::Exhausted {
                        attempts: tried + 1,
                        last: why,
                    });
                }
                let wait = wait.unwrap_or_else(|| backoff.delay(tried));
                on_retry(Retrying {
                    retry: tried + 1,
                    max_retries: backoff.max_retries,
                    wait,
                    why: &why,
                });
                tokio::time::sleep(wait).await;
                tried += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const EXACT: Backoff = Backoff {
        base: Duration::from_secs(3),
        multiplier: 1.5,
        cap: Duration::from_hours(1),
        max_retries: 4,
        jitter: false,
    };

    #[test]
    fn exact_and_jittered_delays() {
        assert_eq!(EXACT.delay(0), Duration::from_secs(3));
        assert_eq!(EXACT.delay(2), Duration::from_millis(6750));
        let jittered = Backoff {
            base: Duration::from_secs(1),
            multiplier: 2.0,
            cap: Duration::from_secs(30),
            max_retries: 5,
            jitter: true,
        };
        for n in 0..10 {
            let full = Duration::from_secs(1 << n.min(5)).min(Duration::from_secs(30));
            let d = jittered.delay(n);
            assert!(d >= full / 2 && d <= full, "{n}: {d:?}");
        }
        assert_eq!(EXACT.scaled(0.01).delay(0), Duration::from_millis(30));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_done_and_reports_each_retry() {
        let seen = Cell::new(Vec::new());
        let result: Result<u32, RetryError<&str, &str>> = retry(
            &EXACT,
            |r| {
                let mut v = seen.take();
                v.push((r.retry, r.wait));
                seen.set(v);
            },
            |n| async move {
                if n < 2 {
                    Attempt::Again {
                        why: "503",
                        wait: (n == 1).then_some(Duration::from_secs(7)),
                    }
                } else {
                    Attempt::Done(Ok(n))
                }
            },
        )
        .await;
        assert_eq!(result, Ok(2));
        assert_eq!(
            seen.take(),
            vec![(1, Duration::from_secs(3)), (2, Duration::from_secs(7))]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_failure_is_not_retried_and_exhaustion_counts_attempts() {
        let tries = Cell::new(0);
        let r: Result<(), RetryError<&str, &str>> = retry(
            &EXACT,
            |_| {},
            |_| {
                tries.set(tries.get() + 1);
                async { Attempt::Done(Err("400")) }
            },
        )
        .await;
        assert_eq!((r, tries.get()), (Err(RetryError::Failed("400")), 1));

        let r: Result<(), RetryError<&str, &str>> = retry(
            &EXACT,
            |_| {},
            |_| async {
                Attempt::Again {
                    why: "reset",
                    wait: None,
                }
            },
        )
        .await;
        assert_eq!(
            r,
            Err(RetryError::Exhausted {
                attempts: 5,
                last: "reset"
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_wait_is_honoured_beyond_the_cap() {
        let capped = Backoff {
            cap: Duration::from_secs(30),
            ..EXACT
        };
        let waited = Cell::new(Duration::ZERO);
        let _: Result<(), RetryError<(), ()>> = retry(
            &capped,
            |r| waited.set(r.wait),
            |n| async move {
                if n == 0 {
                    Attempt::Again {
                        why: (),
                        wait: Some(Duration::from_mins(1)),
                    }
                } else {
                    Attempt::Done(Ok(()))
                }
            },
        )
        .await;
        assert_eq!(waited.get(), Duration::from_mins(1));
    }
}
