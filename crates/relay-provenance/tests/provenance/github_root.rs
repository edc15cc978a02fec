//! GitHub's own Sigstore root, embedded: real attestations GitHub signed
//! with its Fulcio intermediate and timestamp authority (no transparency
//! log), vendored from sigstore/sigstore-rust's test data (see
//! tests/data/README.md). They are GitHub's release attestations, not
//! workflow provenance, so the deploy policy refuses them; what they prove
//! is that the embedded root verifies what GitHub's instance signs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use relay_provenance::{Error, Expected, Policy, TrustedRoot, TrustedRoots, verify, verify_bundle};
use serde_json::Value;

use super::real::data;

const RELEASE: &str = "github-release-attestation.sigstore.json";
const RELEASE_SHA384: &str = "github-release-attestation-sha384.sigstore.json";

#[test]
fn githubs_attestations_verify_against_the_embedded_github_root() {
    for (name, signed) in [(RELEASE, "2026-03-02T09:52:15Z"), (RELEASE_SHA384, "2026-")] {
        let v = verify_bundle(&data(name), &TrustedRoots::embedded())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.root, "embedded: github", "{name}");
        assert_eq!(v.ca, "fulcio.githubapp.com", "{name}");
        assert!(v.timestamped, "{name}");
        assert_eq!(v.log_index, None, "{name}: GitHub's instance keeps no log");
        assert_eq!(
            v.identity.san.as_deref(),
            Some("https://dotcom.releases.github.com"),
            "{name}"
        );
        assert!(
            rfc3339(v.signed_at).starts_with(signed),
            "{name}: {}",
            v.signed_at
        );
        assert!(
            v.statement
                .predicate_type
                .starts_with("https://in-toto.io/attestation/release/"),
            "{name}"
        );
    }
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[test]
fn without_githubs_root_they_do_not_chain() {
    let public_good_only = TrustedRoots::new(vec![TrustedRoot::public_good()]);
    let e = verify_bundle(&data(RELEASE), &public_good_only).unwrap_err();
    assert!(matches!(e, Error::UntrustedCertificate { .. }), "{e}");
}

#[test]
fn an_altered_timestamp_or_envelope_is_refused_under_githubs_root() {
    let roots = TrustedRoots::embedded();
    let mut v: Value = serde_json::from_slice(&data(RELEASE)).unwrap();
    let sig = &mut v["dsseEnvelope"]["signatures"][0]["sig"];
    let mut bytes = STANDARD.decode(sig.as_str().unwrap()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    *sig = Value::String(STANDARD.encode(bytes));
    let e = verify_bundle(&serde_json::to_vec(&v).unwrap(), &roots).unwrap_err();
    assert!(matches!(e, Error::Signature { .. }), "{e}");

    let mut v: Value = serde_json::from_slice(&data(RELEASE)).unwrap();
    v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] =
        Value::Array(Vec::new());
    let e = verify_bundle(&serde_json::to_vec(&v).unwrap(), &roots).unwrap_err();
    assert!(matches!(e, Error::NoSignedTime), "{e}");
}

#[test]
fn the_deploy_policy_refuses_a_release_attestation() {
    let policy = Policy::new("jdx/communique", "main", &[]);
    let e = verify(
        &data(RELEASE),
        &TrustedRoots::embedded(),
        &policy,
        Expected {
            digest: "sha256:76f1fe8593bf227cca2c089e3c16dc95014a8d3e89c5dd220530469ca043c428",
            commit: &"0".repeat(40),
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::PredicateType { .. }), "{e}");
}
