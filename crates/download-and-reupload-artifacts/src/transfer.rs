//! Moving the selected artifacts, several at a time: each zip is taken from
//! the `/zip` redirect and, in one pass, hashed, re-uploaded block by block
//! into a new artifact of this run and spooled to disk once for extraction.
//! The new artifact is finalized only after its digest was checked and its
//! extraction succeeded, so a failure never leaves a usable half-result.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use futures::StreamExt as _;
use relay_artifacts::{
    DigestCheck, Extractor, RelayOptions, RestArtifact, ResultsClient, Reupload, verify_digest,
};
use relay_github::GitHub;
use relay_runtime::Console;
use tokio::sync::Semaphore;

use crate::config::Config;

/// How many artifacts move at once.
pub(crate) const CONCURRENT_ARTIFACTS: usize = 3;
/// Blocks in flight across all of them (4 MiB each).
const BLOCK_BUDGET: usize = 6;

/// One artifact to move.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub source: RestArtifact,
    pub new_name: Option<String>,
}

/// One artifact moved.
#[derive(Debug, Clone)]
pub(crate) struct Moved {
    pub name: String,
    pub id: u64,
    pub size: u64,
    /// `sha256:<hex>` of the bytes moved.
    pub digest: String,
    pub check: DigestCheck,
    /// The extracted directory or the saved zip; `None` when nothing was
    /// written to disk.
    pub path: Option<PathBuf>,
    pub files: Option<usize>,
    pub reupload_name: Option<String>,
    pub reupload_id: Option<i64>,
}

/// What every transfer shares.
pub(crate) struct Shared<'a> {
    pub config: &'a Config,
    pub gh: &'a GitHub,
    pub results: Option<&'a ResultsClient>,
    pub http: reqwest::Client,
    pub console: Console,
    pub opts: RelayOptions,
    pub extractor: Option<Arc<Mutex<Extractor>>>,
}

impl<'a> Shared<'a> {
    pub fn new(
        config: &'a Config,
        gh: &'a GitHub,
        results: Option<&'a ResultsClient>,
        http: reqwest::Client,
        console: Console,
        retry: relay_artifacts::RetryPolicy,
    ) -> anyhow::Result<Self> {
        let extractor = if config.extract {
            Some(Arc::new(Mutex::new(Extractor::new(
                &config.path,
                config.limits,
            )?)))
        } else {
            std::fs::create_dir_all(&config.path)
                .with_context(|| format!("couldn't create `{}`", config.path.display()))?;
            None
        };
        Ok(Self {
            config,
            gh,
            results,
            http,
            console,
            opts: RelayOptions {
                budget: Some(Arc::new(Semaphore::new(BLOCK_BUDGET))),
                retry,
                ..RelayOptions::default()
            },
            extractor,
        })
    }
}

/// Moves every planned artifact, [`CONCURRENT_ARTIFACTS`] at a time; the
/// first failure stops the others.
pub(crate) async fn move_all(shared: &Shared<'_>, plan: &[Planned]) -> anyhow::Result<Vec<Moved>> {
    let mut moving = futures::stream::iter(plan)
        .map(|p| async move {
            move_one(shared, p)
                .await
                .with_context(|| format!("couldn't relay artifact `{}`", p.source.name))
        })
        .buffer_unordered(CONCURRENT_ARTIFACTS);
    let mut moved = Vec::with_capacity(plan.len());
    while let Some(done) = moving.next().await {
        moved.push(done?);
    }
    moved.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(moved)
}

async fn move_one(shared: &Shared<'_>, p: &Planned) -> anyhow::Result<Moved> {
    let config = shared.config;
    let a = &p.source;
    let url = relay_artifacts::rest::zip_url(shared.gh, &config.repository, a).await?;
    // The zip lands on disk once: in a spool file beside `path` when it is
    // to be extracted, as `path/<name>.zip` when it is only downloaded.
    let spool = match (&shared.extractor, shared.results) {
        (Some(_), _) => Some(Spool::Temp(
            tempfile::Builder::new()
                .prefix(".deploy-relay-")
                .suffix(".zip")
                .tempfile_in(spool_dir(config))
                .context("couldn't create a spool file")?,
        )),
        (None, None) => Some(Spool::Kept(config.path.join(format!("{}.zip", a.name)))),
        (None, Some(_)) => None,
    };
    let spool_path = spool.as_ref().map(Spool::path);
    let (size, sha256, check, staged) = match (shared.results, &p.new_name) {
        (Some(results), Some(new_name)) => {
            let job = Reupload {
                download_url: &url,
                new_name,
                expires_at: config.upload.as_ref().and_then(|u| u.expires_at.as_deref()),
                expected_digest: a.digest.as_deref(),
                digest_policy: config.digest,
                overwrite: false,
                spool: spool_path.as_deref(),
            };
            let staged = relay_artifacts::stage(results, &shared.http, &job, &shared.opts).await?;
            (
                staged.size,
                staged.sha256.clone(),
                staged.digest.clone(),
                Some(staged),
            )
        }
        _ => {
            // Without a re-upload there is always a file to download into.
            let file = spool_path
                .as_deref()
                .context("no file to download the artifact into")?;
            let got = relay_artifacts::download(&shared.http, &url, file, &shared.opts).await?;
            match verify_digest(config.digest, a.digest.as_deref(), &got.sha256, &a.name) {
                Ok(check) => (got.size, got.sha256, check, None),
                Err(e) => {
                    let _ = std::fs::remove_file(file);
                    return Err(e.into());
                }
            }
        }
    };
    if let DigestCheck::Mismatch { expected, actual } = &check {
        shared.console.warning(&format!(
            "artifact `{}` does not match its recorded digest (expected `{expected}`, got `{actual}`); kept because `verify-digest` is `warn`",
            a.name
        ));
    }
    let mut path = match &spool {
        Some(Spool::Kept(p)) => Some(p.clone()),
        _ => None,
    };
    let mut files = None;
    if let (Some(extractor), Some(Spool::Temp(file))) = (&shared.extractor, &spool) {
        let sub = if config.merge_multiple {
            String::new()
        } else {
            a.name.clone()
        };
        let zip = file.reopen().context("couldn't reopen the spool file")?;
        let extractor = extractor.clone();
        let sub_for_task = sub.clone();
        let report = tokio::task::spawn_blocking(move || {
            let mut ex = extractor.lock().unwrap_or_else(|e| e.into_inner());
            ex.extract_into(&sub_for_task, std::io::BufReader::new(zip))
        })
        .await
        .context("extraction stopped")??;
        files = Some(report.files);
        path = Some(config.path.join(sub));
    }
    drop(spool);
    let reupload_id = match (staged, shared.results) {
        (Some(staged), Some(results)) => Some(staged.finalize(results).await?.id),
        _ => None,
    };
    Ok(Moved {
        name: a.name.clone(),
        id: a.id,
        size,
        digest: format!("sha256:{sha256}"),
        check,
        path,
        files,
        reupload_name: p.new_name.clone(),
        reupload_id,
    })
}

enum Spool {
    /// Deleted when dropped.
    Temp(tempfile::NamedTempFile),
    /// The zip the user asked for (`extract: false`, `reupload: false`).
    Kept(PathBuf),
}

impl Spool {
    fn path(&self) -> PathBuf {
        match self {
            Spool::Temp(f) => f.path().to_owned(),
            Spool::Kept(p) => p.clone(),
        }
    }
}

/// Beside `path` (same file system, and inside the workspace the runner
/// mounts into the container), so the spool never lands in `path` itself.
fn spool_dir(config: &Config) -> PathBuf {
    config
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(std::env::temp_dir, PathBuf::from)
}
