//! Real attestations made in GitHub Actions, vendored from cli/cli's test
//! data (see tests/data/README.md), verified against the embedded
//! public-good root — and the same bundles altered one field at a time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use relay_provenance::{Error, Expected, Policy, TrustedRoot, TrustedRoots, verify, verify_bundle};
use serde_json::Value;

pub fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

pub const REUSABLE: &str = "reusable-workflow-attestation.sigstore.json";
/// The sha256 of cli/cli's `reusable-workflow-artifact`, the subject of [`REUSABLE`].
const ARTIFACT: &str = "sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25";
const COMMIT: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";
const ATTEST_WORKFLOW: &str = "github/artifact-attestations-workflows/.github/workflows/attest.yml";

fn expected() -> Expected<'static> {
    Expected {
        digest: ARTIFACT,
        commit: COMMIT,
    }
}

/// The app repository's policy, with the reusable attest workflow allowed.
fn policy() -> Policy {
    let mut p = Policy::new("malancas/attest-demo", "main", &[]);
    p.signer_workflows.push(ATTEST_WORKFLOW.into());
    p
}

fn altered(name: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&data(name)).unwrap();
    change(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn flip_b64(v: &mut Value) {
    let mut bytes = STANDARD.decode(v.as_str().unwrap()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    *v = Value::String(STANDARD.encode(bytes));
}

fn entry(v: &mut Value) -> &mut Value {
    &mut v["verificationMaterial"]["tlogEntries"][0]
}

#[test]
fn a_github_actions_attestation_verifies_against_the_embedded_root() {
    let v = verify_bundle(&data(REUSABLE), &TrustedRoots::embedded()).unwrap();
    assert_eq!(v.statement.predicate_type, "https://slsa.dev/provenance/v1");
    assert_eq!(v.ca, "https://fulcio.sigstore.dev");
    assert_eq!(v.log_index, Some(96_764_485));
    assert!(!v.timestamped);
    let id = &v.identity;
    assert_eq!(
        id.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(
        id.source_repository.as_deref(),
        Some("https://github.com/malancas/attest-demo")
    );
    assert_eq!(id.source_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(id.source_commit.as_deref(), Some(COMMIT));
    assert_eq!(id.runner_environment.as_deref(), Some("github-hosted"));
}

#[test]
fn the_policy_passes_it_only_with_the_reusable_workflow_allowed() {
    let roots = TrustedRoots::embedded();
    let default = Policy::new("malancas/attest-demo", "main", &[]);
    match verify(&data(REUSABLE), &roots, &default, expected()) {
        Err(Error::SignerWorkflow { found, allowed }) => {
            assert!(found.starts_with(&format!("https://github.com/{ATTEST_WORKFLOW}@")));
            assert_eq!(allowed, ["malancas/attest-demo/.github/workflows/*"]);
        }
        other => panic!("{other:?}"),
    }
    let v = verify(&data(REUSABLE), &roots, &policy(), expected()).unwrap();
    assert_eq!(v.digest, ARTIFACT);
    assert_eq!(v.source_commit, COMMIT);
    assert_eq!(v.source_ref, "refs/heads/main");
    assert_eq!(v.log_index, Some(96_764_485));
    assert_eq!(v.signed_at, "2024-05-24T19:14:24Z");
}

#[test]
fn the_policy_names_what_differs() {
    let roots = TrustedRoots::embedded();
    let bundle = data(REUSABLE);
    let other_digest = Expected {
        digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        commit: COMMIT,
    };
    assert!(matches!(
        verify(&bundle, &roots, &policy(), other_digest),
        Err(Error::Digest { found, .. }) if found == ARTIFACT
    ));
    let other_commit = Expected {
        digest: ARTIFACT,
        commit: "1111111111111111111111111111111111111111",
    };
    assert!(matches!(
        verify(&bundle, &roots, &policy(), other_commit),
        Err(Error::SourceCommit { found, .. }) if found == COMMIT
    ));
    let mut fork = policy();
    fork.repository = "someone/attest-demo".into();
    assert!(matches!(
        verify(&bundle, &roots, &fork, expected()),
        Err(Error::SourceRepository { found, .. }) if found == "https://github.com/malancas/attest-demo"
    ));
    let mut tags_only = policy();
    tags_only.refs = vec!["refs/tags/**".into()];
    assert!(matches!(
        verify(&bundle, &roots, &tags_only, expected()),
        Err(Error::Ref { found, .. }) if found == "refs/heads/main"
    ));
}

/// What each alteration must be refused as.
pub type Refusal = fn(&Error) -> bool;

/// The real bundle altered one part at a time, each with its refusal.
pub fn alterations() -> Vec<(&'static str, Vec<u8>, Refusal)> {
    vec![
        (
            "payload",
            altered(REUSABLE, |v| {
                let payload = STANDARD
                    .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
                    .unwrap();
                let text = String::from_utf8(payload).unwrap().replace("49a3", "59a3");
                v["dsseEnvelope"]["payload"] = Value::String(STANDARD.encode(text));
            }),
            |e| matches!(e, Error::Signature { .. }),
        ),
        (
            "payload type",
            altered(REUSABLE, |v| {
                v["dsseEnvelope"]["payloadType"] = "application/json".into();
            }),
            |e| matches!(e, Error::Signature { .. }),
        ),
        (
            "a proof hash",
            altered(REUSABLE, |v| {
                flip_b64(&mut entry(v)["inclusionProof"]["hashes"][3]);
            }),
            |e| matches!(e, Error::TransparencyLog { .. }),
        ),
        (
            "the integrated time",
            altered(REUSABLE, |v| {
                entry(v)["integratedTime"] = "1716578065".into();
            }),
            |e| matches!(e, Error::TransparencyLog { .. }),
        ),
        (
            "the checkpoint",
            altered(REUSABLE, |v| {
                let cp = entry(v)["inclusionProof"]["checkpoint"]["envelope"]
                    .as_str()
                    .unwrap()
                    .replace("2605736670972794746", "2605736670972794747");
                entry(v)["inclusionProof"]["checkpoint"]["envelope"] = cp.into();
            }),
            |e| matches!(e, Error::TransparencyLog { .. }),
        ),
        (
            "the log entry's body",
            altered(REUSABLE, |v| {
                entry(v)["canonicalizedBody"] = Value::String(
                    STANDARD.encode(br#"{"apiVersion":"0.0.1","kind":"dsse","spec":{}}"#),
                );
            }),
            |e| matches!(e, Error::TransparencyLog { .. }),
        ),
        (
            "no log entry",
            altered(REUSABLE, |v| {
                v["verificationMaterial"]["tlogEntries"] = Value::Array(vec![]);
            }),
            |e| matches!(e, Error::NoSignedTime),
        ),
        (
            "another certificate",
            altered(REUSABLE, |v| {
                let other: Value =
                    serde_json::from_slice(&data("custom-issuer.sigstore.json")).unwrap();
                v["verificationMaterial"]["certificate"] =
                    other["verificationMaterial"]["certificate"].clone();
            }),
            |e| matches!(e, Error::Signature { .. }),
        ),
    ]
}

#[test]
fn every_altered_part_is_refused() {
    let roots = TrustedRoots::embedded();
    for (what, bundle, refusal) in alterations() {
        let e = verify_bundle(&bundle, &roots).expect_err(what);
        assert!(refusal(&e), "{what}: {e:?}");
        assert!(e.is_cryptographic(), "{what}");
    }
}

#[test]
fn a_root_without_its_certificate_authority_does_not_trust_it() {
    let mut root: Value = serde_json::from_slice(relay_provenance::PUBLIC_GOOD).unwrap();
    root["certificateAuthorities"] = Value::Array(vec![]);
    let roots = TrustedRoots::new(vec![
        TrustedRoot::from_json("no CAs", &serde_json::to_vec(&root).unwrap()).unwrap(),
    ]);
    assert!(matches!(
        verify_bundle(&data(REUSABLE), &roots),
        Err(Error::UntrustedCertificate { .. })
    ));
}

#[test]
fn intoto_entries_and_v01_bundles_verify_too() {
    let roots = TrustedRoots::embedded();
    for name in [
        "sigstore-js-2.1.0-bundle.json",
        "sigstore-js-2.1.0-bundle-v0.1.json",
    ] {
        let v = verify_bundle(&data(name), &roots).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            v.identity.san.as_deref(),
            Some(
                "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
            ),
            "{name}"
        );
        assert_eq!(v.statement.subject[0].name, "pkg:npm/sigstore@2.1.0");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Any one byte of the real bundle changed: never a panic, and a
    /// bundle that still verifies says exactly what the original says
    /// (the byte was JSON layout, or base64 padding bits).
    #[test]
    fn a_changed_byte_never_verifies_as_something_else(at in 0usize..100_000, to in proptest::num::u8::ANY) {
        let original = data(REUSABLE);
        let mut bundle = original.clone();
        let at = at % bundle.len();
        bundle[at] = to;
        let roots = TrustedRoots::embedded();
        if let Ok(v) = verify_bundle(&bundle, &roots) {
            let o = verify_bundle(&original, &roots).unwrap();
            proptest::prop_assert_eq!(&v.identity, &o.identity);
            proptest::prop_assert_eq!(v.signed_at, o.signed_at);
            proptest::prop_assert_eq!(v.log_index, o.log_index);
            proptest::prop_assert_eq!(
                serde_json::to_string(&v.statement.subject.iter().map(|s| &s.digest).collect::<Vec<_>>()).unwrap(),
                serde_json::to_string(&o.statement.subject.iter().map(|s| &s.digest).collect::<Vec<_>>()).unwrap()
            );
        }
    }
}
