//! Third-party peers the suite checks against. Under plain `cargo test` a
//! missing peer skips the test with a note; under CI (`CI=true`) it fails,
//! because `.ci/run` installs every peer.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// `peers/node_modules/<package>` of the repository, where `.ci/run` installs
/// the npm peers.
pub fn npm_package(package: &str) -> PathBuf {
    workspace_root().join("peers/node_modules").join(package)
}

/// True when `path` exists; otherwise skips (or, under CI, fails) with what to install.
pub fn require(path: &Path, install: &str) -> bool {
    if path.exists() {
        return true;
    }
    let in_ci = relay_runtime::Env::from_process()
        .get("CI")
        .is_some_and(|v| v == "true");
    assert!(
        !in_ci,
        "peer `{}` is missing under CI; install it: {install}",
        path.display()
    );
    eprintln!(
        "skipped: peer `{}` is not installed ({install})",
        path.display()
    );
    false
}

/// True when `program` is on PATH; otherwise skips (or, under CI, fails).
pub fn require_program(program: &str, install: &str) -> bool {
    let found = relay_runtime::Env::from_process()
        .get("PATH")
        .unwrap_or_default()
        .split(':')
        .any(|dir| Path::new(dir).join(program).is_file());
    if found {
        return true;
    }
    require(Path::new(program), install)
}

/// True when `python3` can import `module`; otherwise skips (or, under CI, fails).
pub fn require_python_module(module: &str, install: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    require(Path::new(&format!("python3 module {module}")), install)
}
