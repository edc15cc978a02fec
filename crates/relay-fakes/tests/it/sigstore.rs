//! The fake Sigstore's bundles are real Sigstore bundles: relay-provenance
//! and Sigstore's own JavaScript verifier (`@sigstore/verify`, the npm peer
//! of relay-provenance's tests) both verify them against the fake's
//! `trusted_root.json`, and both refuse the same altered or foreign ones.
//! Skipped with a note when node or the peer is missing (fails under
//! CI=true): `cd crates/relay-provenance/tests/node && npm ci`.

#![allow(clippy::unwrap_used)] // test support code outside #[test] fns

use std::path::{Path, PathBuf};
use std::process::Command;

use relay_fakes::sigstore::{BuildIdentity, FakeSigstore};
use relay_provenance::{Error, Expected, Policy, TrustedRoot, TrustedRoots};
use serde_json::{Value, json};

const APP: &str = "xtp-tour/xtp-tour";
const WORKFLOW: &str = ".github/workflows/main.yaml";
const MAIN: &str = "refs/heads/main";
const COMMIT: &str = "8c1f0b7d2e4a6c8e0f1a3b5c7d9e1f2a3b4c5d6e";
const IMAGE: &str = "ghcr.io/xtp-tour/xtp-tour/api";

fn digest(of: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(of.as_bytes());
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn app() -> BuildIdentity {
    BuildIdentity::new(APP, WORKFLOW, MAIN, COMMIT).run(4242)
}

fn roots(sig: &FakeSigstore) -> TrustedRoots {
    let json = serde_json::to_vec(&sig.trusted_root()).unwrap();
    TrustedRoots::new(vec![TrustedRoot::from_json("fake", &json).unwrap()])
}

fn ours(
    sig: &FakeSigstore,
    bundle: &Value,
    digest: &str,
) -> Result<relay_provenance::Verified, Error> {
    relay_provenance::verify(
        &serde_json::to_vec(bundle).unwrap(),
        &roots(sig),
        &Policy::new(APP, "main", &[]),
        Expected {
            digest,
            commit: COMMIT,
        },
    )
}

#[test]
fn a_bundle_verifies_and_names_the_build() {
    let sig = FakeSigstore::new().unwrap();
    let d = digest("the api image");
    let bundle = sig.attest(&app(), IMAGE, &d).unwrap();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let v = ours(&sig, &bundle, &d).unwrap();
    assert_eq!(
        v.signer_workflow,
        "https://github.com/xtp-tour/xtp-tour/.github/workflows/main.yaml@refs/heads/main"
    );
    assert_eq!(v.source_repository, "https://github.com/xtp-tour/xtp-tour");
    assert_eq!(v.source_ref, MAIN);
    assert_eq!(v.source_commit, COMMIT);
    assert_eq!(v.issuer, "https://token.actions.githubusercontent.com");
    assert_eq!(v.digest, d);
    assert_eq!(v.log_index, Some(0));
    assert!(!v.timestamped);
    let bundle =
        relay_provenance::verify_bundle(&serde_json::to_vec(&bundle).unwrap(), &roots(&sig))
            .unwrap();
    assert_eq!(bundle.statement.subject[0].name, IMAGE);
    assert_eq!(
        bundle.identity.run_invocation_uri.as_deref(),
        Some("https://github.com/xtp-tour/xtp-tour/actions/runs/4242/attempts/1")
    );
    assert_eq!(
        bundle.identity.runner_environment.as_deref(),
        Some("github-hosted")
    );
}

#[test]
fn the_log_grows_and_every_entry_proves_its_inclusion() {
    let sig = FakeSigstore::new().unwrap();
    for n in 0..5u64 {
        let d = digest(&format!("image {n}"));
        let bundle = sig.attest(&app(), IMAGE, &d).unwrap();
        let proof = &bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
        assert_eq!(proof["treeSize"], (n + 1).to_string());
        assert_eq!(ours(&sig, &bundle, &d).unwrap().log_index, Some(n));
    }
    assert_eq!(sig.log_size(), 5);
}

#[test]
fn another_fakes_bundles_do_not_chain_to_this_root() {
    let (a, b) = (FakeSigstore::new().unwrap(), FakeSigstore::new().unwrap());
    let d = digest("x");
    let bundle = b.attest(&app(), IMAGE, &d).unwrap();
    assert!(matches!(
        ours(&a, &bundle, &d),
        Err(Error::UntrustedCertificate { .. })
    ));
}

/// The npm peer's directory, or `None` (skipped; a failure under CI).
fn peers() -> Option<PathBuf> {
    let dir = relay_testkit::peers::workspace_root().join("crates/relay-provenance/tests/node");
    let install = "cd crates/relay-provenance/tests/node && npm ci";
    let ok = relay_testkit::peers::require_program("node", "apt-get install nodejs")
        && relay_testkit::peers::require(
            &dir.join("node_modules/@sigstore/verify/package.json"),
            install,
        );
    ok.then_some(dir)
}

struct Case {
    name: &'static str,
    bundle: Value,
    digest: String,
    /// What relay-provenance must answer.
    ours: fn(&Result<relay_provenance::Verified, Error>) -> bool,
}

#[test]
fn sigstore_js_and_relay_provenance_agree_case_by_case() {
    let Some(peers) = peers() else { return };
    let sig = FakeSigstore::new().unwrap();
    let other_ca = FakeSigstore::new().unwrap();
    let d = digest("the api image");
    let good = sig.attest(&app(), IMAGE, &d).unwrap();
    let mut tampered = good.clone();
    {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut st: Value = serde_json::from_slice(
            &b64.decode(good["dsseEnvelope"]["payload"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        st["subject"][0]["digest"]["sha256"] = json!(digest("another image")[7..]);
        tampered["dsseEnvelope"]["payload"] = json!(b64.encode(serde_json::to_vec(&st).unwrap()));
    }
    let mut bad_promise = good.clone();
    {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let entry = &mut bad_promise["verificationMaterial"]["tlogEntries"][0];
        let set = entry["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .unwrap();
        let mut set = b64.decode(set).unwrap();
        let last = set.len() - 1;
        set[last] ^= 1;
        entry["inclusionPromise"]["signedEntryTimestamp"] = json!(b64.encode(set));
    }
    let cases = vec![
        Case {
            name: "good",
            bundle: good.clone(),
            digest: d.clone(),
            ours: |r| r.is_ok(),
        },
        Case {
            name: "good-second-entry",
            bundle: sig.attest(&app(), IMAGE, &d).unwrap(),
            digest: d.clone(),
            ours: |r| r.is_ok(),
        },
        Case {
            name: "wrong-digest",
            bundle: good.clone(),
            digest: digest("another image"),
            ours: |r| matches!(r, Err(Error::Digest { .. })),
        },
        Case {
            name: "tampered-envelope",
            bundle: tampered,
            digest: digest("another image"),
            ours: |r| matches!(r, Err(Error::Signature { .. })),
        },
        Case {
            name: "tampered-promise",
            bundle: bad_promise,
            digest: d.clone(),
            ours: |r| matches!(r, Err(Error::TransparencyLog { .. })),
        },
        Case {
            name: "another-workflow",
            bundle: sig
                .attest(
                    &app().signed_by("stranger/tools", ".github/workflows/build.yml"),
                    IMAGE,
                    &d,
                )
                .unwrap(),
            digest: d.clone(),
            ours: |r| matches!(r, Err(Error::SignerWorkflow { .. })),
        },
        Case {
            name: "another-commit",
            bundle: sig
                .attest(
                    &BuildIdentity::new(APP, WORKFLOW, MAIN, &"0".repeat(40)),
                    IMAGE,
                    &d,
                )
                .unwrap(),
            digest: d.clone(),
            ours: |r| matches!(r, Err(Error::SourceCommit { .. })),
        },
        Case {
            name: "another-ca",
            bundle: other_ca.attest(&app(), IMAGE, &d).unwrap(),
            digest: d.clone(),
            ours: |r| matches!(r, Err(Error::UntrustedCertificate { .. })),
        },
    ];

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("trusted_root.json");
    std::fs::write(
        &root,
        serde_json::to_vec_pretty(&sig.trusted_root()).unwrap(),
    )
    .unwrap();
    let mut spec_cases = Vec::new();
    for c in &cases {
        let file = dir.path().join(format!("{}.json", c.name));
        std::fs::write(&file, serde_json::to_vec_pretty(&c.bundle).unwrap()).unwrap();
        spec_cases.push(json!({
            "name": c.name,
            "bundle": file,
            "san": app().san(),
            "repository": APP,
            "commit": COMMIT,
            "ref": MAIN,
            "digest": c.digest,
        }));
    }
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        serde_json::to_vec(&json!({ "peers": peers, "root": root, "cases": spec_cases })).unwrap(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/sigstore_js.cjs");
    let out = Command::new("node")
        .arg(&script)
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sigstore_js.cjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs.len(), cases.len());
    for (c, t) in cases.iter().zip(&theirs) {
        assert_eq!(t["name"], c.name);
        let r = ours(&sig, &c.bundle, &c.digest);
        assert!((c.ours)(&r), "{}: relay-provenance said {r:?}", c.name);
        assert_eq!(
            t["verified"].as_bool(),
            Some(r.is_ok()),
            "{}: @sigstore/verify said {}, relay-provenance {r:?}",
            c.name,
            t["error"]
        );
    }
    assert!(
        theirs[0]["verified"] == true && theirs[1]["verified"] == true,
        "{theirs:?}"
    );
}
