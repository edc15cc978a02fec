//! Moving a run's selected artifacts into this run, a few at a time: each
//! zip is taken from the `/zip` redirect and, in one pass, hashed,
//! re-uploaded block by block into a new artifact of this run and spooled
//! to disk once for extraction. A new artifact is finalized only after its
//! digest was checked and its extraction succeeded; if anything fails, the
//! artifacts this relay finalized are deleted again, so a failure never
//! leaves a usable half-result.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use relay_github::GitHub;
use relay_runtime::{Console, RepoName};
use tokio::sync::Semaphore;

use crate::error::ArtifactError;
use crate::extract::{ExtractLimits, Extractor};
use crate::pipe::{DiskBudget, PipeOptions};
use crate::rest::RestArtifact;
use crate::results::ResultsClient;
use crate::retry::RetryPolicy;
use crate::token::RuntimeToken;
use crate::verify::{DigestCheck, DigestPolicy};

/// How many artifacts move at once.
const CONCURRENT_ARTIFACTS: usize = 3;
/// Blocks in flight across all of them (4 MiB each).
const BLOCK_BUDGET: usize = 6;

/// Where re-uploads go: the results service of the current run.
#[derive(Clone)]
pub struct Upload {
    /// `ACTIONS_RESULTS_URL`.
    pub results_url: String,
    /// `ACTIONS_RUNTIME_TOKEN`.
    pub token: RuntimeToken,
    /// `expires_at` of every new artifact (see [`crate::expires_at`]).
    pub expires_at: Option<String>,
    /// Replace an artifact of this run that has a new name; otherwise such
    /// a name fails the relay before anything is downloaded.
    pub overwrite: bool,
}

impl Upload {
    /// The upload side of the current run, as the runner describes it
    /// (`ACTIONS_RESULTS_URL`, `ACTIONS_RUNTIME_TOKEN`, the repository's
    /// `GITHUB_RETENTION_DAYS`), checked before any request. The note says
    /// when `retention_days` was capped at the repository's maximum. Nothing
    /// is overwritten unless the caller sets [`Upload::overwrite`].
    pub fn from_runner(
        env: &relay_runtime::Env,
        retention_days: Option<u32>,
    ) -> Result<(Self, Option<String>), ArtifactError> {
        use relay_runtime::vars;
        let repo_max = env.get(vars::GITHUB_RETENTION_DAYS);
        let (expires_at, capped) =
            crate::expires_at(retention_days, repo_max, time::OffsetDateTime::now_utc());
        let note = capped.then(|| {
            format!(
                "`retention-days` is capped at the repository's maximum of {} days",
                repo_max.unwrap_or_default().trim()
            )
        });
        let results_url = env
            .get(vars::ACTIONS_RESULTS_URL)
            .filter(|u| !u.trim().is_empty())
            .ok_or(ArtifactError::NoResultsUrl)?
            .to_owned();
        let token = RuntimeToken::new(env.get(vars::ACTIONS_RUNTIME_TOKEN).map(str::to_owned))?;
        token.check()?;
        Ok((
            Self {
                results_url,
                token,
                expires_at,
                overwrite: false,
            },
            note,
        ))
    }
}

/// Checks a re-upload name template (`deploy-{name}-{short_sha}`) before
/// any download: its placeholders must exist, and a name it makes must be
/// one GitHub accepts (forbidden characters the template itself brings).
pub fn check_name_template(
    placeholders: &relay_runtime::Placeholders,
    template: &str,
) -> Result<(), String> {
    let trial = placeholders
        .clone()
        .with("name", "artifact")
        .render(template)?;
    crate::validate_artifact_name(&trial).map_err(|e| {
        format!(
            "makes a name GitHub refuses: {}",
            e.to_string().lines().next().unwrap_or_default()
        )
    })
}

/// What is written to disk.
#[derive(Debug, Clone)]
pub enum Destination {
    /// Nothing (a pure relay).
    Nothing,
    /// Each zip as it is, `dir/<name>.zip`.
    Zips { dir: PathBuf },
    /// Each zip extracted: into `dir` itself when `together` (several
    /// artifacts then must not share a file), else into `dir/<name>/`.
    Extract {
        dir: PathBuf,
        together: bool,
        limits: ExtractLimits,
    },
}

/// How a relay runs.
pub struct TransferConfig {
    /// `None`: download only.
    pub upload: Option<Upload>,
    pub destination: Destination,
    pub digest: DigestPolicy,
    pub retry: RetryPolicy,
}

/// One artifact to move, and its new name when it is re-uploaded.
#[derive(Debug, Clone)]
pub struct Job {
    pub source: RestArtifact,
    pub new_name: Option<String>,
}

/// One artifact moved.
#[derive(Debug, Clone)]
pub struct Transferred {
    pub name: String,
    /// The source artifact's id.
    pub id: u64,
    pub size: u64,
    /// `sha256:<hex>` of the bytes moved.
    pub digest: String,
    pub check: DigestCheck,
    /// The extracted directory or the saved zip; `None` when nothing was
    /// written to disk.
    pub path: Option<PathBuf>,
    pub files: Option<usize>,
    pub reupload: Option<Reuploaded>,
}

/// The artifact of this run a source artifact became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reuploaded {
    pub name: String,
    pub id: i64,
    /// It replaced an artifact of the same name (`overwrite`).
    pub replaced: bool,
}

/// Relays the artifacts of one run of `repo` (see the crate docs).
pub struct Transfer<'a> {
    pub(crate) gh: &'a GitHub,
    pub(crate) repo: &'a RepoName,
    pub(crate) http: reqwest::Client,
    pub(crate) results: Option<ResultsClient>,
    pub(crate) overwrite: bool,
    pub(crate) expires_at: Option<String>,
    pub(crate) destination: Destination,
    pub(crate) digest: DigestPolicy,
    pub(crate) opts: PipeOptions,
    pub(crate) console: Console,
    pub(crate) extractor: Option<Arc<Mutex<Extractor>>>,
    pub(crate) disk: Option<Arc<DiskBudget>>,
}

/// The HTTP client for the results service and blob storage: one per step,
/// shared by every transfer. It never carries the GitHub token.
pub fn http_client() -> Result<reqwest::Client, ArtifactError> {
    relay_http::client_builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| ArtifactError::BadResponse {
            method: "client",
            what: format!(
                "couldn't start the HTTP client: {}",
                relay_runtime::root_cause(&e)
            ),
        })
}

impl<'a> Transfer<'a> {
    /// Checks the upload's runtime token; `http` is the step's artifacts
    /// client ([`http_client`]). Nothing is sent yet.
    pub fn new(
        gh: &'a GitHub,
        repo: &'a RepoName,
        http: reqwest::Client,
        config: TransferConfig,
        console: Console,
    ) -> Result<Self, ArtifactError> {
        let (results, overwrite, expires_at) = match config.upload {
            Some(up) => (
                Some(ResultsClient::new(
                    http.clone(),
                    &up.results_url,
                    up.token,
                    config.retry,
                )?),
                up.overwrite,
                up.expires_at,
            ),
            None => (None, false, None),
        };
        Ok(Self {
            gh,
            repo,
            http,
            results,
            overwrite,
            expires_at,
            destination: config.destination,
            digest: config.digest,
            opts: PipeOptions {
                budget: Some(Arc::new(Semaphore::new(BLOCK_BUDGET))),
                retry: config.retry,
                ..PipeOptions::default()
            },
            console,
            extractor: None,
            disk: None,
        })
    }

    /// Moves every job, a few at a time, and returns what moved, sorted by
    /// name. Before any download: the new names are checked (GitHub's
    /// rules, no two alike) and compared with this run's artifacts.
    pub async fn run(mut self, jobs: &[Job]) -> Result<Vec<Transferred>, ArtifactError> {
        check_jobs(jobs)?;
        let taken = self.taken(jobs).await?;
        self.prepare()?;
        let this = &self;
        let taken = &taken;
        // After the first failure the others stop, but every job is waited
        // for: one that was finalizing when it happened is then known and
        // undone, not left behind half-way.
        let mut moving = futures::stream::iter(jobs)
            .map(|job| async move {
                if this.stopped() {
                    return Ok(None);
                }
                let replace = job.new_name.as_ref().is_some_and(|n| taken.contains(n));
                match this.move_one(job, replace).await {
                    Ok(m) => Ok(Some(m)),
                    Err(ArtifactError::Stopped) => Ok(None),
                    Err(e) => {
                        this.opts.stop.store(true, Ordering::Relaxed);
                        Err(ArtifactError::Artifact {
                            name: job.source.name.clone(),
                            source: Box::new(e),
                        })
                    }
                }
            })
            .buffer_unordered(CONCURRENT_ARTIFACTS);
        let mut moved = Vec::with_capacity(jobs.len());
        let mut failure = None;
        while let Some(done) = moving.next().await {
            match done {
                Ok(Some(m)) => moved.push(m),
                Ok(None) => {}
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        drop(moving);
        if let Some(e) = failure {
            self.undo(&moved).await;
            return Err(e);
        }
        moved.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(moved)
    }

    pub(crate) fn stopped(&self) -> bool {
        self.opts.stop.load(Ordering::Relaxed)
    }

    /// The new names this run already has: an error unless `overwrite`.
    async fn taken(&self, jobs: &[Job]) -> Result<Vec<String>, ArtifactError> {
        let Some(results) = &self.results else {
            return Ok(Vec::new());
        };
        if jobs.iter().all(|j| j.new_name.is_none()) {
            return Ok(Vec::new());
        }
        let existing = results.list_artifacts(None).await?;
        let taken: Vec<String> = jobs
            .iter()
            .filter_map(|j| j.new_name.clone())
            .filter(|n| existing.iter().any(|e| &e.name == n))
            .collect();
        if !taken.is_empty() && !self.overwrite {
            return Err(ArtifactError::Taken { names: taken });
        }
        Ok(taken)
    }

    fn prepare(&mut self) -> Result<(), ArtifactError> {
        let io = |path: &PathBuf| {
            let path = path.clone();
            move |source| ArtifactError::Io { path, source }
        };
        match &self.destination {
            Destination::Nothing => {}
            Destination::Zips { dir } => std::fs::create_dir_all(dir).map_err(io(dir))?,
            Destination::Extract { dir, limits, .. } => {
                self.extractor = Some(Arc::new(Mutex::new(Extractor::new(dir, *limits)?)));
                self.disk = Some(DiskBudget::new(limits.max_total_bytes));
            }
        }
        Ok(())
    }

    /// After a failure: deletes whatever this relay finalized, so no partial
    /// set of deployment artifacts is left for a later step to pick up.
    async fn undo(&self, moved: &[Transferred]) {
        let Some(results) = &self.results else { return };
        for m in moved {
            let Some(up) = &m.reupload else { continue };
            match results.delete_artifact(&up.name).await {
                Ok(_) => self.console.info(&format!(
                    "deleted re-uploaded artifact `{}` because the step failed",
                    up.name
                )),
                Err(e) => self.console.warning(&format!(
                    "couldn't delete re-uploaded artifact `{}` after the failure: {e}",
                    up.name
                )),
            }
        }
    }
}

/// Every new name GitHub accepts, and no two alike; [`Transfer::run`] checks
/// this first, a caller may check it earlier to name its own input.
pub fn check_jobs(jobs: &[Job]) -> Result<(), ArtifactError> {
    let mut by_new: BTreeMap<&str, &str> = BTreeMap::new();
    for job in jobs {
        let Some(name) = &job.new_name else { continue };
        crate::name::validate_artifact_name(name).map_err(|source| ArtifactError::BadNewName {
            artifact: job.source.name.clone(),
            name: name.clone(),
            source,
        })?;
        if let Some(first) = by_new.insert(name, &job.source.name) {
            return Err(ArtifactError::SameName {
                first: first.to_owned(),
                second: job.source.name.clone(),
                name: name.clone(),
            });
        }
    }
    Ok(())
}
