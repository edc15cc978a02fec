//! Why an attestation was refused, said so a user can act on it. Values
//! that came from the bundle are quoted in backticks as they were found;
//! the caller escapes them for its channel (log, summary) before printing.

/// How to attest a build, the advice every "no usable attestation" ends with.
/// <https://docs.github.com/en/actions/how-tos/secure-your-work/use-artifact-attestations/use-artifact-attestations>
pub const HOW_TO_ATTEST: &str = "attest the image in the workflow that builds it: add `actions/attest-build-provenance` after the push (`subject-name`: the image name, `subject-digest`: the pushed digest, `push-to-registry: true`) and give that job `permissions: { id-token: write, attestations: write, contents: read }`";

/// Why a bundle or its policy check failed. Callers match variants; the
/// message is for people.
#[derive(Debug, thiserror::Error)]
// Each variant's `#[error]` text says when it happens and what its
// fields hold.
#[allow(missing_docs)]
pub enum Error {
    #[error(
        "the attestation bundle is malformed: {what}\nhint: the bundle must be a Sigstore bundle as GitHub's attestations API returns it"
    )]
    Malformed {
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error(
        "the attestation bundle has media type `{media_type}`, which deploy-relay does not read (it reads Sigstore bundles v0.1 to v0.3)\nhint: update deploy-relay, or attest with `actions/attest-build-provenance`"
    )]
    UnsupportedBundle { media_type: String },
    #[error(
        "the bundle carries {found}, not a DSSE envelope signed by a Fulcio certificate\nhint: {HOW_TO_ATTEST}"
    )]
    UnsupportedContent { found: &'static str },
    #[error(
        "the signing certificate (issued by `{issuer}`) does not chain to any certificate authority of the trusted roots ({roots})\nhint: the certificate comes from a certificate authority the roots do not list; if GitHub's or Sigstore's roots changed after this build, pass the current ones as trusted-root files (`gh attestation trusted-root` prints them)"
    )]
    UntrustedCertificate { issuer: String, roots: String },
    #[error(
        "the signing certificate was not valid when the bundle was signed: signed at {signed_at}, certificate valid from {not_before} to {not_after}\nhint: the attestation was made with an expired or not-yet-valid certificate; attest the build again"
    )]
    CertificateNotValidAtSigning {
        signed_at: String,
        not_before: String,
        not_after: String,
    },
    #[error("the signing certificate is not one Fulcio issues for code signing: {what}")]
    CertificateUsage { what: &'static str },
    #[error(
        "the signature over the attestation does not verify with the signing certificate's key: {what}\nhint: the envelope was altered after it was signed; do not deploy this image"
    )]
    Signature { what: &'static str },
    #[error(
        "the transparency log entry does not verify: {what}\nhint: the bundle's log entry was altered or comes from a log the trusted roots do not list"
    )]
    TransparencyLog { what: String },
    #[error(
        "the RFC 3161 timestamp does not verify: {what}\nhint: the bundle's timestamp was altered or comes from a timestamp authority the trusted roots do not list"
    )]
    Timestamp { what: String },
    #[error(
        "the bundle proves no signing time: it carries neither a transparency log entry with a signed promise nor an RFC 3161 timestamp\nhint: {HOW_TO_ATTEST}"
    )]
    NoSignedTime,
    #[error(
        "the envelope's payload type is `{found}`, not `application/vnd.in-toto+json`\nhint: {HOW_TO_ATTEST}"
    )]
    PayloadType { found: String },
    #[error(
        "the attestation's predicate type is `{found}`, not `https://slsa.dev/provenance/v1`\nhint: attest with `actions/attest-build-provenance`, which writes SLSA provenance v1"
    )]
    PredicateType { found: String },
    #[error(
        "the attestation is for `{found}`, not for the image digest `{expected}`\nhint: the attestation belongs to another image; attest the digest that is deployed"
    )]
    Digest { expected: String, found: String },
    #[error(
        "the certificate's OIDC issuer is `{found}`, not `{expected}`\nhint: only attestations made in GitHub Actions are accepted"
    )]
    Issuer { expected: String, found: String },
    #[error(
        "the certificate has no {what} ({oid})\nhint: the attestation was not made by GitHub Actions through Fulcio"
    )]
    MissingIdentity {
        what: &'static str,
        oid: &'static str,
    },
    #[error(
        "the attestation was built from repository `{found}`, not `{expected}`\nhint: deploy only images built by the application's own repository"
    )]
    SourceRepository { expected: String, found: String },
    #[error(
        "the attestation was built from commit `{found}`, not `{expected}`, the commit being deployed\nhint: deploy the image built from this commit, or deploy the commit this image was built from"
    )]
    SourceCommit { expected: String, found: String },
    #[error("the attestation was signed by workflow `{found}`, which matches none of the allowed signer workflows ({})\nhint: add the workflow to the allowed signer workflows if it is trusted to build releases", allowed.join(", "))]
    SignerWorkflow { found: String, allowed: Vec<String> },
    #[error("the image was built from ref `{found}`, which matches none of the allowed refs ({})\nhint: build releases from an allowed branch or tag, or add the ref to the allowed refs", allowed.join(", "))]
    Ref { found: String, allowed: Vec<String> },
    #[error("pattern `{pattern}` is not a valid glob")]
    Pattern {
        pattern: String,
        #[source]
        source: globset::Error,
    },
    /// GitHub answers 404 both for a digest without attestations and for a
    /// repository the token cannot read, so the hint names both; private
    /// repositories need a plan with attestations (GitHub Enterprise Cloud).
    #[error(
        "no attestation found for `{digest}` in `{repository}`\nhint: {HOW_TO_ATTEST}; check too that the token has `attestations: read` on `{repository}` (GitHub answers alike when it has not), and that a private repository's plan has artifact attestations"
    )]
    NoAttestation { digest: String, repository: String },
    #[error("none of the {} attestations of `{digest}` passed; the first refusal: {}", refusals.len(), refusals.first().map(ToString::to_string).unwrap_or_default())]
    NoneVerified {
        digest: String,
        refusals: Vec<Error>,
    },
    #[error(
        "couldn't read the trusted root `{path}`: {what}\nhint: pass a Sigstore `trusted_root.json` (media type application/vnd.dev.sigstore.trustedroot+json)"
    )]
    TrustedRoot {
        path: String,
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    pub(crate) fn malformed(what: impl Into<String>) -> Self {
        Self::Malformed {
            what: what.into(),
            source: None,
        }
    }

    pub(crate) fn malformed_by(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Malformed {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn tlog(what: impl Into<String>) -> Self {
        Self::TransparencyLog { what: what.into() }
    }

    pub(crate) fn timestamp(what: impl Into<String>) -> Self {
        Self::Timestamp { what: what.into() }
    }

    /// Whether the bundle itself failed (forged, altered, untrusted), as
    /// opposed to a genuine attestation that the policy does not allow.
    pub fn is_cryptographic(&self) -> bool {
        matches!(
            self,
            Self::Malformed { .. }
                | Self::UnsupportedBundle { .. }
                | Self::UnsupportedContent { .. }
                | Self::UntrustedCertificate { .. }
                | Self::CertificateNotValidAtSigning { .. }
                | Self::CertificateUsage { .. }
                | Self::Signature { .. }
                | Self::TransparencyLog { .. }
                | Self::Timestamp { .. }
                | Self::NoSignedTime
        )
    }
}
