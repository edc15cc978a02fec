//! Artifact attestations: the Sigstore bundles GitHub stores per subject
//! digest (`actions/attest-build-provenance` writes them). They are only
//! listed here; relay-provenance verifies them.
//! <https://docs.github.com/en/rest/repos/attestations#list-attestations>

use relay_runtime::RepoName;
use serde::Deserialize;
use serde_json::Value;

use crate::client::{Fetch, GitHub};
use crate::error::{Call, Error, Permission};
use crate::path::{encode, with_query};

/// One attestation as `GET /repos/{owner}/{repo}/attestations/{subject_digest}`
/// lists it. Every field is optional in GitHub's description.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Attestation {
    /// The Sigstore bundle, as JSON, unverified.
    #[serde(default)]
    pub bundle: Option<Value>,
    /// The repository the attestation was made in.
    #[serde(default)]
    pub repository_id: Option<u64>,
    /// Where the bundle can be downloaded (a signed URL; not followed here).
    #[serde(default)]
    pub bundle_url: Option<String>,
    /// Who made it: `user` (a workflow) or `github` (GitHub itself).
    #[serde(default)]
    pub initiator: Option<String>,
}

impl GitHub {
    /// Every attestation of `repo` whose subject is `subject_digest`
    /// (`sha256:<hex>`), all pages (GitHub pages these by cursor, in the
    /// `Link` header); `predicate_type` filters server-side (`provenance`,
    /// `sbom`, `release`, or a predicate type URI).
    ///
    /// GitHub answers 404 both for a digest that has no attestation and for
    /// a repository the token cannot read; this is returned as the call's
    /// error, whose hint names `attestations: read`.
    pub async fn attestations(
        &self,
        repo: &RepoName,
        subject_digest: &str,
        predicate_type: Option<&str>,
    ) -> Result<Vec<Attestation>, Error> {
        let call = Call::new(
            format!("list the attestations of `{subject_digest}` in `{repo}`"),
            repo.as_str(),
            Permission::ATTESTATIONS_READ,
        );
        let path = with_query(
            &format!("/repos/{repo}/attestations/{}", encode(subject_digest)),
            &[
                ("per_page", "100"),
                ("predicate_type", predicate_type.unwrap_or_default()),
            ],
        );
        self.list(&call, &path, Some("attestations"), Fetch::Fresh)
            .await
    }
}
