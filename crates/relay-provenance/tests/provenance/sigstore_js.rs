//! Our verdict equals Sigstore's own JavaScript verifier's, case by case:
//! on bundles `@sigstore/sign` makes against `@sigstore/mock` (Fulcio with
//! GitHub Actions' claims, Rekor, TSA), and on the real bundles and their
//! alterations. Skipped with a note when the npm peers are missing (fails
//! under CI=true): `cd crates/relay-provenance/tests/node && npm ci`.

use std::path::{Path, PathBuf};
use std::process::Command;

use relay_provenance::{Error, Expected, Policy, TrustedRoots, verify, verify_bundle};
use serde::Deserialize;

const INSTALL: &str = "cd crates/relay-provenance/tests/node && npm ci";

fn node_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let ok = relay_testkit::peers::require_program("node", "apt-get install nodejs")
        && relay_testkit::peers::require(
            &dir.join("node_modules/@sigstore/verify/package.json"),
            INSTALL,
        )
        && relay_testkit::peers::require(
            &dir.join("node_modules/@sigstore/mock/package.json"),
            INSTALL,
        );
    ok.then_some(dir)
}

fn node(dir: &Path, args: &[&Path]) -> String {
    let out = Command::new("node")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "node {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[derive(Deserialize)]
struct Case {
    name: String,
    bundle: String,
    digest: String,
    commit: String,
    sigstore: Verdict,
}

#[derive(Deserialize)]
struct Verdict {
    verified: bool,
    error: Option<String>,
}

/// What our verifier must answer for each case `sign.mjs` writes.
fn ours_expected(name: &str) -> fn(&Result<relay_provenance::Verified, Error>) -> bool {
    match name {
        "good" | "good-log-and-timestamp" | "good-timestamp-only" => |r| r.is_ok(),
        "wrong-digest" => |r| matches!(r, Err(Error::Digest { .. })),
        "wrong-workflow" => |r| matches!(r, Err(Error::SignerWorkflow { .. })),
        "wrong-ref" | "hostile-ref" => |r| matches!(r, Err(Error::Ref { .. })),
        "wrong-commit" => |r| matches!(r, Err(Error::SourceCommit { .. })),
        "tampered-envelope" => |r| matches!(r, Err(Error::Signature { .. })),
        "expired-certificate" => |r| matches!(r, Err(Error::CertificateNotValidAtSigning { .. })),
        "another-ca" => |r| matches!(r, Err(Error::UntrustedCertificate { .. })),
        "missing-log-entry" => |r| matches!(r, Err(Error::NoSignedTime)),
        "tampered-timestamp" => |r| matches!(r, Err(Error::Timestamp { .. })),
        other => panic!("sign.mjs wrote a case this test does not know: {other}"),
    }
}

#[test]
fn our_verdicts_equal_sigstore_js_on_bundles_it_signs() {
    let Some(dir) = node_dir() else { return };
    let out = tempfile::tempdir().unwrap();
    node(&dir, &[Path::new("sign.mjs"), out.path()]);
    let cases: Vec<Case> =
        serde_json::from_slice(&std::fs::read(out.path().join("cases.json")).unwrap()).unwrap();
    assert_eq!(cases.len(), 13, "every case was written");
    let roots = TrustedRoots::from_files(&[out.path().join("trusted_root.json")]).unwrap();
    let policy = Policy::new("octo/app", "main", &[]);
    let mut table = Vec::new();
    for case in &cases {
        let bundle = std::fs::read(out.path().join(&case.bundle)).unwrap();
        let ours = verify(
            &bundle,
            &roots,
            &policy,
            Expected {
                digest: &case.digest,
                commit: &case.commit,
            },
        );
        let theirs = &case.sigstore;
        table.push(format!(
            "{:<24} ours: {:<60} sigstore-js: {}",
            case.name,
            match &ours {
                Ok(_) => "verified".to_owned(),
                Err(e) => e
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(60)
                    .collect(),
            },
            theirs.error.as_deref().unwrap_or("verified")
        ));
        assert_eq!(
            ours.is_ok(),
            theirs.verified,
            "{}: ours {ours:?}, sigstore-js {:?}",
            case.name,
            theirs.error
        );
        assert!(ours_expected(&case.name)(&ours), "{}: {ours:?}", case.name);
    }
    eprintln!("{}", table.join("\n"));
}

#[test]
fn our_verdicts_equal_sigstore_js_on_real_bundles_and_their_alterations() {
    let Some(dir) = node_dir() else { return };
    let out = tempfile::tempdir().unwrap();
    let root = out.path().join("trusted_root.json");
    std::fs::write(&root, relay_provenance::PUBLIC_GOOD).unwrap();
    let mut files = Vec::new();
    let mut bundles = vec![("real".to_owned(), super::real::data(super::real::REUSABLE))];
    for name in [
        "sigstore-js-2.1.0-bundle.json",
        "sigstore-js-2.1.0-bundle-v0.1.json",
        "custom-issuer.sigstore.json",
    ] {
        bundles.push((name.to_owned(), super::real::data(name)));
    }
    for (what, bundle, _) in super::real::alterations() {
        bundles.push((what.to_owned(), bundle));
    }
    for (i, (_, bundle)) in bundles.iter().enumerate() {
        let f = out.path().join(format!("{i}.json"));
        std::fs::write(&f, bundle).unwrap();
        files.push(f);
    }
    let mut args: Vec<&Path> = vec![Path::new("verify.mjs"), &root];
    args.extend(files.iter().map(PathBuf::as_path));
    let theirs: Vec<Verdict> = serde_json::from_str(&node(&dir, &args)).unwrap();
    let roots = TrustedRoots::embedded();
    let mut accepted = 0;
    for ((what, bundle), theirs) in bundles.iter().zip(&theirs) {
        let ours = verify_bundle(bundle, &roots);
        assert_eq!(
            ours.is_ok(),
            theirs.verified,
            "{what}: ours {:?}, sigstore-js {:?}",
            ours.err(),
            theirs.error
        );
        accepted += usize::from(theirs.verified);
    }
    assert_eq!(
        accepted, 4,
        "the four real bundles verify, no alteration does"
    );
}

#[test]
fn the_embedded_root_is_the_one_sigstore_tuf_pins() {
    use base64::Engine as _;
    let Some(dir) = node_dir() else { return };
    let seeds: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("node_modules/@sigstore/tuf/seeds.json")).unwrap(),
    )
    .unwrap();
    let target = seeds["https://tuf-repo-cdn.sigstore.dev"]["targets"]["trusted_root.json"]
        .as_str()
        .unwrap();
    let pinned = base64::engine::general_purpose::STANDARD
        .decode(target)
        .unwrap();
    assert!(
        pinned == relay_provenance::PUBLIC_GOOD,
        "the embedded root differs from @sigstore/tuf's; re-embed it and record the new sha256"
    );
}
