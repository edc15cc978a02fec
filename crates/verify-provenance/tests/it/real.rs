//! A real attestation GitHub Actions made with the public-good Sigstore
//! instance (vendored in relay-provenance), verified against the embedded
//! root: no `trusted-root`, no node.

use super::*;

const REPO: &str = "malancas/attest-demo";
const DIGEST: &str = "sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25";
const BUILT: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";
/// It was signed by a reusable workflow of another repository.
const SIGNER: &str = "github/artifact-attestations-workflows/.github/workflows/attest.yml";
/// The reusable workflow is pinned by commit in the certificate's SAN.
const SIGNER_AT: &str = "09b495c3f12c7881b3cc17209a327792065c1a1d";

fn served() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    let path = relay_testkit::peers::workspace_root()
        .join("crates/relay-provenance/tests/data/reusable-workflow-attestation.sigstore.json");
    gh.add_attestation(
        REPO,
        DIGEST,
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap(),
    );
    gh
}

fn action_for(gh: &FakeGitHub) -> ActionRun {
    action(gh)
        .input("app-repository", REPO)
        .input("sha", BUILT)
        .input("environment", "production")
        .input(
            "images",
            &format!("app=ghcr.io/malancas/attest-demo@{DIGEST}"),
        )
}

#[test]
fn a_real_attestation_verifies_against_the_embedded_public_good_root() {
    let gh = served();
    let out = run(action_for(&gh).input("allowed-signer-workflows", SIGNER));
    out.assert_success();
    let app = &report(&out)["images"][0];
    assert_eq!(app["verdict"], "verified");
    assert_eq!(
        app["signer_workflow"],
        format!("https://github.com/{SIGNER}@{SIGNER_AT}")
    );
    assert_eq!(
        app["source_repository"],
        format!("https://github.com/{REPO}")
    );
    assert_eq!(app["source_ref"], "refs/heads/main");
    assert_eq!(app["source_commit"], BUILT);
    assert!(app["log_index"].as_u64().unwrap() > 0, "{app}");
    assert_eq!(app["root"], "embedded: sigstore public-good");
    assert!(
        out.summary
            .contains("### Provenance verified: 1 of 1 image(s)"),
        "{}",
        out.summary
    );
}

#[test]
fn by_default_only_the_app_repositorys_own_workflows_may_sign() {
    let gh = served();
    let out = run(action_for(&gh));
    out.assert_failure();
    let error = out.error();
    assert!(
        error.contains(&format!(
            "signed by workflow `https://github.com/{SIGNER}@{SIGNER_AT}`"
        )) && error.contains(&format!("({REPO}/.github/workflows/*)")),
        "{error}"
    );
}

#[test]
fn another_commit_is_refused() {
    let gh = served();
    let out = run(action_for(&gh)
        .input("allowed-signer-workflows", SIGNER)
        .input("sha", &"1".repeat(40)));
    out.assert_failure();
    assert!(
        out.error()
            .contains(&format!("built from commit `{BUILT}`")),
        "{}",
        out.error()
    );
}
