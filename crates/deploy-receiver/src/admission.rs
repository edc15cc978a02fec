//! What unauthenticated clients may hold: connection slots (in all and per
//! client address) and the bytes of bodies still waiting for their
//! signature, one budget for every connection together.
//!
//! Anything not yet authenticated can be evicted. A new connection at the
//! cap closes the one that has shown no activity for longest; a body that
//! needs budget evicts the stalest body readers first. A stalled or
//! trickling flood therefore keeps its memory bounded by the budget and
//! cannot keep out a sender that delivers its few KiB at once — whatever
//! `max_body` is. Only an authenticated request (a deploy running or
//! queued) is never evicted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// The limits, from the config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub per_peer: Option<usize>,
    pub budget: usize,
}

/// Why a connection was turned away at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The client's address holds `max_connections_per_peer` already.
    PerPeer,
    /// Every slot holds an authenticated request.
    Full,
}

/// A body that could not get budget even after evicting every other
/// unauthenticated reader (or their memory did not come back in time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoBudget;

/// How long a reader waits for evicted readers to give their bytes back.
const RELEASE_WAIT: Duration = Duration::from_secs(2);

/// Clients are counted per IPv4 address, or per IPv6 /64 (what one host
/// usually gets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PeerKey {
    V4(u32),
    V6(u64),
}

impl PeerKey {
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(a) => PeerKey::V4(u32::from(a)),
            IpAddr::V6(a) => PeerKey::V6((u128::from(a) >> 64) as u64),
        }
    }
}

struct Entry {
    peer: PeerKey,
    last_activity: Instant,
    held: usize,
    busy: bool,
    trusted: bool,
    evicted: bool,
    cancel: CancellationToken,
}

impl Entry {
    fn evictable(&self) -> bool {
        !self.evicted && !self.trusted
    }
}

#[derive(Default)]
struct State {
    next: u64,
    conns: HashMap<u64, Entry>,
    peers: HashMap<PeerKey, usize>,
    live: usize,
    held: usize,
    evictions: u64,
    turned_away: u64,
}

impl State {
    /// Marks `id` evicted and frees its slot; its bytes stay counted until
    /// its reader drops them.
    fn evict(&mut self, id: u64) {
        if self.free_slot(id) {
            self.evictions += 1;
            if let Some(entry) = self.conns.get(&id) {
                entry.cancel.cancel();
            }
        }
    }

    /// Frees `id`'s slot once; false when it was already free.
    fn free_slot(&mut self, id: u64) -> bool {
        let Some(entry) = self.conns.get_mut(&id) else {
            return false;
        };
        if entry.evicted {
            return false;
        }
        entry.evicted = true;
        let peer = entry.peer;
        self.live -= 1;
        if let Some(n) = self.peers.get_mut(&peer) {
            *n -= 1;
            if *n == 0 {
                self.peers.remove(&peer);
            }
        }
        true
    }

    fn stalest(&self, except: u64, filter: impl Fn(&Entry) -> bool) -> Option<u64> {
        self.conns
            .iter()
            .filter(|(id, e)| **id != except && e.evictable() && filter(e))
            .min_by_key(|(_, e)| e.last_activity)
            .map(|(id, _)| *id)
    }
}

pub(crate) struct Admission {
    limits: Limits,
    state: Mutex<State>,
    released: Notify,
}

/// Counters for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pressure {
    pub connections: usize,
    pub held: usize,
    pub evictions: u64,
    pub turned_away: u64,
}

impl Admission {
    pub(crate) fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            state: Mutex::default(),
            released: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn pressure(&self) -> Pressure {
        let s = self.lock();
        Pressure {
            connections: s.live,
            held: s.held,
            evictions: s.evictions,
            turned_away: s.turned_away,
        }
    }

    /// A slot for a new connection from `ip`, evicting the stalest
    /// unauthenticated connection when every slot is taken.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Ticket, Refusal> {
        let peer = PeerKey::of(ip);
        let mut s = self.lock();
        if let Some(limit) = self.limits.per_peer
            && s.peers.get(&peer).copied().unwrap_or(0) >= limit
        {
            s.turned_away += 1;
            return Err(Refusal::PerPeer);
        }
        if s.live >= self.limits.max_connections {
            let Some(victim) = s.stalest(u64::MAX, |_| true) else {
                s.turned_away += 1;
                return Err(Refusal::Full);
            };
            s.evict(victim);
        }
        let id = s.next;
        s.next += 1;
        let cancel = CancellationToken::new();
        s.conns.insert(
            id,
            Entry {
                peer,
                last_activity: Instant::now(),
                held: 0,
                busy: false,
                trusted: false,
                evicted: false,
                cancel: cancel.clone(),
            },
        );
        s.live += 1;
        *s.peers.entry(peer).or_insert(0) += 1;
        Ok(Ticket {
            id,
            admission: self.clone(),
            cancel,
        })
    }

    /// Evicts every connection that holds no authenticated request: at
    /// shutdown, stalled clients must not hold it up.
    pub(crate) fn evict_unauthenticated(&self) {
        let mut s = self.lock();
        let ids: Vec<u64> = s
            .conns
            .iter()
            .filter(|(_, e)| e.evictable())
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            s.evict(id);
        }
    }

    fn release_all(&self, id: u64) {
        let mut s = self.lock();
        let held = s.conns.get_mut(&id).map(|e| std::mem::take(&mut e.held));
        if let Some(held) = held.filter(|h| *h > 0) {
            s.held -= held;
            drop(s);
            self.released.notify_waiters();
        }
    }
}

/// One admitted connection. Dropping it frees the slot and any bytes it held.
pub(crate) struct Ticket {
    id: u64,
    admission: Arc<Admission>,
    cancel: CancellationToken,
}

impl Ticket {
    /// Resolves when this connection is evicted.
    pub(crate) fn evicted(&self) -> WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }

    pub(crate) fn is_evicted(&self) -> bool {
        self.cancel.is_cancelled()
    }

    fn update(&self, f: impl FnOnce(&mut Entry)) {
        if let Some(e) = self.admission.lock().conns.get_mut(&self.id) {
            f(e);
        }
    }

    /// A request's head arrived.
    pub(crate) fn begin_request(&self) {
        self.update(|e| {
            e.busy = true;
            e.last_activity = Instant::now();
        });
    }

    /// Its answer is out; the connection is idle (and evictable) again.
    pub(crate) fn end_request(&self) {
        self.release_all();
        self.update(|e| {
            e.busy = false;
            e.trusted = false;
            e.last_activity = Instant::now();
        });
    }

    pub(crate) fn is_busy(&self) -> bool {
        let s = self.admission.lock();
        s.conns.get(&self.id).is_some_and(|e| e.busy)
    }

    /// The request is authenticated: its bytes leave the budget and the
    /// connection cannot be evicted until the answer is out.
    pub(crate) fn trust(&self) {
        self.release_all();
        self.update(|e| e.trusted = true);
    }

    /// Gives back every byte this connection holds.
    pub(crate) fn release_all(&self) {
        self.admission.release_all(self.id);
    }

    /// Takes `n` more bytes of the shared budget, evicting the stalest
    /// other body readers when it is spent.
    pub(crate) async fn charge(&self, n: usize) -> Result<(), NoBudget> {
        let admission = &self.admission;
        let deadline = tokio::time::Instant::now() + RELEASE_WAIT;
        loop {
            let released = admission.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            {
                let mut s = admission.lock();
                if s.conns.get(&self.id).is_none_or(|e| e.evicted) {
                    return Err(NoBudget);
                }
                let budget = admission.limits.budget;
                if s.held + n <= budget {
                    s.held += n;
                    if let Some(e) = s.conns.get_mut(&self.id) {
                        e.held += n;
                        e.last_activity = Instant::now();
                    }
                    return Ok(());
                }
                // Bytes of readers already evicted are on their way back.
                let returning: usize = s.conns.values().filter(|e| e.evicted).map(|e| e.held).sum();
                let mut freeable = returning;
                while s.held - freeable + n > budget {
                    let Some(victim) = s.stalest(self.id, |e| e.held > 0) else {
                        break;
                    };
                    freeable += s.conns.get(&victim).map_or(0, |e| e.held);
                    s.evict(victim);
                }
                if s.held - freeable + n > budget {
                    return Err(NoBudget);
                }
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return Err(NoBudget);
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut s = self.admission.lock();
        s.free_slot(self.id);
        if let Some(entry) = s.conns.remove(&self.id) {
            s.held -= entry.held;
            drop(s);
            self.admission.released.notify_waiters();
        }
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
