//! Build provenance for deploys: verifies GitHub artifact attestations
//! (Sigstore bundles carrying a DSSE envelope with an in-toto statement of
//! SLSA provenance v1) offline against embedded or given trusted roots,
//! then checks the deploy policy — the attestation is for the image digest
//! deployed, made in GitHub Actions by an allowed workflow of the
//! application's repository, from an allowed ref, at the commit deployed.
//!
//! Verification ([`verify_bundle`]): the signing certificate chains to a
//! Fulcio CA of a trusted root; the envelope's signature (over the DSSE
//! pre-authentication encoding) is the certificate's key's; every
//! transparency-log entry records this envelope and carries a valid signed
//! entry timestamp and/or an inclusion proof to a checkpoint the log
//! signed; every RFC 3161 timestamp is over the signature and signed by a
//! timestamp authority of the root; and the certificate was valid at each
//! signing time so proven (at least one is required). The crypto is the
//! `RustCrypto` crates' (p256, p384, x509-cert, cms, x509-tsp, sha2).
//!
//! The `sigstore` crate was evaluated first: it needs exactly one
//! transparency-log entry per bundle (so it cannot verify GitHub's
//! private-repository attestations, which carry a timestamp instead) and
//! brings about 350 crates, a second reqwest and a TUF client.

#![warn(unreachable_pub, missing_docs, clippy::pedantic)]
// The allow-list of [workspace.lints] (reasons there), repeated because a
// crate-level `warn` of the group overrides the workspace's `allow`s.
#![allow(
    clippy::must_use_candidate,
    clippy::missing_errors_doc,
    clippy::return_self_not_must_use,
    clippy::format_push_string,
    clippy::too_many_lines,
    clippy::similar_names,
    clippy::struct_excessive_bools,
    clippy::cast_precision_loss
)]

mod bundle;
mod error;
mod policy;
mod tlog;
mod trust;
mod tsa;
mod verify;
mod x509;

pub use error::{Error, HOW_TO_ATTEST};
pub use policy::{Expected, GITHUB_ACTIONS_ISSUER, Mode, Policy, SLSA_PROVENANCE_V1, Verified};
pub use trust::{
    GITHUB, GITHUB_SHA256, PUBLIC_GOOD, PUBLIC_GOOD_SHA256, TrustedRoot, TrustedRoots,
};
pub use verify::{Identity, Statement, Subject, VerifiedBundle, verify_bundle};

/// Verifies one bundle and checks it against the policy.
pub fn verify(
    json: &[u8],
    roots: &TrustedRoots,
    policy: &Policy,
    expected: Expected<'_>,
) -> Result<Verified, Error> {
    policy.check(&verify_bundle(json, roots)?, expected)
}

/// Verifies the attestations GitHub lists for a digest: the first that
/// passes is the answer; none at all is [`Error::NoAttestation`], none
/// passing is [`Error::NoneVerified`] with every refusal.
pub fn verify_any<'a>(
    bundles: impl IntoIterator<Item = &'a [u8]>,
    roots: &TrustedRoots,
    policy: &Policy,
    expected: Expected<'_>,
) -> Result<Verified, Error> {
    let mut refusals = Vec::new();
    for json in bundles {
        match verify(json, roots, policy, expected) {
            Ok(v) => return Ok(v),
            Err(e) => refusals.push(e),
        }
    }
    if refusals.is_empty() {
        return Err(Error::NoAttestation {
            digest: expected.digest.to_owned(),
            repository: policy.repository.clone(),
        });
    }
    Err(Error::NoneVerified {
        digest: expected.digest.to_owned(),
        refusals,
    })
}
