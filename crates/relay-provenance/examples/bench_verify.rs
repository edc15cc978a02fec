//! Verify time per image, offline: the real GitHub Actions attestation of
//! tests/data verified end to end (bundle + policy) against the embedded
//! public-good root, many times; prints the figures BENCHMARKS.md records.
//!
//!     cargo run --release -p relay-provenance --example bench_verify [rounds]

use std::time::{Duration, Instant};

use relay_provenance::{Expected, Policy, TrustedRoots, verify};

const BUNDLE: &[u8] = include_bytes!("../tests/data/reusable-workflow-attestation.sigstore.json");

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let start = Instant::now();
    let roots = TrustedRoots::embedded();
    let load = start.elapsed();
    let mut policy = Policy::new("malancas/attest-demo", "main", &[]);
    policy
        .signer_workflows
        .push("github/artifact-attestations-workflows/.github/workflows/attest.yml".into());
    let expected = Expected {
        digest: "sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25",
        commit: "95baf27389e83e6a5c48f42e190d48d7abcea19e",
    };
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            let v = verify(BUNDLE, &roots, &policy, expected);
            let took = t.elapsed();
            assert!(v.is_ok(), "{v:?}");
            took
        })
        .collect();
    times.sort();
    let pct = |p: usize| times[(times.len() - 1) * p / 100];
    println!("embedded trusted root parsed once: {load:.2?}");
    println!(
        "verify per image ({rounds} rounds): min {:.2?}, median {:.2?}, p95 {:.2?}, max {:.2?}",
        times[0],
        pct(50),
        pct(95),
        times[times.len() - 1]
    );
}
