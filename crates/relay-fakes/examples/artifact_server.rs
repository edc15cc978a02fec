//! The fakes a relay benchmark runs against: GitHub's REST side and the
//! results service with its blob store, with one artifact (the zip at
//! argv[1], named argv[2]) in run 4242 of `octo/build`. Prints one JSON
//! line with what a client needs, then serves until stdin closes. With
//! `discard` as argv[3], uploads are counted and dropped, not kept.
//!
//!     cargo run --release -p relay-fakes --example artifact_server -- build.zip web [discard]

use std::io::Read as _;

use relay_fakes::ArtifactSeed;
use relay_fakes::FakeArtifacts;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(zip), Some(name)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: artifact_server <zip> <artifact-name>");
        std::process::exit(2);
    };
    let bytes = std::fs::read(zip).expect("read the zip");
    let size = bytes.len() as u64;
    let gh = FakeGitHub::start();
    gh.repo("octo/build", "main");
    let art = FakeArtifacts::start();
    if args.get(3).is_some_and(|a| a == "discard") {
        art.discard_uploads();
    }
    let (_, url, digest) = art.seed("src-run", name, bytes);
    let id = gh.add_artifact(
        "octo/build",
        4242,
        ArtifactSeed::new(name, &url, size).digest(&digest),
    );
    let info = serde_json::json!({
        "api_url": gh.url(),
        "results_url": art.url(),
        "github_token": DEFAULT_TOKEN,
        "runtime_token": FakeArtifacts::runtime_token("cur-run", "cur-job"),
        "repository": "octo/build",
        "run_id": 4242,
        "artifact_id": id,
        "download_url": url,
        "raw_upload_url": art.blob_url("raw-run", "raw-copy"),
    });
    println!("{info}");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
