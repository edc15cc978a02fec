//! The one way to wait for something to change: a loop of looks (a
//! workflow run, a commit's checks, an async deploy status) with the pace
//! and the deadline decided here, not in each loop.
//!
//! The rules, in one place:
//! - **Interval**: looks are `interval` apart; with
//!   [`Poll::backing_off`], each look that saw nothing new stretches the
//!   next wait (up to a cap), and a change brings the pace back.
//! - **Deadline**: a wait never runs past the deadline. By default the loop
//!   ends when the next look would fall after it ([`AtDeadline::Stop`]);
//!   with [`AtDeadline::LookOnceMore`] the last wait is cut short so one
//!   final look happens at the deadline itself. [`Poll::wake_at`] adds an
//!   earlier moment that decides something (a discovery timeout), and the
//!   wait ends there too.
//! - **Retry-After**: a server that names the next look's time
//!   ([`retry_after`]) is followed for that one wait, at least
//!   [`MIN_SERVER_WAIT`] so `Retry-After: 0` cannot make a busy loop.
//! - **Conditional requests**: a loop that polls GitHub asks with
//!   `If-None-Match` (`relay-github`'s `ETag` cache), so an unchanged answer
//!   costs no rate limit; it tells the poll so with [`Poll::unchanged`].

use std::time::Duration;

use tokio::time::Instant;

/// The shortest wait a server's `Retry-After` can ask for between looks.
pub const MIN_SERVER_WAIT: Duration = Duration::from_secs(1);

/// `Retry-After` in seconds, the form GitHub and deploy-receiver send
/// (<https://www.rfc-editor.org/rfc/rfc9110#field.retry-after>); an
/// HTTP-date or a malformed value counts as absent.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// What happens when the next look would fall after the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtDeadline {
    /// The loop ends without that look.
    Stop,
    /// The wait is cut short at the deadline for one last look; the loop
    /// ends after a look made at or past it.
    LookOnceMore,
}

/// The deadline came before the next look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlinePassed;

/// The pace of one poll-until-deadline loop: look, then [`Poll::sleep`],
/// until the thing is decided or `sleep` says the deadline passed.
#[derive(Debug, Clone)]
pub struct Poll {
    interval: Duration,
    max_interval: Duration,
    growth: f64,
    current: Duration,
    deadline: Instant,
    at_deadline: AtDeadline,
    wake_at: Option<Instant>,
    server_wait: Option<Duration>,
    scale: f64,
}

impl Poll {
    /// Looks `interval` apart until `deadline`, ending when the next look
    /// would fall after it.
    pub fn new(interval: Duration, deadline: Instant) -> Self {
        Self {
            interval,
            max_interval: interval,
            growth: 1.0,
            current: interval,
            deadline,
            at_deadline: AtDeadline::Stop,
            wake_at: None,
            server_wait: None,
            scale: 1.0,
        }
    }

    /// Each look that saw nothing new ([`Poll::unchanged`]) multiplies the
    /// next wait by `growth`, up to `max_interval`.
    #[must_use]
    pub fn backing_off(self, growth: f64, max_interval: Duration) -> Self {
        Self {
            max_interval,
            growth,
            ..self
        }
    }

    /// What happens at the deadline (default [`AtDeadline::Stop`]).
    #[must_use]
    pub fn at_deadline(self, at_deadline: AtDeadline) -> Self {
        Self {
            at_deadline,
            ..self
        }
    }

    /// Every wait multiplied by `scale` (tests run in milliseconds with
    /// `DEPLOY_RELAY_BACKOFF_SCALE`); the floors apply before it.
    #[must_use]
    pub fn scaled(self, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale >= 0.0 {
            scale
        } else {
            1.0
        };
        Self { scale, ..self }
    }

    /// A moment before the deadline that decides something: a wait that
    /// would pass it ends there.
    pub fn wake_at(&mut self, at: Instant) {
        self.wake_at = Some(at);
    }

    /// The last look saw something new: back to the pace asked for.
    pub fn changed(&mut self) {
        self.current = self.interval;
    }

    /// The last look saw nothing new: the next wait grows (see
    /// [`Poll::backing_off`]).
    pub fn unchanged(&mut self) {
        self.current = self.current.mul_f64(self.growth).min(self.max_interval);
    }

    /// The server named the next look's time (`Retry-After`); it is
    /// followed for the next wait, but never below [`MIN_SERVER_WAIT`].
    pub fn server_asked(&mut self, wait: Option<Duration>) {
        if let Some(wait) = wait {
            self.server_wait = Some(wait.max(MIN_SERVER_WAIT));
        }
    }

    /// When the loop must be decided.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The wait before the next look, without sleeping it: the server's
    /// word if it gave one, else the current interval.
    pub fn next_wait(&self) -> Duration {
        self.server_wait.unwrap_or(self.current).mul_f64(self.scale)
    }

    /// Sleeps until the next look, or says the deadline passed first.
    pub async fn sleep(&mut self) -> Result<(), DeadlinePassed> {
        let now = Instant::now();
        let mut next = now + self.next_wait();
        match self.at_deadline {
            AtDeadline::Stop if next > self.deadline => return Err(DeadlinePassed),
            AtDeadline::LookOnceMore if now >= self.deadline => return Err(DeadlinePassed),
            AtDeadline::LookOnceMore => next = next.min(self.deadline),
            AtDeadline::Stop => {}
        }
        if let Some(at) = self.wake_at.filter(|at| now < *at) {
            next = next.min(at);
        }
        self.server_wait = None;
        // Never a busy loop, whatever the clock says.
        tokio::time::sleep_until(next.max(now + Duration::from_millis(1))).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    /// Sleeps of `poll` until it ends, from a paused clock, as seconds after the start.
    async fn looks(mut poll: Poll, mut each: impl FnMut(&mut Poll)) -> Vec<f64> {
        let start = Instant::now();
        let mut at = Vec::new();
        while poll.sleep().await.is_ok() {
            at.push((Instant::now() - start).as_secs_f64());
            each(&mut poll);
            assert!(at.len() < 100, "{at:?}");
        }
        at
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_pace_stops_before_passing_the_deadline() {
        let poll = Poll::new(10 * S, Instant::now() + 35 * S);
        assert_eq!(looks(poll, |_| {}).await, [10.0, 20.0, 30.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn look_once_more_looks_at_the_deadline_itself() {
        let poll = Poll::new(10 * S, Instant::now() + 35 * S).at_deadline(AtDeadline::LookOnceMore);
        assert_eq!(looks(poll, |_| {}).await, [10.0, 20.0, 30.0, 35.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_new_stretches_the_wait_and_a_change_resets_it() {
        let poll = Poll::new(2 * S, Instant::now() + 60 * S).backing_off(2.0, 8 * S);
        let mut n = 0;
        let at = looks(poll, |p| {
            n += 1;
            if n == 4 { p.changed() } else { p.unchanged() }
        })
        .await;
        // 2, then 4, 8, 8 (capped), back to 2 after the change, 4, 8, ...
        assert_eq!(&at[..7], [2.0, 6.0, 14.0, 22.0, 24.0, 28.0, 36.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_server_names_one_wait_never_below_a_second() {
        let poll = Poll::new(10 * S, Instant::now() + 25 * S);
        let mut n = 0;
        let at = looks(poll, |p| {
            n += 1;
            p.server_asked(Some(if n == 1 { 3 * S } else { Duration::ZERO }));
        })
        .await;
        assert_eq!(&at[..3], [10.0, 13.0, 14.0]);
        assert!(at.windows(2).all(|w| w[1] - w[0] >= 1.0), "{at:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_earlier_moment_wakes_the_loop_and_scaling_applies_last() {
        let mut poll = Poll::new(10 * S, Instant::now() + 60 * S);
        poll.wake_at(Instant::now() + 4 * S);
        assert_eq!(&looks(poll, |_| {}).await[..2], [4.0, 14.0]);
        let poll = Poll::new(10 * S, Instant::now() + 60 * S).scaled(0.01);
        assert_eq!(poll.next_wait(), Duration::from_millis(100));
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", " 7 ".parse().unwrap());
        assert_eq!(retry_after(&h), Some(7 * S));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
