//! The whole path a deploy takes: the attestations GitHub lists for a
//! digest (the fake GitHub, through relay-github's typed call), each
//! verified until one passes.

use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_github::{GitHub, Token};
use relay_provenance::{Error, Expected, Policy, TrustedRoots, verify_any};
use relay_runtime::{Console, Env, RepoName, Secret, vars};
use serde_json::Value;

use super::real::{REUSABLE, data};

const APP: &str = "malancas/attest-demo";
const DIGEST: &str = "sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25";
const COMMIT: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";

fn listed(gh: &FakeGitHub, digest: &str) -> Result<Vec<Vec<u8>>, relay_github::Error> {
    let env = Env::from_pairs([(vars::GITHUB_API_URL, gh.url())]);
    let client = GitHub::new(
        &env,
        Console::capture().0,
        Some(Token::new(Secret::new(DEFAULT_TOKEN))),
    )
    .unwrap();
    let repo = RepoName::parse(APP).unwrap();
    let list = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.attestations(&repo, digest, Some("provenance")))?;
    Ok(list
        .into_iter()
        .filter_map(|a| a.bundle)
        .map(|b| serde_json::to_vec(&b).unwrap())
        .collect())
}

fn policy() -> Policy {
    let mut p = Policy::new(APP, "main", &[]);
    p.signer_workflows
        .push("github/artifact-attestations-workflows/.github/workflows/attest.yml".into());
    p
}

#[test]
fn the_listed_attestation_that_verifies_is_the_answer() {
    let gh = FakeGitHub::start();
    gh.repo(APP, "main");
    let real: Value = serde_json::from_slice(&data(REUSABLE)).unwrap();
    let mut forged = real.clone();
    forged["dsseEnvelope"]["signatures"][0]["sig"] = "MEUCIQ==".into();
    gh.add_attestation(APP, DIGEST, forged);
    gh.add_attestation(APP, DIGEST, real);
    let bundles = listed(&gh, DIGEST).unwrap();
    assert_eq!(bundles.len(), 2);
    let expected = Expected {
        digest: DIGEST,
        commit: COMMIT,
    };
    let v = verify_any(
        bundles.iter().map(Vec::as_slice),
        &TrustedRoots::embedded(),
        &policy(),
        expected,
    )
    .unwrap();
    assert_eq!(v.source_commit, COMMIT);

    // Only the forged one: refused, with its reason.
    match verify_any(
        bundles[..1].iter().map(Vec::as_slice),
        &TrustedRoots::embedded(),
        &policy(),
        expected,
    ) {
        Err(Error::NoneVerified { refusals, .. }) => {
            assert!(
                matches!(refusals[..], [Error::Signature { .. }]),
                "{refusals:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_digest_without_attestations_is_a_404_and_no_attestation() {
    let gh = FakeGitHub::start();
    gh.repo(APP, "main");
    let e = listed(&gh, DIGEST).unwrap_err();
    assert_eq!(e.status(), Some(404));
    let none = verify_any(
        std::iter::empty(),
        &TrustedRoots::embedded(),
        &policy(),
        Expected {
            digest: DIGEST,
            commit: COMMIT,
        },
    )
    .unwrap_err();
    assert!(matches!(none, Error::NoAttestation { .. }));
    let text = none.to_string();
    assert!(text.contains("actions/attest-build-provenance"), "{text}");
    assert!(
        text.contains("id-token: write, attestations: write"),
        "{text}"
    );
}
