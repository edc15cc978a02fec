//! Where every downloaded chunk goes besides its upload block: a thread of
//! its own that hashes it and, when the zip is spooled, writes it to the
//! spool file, so that digest and disk run beside the network instead of
//! between its reads. It is fed the chunks themselves (no copy), a few at a
//! time: the download waits on it only when it falls that far behind.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;

use crate::error::ArtifactError;
use crate::extract::{HeadSplit, SpoolIndex};
use crate::pipe::{Charge, Spool, hex};

/// Chunks handed to the thread and not yet taken.
const QUEUE: usize = 8;

pub(crate) struct Sink<'a> {
    chunks: Option<mpsc::Sender<Bytes>>,
    thread: tokio::task::JoinHandle<std::io::Result<Sunk>>,
    /// The spool file, named in errors.
    path: Option<PathBuf>,
    charge: Option<&'a mut Charge>,
    index: Option<&'a mut SpoolIndex>,
}

/// What the thread found once every chunk went through it.
struct Sunk {
    sha256: String,
    index: SpoolIndex,
}

impl<'a> Sink<'a> {
    /// Starts the thread; with `spool`, creates its file first.
    pub(crate) fn start(spool: Option<Spool<'a>>) -> Result<Self, ArtifactError> {
        let (path, charge, index) = match spool {
            Some(s) => (Some(s.path.to_owned()), s.charge, s.index),
            None => (None, None, None),
        };
        let file = match &path {
            Some(p) => Some(open_empty(p).map_err(io(p))?),
            None => None,
        };
        let split = index.is_some().then(HeadSplit::default);
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = tokio::task::spawn_blocking(move || take_all(rx, file, split));
        Ok(Self {
            chunks: Some(tx),
            thread,
            path,
            charge,
            index,
        })
    }

    pub(crate) async fn put(&mut self, chunk: Bytes) -> Result<(), ArtifactError> {
        if let Some(charge) = self.charge.as_deref_mut() {
            charge.take(chunk.len() as u64)?;
        }
        if let Some(tx) = &self.chunks
            && tx.send(chunk).await.is_ok()
        {
            return Ok(());
        }
        // The thread stopped because a write failed: it says why.
        self.chunks = None;
        Err(match self.join().await {
            Err(e) => e,
            Ok(_) => self.io_error(std::io::Error::other("the spool writer stopped")),
        })
    }

    /// Every chunk taken and the file closed; the lowercase hex sha256 of
    /// the bytes, and the spool's index filled in.
    pub(crate) async fn finish(mut self) -> Result<String, ArtifactError> {
        self.chunks = None;
        let sunk = self.join().await?;
        if let Some(index) = self.index.take() {
            *index = sunk.index;
        }
        Ok(sunk.sha256)
    }

    async fn join(&mut self) -> Result<Sunk, ArtifactError> {
        match (&mut self.thread).await {
            Ok(Ok(sunk)) => Ok(sunk),
            Ok(Err(source)) => Err(self.io_error(source)),
            Err(e) => Err(ArtifactError::Exhausted {
                what: "the spool writer".into(),
                attempts: 1,
                last: e.to_string(),
            }),
        }
    }

    fn io_error(&self, source: std::io::Error) -> ArtifactError {
        ArtifactError::Io {
            path: self.path.clone().unwrap_or_default(),
            source,
        }
    }
}

/// The thread: hashes every chunk and writes it to `file`, its leading
/// local header split off and indexed when `split` is given.
fn take_all(
    mut rx: mpsc::Receiver<Bytes>,
    mut file: Option<std::fs::File>,
    mut split: Option<HeadSplit>,
) -> std::io::Result<Sunk> {
    let mut hasher = Sha256::new();
    let mut index = SpoolIndex::default();
    while let Some(chunk) = rx.blocking_recv() {
        hasher.update(&chunk);
        let Some(file) = file.as_mut() else {
            continue;
        };
        match split.as_mut() {
            Some(split) => {
                for part in split.feed(chunk) {
                    index.add(&part);
                    file.write_all(&part)?;
                }
            }
            None => file.write_all(&chunk)?,
        }
    }
    if let Some(split) = split {
        index.head = split.into_head();
    }
    Ok(Sunk {
        sha256: hex(&hasher.finalize()),
        index,
    })
}

/// Opens `path` for writing from its start, creating it if missing. A
/// spool is usually a fresh, empty temporary file, and is then not
/// truncated: on ext4, a file truncated to zero is flushed to disk when
/// closed (`auto_da_alloc`), which would stall the end of every relay on
/// writing the whole spool out.
fn open_empty(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    if file.metadata()?.len() > 0 {
        file.set_len(0)?;
    }
    Ok(file)
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io {
        path: PathBuf::from(p),
        source,
    }
}
