//! GitHub's official client on both ends: `@actions/artifact` uploads into a
//! source run of the fake results service, the action relays it, and the
//! official client downloads the re-upload from the current run.

use std::path::PathBuf;
use std::process::Command;

use relay_fakes::ArtifactSeed;

use super::*;

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../relay-artifacts/tests/node")
}

fn peer(w: &World, run: &str, args: &[&str]) -> Value {
    let out = Command::new("node")
        .current_dir(node_dir())
        .arg("peer.mjs")
        .args(args)
        .env("ACTIONS_RESULTS_URL", format!("{}/", w.art.url()))
        .env(
            "ACTIONS_RUNTIME_TOKEN",
            FakeArtifacts::runtime_token(run, "job-1"),
        )
        .env("GITHUB_WORKSPACE", std::env::temp_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "peer {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().rev().find(|l| l.starts_with('{')).unwrap()).unwrap()
}

#[test]
fn official_upload_relayed_by_the_action_then_official_download_matches() {
    if !relay_testkit::peers::require_program("node", "apt-get install nodejs")
        || !relay_testkit::peers::require(
            &node_dir().join("node_modules/@actions/artifact"),
            "cd crates/relay-artifacts/tests/node && npm ci",
        )
    {
        return;
    }
    let w = world();
    let src = tempfile::tempdir().unwrap();
    let app: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::create_dir_all(src.path().join("dist")).unwrap();
    std::fs::write(src.path().join("dist/app.js"), &app).unwrap();
    std::fs::write(src.path().join("index.html"), b"<h1>hi</h1>").unwrap();
    let root = src.path().to_str().unwrap();
    let files = [format!("{root}/dist/app.js"), format!("{root}/index.html")];
    peer(
        &w,
        SRC_RUN,
        &["upload", "frontend-build", root, &files[0], &files[1]],
    );

    // What GitHub's REST side would list for that upload.
    let stored = w
        .art
        .artifacts(SRC_RUN)
        .into_iter()
        .find(|a| a.name == "frontend-build")
        .unwrap();
    let url = w.art.blob_url(SRC_RUN, "frontend-build");
    let seed = ArtifactSeed::new("frontend-build", &url, stored.size)
        .digest(stored.hash.as_deref().unwrap());
    w.gh.add_artifact(SOURCE, RUN, seed);

    let out = run(w.action());
    out.assert_success();
    assert!(out.summary.contains("matches"), "{}", out.summary);
    let ours = out.workspace.join("artifacts/frontend-build");
    assert_eq!(std::fs::read(ours.join("dist/app.js")).unwrap(), app);

    let down = tempfile::tempdir().unwrap();
    let got = peer(
        &w,
        CUR_RUN,
        &[
            "download",
            "deploy-frontend-build-9f86d08",
            down.path().to_str().unwrap(),
        ],
    );
    assert_eq!(got["digestMismatch"], false, "{got}");
    assert_eq!(std::fs::read(down.path().join("dist/app.js")).unwrap(), app);
    assert_eq!(
        std::fs::read(down.path().join("index.html")).unwrap(),
        b"<h1>hi</h1>"
    );
}
