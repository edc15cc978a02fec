//! A bundle verified end to end, offline: the certificate chains to a
//! trusted Fulcio CA, the envelope's signature is the certificate's key's,
//! each transparency-log entry and timestamp verifies, and the certificate
//! was valid at every signing time they prove. What comes out is the
//! in-toto statement and the signer's identity, for the policy to judge.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::bundle::{Bundle, Version};
use crate::error::Error;
use crate::trust::{Authority, TrustedRoot, TrustedRoots};
use crate::x509::{Cert, chains, rfc3339};
use crate::{tlog, tsa};

const IN_TOTO: &str = "application/vnd.in-toto+json";

/// The in-toto statement an envelope carries.
#[derive(Debug, Clone, Deserialize)]
pub struct Statement {
    /// `_type`, the in-toto statement version (`https://in-toto.io/Statement/v1`).
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The artifacts attested; the policy looks for the deployed digest here.
    pub subject: Vec<Subject>,
    /// What the predicate is; the policy requires [`SLSA_PROVENANCE_V1`](crate::SLSA_PROVENANCE_V1).
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The provenance itself, unchecked: the policy relies on the
    /// certificate's identity, which the signature binds, not on this.
    #[serde(default)]
    pub predicate: Value,
}

/// One subject of a statement: a name and its digests by algorithm.
#[derive(Debug, Clone, Deserialize)]
pub struct Subject {
    /// The artifact's name (an image name for a container); may be empty.
    #[serde(default)]
    pub name: String,
    /// Hex digests keyed by algorithm (`sha256`).
    pub digest: BTreeMap<String, String>,
}

/// Who signed, as Fulcio wrote it into the certificate from the GitHub
/// Actions OIDC token. `None`: the certificate does not carry it.
/// <https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md>
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The subject alternative name: for GitHub Actions, the workflow that
    /// signed, `https://github.com/<owner>/<repo>/.github/workflows/<file>@<ref>`.
    pub san: Option<String>,
    /// 1.3.6.1.4.1.57264.1.8 (legacy .1.1): the OIDC issuer.
    pub issuer: Option<String>,
    /// .1.9: the build signer URI (the workflow that ran, reusable or not).
    pub build_signer_uri: Option<String>,
    /// .1.11: `github-hosted` or `self-hosted`.
    pub runner_environment: Option<String>,
    /// .1.12 (legacy .1.5, `owner/repo`): the source repository URI.
    pub source_repository: Option<String>,
    /// .1.13 (legacy .1.3): the source commit.
    pub source_commit: Option<String>,
    /// .1.14 (legacy .1.6): the ref that was built.
    pub source_ref: Option<String>,
    /// .1.21: the run that signed.
    pub run_invocation_uri: Option<String>,
}

impl Identity {
    fn of(cert: &Cert) -> Self {
        let either = |new: u32, legacy: u32| cert.fulcio(new).or_else(|| cert.fulcio(legacy));
        Self {
            san: cert.san_uri(),
            issuer: either(8, 1),
            build_signer_uri: cert.fulcio(9),
            runner_environment: cert.fulcio(11),
            source_repository: cert
                .fulcio(12)
                .or_else(|| cert.fulcio(5).map(|r| format!("https://github.com/{r}"))),
            source_commit: either(13, 3),
            source_ref: either(14, 6),
            run_invocation_uri: cert.fulcio(21),
        }
    }
}

/// A bundle whose signatures, log entries and timestamps all verified.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    /// The statement the verified envelope carries.
    pub statement: Statement,
    /// Who signed, from the verified certificate.
    pub identity: Identity,
    /// The earliest signing time proven (Unix seconds).
    pub signed_at: i64,
    /// The index of the first transparency-log entry, if any.
    pub log_index: Option<u64>,
    /// Whether an RFC 3161 timestamp was among the proofs.
    pub timestamped: bool,
    /// The trusted root the certificate chained to.
    pub root: String,
    /// The certificate authority that issued the certificate (its URI in the root).
    pub ca: String,
}

/// The DSSE pre-authentication encoding the signature is over.
/// <https://github.com/secure-systems-lab/dsse/blob/master/protocol.md>
pub(crate) fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Verifies a bundle's JSON against `roots`. No policy: see [`crate::Policy`].
pub fn verify_bundle(json: &[u8], roots: &TrustedRoots) -> Result<VerifiedBundle, Error> {
    let bundle = Bundle::parse(json)?;
    let leaf = Cert::parse(&bundle.certificate)
        .map_err(|e| Error::malformed_by("the signing certificate does not parse", e))?;
    if leaf.is_ca() {
        return Err(Error::CertificateUsage {
            what: "it is a CA certificate",
        });
    }
    if !leaf.code_signing() {
        return Err(Error::CertificateUsage {
            what: "its extended key usage does not include code signing",
        });
    }
    let root = issuing_root(&leaf, roots).ok_or_else(|| Error::UntrustedCertificate {
        issuer: leaf.issuer(),
        roots: roots.names(),
    })?;
    let key = leaf.public_key().ok_or(Error::CertificateUsage {
        what: "its key is not ECDSA P-256 or P-384",
    })?;
    let env = &bundle.envelope;
    if !key.verifies(
        key.default_hash(),
        &pae(&env.payload_type, &env.payload),
        &env.signature,
    ) {
        return Err(Error::Signature {
            what: "the DSSE envelope's signature",
        });
    }

    let mut times = Vec::new();
    let mut log_index = None;
    for entry in &bundle.tlog_entries {
        // The bundle format requires the promise in v0.1 and the proof from v0.2 on.
        if bundle.version == Version::V01 && entry.set.is_none() {
            return Err(Error::tlog(
                "a v0.1 bundle's entry has no signed entry timestamp",
            ));
        }
        if bundle.version >= Version::V02 && entry.proof.is_none() {
            return Err(Error::tlog(
                "its entry has no inclusion proof, which bundles from v0.2 on carry",
            ));
        }
        let logged = tlog::verify(entry, root, env, &leaf)?;
        log_index.get_or_insert(logged.log_index);
        times.extend(logged.signed_time);
    }
    for ts in &bundle.timestamps {
        times.push(tsa::verify(ts, &env.signature, root)?);
    }
    if times.is_empty() {
        return Err(Error::NoSignedTime);
    }
    for &t in &times {
        if !leaf.valid_at(t) {
            return Err(Error::CertificateNotValidAtSigning {
                signed_at: rfc3339(t),
                not_before: rfc3339(leaf.not_before()),
                not_after: rfc3339(leaf.not_after()),
            });
        }
    }
    // The root's certificate authorities that issued the leaf were found by
    // their signatures; the one that counts is valid at the signing times,
    // its window in the root and every certificate of the path alike. (A
    // root lists one intermediate under several CA generations, each with
    // its own window, as GitHub's does.)
    let ca = issuing_cas(&leaf, root).find(|(ca, path)| {
        ca.valid.contains_all(&times) && path.iter().all(|c| times.iter().all(|t| c.valid_at(*t)))
    });
    let Some((ca, _)) = ca else {
        return Err(Error::UntrustedCertificate {
            issuer: format!(
                "{} (a certificate authority of `{}` not valid at the signing time)",
                leaf.issuer(),
                root.name
            ),
            roots: roots.names(),
        });
    };

    if env.payload_type != IN_TOTO {
        return Err(Error::PayloadType {
            found: env.payload_type.clone(),
        });
    }
    let statement: Statement = serde_json::from_slice(&env.payload).map_err(|e| {
        Error::malformed_by("the envelope's payload is not an in-toto statement", e)
    })?;
    Ok(VerifiedBundle {
        statement,
        identity: Identity::of(&leaf),
        signed_at: times.iter().copied().min().unwrap_or_default(),
        log_index,
        timestamped: !bundle.timestamps.is_empty(),
        root: root.name.clone(),
        ca: ca.uri.clone(),
    })
}

/// The first root one of whose certificate authorities issued `leaf`
/// (signatures only; validity at the signing time is checked once the
/// signing times are known).
fn issuing_root<'r>(leaf: &Cert, roots: &'r TrustedRoots) -> Option<&'r TrustedRoot> {
    roots
        .roots
        .iter()
        .find(|root| issuing_cas(leaf, root).next().is_some())
}

/// Each certificate authority of `root` that issued `leaf`, with the path
/// from the issuer to the CA's root certificate. A trusted root lists a CA's
/// chain leaf-most first; the leaf may have been issued by any certificate
/// of it, as Sigstore's verifiers build the path (every certificate but the
/// last an intermediate, the last the root).
/// <https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_trustroot.proto>
fn issuing_cas<'r>(
    leaf: &'r Cert,
    root: &'r TrustedRoot,
) -> impl Iterator<Item = (&'r Authority, &'r [Cert])> + 'r {
    root.cas.iter().filter_map(move |ca| {
        (0..ca.chain.len())
            .map(|k| &ca.chain[k..])
            .find(|path| chains(leaf, path, &[]))
            .map(|path| (ca, path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_dsse_encoding() {
        // The example of the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }
}
