//! The one-pass relay: a zip is downloaded from a signed blob URL and, chunk
//! by chunk as it arrives, cut into blocks that are uploaded several at a
//! time and handed to the [`Sink`] thread, which hashes it and (when the
//! caller wants to extract) appends it to a spool file that extraction reads
//! afterwards. The chunks are shared, never copied. Memory is bounded by
//! `block_size * (parallel + 1)` plus the sink's queue whatever the artifact
//! size; the zip is never re-compressed and touches the disk at most once.
//! Relays running side by side share a budget of blocks in flight
//! ([`PipeOptions::budget`]) and, for spools, a budget of disk
//! ([`DiskBudget`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use relay_http::{Attempt, DisplaySafeUrl};
use tokio::io::AsyncReadExt as _;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::blob;
use crate::error::ArtifactError;
use crate::extract::SpoolIndex;
use crate::retry::{RetryPolicy, retryable_status, transport};
use crate::sink::Sink;

#[derive(Debug, Clone)]
pub(crate) struct PipeOptions {
    pub block_size: usize,
    pub parallel: usize,
    pub retry: RetryPolicy,
    /// Shared by relays running side by side: one permit per block being
    /// uploaded, so memory stays bounded however many artifacts move at once.
    pub budget: Option<Arc<Semaphore>>,
    /// Set when another artifact of the same relay failed: downloads stop
    /// at their next chunk.
    pub stop: Arc<AtomicBool>,
}

impl Default for PipeOptions {
    fn default() -> Self {
        // 4 MiB x 6 in flight keeps a relay under ~30 MiB of buffers.
        Self {
            block_size: 4 << 20,
            parallel: 6,
            retry: RetryPolicy::default(),
            budget: None,
            stop: Arc::default(),
        }
    }
}

/// What went through the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Passed {
    pub size: u64,
    /// Lowercase hex sha256 of the bytes relayed.
    pub sha256: String,
    pub blocks: usize,
}

/// Disk shared by the spools of one step: the zips written to disk and not
/// yet extracted. Extraction is bounded on its own (`ExtractLimits`); this
/// bounds the zips waiting for it, so the step's disk use stays under twice
/// the extraction limit however many artifacts are spooled at once.
#[derive(Debug)]
pub(crate) struct DiskBudget {
    limit: u64,
    used: Mutex<u64>,
}

impl DiskBudget {
    pub(crate) fn new(limit: u64) -> Arc<Self> {
        Arc::new(Self {
            limit,
            used: Mutex::new(0),
        })
    }
}

/// The part of a [`DiskBudget`] one spool holds; given back when dropped
/// (when the spool file is deleted).
#[derive(Debug)]
pub(crate) struct Charge {
    budget: Arc<DiskBudget>,
    held: u64,
}

impl Charge {
    pub(crate) fn new(budget: Arc<DiskBudget>) -> Self {
        Self { budget, held: 0 }
    }

    pub(crate) fn take(&mut self, n: u64) -> Result<(), ArtifactError> {
        let mut used = self
            .budget
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if used.saturating_add(n) > self.budget.limit {
            return Err(ArtifactError::SpoolTooLarge {
                limit: self.budget.limit,
            });
        }
        *used += n;
        self.held += n;
        Ok(())
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        let mut used = self
            .budget
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *used = used.saturating_sub(self.held);
    }
}

/// Where the downloaded bytes are also written.
pub(crate) struct Spool<'a> {
    pub path: &'a Path,
    pub charge: Option<&'a mut Charge>,
    /// When given, the zip's first local header is kept here instead of in
    /// the file, with the CRC-32 of the file's pieces (see
    /// [`crate::extract::SpoolIndex`]); the file holds the rest.
    pub index: Option<&'a mut SpoolIndex>,
}

/// [`download`], then the commit of its blocks: the whole relay of one zip,
/// as the tests drive it.
#[cfg(test)]
pub(crate) async fn pipe(
    http: &reqwest::Client,
    download_url: &DisplaySafeUrl,
    upload_url: Option<&str>,
    spool: Option<Spool<'_>>,
    opts: &PipeOptions,
) -> Result<Passed, ArtifactError> {
    let (passed, upload) = download(http, download_url, upload_url, spool, opts).await?;
    if let Some(upload) = upload {
        upload.commit().await?;
    }
    Ok(passed)
}

/// The blocks of a relay still uploading when its download ended; the blob
/// holds the bytes once [`Uploading::commit`] returns.
pub(crate) struct Uploading {
    uploads: JoinSet<Result<(), ArtifactError>>,
    /// The last block, short or empty (an empty blob has one empty block),
    /// started here rather than at the end of the download, where it may
    /// wait for a slot among the blocks in flight.
    last: Option<Block>,
    http: reqwest::Client,
    url: String,
    blocks: usize,
    opts: PipeOptions,
}

impl Uploading {
    pub(crate) async fn commit(mut self) -> Result<(), ArtifactError> {
        let (http, url, opts) = (&self.http, &self.url, &self.opts);
        if let Some(last) = self.last.take() {
            spawn_block(&mut self.uploads, http, url, self.blocks - 1, last, opts).await?;
        }
        commit(&mut self.uploads, http, url, self.blocks, opts).await
    }
}

/// Downloads `download_url`; uploads the same bytes to the block blob at
/// `upload_url` when given and writes them to `spool` when given. A dropped
/// or stalled download resumes with `Range` at the byte it reached. Returns
/// once every byte is hashed and on disk, while the last blocks may still
/// be uploading: the caller extracts while [`Uploading::commit`] finishes
/// them (blocks committed, artifact not yet finalized).
pub(crate) async fn download(
    http: &reqwest::Client,
    download_url: &DisplaySafeUrl,
    upload_url: Option<&str>,
    spool: Option<Spool<'_>>,
    opts: &PipeOptions,
) -> Result<(Passed, Option<Uploading>), ArtifactError> {
    let progress = tokio::sync::Mutex::new(Progress {
        sink: Sink::start(spool)?,
        block: Block::default(),
        uploads: JoinSet::new(),
        blocks: 0,
        offset: 0,
    });
    let what = format!("download of {download_url}");
    let (shared, what) = (&progress, what.as_str());
    opts.retry
        .run(what, move |_| async move {
            let mut p = shared.lock().await;
            p.attempt(http, download_url, upload_url, what, opts).await
        })
        .await?;
    let mut p = progress.into_inner();
    let sha256 = p.sink.finish().await?;
    let uploading = match upload_url {
        Some(upload_url) => {
            let last = (p.block.len > 0 || p.blocks == 0).then(|| std::mem::take(&mut p.block));
            p.blocks += usize::from(last.is_some());
            Some(Uploading {
                uploads: p.uploads,
                last,
                http: http.clone(),
                url: upload_url.to_owned(),
                blocks: p.blocks,
                opts: opts.clone(),
            })
        }
        None => None,
    };
    let passed = Passed {
        size: p.offset,
        sha256,
        blocks: p.blocks,
    };
    Ok((passed, uploading))
}

/// Uploads the file at `path` to the block blob at `upload_url`, as
/// [`relay`] uploads a download; returns the number of blocks.
pub(crate) async fn upload_file(
    http: &reqwest::Client,
    path: &Path,
    upload_url: &str,
    opts: &PipeOptions,
) -> Result<usize, ArtifactError> {
    let mut file = tokio::fs::File::open(path).await.map_err(io(path))?;
    let mut uploads = JoinSet::new();
    let mut blocks = 0;
    loop {
        let mut block = BytesMut::with_capacity(opts.block_size);
        while block.len() < opts.block_size {
            if file.read_buf(&mut block).await.map_err(io(path))? == 0 {
                break;
            }
        }
        let done = block.len() < opts.block_size;
        if !block.is_empty() || blocks == 0 {
            let block = Block::from(block.freeze());
            spawn_block(&mut uploads, http, upload_url, blocks, block, opts).await?;
            blocks += 1;
        }
        if done {
            break;
        }
    }
    commit(&mut uploads, http, upload_url, blocks, opts).await?;
    Ok(blocks)
}

/// One block of an upload: the downloaded chunks it is made of, shared
/// rather than copied into one buffer.
#[derive(Debug, Default, Clone)]
pub(crate) struct Block {
    parts: Vec<Bytes>,
    len: usize,
}

impl Block {
    fn push(&mut self, part: Bytes) {
        self.len += part.len();
        self.parts.push(part);
    }

    /// The request body of one Put Block attempt, and its length.
    pub(crate) fn body(&self) -> (reqwest::Body, usize) {
        let body = match self.parts.as_slice() {
            [one] => reqwest::Body::from(one.clone()),
            // The stream owns its handles on the chunks (no bytes copied).
            _ => reqwest::Body::wrap_stream(futures::stream::iter(
                self.parts
                    .clone()
                    .into_iter()
                    .map(Ok::<Bytes, std::convert::Infallible>),
            )),
        };
        (body, self.len)
    }
}

impl From<Bytes> for Block {
    fn from(b: Bytes) -> Self {
        let mut block = Block::default();
        block.push(b);
        block
    }
}

/// What a download has reached, kept across its attempts.
struct Progress<'a> {
    sink: Sink<'a>,
    block: Block,
    uploads: JoinSet<Result<(), ArtifactError>>,
    blocks: usize,
    offset: u64,
}

impl Progress<'_> {
    /// One request for the bytes from `offset` on.
    async fn attempt(
        &mut self,
        http: &reqwest::Client,
        url: &DisplaySafeUrl,
        upload_url: Option<&str>,
        what: &str,
        opts: &PipeOptions,
    ) -> Attempt<(), ArtifactError, String> {
        let again = |why: String| Attempt::Again { why, wait: None };
        let stall = opts.retry.stall_timeout;
        let mut req = http.get(url.expose().clone());
        if self.offset > 0 {
            req = req.header("range", format!("bytes={}-", self.offset));
        }
        let resp = match tokio::time::timeout(stall, req.send()).await {
            Err(_) => return again("the request stalled".into()),
            Ok(Err(e)) => return again(transport("request failed", e)),
            Ok(Ok(resp)) => resp,
        };
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            if retryable_status(status) {
                return again(format!("HTTP {status}"));
            }
            return Attempt::Done(Err(ArtifactError::Blob {
                what: what.to_owned(),
                status,
            }));
        }
        // A server that ignores Range answers 200 with the whole body: skip
        // what was already relayed.
        let mut skip = if self.offset > 0 && status == 200 {
            self.offset
        } else {
            0
        };
        let mut body = resp.bytes_stream();
        loop {
            let mut chunk: Bytes = match tokio::time::timeout(stall, body.next()).await {
                Ok(None) => return Attempt::Done(Ok(())),
                Ok(Some(Ok(c))) => c,
                Ok(Some(Err(e))) => return again(transport("body broke off", e)),
                Err(_) => return again("the body stalled".into()),
            };
            if skip > 0 {
                let n = skip.min(chunk.len() as u64);
                let _ = chunk.split_to(usize::try_from(n).unwrap_or(chunk.len()));
                skip -= n;
            }
            if let Err(e) = self.take(chunk, http, upload_url, opts).await {
                return Attempt::Done(Err(e));
            }
        }
    }

    /// Hashes, spools and cuts `chunk` into blocks.
    async fn take(
        &mut self,
        mut chunk: Bytes,
        http: &reqwest::Client,
        upload_url: Option<&str>,
        opts: &PipeOptions,
    ) -> Result<(), ArtifactError> {
        if opts.stop.load(Ordering::Relaxed) {
            return Err(ArtifactError::Stopped);
        }
        self.offset += chunk.len() as u64;
        self.sink.put(chunk.clone()).await?;
        let Some(upload_url) = upload_url else {
            return Ok(());
        };
        while !chunk.is_empty() {
            let take = (opts.block_size - self.block.len).min(chunk.len());
            self.block.push(chunk.split_to(take));
            if self.block.len == opts.block_size {
                let full = std::mem::take(&mut self.block);
                spawn_block(&mut self.uploads, http, upload_url, self.blocks, full, opts).await?;
                self.blocks += 1;
            }
        }
        Ok(())
    }
}

/// Waits for every block, then commits blocks `0..count` in order.
async fn commit(
    uploads: &mut JoinSet<Result<(), ArtifactError>>,
    http: &reqwest::Client,
    upload_url: &str,
    count: usize,
    opts: &PipeOptions,
) -> Result<(), ArtifactError> {
    while let Some(done) = uploads.join_next().await {
        done.map_err(|e| join_err(&e))??;
    }
    blob::put_block_list(http, upload_url, count, "application/zip", &opts.retry).await
}

/// Starts a Put Block once fewer than `parallel` are in flight.
async fn spawn_block(
    uploads: &mut JoinSet<Result<(), ArtifactError>>,
    http: &reqwest::Client,
    url: &str,
    index: usize,
    data: Block,
    opts: &PipeOptions,
) -> Result<(), ArtifactError> {
    while uploads.len() >= opts.parallel.max(1) {
        if let Some(done) = uploads.join_next().await {
            done.map_err(|e| join_err(&e))??;
        }
    }
    let permit =
        match &opts.budget {
            Some(budget) => Some(budget.clone().acquire_owned().await.map_err(|e| {
                ArtifactError::Exhausted {
                    what: "a block upload".into(),
                    attempts: 1,
                    last: e.to_string(),
                }
            })?),
            None => None,
        };
    let (http, url, retry) = (http.clone(), url.to_owned(), opts.retry);
    uploads.spawn(async move {
        let done = blob::put_block(&http, &url, index, &data, &retry).await;
        drop(permit);
        done
    });
    Ok(())
}

fn join_err(e: &tokio::task::JoinError) -> ArtifactError {
    ArtifactError::Exhausted {
        what: "a block upload".into(),
        attempts: 1,
        last: e.to_string(),
    }
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io {
        path: PathBuf::from(p),
        source,
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests;
