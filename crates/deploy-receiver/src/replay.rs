//! Delivery ids seen recently. A repeated id is refused so a captured
//! request cannot start a second deploy; memory is bounded by a window and a
//! capacity (oldest forgotten first). Only authenticated requests get here,
//! so an attacker cannot fill it.
//!
//! With a state file the ids survive a restart: the file is rewritten
//! (write, fsync, rename) each time an id is added or forgotten — deploys
//! are rare and authenticated, so the cost does not matter — and read back
//! at start-up, dropping ids older than the window.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use relay_runtime::Env;
use serde::{Deserialize, Serialize};

/// The file name under systemd's `$STATE_DIRECTORY` when `replay_state` is unset.
pub const DEFAULT_STATE_FILE: &str = "delivery-ids.json";

/// Where delivery ids are kept: `replay_state`, else
/// `$STATE_DIRECTORY/delivery-ids.json` when systemd gives the service a
/// state directory (`StateDirectory=`), else nowhere (memory only).
pub fn state_path(configured: Option<&Path>, env: &Env) -> Option<PathBuf> {
    if let Some(path) = configured {
        return Some(path.to_owned());
    }
    // systemd separates several state directories with `:`.
    let dir = env
        .get(relay_runtime::vars::STATE_DIRECTORY)?
        .split(':')
        .next()?;
    (!dir.is_empty()).then(|| Path::new(dir).join(DEFAULT_STATE_FILE))
}

/// The state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "couldn't read the delivery-id state file `{path}`: {source}\nhint: check `replay_state`, or give the service a state directory (systemd `StateDirectory=deploy-receiver`)"
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "couldn't write the delivery-id state file `{path}`: {source}\nhint: the directory must be writable by the receiver (systemd `StateDirectory=deploy-receiver`, or `ReadWritePaths=`)"
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Serialize, Deserialize)]
struct Stored {
    /// `[id, unix seconds when first seen]`, oldest first.
    ids: Vec<(String, u64)>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub struct Replay {
    window: Duration,
    capacity: usize,
    seen: HashMap<String, Instant>,
    /// `(first seen, unix seconds then, id)`, oldest first.
    order: VecDeque<(Instant, u64, String)>,
    state: Option<PathBuf>,
}

impl Replay {
    /// In memory only.
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            seen: HashMap::new(),
            order: VecDeque::new(),
            state: None,
        }
    }

    /// Backed by `path`: the ids it holds that are still inside the window
    /// are remembered; the file is written once now, so a path that cannot
    /// be written fails at start-up rather than at the first deploy.
    pub fn with_state(
        window: Duration,
        capacity: usize,
        path: PathBuf,
    ) -> Result<Self, StateError> {
        let mut replay = Self::new(window, capacity);
        let stored = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Stored>(&bytes).map(|s| s.ids).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "the delivery-id state file is not readable as JSON; starting with none");
                Vec::new()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(StateError::Read { path, source }),
        };
        let (now, now_unix) = (Instant::now(), unix_now());
        for (id, at) in stored {
            let age = Duration::from_secs(now_unix.saturating_sub(at));
            if age < window && !replay.seen.contains_key(&id) {
                let seen_at = now.checked_sub(age).unwrap_or(now);
                replay.insert(id, seen_at, at);
            }
        }
        replay.state = Some(path);
        replay.save()?;
        Ok(replay)
    }

    fn insert(&mut self, id: String, at: Instant, unix: u64) {
        while self.seen.len() >= self.capacity {
            let Some((_, _, oldest)) = self.order.pop_front() else {
                break;
            };
            self.seen.remove(&oldest);
        }
        self.seen.insert(id.clone(), at);
        self.order.push_back((at, unix, id));
    }

    /// Records `id`; false when it was already seen within the window.
    pub fn first_time(&mut self, id: &str, now: Instant) -> bool {
        self.expire(now);
        if self.seen.contains_key(id) {
            return false;
        }
        self.insert(id.to_owned(), now, unix_now());
        self.save_or_warn();
        true
    }

    /// Forgets `id`, for a delivery that was turned away before it ran
    /// (busy, or its client hung up while queued), so the sender may try it
    /// again.
    pub fn forget(&mut self, id: &str) {
        if self.seen.remove(id).is_some() {
            self.order.retain(|(_, _, seen)| seen != id);
            self.save_or_warn();
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some((at, _, _)) = self.order.front() {
            if now.duration_since(*at) < self.window {
                break;
            }
            if let Some((_, _, id)) = self.order.pop_front() {
                self.seen.remove(&id);
            }
        }
    }

    fn save_or_warn(&self) {
        if let Err(e) = self.save() {
            // The deploy goes on: refusing it would not make the id safer.
            tracing::warn!(error = %e, "delivery ids are not persisted");
        }
    }

    fn save(&self) -> Result<(), StateError> {
        use std::io::Write as _;
        let Some(path) = &self.state else {
            return Ok(());
        };
        let stored = Stored {
            ids: self
                .order
                .iter()
                .map(|(_, unix, id)| (id.clone(), *unix))
                .collect(),
        };
        let write = |source| StateError::Write {
            path: path.clone(),
            source,
        };
        let tmp = path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp).map_err(write)?;
        file.write_all(&serde_json::to_vec(&stored).unwrap_or_default())
            .and_then(|()| file.sync_all())
            .map_err(write)?;
        std::fs::rename(&tmp, path).map_err(write)
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

    #[test]
    fn ids_survive_a_restart_through_the_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.json");
        let window = Duration::from_secs(3600);
        let mut r = Replay::with_state(window, 10, path.clone()).unwrap();
        let now = Instant::now();
        assert!(r.first_time("kept", now));
        assert!(r.first_time("forgotten", now));
        r.forget("forgotten");
        drop(r);
        let mut again = Replay::with_state(window, 10, path.clone()).unwrap();
        assert!(!again.first_time("kept", Instant::now()), "remembered");
        assert!(again.first_time("forgotten", Instant::now()));
        // Ids older than the window are dropped when read back.
        let old = unix_now() - 7200;
        std::fs::write(&path, format!(r#"{{"ids":[["old",{old}]]}}"#)).unwrap();
        let mut later = Replay::with_state(window, 10, path).unwrap();
        assert!(later.first_time("old", Instant::now()));
    }

    #[test]
    fn an_unwritable_state_file_fails_at_start() {
        let err = Replay::with_state(
            Duration::from_secs(60),
            10,
            "/nonexistent/dir/ids.json".into(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("StateDirectory"), "{err}");
    }

    #[test]
    fn the_default_location_is_systemds_state_directory() {
        let env = Env::from_pairs([("STATE_DIRECTORY", "/var/lib/deploy-receiver:/other")]);
        assert_eq!(
            state_path(None, &env),
            Some(PathBuf::from("/var/lib/deploy-receiver/delivery-ids.json"))
        );
        assert_eq!(state_path(None, &Env::default()), None);
        assert_eq!(
            state_path(Some(Path::new("/x/ids.json")), &env),
            Some(PathBuf::from("/x/ids.json"))
        );
    }
}
