//! The action's cost per image, as the runner runs it: the binary started
//! against the fake GitHub on loopback, listing a real GitHub Actions
//! attestation (relay-provenance's tests/data) and verifying it against
//! the embedded roots, compared with the same run under `provenance: off`
//! (process start, inputs, outputs, no request); prints the figures
//! BENCHMARKS.md records.
//!
//!     cargo build --release -p verify-provenance
//!     cargo run --release -p verify-provenance --example bench_action -- target/release/verify-provenance [rounds]

use std::time::Duration;

use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_testkit::ActionRun;

const REPO: &str = "malancas/attest-demo";
const DIGEST: &str = "sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25";
const BUNDLE: &[u8] =
    include_bytes!("../../relay-provenance/tests/data/reusable-workflow-attestation.sigstore.json");

fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args
        .next()
        .unwrap_or_else(|| "target/release/verify-provenance".into());
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(50);
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    let bundle = serde_json::from_slice(BUNDLE).unwrap_or_else(|e| panic!("bundle: {e}"));
    gh.add_attestation(REPO, DIGEST, bundle);
    let images = |n: usize| {
        (0..n)
            .map(|i| format!("app{i}=ghcr.io/malancas/attest-demo@{DIGEST}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let time = |mode: &str, n: usize| {
        let mut times: Vec<Duration> = (0..rounds)
            .map(|_| {
                let out = ActionRun::new(&bin)
                    .api(gh.url())
                    .input("github-token", DEFAULT_TOKEN)
                    .input("app-repository", REPO)
                    .input("sha", "95baf27389e83e6a5c48f42e190d48d7abcea19e")
                    .input("provenance", mode)
                    .input("default-branch", "main")
                    .input(
                        "allowed-signer-workflows",
                        "github/artifact-attestations-workflows/.github/workflows/attest.yml",
                    )
                    .input("images", &images(n))
                    .run();
                assert_eq!(out.code, 0, "{}", out.log());
                out.elapsed
            })
            .collect();
        times.sort();
        let pct = |p: usize| times[(times.len() - 1) * p / 100];
        println!(
            "provenance: {mode:<7} {n} image(s), {rounds} runs: min {:.2?}, median {:.2?}, p95 {:.2?}",
            times[0],
            pct(50),
            pct(95)
        );
    };
    time("off", 1);
    time("require", 1);
    time("off", 1);
    time("require", 1);
}
