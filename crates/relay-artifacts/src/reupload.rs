//! One artifact, end to end on the upload side: `CreateArtifact`, the relay
//! into its signed URL, the digest check, then `FinalizeArtifact` — only
//! after the check passed, so a mismatch under `verify-digest: error` leaves
//! nothing behind (an artifact that is never finalized is never listed and
//! is discarded by the service).

use std::path::Path;

use crate::error::ArtifactError;
use crate::relay::{RelayOptions, relay};
use crate::results::ResultsClient;
use crate::verify::{DigestCheck, DigestPolicy, verify_digest};

/// What to re-upload and how.
#[derive(Debug, Clone)]
pub struct Reupload<'a> {
    /// Signed blob URL of the source zip (from the `/zip` redirect).
    pub download_url: &'a str,
    pub new_name: &'a str,
    pub expires_at: Option<&'a str>,
    /// The source's REST `digest`, `sha256:<hex>`.
    pub expected_digest: Option<&'a str>,
    pub digest_policy: DigestPolicy,
    /// Delete an artifact of the same name in this run first.
    pub overwrite: bool,
    /// Also write the zip here (for extraction).
    pub spool: Option<&'a Path>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reuploaded {
    pub id: i64,
    pub size: u64,
    pub sha256: String,
    pub digest: DigestCheck,
}

/// Relayed and checked, blocks committed, not yet finalized: until
/// [`Staged::finalize`] the service does not list it and discards it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a staged artifact is discarded unless finalized"]
pub struct Staged {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub digest: DigestCheck,
}

impl Staged {
    pub async fn finalize(self, results: &ResultsClient) -> Result<Reuploaded, ArtifactError> {
        let id = results
            .finalize_artifact(&self.name, self.size, &self.sha256)
            .await?;
        Ok(Reuploaded {
            id,
            size: self.size,
            sha256: self.sha256,
            digest: self.digest,
        })
    }
}

/// [`stage`] then [`Staged::finalize`].
pub async fn reupload(
    results: &ResultsClient,
    http: &reqwest::Client,
    job: &Reupload<'_>,
    opts: &RelayOptions,
) -> Result<Reuploaded, ArtifactError> {
    stage(results, http, job, opts)
        .await?
        .finalize(results)
        .await
}

/// `CreateArtifact`, the relay, and the digest check; a mismatch under
/// [`DigestPolicy::Error`] stops here, before anything is finalized.
pub async fn stage(
    results: &ResultsClient,
    http: &reqwest::Client,
    job: &Reupload<'_>,
    opts: &RelayOptions,
) -> Result<Staged, ArtifactError> {
    crate::name::validate_artifact_name(job.new_name)?;
    if job.overwrite && !results.list_artifacts(Some(job.new_name)).await?.is_empty() {
        results.delete_artifact(job.new_name).await?;
    }
    let upload_url = results
        .create_artifact(job.new_name, job.expires_at)
        .await?;
    let relayed = relay(http, job.download_url, &upload_url, job.spool, opts).await?;
    let digest = verify_digest(
        job.digest_policy,
        job.expected_digest,
        &relayed.sha256,
        job.new_name,
    )?;
    Ok(Staged {
        name: job.new_name.to_owned(),
        size: relayed.size,
        sha256: relayed.sha256,
        digest,
    })
}
