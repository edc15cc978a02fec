//! What each delivery with an id is doing, for its status path: queued,
//! running, or its final answer — kept for `result_ttl` after it ends (at
//! most [`MAX_FINISHED`] of them), in memory only. Only authenticated
//! deliveries are recorded, so an attacker cannot fill it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::StatusCode;

/// Finished deliveries kept at most; the oldest go first.
pub(crate) const MAX_FINISHED: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DeliveryState {
    Queued {
        since: Instant,
    },
    Running {
        since: Instant,
    },
    Done {
        status: StatusCode,
        body: serde_json::Value,
        at: Instant,
    },
}

pub(crate) struct Deliveries {
    ttl: Duration,
    entries: Mutex<HashMap<(String, String), DeliveryState>>,
}

impl Deliveries {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
        }
    }

    pub(crate) fn set(&self, hook: &str, id: &str, state: DeliveryState) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.insert((hook.to_owned(), id.to_owned()), state);
        Self::expire(&mut entries, self.ttl, Instant::now());
    }

    pub(crate) fn get(&self, hook: &str, id: &str) -> Option<DeliveryState> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        Self::expire(&mut entries, self.ttl, Instant::now());
        entries.get(&(hook.to_owned(), id.to_owned())).cloned()
    }

    fn expire(entries: &mut HashMap<(String, String), DeliveryState>, ttl: Duration, now: Instant) {
        entries.retain(
            |_, s| !matches!(s, DeliveryState::Done { at, .. } if now.duration_since(*at) >= ttl),
        );
        let mut finished: Vec<(Instant, (String, String))> = entries
            .iter()
            .filter_map(|(k, s)| match s {
                DeliveryState::Done { at, .. } => Some((*at, k.clone())),
                _ => None,
            })
            .collect();
        if finished.len() > MAX_FINISHED {
            let excess = finished.len() - MAX_FINISHED;
            finished.sort_unstable_by_key(|(at, _)| *at);
            for (_, key) in finished.into_iter().take(excess) {
                entries.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(at: Instant) -> DeliveryState {
        DeliveryState::Done {
            status: StatusCode::OK,
            body: serde_json::json!({"exit_code": 0}),
            at,
        }
    }

    #[test]
    fn deliveries_are_per_hook_and_expire() {
        let r = Deliveries::new(Duration::from_millis(50));
        let now = Instant::now();
        r.set("/a", "d1", DeliveryState::Running { since: now });
        assert!(matches!(
            r.get("/a", "d1"),
            Some(DeliveryState::Running { .. })
        ));
        assert_eq!(
            r.get("/b", "d1"),
            None,
            "another hook's delivery is unknown"
        );
        r.set("/a", "d1", done(Instant::now()));
        assert!(matches!(
            r.get("/a", "d1"),
            Some(DeliveryState::Done { .. })
        ));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(r.get("/a", "d1"), None);
    }

    #[test]
    fn finished_deliveries_are_capped_running_ones_never_dropped() {
        let r = Deliveries::new(Duration::from_hours(1));
        let t0 = Instant::now();
        r.set("/a", "running", DeliveryState::Running { since: t0 });
        for i in 0..MAX_FINISHED + 5 {
            r.set(
                "/a",
                &format!("d{i}"),
                done(t0 + Duration::from_millis(i as u64)),
            );
        }
        assert_eq!(r.get("/a", "d0"), None, "oldest finished dropped");
        assert!(r.get("/a", &format!("d{}", MAX_FINISHED + 4)).is_some());
        assert!(r.get("/a", "running").is_some());
    }
}
