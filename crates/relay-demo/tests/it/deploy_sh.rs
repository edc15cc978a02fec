//! The demo VM's deploy script on its own: what it refuses before it
//! touches anything, and shellcheck.

use std::path::Path;
use std::process::Command;

fn deploy_sh() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/vm/deploy.sh"))
}

/// Runs the script against an empty VM folder; the supervisor URL leads
/// nowhere, so any attempt to restart would fail loudly.
fn run(image: &str) -> (i32, String, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    for d in ["registry", "releases"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let out = Command::new(deploy_sh())
        .arg(image)
        .env("DEMO_REGISTRY", dir.join("registry"))
        .env("DEMO_RELEASES", dir.join("releases"))
        .env("DEMO_CURRENT", dir.join("current"))
        .env("DEMO_SUPERVISOR_URL", "http://127.0.0.1:9")
        .env("DEMO_SUPERVISOR_HEADER", dir.join("nope"))
        .env("DEMO_HEALTH_URL", "http://127.0.0.1:9/api/health")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text, dir)
}

#[test]
fn an_image_nobody_pushed_changes_nothing() {
    let (code, text, dir) = run(&format!(
        "ghcr.io/xtp-tour/xtp-tour/api@sha256:{}",
        "0".repeat(64)
    ));
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("the pull failed and nothing was changed"),
        "{text}"
    );
    assert!(!dir.join("current").exists(), "no release was switched to");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_reference_that_is_no_digest_changes_nothing() {
    for image in [
        "",
        "$(id)",
        "../../etc",
        "0547977aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "ghcr.io/xtp-tour/xtp-tour/api:latest",
        "ghcr.io/x/api@sha256:../../etc",
        "-rf",
    ] {
        let (code, text, dir) = run(image);
        assert_eq!(code, 2, "{image}: {text}");
        assert!(!dir.join("current").exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn shellcheck_is_clean() {
    if !relay_testkit::peers::require_program("shellcheck", "apt-get install -y shellcheck") {
        return;
    }
    let out = Command::new("shellcheck")
        .arg(deploy_sh())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
