//! A hook's deploys in flight: those queued or running, by the digest of
//! their signed body, and how many wait. A hook with `queue =
//! true` lets at most `queue_limit` wait (more are answered 429 with
//! `Retry-After`), and no hook takes a body equal to one already queued or
//! running: under the `github` scheme, which signs the body and nothing
//! else, a captured request re-sent with fresh delivery ids would otherwise
//! queue the same deploy again and again.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

#[derive(Default)]
pub(crate) struct InFlight {
    /// Places taken and not yet running.
    waiting: usize,
    /// The bodies queued or running.
    bodies: HashSet<[u8; 32]>,
}

/// Why a deploy could not join those in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The same signed body is queued or running.
    SameBody,
    /// `limit` deploys already wait.
    Full { limit: usize },
}

/// A place among those in flight, given back when dropped: when the deploy ends, or
/// its client hung up while it waited.
pub(crate) struct Place {
    in_flight: Arc<Mutex<InFlight>>,
    body: [u8; 32],
    waiting: bool,
}

fn lock(in_flight: &Mutex<InFlight>) -> std::sync::MutexGuard<'_, InFlight> {
    in_flight.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes a place for `body`; `limit` is the hook's `queue_limit` when it
/// queues (`None`: it answers 409 when busy, so nobody waits).
pub(crate) fn join(
    in_flight: &Arc<Mutex<InFlight>>,
    body: &[u8],
    limit: Option<usize>,
) -> Result<Place, Refusal> {
    let digest: [u8; 32] = Sha256::digest(body).into();
    let mut l = lock(in_flight);
    if l.bodies.contains(&digest) {
        return Err(Refusal::SameBody);
    }
    if let Some(limit) = limit
        && l.waiting >= limit
    {
        return Err(Refusal::Full { limit });
    }
    l.bodies.insert(digest);
    let waiting = limit.is_some();
    if waiting {
        l.waiting += 1;
    }
    Ok(Place {
        in_flight: in_flight.clone(),
        body: digest,
        waiting,
    })
}

impl Place {
    /// The deploy has its turn: it no longer counts as waiting.
    pub(crate) fn started(&mut self) {
        if std::mem::take(&mut self.waiting) {
            lock(&self.in_flight).waiting -= 1;
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut l = lock(&self.in_flight);
        if self.waiting {
            l.waiting -= 1;
        }
        l.bodies.remove(&self.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn those_in_flight_are_bounded_and_take_a_body_once() {
        let in_flight = Arc::new(Mutex::new(InFlight::default()));
        let mut running = join(&in_flight, b"a", Some(2)).unwrap();
        running.started();
        assert_eq!(
            join(&in_flight, b"a", Some(2)).err(),
            Some(Refusal::SameBody)
        );
        let b = join(&in_flight, b"b", Some(2)).unwrap();
        let c = join(&in_flight, b"c", Some(2)).unwrap();
        assert_eq!(
            join(&in_flight, b"d", Some(2)).err(),
            Some(Refusal::Full { limit: 2 })
        );
        // A waiting client that hangs up gives its place back.
        drop(b);
        let d = join(&in_flight, b"d", Some(2)).unwrap();
        // The running deploy ends: its body may come again.
        drop(running);
        assert!(
            join(&in_flight, b"a", Some(2)).is_err(),
            "c and d still wait"
        );
        drop((c, d));
        assert!(join(&in_flight, b"a", Some(2)).is_ok());
        // Without a queue only the body counts.
        let in_flight = Arc::new(Mutex::new(InFlight::default()));
        let _a = join(&in_flight, b"a", None).unwrap();
        let _b = join(&in_flight, b"b", None).unwrap();
        assert_eq!(join(&in_flight, b"a", None).err(), Some(Refusal::SameBody));
    }
}
