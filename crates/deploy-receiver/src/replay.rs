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
pub(crate) const DEFAULT_STATE_FILE: &str = "delivery-ids.json";

/// Where delivery ids are kept: `replay_state`, else
/// `$STATE_DIRECTORY/delivery-ids.json` when systemd gives the service a
/// state directory (`StateDirectory=`), else nowhere (memory only).
pub(crate) fn state_path(configured: Option<&Path>, env: &Env) -> Option<PathBuf> {
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
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
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
        "the delivery-id state file `{path}` is corrupt ({source}): the delivery ids it held cannot be remembered, so a captured request could be replayed\nhint: find out what wrote it; to start with no remembered ids, run once with `--reset-replay-state`"
    )]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the delivery-id state directory `{dir}` {why}: someone else could replace the state file\nhint: give it to the receiver's user alone (`chmod 0700`), e.g. systemd's `StateDirectory=deploy-receiver`"
    )]
    Unsafe { dir: PathBuf, why: String },
    #[error(
        "couldn't write the delivery-id state file `{path}`: {source}\nhint: the directory must be writable by the receiver (systemd `StateDirectory=deploy-receiver`, or `ReadWritePaths=`)"
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The directory the state file lives in (`.` for a bare file name).
fn state_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// The state file's directory must be the receiver's own: a directory
/// others may write to lets them plant a link or a file of their own
/// where the receiver writes (systemd's `StateDirectoryMode=0700` and
/// `UMask=0077` give this; a custom `replay_state` must too).
fn check_dir(path: &Path) -> Result<(), StateError> {
    use std::os::unix::fs::MetadataExt as _;
    let dir = state_dir(path);
    let unsafe_dir = |why: String| StateError::Unsafe {
        dir: dir.to_owned(),
        why,
    };
    let meta = std::fs::metadata(dir).map_err(|source| StateError::Read {
        path: path.to_owned(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(unsafe_dir("is not a directory".into()));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o002 != 0 {
        return Err(unsafe_dir(format!(
            "is writable by others (mode {mode:04o})"
        )));
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(unsafe_dir(format!(
            "belongs to user {} (the receiver runs as {me})",
            meta.uid()
        )));
    }
    Ok(())
}

/// What the state file holds, read without following a symlink and
/// without changing anything; `None` when there is no file yet.
fn read_state(path: &Path) -> Result<Option<Vec<(String, u64)>>, StateError> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let read = |source| StateError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(read(source)),
    };
    if !file.metadata().map_err(read)?.is_file() {
        return Err(read(std::io::Error::other("it is not a regular file")));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read)?;
    serde_json::from_slice::<Stored>(&bytes)
        .map(|s| Some(s.ids))
        .map_err(|source| StateError::Corrupt {
            path: path.to_owned(),
            source,
        })
}

/// What a start does with the delivery ids a state file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoredIds {
    /// Remembers those still inside the window; a file that does not read
    /// stops the start.
    #[default]
    Keep,
    /// Starts with none, whatever the file holds (`--reset-replay-state`:
    /// the way out of a corrupt one).
    Forget,
}

/// Where delivery ids are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdStore {
    /// In memory only: a restart forgets them.
    Memory,
    /// In the state file too: they survive a restart.
    StateFile,
}

/// `--check`: whether the state file at `path` could be used at start-up,
/// without writing anything: its directory is the receiver's own and the
/// file, if there is one and its ids are kept, reads.
pub(crate) fn check_state(path: &Path, stored: StoredIds) -> Result<(), StateError> {
    check_dir(path)?;
    if stored == StoredIds::Keep {
        read_state(path)?;
    }
    Ok(())
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

pub(crate) struct Replay {
    window: Duration,
    capacity: usize,
    seen: HashMap<String, Instant>,
    /// `(first seen, unix seconds then, id)`, oldest first.
    order: VecDeque<(Instant, u64, String)>,
    state: Option<PathBuf>,
}

impl Replay {
    /// In memory only.
    pub(crate) fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            seen: HashMap::new(),
            order: VecDeque::new(),
            state: None,
        }
    }

    /// Backed by `path`, whose ids are kept or forgotten as `stored` says;
    /// the file is written once now, so a path that cannot be written fails
    /// at start-up rather than at the first deploy.
    pub(crate) fn with_state(
        window: Duration,
        capacity: usize,
        path: PathBuf,
        stored: StoredIds,
    ) -> Result<Self, StateError> {
        check_dir(&path)?;
        let mut replay = Self::new(window, capacity);
        let stored = match stored {
            StoredIds::Forget => {
                tracing::warn!(path = %path.display(), "--reset-replay-state: starting with no remembered delivery ids");
                Vec::new()
            }
            StoredIds::Keep => read_state(&path)?.unwrap_or_default(),
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

    /// Where the ids are remembered.
    pub(crate) fn store(&self) -> IdStore {
        match self.state {
            Some(_) => IdStore::StateFile,
            None => IdStore::Memory,
        }
    }

    /// Whether `id` was seen within the window; nothing is recorded.
    pub(crate) fn seen(&self, id: &str, now: Instant) -> bool {
        self.seen
            .get(id)
            .is_some_and(|at| now.duration_since(*at) < self.window)
    }

    /// Records `id`; false when it was already seen within the window.
    pub(crate) fn first_time(&mut self, id: &str, now: Instant) -> bool {
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
    pub(crate) fn forget(&mut self, id: &str) {
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

    /// Writes the ids to a new file beside the state file — a name nobody
    /// can guess, created exclusively (`O_EXCL` never follows a link planted
    /// there) with mode 0600 whatever the umask — then renames it over the
    /// state file, which replaces a link rather than writing through it.
    fn save(&self) -> Result<(), StateError> {
        use std::io::Write as _;
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
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
        let name = path
            .file_name()
            .map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
        let tmp = state_dir(path).join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&tmp)
            .map_err(write)?;
        let written = file
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .and_then(|()| file.write_all(&serde_json::to_vec(&stored).unwrap_or_default()))
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(write(e));
        }
        // The rename itself survives a crash once the directory is synced.
        if let Ok(dir) = std::fs::File::open(state_dir(path)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_capacity_and_forget() {
        let t0 = Instant::now();
        let mut r = Replay::new(Duration::from_mins(1), 2);
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
        let dir = private_dir();
        let path = dir.path().join("ids.json");
        let window = Duration::from_hours(1);
        let mut r = Replay::with_state(window, 10, path.clone(), StoredIds::Keep).unwrap();
        let now = Instant::now();
        assert!(r.first_time("kept", now));
        assert!(r.first_time("forgotten", now));
        r.forget("forgotten");
        drop(r);
        let mut again = Replay::with_state(window, 10, path.clone(), StoredIds::Keep).unwrap();
        assert!(!again.first_time("kept", Instant::now()), "remembered");
        assert!(again.first_time("forgotten", Instant::now()));
        // Ids older than the window are dropped when read back.
        let old = unix_now() - 7200;
        std::fs::write(&path, format!(r#"{{"ids":[["old",{old}]]}}"#)).unwrap();
        let mut later = Replay::with_state(window, 10, path, StoredIds::Keep).unwrap();
        assert!(later.first_time("old", Instant::now()));
    }

    #[test]
    fn an_unwritable_state_file_fails_at_start() {
        let err = Replay::with_state(
            Duration::from_mins(1),
            10,
            "/nonexistent/dir/ids.json".into(),
            StoredIds::Keep,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("StateDirectory"), "{err}");
    }

    fn private_dir() -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        dir
    }

    #[test]
    fn the_state_file_is_0600_and_written_through_no_planted_link() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = private_dir();
        let path = dir.path().join("ids.json");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        // Where the old writer put its temporary file, and a few guesses more.
        for name in ["ids.json.tmp", "ids.json.json.tmp", ".ids.json.tmp"] {
            std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
        }
        let mut r =
            Replay::with_state(Duration::from_mins(1), 10, path.clone(), StoredIds::Keep).unwrap();
        assert!(r.first_time("d-1", Instant::now()));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| {
                Path::new(n).extension().is_some_and(|e| e == "tmp")
                    && !n.starts_with("ids.json")
                    && n != ".ids.json.tmp"
            })
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    }

    #[test]
    fn a_state_file_that_is_a_link_stops_the_start() {
        let dir = private_dir();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, r#"{"ids":[]}"#).unwrap();
        let path = dir.path().join("ids.json");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let err = Replay::with_state(Duration::from_mins(1), 10, path, StoredIds::Keep)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("couldn't read the delivery-id state file"),
            "{err}"
        );
    }

    #[test]
    fn a_directory_others_may_write_stops_the_start() {
        use std::os::unix::fs::PermissionsExt as _;
        for mode in [0o777, 0o1777, 0o703] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
            let path = dir.path().join("ids.json");
            let err = Replay::with_state(Duration::from_mins(1), 10, path.clone(), StoredIds::Keep)
                .err()
                .unwrap_or_else(|| panic!("mode {mode:o} accepted"))
                .to_string();
            assert!(err.contains("is writable by others"), "{err}");
            assert!(err.contains("chmod 0700"), "{err}");
            assert!(!path.exists(), "nothing written");
            assert!(check_state(&path, StoredIds::Keep).is_err());
        }
    }

    #[test]
    fn a_corrupt_state_file_stops_the_start_until_reset() {
        let dir = private_dir();
        let path = dir.path().join("ids.json");
        std::fs::write(&path, b"{\"ids\":[[\"d-1\",").unwrap();
        let err = Replay::with_state(Duration::from_mins(1), 10, path.clone(), StoredIds::Keep)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("is corrupt") && err.contains("--reset-replay-state"),
            "{err}"
        );
        assert!(check_state(&path, StoredIds::Keep).is_err());
        assert!(check_state(&path, StoredIds::Forget).is_ok());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"{\"ids\":[[\"d-1\",",
            "left as found"
        );
        let mut r = Replay::with_state(Duration::from_mins(1), 10, path.clone(), StoredIds::Forget)
            .unwrap();
        assert!(r.first_time("d-1", Instant::now()));
        drop(r);
        let mut again =
            Replay::with_state(Duration::from_mins(1), 10, path, StoredIds::Keep).unwrap();
        assert!(
            !again.first_time("d-1", Instant::now()),
            "written whole again"
        );
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
