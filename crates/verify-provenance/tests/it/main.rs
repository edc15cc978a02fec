//! verify-provenance run as the runner runs it, against the fake GitHub
//! serving real Sigstore bundles: the ones GitHub Actions made (vendored in
//! relay-provenance) and ones `@sigstore/sign` signs against
//! `@sigstore/mock` with GitHub Actions' claims (the node peer of
//! relay-provenance; its mock CA's root is passed as `trusted-root`).
#![allow(clippy::unwrap_used)] // test support code outside #[test] fns

mod github;
mod inputs;
mod real;
mod signed;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_testkit::{ActionRun, Outcome};
use serde::Deserialize;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_verify-provenance");
/// The repository and commit the node peer signs for (the harness's own
/// repository is `octo/app` too).
pub const APP: &str = "octo/app";
pub const COMMIT: &str = "8c1f0b7d2e4a6c8e0f1a3b5c7d9e1f2a3b4c5d6e";

/// One bundle the node peer signed, as its `cases.json` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub name: String,
    pub bundle: String,
    /// `sha256:<hex>`: the digest the case is judged for.
    pub digest: String,
}

/// The peer's output, made once per test run.
pub struct Signed {
    pub dir: PathBuf,
    pub cases: Vec<Case>,
}

impl Signed {
    pub fn case(&self, name: &str) -> &Case {
        self.cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("sign.mjs wrote no case `{name}`"))
    }

    pub fn bundle(&self, name: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.dir.join(&self.case(name).bundle)).unwrap())
            .unwrap()
    }

    /// The mock CA's, log's and TSA's trusted root.
    pub fn root(&self) -> String {
        self.dir.join("trusted_root.json").display().to_string()
    }
}

/// Runs `sign.mjs` once; `None` (the test skips, or fails under CI) without
/// node or the peer's packages.
pub fn signed() -> Option<&'static Signed> {
    static SIGNED: OnceLock<Option<Signed>> = OnceLock::new();
    SIGNED
        .get_or_init(|| {
            let node =
                relay_testkit::peers::workspace_root().join("crates/relay-provenance/tests/node");
            let install = "cd crates/relay-provenance/tests/node && npm ci";
            let ok = relay_testkit::peers::require_program("node", "apt-get install nodejs")
                && relay_testkit::peers::require(
                    &node.join("node_modules/@sigstore/mock/package.json"),
                    install,
                );
            if !ok {
                return None;
            }
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("verify-provenance-signed-{}", std::process::id()));
            let out = Command::new("node")
                .current_dir(&node)
                .arg("sign.mjs")
                .arg(&dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "sign.mjs: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let cases =
                serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
            Some(Signed { dir, cases })
        })
        .as_ref()
}

pub fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo(APP, "main");
    gh
}

pub fn image(digest: &str) -> String {
    format!("ghcr.io/octo/app@{digest}")
}

/// The action for `APP@COMMIT`; the token is set and debug is on, so every
/// test also checks that the token never leaks.
pub fn action(gh: &FakeGitHub) -> ActionRun {
    ActionRun::new(BIN)
        .api(gh.url())
        .input("github-token", DEFAULT_TOKEN)
        .input("app-repository", APP)
        .input("sha", COMMIT)
        .env("RUNNER_DEBUG", "1")
}

pub fn run(a: ActionRun) -> Outcome {
    let out = a.run();
    out.assert_secret_hidden(DEFAULT_TOKEN);
    out
}

pub fn report(out: &Outcome) -> Value {
    serde_json::from_str(out.output("report")).unwrap()
}

/// The attestation listings the action asked for.
pub fn listings(gh: &FakeGitHub) -> Vec<relay_fakes::Recorded> {
    gh.requests()
        .into_iter()
        .filter(|r| r.path.contains("/attestations/"))
        .collect()
}
