//! The one-pass relay: a zip is downloaded from a signed blob URL and, chunk
//! by chunk as it arrives, hashed, cut into blocks that are uploaded several
//! at a time, and (when the caller wants to extract) appended to a spool file
//! that extraction reads afterwards. Memory is bounded by
//! `block_size * (parallel + 1)` whatever the artifact size; the zip is never
//! re-compressed and touches the disk at most once. Relays running side by
//! side can share a budget of blocks in flight ([`RelayOptions::budget`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::blob;
use crate::error::ArtifactError;
use crate::retry::{RetryPolicy, retryable_status};

#[derive(Debug, Clone)]
pub struct RelayOptions {
    pub block_size: usize,
    pub parallel: usize,
    pub retry: RetryPolicy,
    /// Shared by relays running side by side: one permit per block being
    /// uploaded, so memory stays bounded however many artifacts move at once.
    pub budget: Option<Arc<Semaphore>>,
}

impl Default for RelayOptions {
    fn default() -> Self {
        // 4 MiB x 6 in flight keeps a relay under ~30 MiB of buffers.
        Self {
            block_size: 4 << 20,
            parallel: 6,
            retry: RetryPolicy::default(),
            budget: None,
        }
    }
}

/// What went through the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relayed {
    pub size: u64,
    /// Lowercase hex sha256 of the bytes relayed.
    pub sha256: String,
    pub blocks: usize,
}

/// Downloads `download_url` and uploads the same bytes to the block blob at
/// `upload_url` (blocks committed, artifact not yet finalized). When `spool`
/// is given, the bytes are also written there.
pub async fn relay(
    http: &reqwest::Client,
    download_url: &str,
    upload_url: &str,
    spool: Option<&Path>,
    opts: &RelayOptions,
) -> Result<Relayed, ArtifactError> {
    transfer(http, download_url, Some(upload_url), spool, opts).await
}

/// Downloads `download_url` into `file`, hashing it on the way, with the
/// same resume and stall handling as [`relay`]; nothing is uploaded.
pub async fn download(
    http: &reqwest::Client,
    download_url: &str,
    file: &Path,
    opts: &RelayOptions,
) -> Result<Relayed, ArtifactError> {
    transfer(http, download_url, None, Some(file), opts).await
}

async fn transfer(
    http: &reqwest::Client,
    download_url: &str,
    upload_url: Option<&str>,
    spool: Option<&Path>,
    opts: &RelayOptions,
) -> Result<Relayed, ArtifactError> {
    let mut spool_file = match spool {
        Some(p) => Some((
            p.to_owned(),
            tokio::io::BufWriter::new(tokio::fs::File::create(p).await.map_err(io(p))?),
        )),
        None => None,
    };
    let mut hasher = Sha256::new();
    let mut buf = BytesMut::with_capacity(opts.block_size);
    let mut uploads: JoinSet<Result<(), ArtifactError>> = JoinSet::new();
    let mut blocks = 0;
    let mut offset: u64 = 0;
    let mut attempt = 0;
    'download: loop {
        let mut req = http.get(download_url);
        if offset > 0 {
            req = req.header("range", format!("bytes={offset}-"));
        }
        let failure = match tokio::time::timeout(opts.retry.stall_timeout, req.send()).await {
            Ok(Ok(resp)) if resp.status().is_success() => {
                // A server that ignores Range answers 200 with the whole
                // body: skip what was already relayed.
                let mut skip = if offset > 0 && resp.status().as_u16() == 200 {
                    offset
                } else {
                    0
                };
                let mut body = resp.bytes_stream();
                loop {
                    let next = tokio::time::timeout(opts.retry.stall_timeout, body.next()).await;
                    let mut chunk: Bytes = match next {
                        Ok(None) => break 'download,
                        Ok(Some(Ok(c))) => c,
                        Ok(Some(Err(e))) => break format!("body broke off: {}", e.without_url()),
                        Err(_) => break "the body stalled".to_owned(),
                    };
                    if skip > 0 {
                        let n = skip.min(chunk.len() as u64);
                        let _ = chunk.split_to(n as usize);
                        skip -= n;
                    }
                    offset += chunk.len() as u64;
                    hasher.update(&chunk);
                    if let Some((p, f)) = spool_file.as_mut() {
                        f.write_all(&chunk).await.map_err(io(p))?;
                    }
                    let Some(upload_url) = upload_url else {
                        continue;
                    };
                    while !chunk.is_empty() {
                        let take = (opts.block_size - buf.len()).min(chunk.len());
                        buf.extend_from_slice(&chunk.split_to(take));
                        if buf.len() == opts.block_size {
                            let data = std::mem::replace(
                                &mut buf,
                                BytesMut::with_capacity(opts.block_size),
                            );
                            spawn_block(
                                &mut uploads,
                                http,
                                upload_url,
                                blocks,
                                data.freeze(),
                                opts,
                            )
                            .await?;
                            blocks += 1;
                        }
                    }
                }
            }
            Ok(Ok(resp)) => {
                let status = resp.status().as_u16();
                if !retryable_status(status) {
                    return Err(ArtifactError::Blob {
                        what: format!("download of {}", blob::redact_url(download_url)),
                        status,
                    });
                }
                format!("HTTP {status}")
            }
            Ok(Err(e)) => format!("request failed: {}", e.without_url()),
            Err(_) => "the request stalled".to_owned(),
        };
        attempt += 1;
        if attempt >= opts.retry.max_attempts {
            return Err(ArtifactError::Exhausted {
                what: format!("download of {}", blob::redact_url(download_url)),
                attempts: attempt,
                last: failure,
            });
        }
        tokio::time::sleep(opts.retry.delay(attempt - 1)).await;
    }
    if let Some((p, mut f)) = spool_file {
        f.flush().await.map_err(io(&p))?;
    }
    if let Some(upload_url) = upload_url {
        if !buf.is_empty() || blocks == 0 {
            spawn_block(&mut uploads, http, upload_url, blocks, buf.freeze(), opts).await?;
            blocks += 1;
        }
        while let Some(done) = uploads.join_next().await {
            done.map_err(join_err)??;
        }
        blob::put_block_list(http, upload_url, blocks, "application/zip", &opts.retry).await?;
    }
    Ok(Relayed {
        size: offset,
        sha256: hex(&hasher.finalize()),
        blocks,
    })
}

/// Starts a Put Block once fewer than `parallel` are in flight.
async fn spawn_block(
    uploads: &mut JoinSet<Result<(), ArtifactError>>,
    http: &reqwest::Client,
    url: &str,
    index: usize,
    data: Bytes,
    opts: &RelayOptions,
) -> Result<(), ArtifactError> {
    while uploads.len() >= opts.parallel.max(1) {
        if let Some(done) = uploads.join_next().await {
            done.map_err(join_err)??;
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
        let done = blob::put_block(&http, &url, index, data, &retry).await;
        drop(permit);
        done
    });
    Ok(())
}

fn join_err(e: tokio::task::JoinError) -> ArtifactError {
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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
