//! One artifact of a [`Transfer`]: download, digest check, extraction, and the
//! re-upload finalized last. An artifact that replaces one of the same name
//! (`overwrite`) is downloaded, checked and extracted first; only then is
//! the old one deleted and the new one uploaded from the local copy, so a
//! failed download leaves the old artifact in place.

use std::path::{Path, PathBuf};

use relay_http::DisplaySafeUrl;

use crate::digest::{DigestCheck, verify_digest};
use crate::error::ArtifactError;
use crate::extract::SpoolIndex;
use crate::pipe::{Charge, Passed, Spool, download, upload_file};
use crate::rest;
use crate::transfer::{ArtifactMove, Destination, Reuploaded, Transfer, Transferred};

/// Whether this run already has an artifact under the new name (one the
/// relay may replace only with `overwrite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// The name is free.
    None,
    /// An artifact of that name is replaced.
    Replaced,
}

/// Where a zip lands on disk.
enum SpoolFile {
    /// Deleted when dropped: the copy extraction reads, or the local copy a
    /// replacement is uploaded from.
    Temp(tempfile::NamedTempFile),
    /// The zip the caller asked for (`Destination::Zips`).
    Kept(PathBuf),
}

impl SpoolFile {
    fn path(&self) -> &Path {
        match self {
            SpoolFile::Temp(f) => f.path(),
            SpoolFile::Kept(p) => p,
        }
    }
}

impl Transfer<'_> {
    pub(crate) async fn move_one(
        &self,
        planned: &ArtifactMove,
        existing: Existing,
    ) -> Result<Transferred, ArtifactError> {
        let a = &planned.source;
        let url = rest::zip_url(self.gh, self.repo, a).await?;
        let spool = self.spool_for(a, existing)?;
        let result = self
            .move_with(planned, existing, &url, spool.as_ref())
            .await;
        if let (Err(_), Some(SpoolFile::Kept(p))) = (&result, &spool) {
            let _ = std::fs::remove_file(p);
        }
        result
    }

    fn spool_for(
        &self,
        a: &rest::RestArtifact,
        existing: Existing,
    ) -> Result<Option<SpoolFile>, ArtifactError> {
        let replace = existing == Existing::Replaced;
        let temp_in = |dir: PathBuf| {
            tempfile::Builder::new()
                .prefix(".deploy-relay-")
                .suffix(".zip")
                .tempfile_in(&dir)
                .map(SpoolFile::Temp)
                .map_err(|source| ArtifactError::Io { path: dir, source })
        };
        Ok(match &self.destination {
            Destination::Extract { dir, .. } => Some(temp_in(spool_dir(dir))?),
            Destination::Zips { dir } => Some(SpoolFile::Kept(dir.join(format!("{}.zip", a.name)))),
            Destination::Nothing if replace => Some(temp_in(std::env::temp_dir())?),
            Destination::Nothing => None,
        })
    }

    async fn move_with(
        &self,
        planned: &ArtifactMove,
        existing: Existing,
        url: &DisplaySafeUrl,
        spool: Option<&SpoolFile>,
    ) -> Result<Transferred, ArtifactError> {
        let replace = existing == Existing::Replaced;
        let a = &planned.source;
        let new = match (&self.results, &planned.new_name) {
            (Some(results), Some(name)) => Some((results, name.as_str())),
            _ => None,
        };
        // The extraction spool counts against the disk budget until it is
        // deleted; a kept zip is the caller's output, not a spool.
        let mut charge = match (spool, &self.disk) {
            (Some(SpoolFile::Temp(_)), Some(disk)) => Some(Charge::new(disk.clone())),
            _ => None,
        };
        // An extraction spool keeps the zip's first local header apart, so a
        // stored first entry can become its file without a second write;
        // not when the spool is the local copy a replacement uploads.
        let mut index = SpoolIndex::default();
        let split = !replace && matches!(self.destination, Destination::Extract { .. });
        let sink = spool.map(|s| Spool {
            path: s.path(),
            charge: charge.as_mut(),
            index: split.then_some(&mut index),
        });
        // One pass: download, upload and spool at once, unless this replaces
        // an artifact, which must stay until the new bytes are checked.
        let (passed, uploading, upload_url) = match new {
            Some((results, name)) if !replace => {
                let upload_url = results
                    .create_artifact(name, self.expires_at.as_deref())
                    .await?;
                let (passed, uploading) =
                    download(&self.http, url, Some(&upload_url), sink, &self.opts).await?;
                (passed, uploading, Some(upload_url))
            }
            _ => {
                let (passed, _) = download(&self.http, url, None, sink, &self.opts).await?;
                (passed, None, None)
            }
        };
        // A mismatch stops here: the blocks still in flight are dropped with
        // `uploading`, and nothing is committed or finalized.
        let check = verify_digest(self.digest, a.digest.as_deref(), &passed.sha256, &a.name)?;
        if let DigestCheck::Mismatch { expected, actual } = &check {
            self.console.warning(&format!(
                "artifact `{}` does not match its recorded digest (expected `{expected}`, got `{actual}`); kept because `verify-digest` is `warn`",
                a.name
            ));
        }
        // The spool is complete: extract it while the last blocks finish
        // uploading and the block list is committed.
        let committed = async {
            match uploading {
                Some(uploading) => uploading.commit().await,
                None => Ok(()),
            }
        };
        let index = split.then_some(index);
        // Both run to their end, so no extraction goes on behind an error.
        let (placed, committed) = tokio::join!(self.place(a, spool, index), committed);
        let (path, files) = placed?;
        committed?;
        drop(charge);
        if self.stopped() {
            // Not finalized, so the service discards it.
            return Err(ArtifactError::Stopped);
        }
        let reupload = match new {
            None => None,
            Some((results, name)) => {
                if upload_url.is_none() {
                    self.replace(results, name, spool, &passed).await?;
                }
                let id = results
                    .finalize_artifact(name, passed.size, &passed.sha256)
                    .await?;
                Some(Reuploaded {
                    name: name.to_owned(),
                    id,
                    replaced: replace,
                })
            }
        };
        Ok(Transferred {
            name: a.name.clone(),
            id: a.id,
            size: passed.size,
            digest: format!("sha256:{}", passed.sha256),
            check,
            path,
            files,
            reupload,
        })
    }

    /// Extracts the spool (with its index when its head was split off), or
    /// names the kept zip.
    async fn place(
        &self,
        a: &rest::RestArtifact,
        spool: Option<&SpoolFile>,
        index: Option<SpoolIndex>,
    ) -> Result<(Option<PathBuf>, Option<usize>), ArtifactError> {
        match (&self.destination, &self.extractor, spool) {
            (Destination::Zips { .. }, _, Some(SpoolFile::Kept(p))) => Ok((Some(p.clone()), None)),
            (Destination::Extract { dir, together, .. }, Some(extractor), Some(file)) => {
                let sub = if *together {
                    String::new()
                } else {
                    a.name.clone()
                };
                let zip = file.path().to_owned();
                let extractor = extractor.clone();
                let sub_for_task = sub.clone();
                let report = tokio::task::spawn_blocking(move || {
                    let mut ex = extractor
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(index) = index {
                        ex.extract_spool(&sub_for_task, index, &zip)
                    } else {
                        let file = std::fs::File::open(&zip).map_err(|source| {
                            crate::extract::ExtractError::Io { path: zip, source }
                        })?;
                        ex.extract_into(&sub_for_task, std::io::BufReader::new(file))
                    }
                })
                .await
                .map_err(|e| ArtifactError::Exhausted {
                    what: "the extraction".into(),
                    attempts: 1,
                    last: e.to_string(),
                })??;
                for (first, second) in &report.case_twins {
                    self.console.warning(&format!(
                        "artifact `{}` holds `{first}` and `{second}`, names that differ only in case: both were extracted, but on a case-insensitive file system (macOS, Windows) one would replace the other",
                        a.name
                    ));
                }
                let path = if sub.is_empty() {
                    dir.clone()
                } else {
                    dir.join(sub)
                };
                Ok((Some(path), Some(report.files)))
            }
            _ => Ok((None, None)),
        }
    }

    /// The window of a replacement: the old artifact is deleted only now
    /// that the new bytes are on disk, checked and extracted; from here
    /// until `FinalizeArtifact` answers, the run has neither.
    async fn replace(
        &self,
        results: &crate::results::ResultsClient,
        name: &str,
        spool: Option<&SpoolFile>,
        passed: &Passed,
    ) -> Result<(), ArtifactError> {
        let Some(file) = spool else {
            return Err(ArtifactError::BadResponse {
                method: "CreateArtifact",
                what: "no local copy to replace the artifact from".into(),
            });
        };
        results.delete_artifact(name).await?;
        self.console.info(&format!(
            "deleted this run's artifact `{name}` to replace it with the checked download ({} bytes)",
            passed.size
        ));
        let upload_url = results
            .create_artifact(name, self.expires_at.as_deref())
            .await?;
        upload_file(&self.http, file.path(), &upload_url, &self.opts).await?;
        Ok(())
    }
}

/// Beside `dir` (same file system, and inside the workspace the runner
/// mounts into the container), so the spool never lands in `dir` itself.
fn spool_dir(dir: &Path) -> PathBuf {
    dir.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(std::env::temp_dir, PathBuf::from)
}
