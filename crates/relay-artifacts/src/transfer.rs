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
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Semaphore;

use crate::digest::{DigestCheck, DigestPolicy};
use crate::error::ArtifactError;
use crate::extract::{ExtractLimits, Extractor};
use crate::move_one::Existing;
use crate::pipe::{DiskBudget, PipeOptions};
use crate::rest::RestArtifact;
use crate::results::ResultsClient;
use crate::retry::RetryPolicy;
use crate::token::RuntimeToken;

/// How many artifacts move at once.
const CONCURRENT_ARTIFACTS: usize = 3;
/// Blocks in flight across all of them (4 MiB each).
const BLOCK_BUDGET: usize = 6;

/// `expires_at` for `retention_days`, capped by the repository maximum
/// (`GITHUB_RETENTION_DAYS`) as the official client caps it. Returns the
/// timestamp and whether the cap applied (worth a warning).
pub fn expires_at(
    retention_days: Option<u32>,
    repo_max: Option<&str>,
    now: OffsetDateTime,
) -> (Option<String>, bool) {
    let Some(mut days) = retention_days.filter(|d| *d > 0) else {
        return (None, false);
    };
    let mut capped = false;
    if let Some(max) = repo_max.and_then(|m| m.trim().parse::<u32>().ok())
        && max < days
    {
        days = max;
        capped = true;
    }
    let at = now + time::Duration::days(i64::from(days));
    (at.format(&Rfc3339).ok(), capped)
}

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
        let (expires_at, capped) = expires_at(retention_days, repo_max, OffsetDateTime::now_utc());
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
    Zips {
        /// Where the zips go.
        dir: PathBuf,
    },
    /// Each zip extracted: into `dir` itself when `together` (several
    /// artifacts then must not share a file), else into `dir/<name>/`.
    Extract {
        /// Where the files go.
        dir: PathBuf,
        /// Every artifact into `dir` itself, not `dir/<name>/`.
        together: bool,
        /// The zip-bomb guard.
        limits: ExtractLimits,
    },
}

/// How a relay runs.
pub struct TransferConfig {
    /// `None`: download only.
    pub upload: Option<Upload>,
    /// What is written to disk.
    pub destination: Destination,
    /// What a digest mismatch does.
    pub digest: DigestPolicy,
    /// How requests are retried.
    pub retry: RetryPolicy,
}

/// One artifact to move, and its new name when it is re-uploaded. (Not a
/// workflow job: a transfer plans one move per artifact.)
#[derive(Debug, Clone)]
pub struct ArtifactMove {
    /// The artifact as the source run lists it.
    pub source: RestArtifact,
    /// Its name in this run; `None`: not re-uploaded.
    pub new_name: Option<String>,
}

/// One artifact moved.
#[derive(Debug, Clone)]
pub struct Transferred {
    /// Its name in the source run.
    pub name: String,
    /// The source artifact's id.
    pub id: u64,
    /// Its size in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the bytes moved.
    pub digest: String,
    /// How its digest compared.
    pub check: DigestCheck,
    /// The extracted directory or the saved zip; `None` when nothing was
    /// written to disk.
    pub path: Option<PathBuf>,
    /// Files extracted, when it was.
    pub files: Option<usize>,
    /// The re-upload, when there was one.
    pub reupload: Option<Reuploaded>,
}

/// The artifact of this run a source artifact became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reuploaded {
    /// Its name in this run.
    pub name: String,
    /// Its id in this run.
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

    /// Makes every move, a few at a time, and returns what moved, sorted by
    /// name. Before any download: the new names are checked (GitHub's
    /// rules, no two alike) and compared with this run's artifacts.
    pub async fn run(mut self, moves: &[ArtifactMove]) -> Result<Vec<Transferred>, ArtifactError> {
        check_moves(moves)?;
        let taken = self.taken(moves).await?;
        self.prepare()?;
        let this = &self;
        let taken = &taken;
        // After the first failure the others stop, but every move is waited
        // for: one that was finalizing when it happened is then known and
        // undone, not left behind half-way.
        let mut moving = futures::stream::iter(moves)
            .map(|planned| async move {
                if this.stopped() {
                    return Ok(None);
                }
                let existing = if planned.new_name.as_ref().is_some_and(|n| taken.contains(n)) {
                    Existing::Replaced
                } else {
                    Existing::None
                };
                match this.move_one(planned, existing).await {
                    Ok(m) => Ok(Some(m)),
                    Err(ArtifactError::Stopped) => Ok(None),
                    Err(e) => {
                        this.opts.stop.store(true, Ordering::Relaxed);
                        Err(ArtifactError::Artifact {
                            name: planned.source.name.clone(),
                            source: Box::new(e),
                        })
                    }
                }
            })
            .buffer_unordered(CONCURRENT_ARTIFACTS);
        let mut moved = Vec::with_capacity(moves.len());
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
    async fn taken(&self, moves: &[ArtifactMove]) -> Result<Vec<String>, ArtifactError> {
        let Some(results) = &self.results else {
            return Ok(Vec::new());
        };
        if moves.iter().all(|m| m.new_name.is_none()) {
            return Ok(Vec::new());
        }
        let existing = results.list_artifacts(None).await?;
        let taken: Vec<String> = moves
            .iter()
            .filter_map(|m| m.new_name.clone())
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
pub(crate) fn check_moves(moves: &[ArtifactMove]) -> Result<(), ArtifactError> {
    let mut by_new: BTreeMap<&str, &str> = BTreeMap::new();
    for planned in moves {
        let Some(name) = &planned.new_name else {
            continue;
        };
        crate::name::validate_artifact_name(name).map_err(|source| ArtifactError::BadNewName {
            artifact: planned.source.name.clone(),
            name: name.clone(),
            source,
        })?;
        if let Some(first) = by_new.insert(name, &planned.source.name) {
            return Err(ArtifactError::SameName {
                first: first.to_owned(),
                second: planned.source.name.clone(),
                name: name.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retention_is_capped_by_the_repository() {
        let now = datetime!(2026-11-22 13:00 UTC);
        assert_eq!(expires_at(None, Some("90"), now), (None, false));
        assert_eq!(
            expires_at(Some(5), Some("90"), now),
            (Some("2026-11-27T13:00:00Z".into()), false)
        );
        assert_eq!(
            expires_at(Some(30), Some("7"), now),
            (Some("2026-11-29T13:00:00Z".into()), true)
        );
        assert_eq!(
            expires_at(Some(30), None, now),
            (Some("2026-12-22T13:00:00Z".into()), false)
        );
    }
}
