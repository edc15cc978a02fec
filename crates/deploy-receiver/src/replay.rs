//! Delivery ids seen recently. A repeated id is refused so a captured
//! request cannot start a second deploy; memory is bounded by a window and a
//! capacity (oldest forgotten first). Only authenticated requests get here,
//! so an attacker cannot fill it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

pub struct Replay {
    window: Duration,
    capacity: usize,
    seen: HashMap<String, Instant>,
    order: VecDeque<(Instant, String)>,
}

impl Replay {
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Records `id`; false when it was already seen within the window.
    pub fn first_time(&mut self, id: &str, now: Instant) -> bool {
        self.expire(now);
        if self.seen.contains_key(id) {
            return false;
        }
        while self.seen.len() >= self.capacity {
            let Some((_, oldest)) = self.order.pop_front() else {
                break;
            };
            self.seen.remove(&oldest);
        }
        self.seen.insert(id.to_owned(), now);
        self.order.push_back((now, id.to_owned()));
        true
    }

    /// Forgets `id`, for a delivery that was turned away before it ran
    /// (busy), so the sender may try it again.
    pub fn forget(&mut self, id: &str) {
        if self.seen.remove(id).is_some() {
            self.order.retain(|(_, seen)| seen != id);
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < self.window {
                break;
            }
            if let Some((_, id)) = self.order.pop_front() {
                self.seen.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_capacity_and_forget() {
        let t0 = Instant::now();
        let mut r = Replay::new(Duration::from_secs(60), 2);
        assert!(r.first_time("a", t0));
        assert!(!r.first_time("a", t0 + Duration::from_secs(59)));
        assert!(
            r.first_time("a", t0 + Duration::from_secs(61)),
            "expired after the window"
        );
        let t1 = t0 + Duration::from_secs(61);
        assert!(r.first_time("b", t1));
        assert!(r.first_time("c", t1), "capacity 2 drops the oldest");
        assert!(r.first_time("a", t1));
        r.forget("c");
        assert!(r.first_time("c", t1));
    }
}
