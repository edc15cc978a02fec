//! Throwaway GitHub App keys, made by the `openssl` command line (a peer
//! `.ci/run` installs) at test time, so no private key is ever committed.

use std::process::Command;
use std::sync::OnceLock;

use crate::peers;

/// One RSA key as a GitHub App has it: the PKCS#1 PEM GitHub downloads,
/// the same key as PKCS#8, and its public half (what GitHub keeps).
#[derive(Debug, Clone)]
pub struct AppKeys {
    pub pkcs1: String,
    pub pkcs8: String,
    pub public: String,
}

fn openssl(args: &[&str], input: Option<&str>) -> String {
    use std::io::Write as _;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run openssl");
    if let Some(input) = input {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write to openssl");
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("openssl output");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("PEM is text")
}

impl AppKeys {
    /// A new 2048-bit key; `None` (skipped) when openssl is not installed
    /// outside CI.
    pub fn generate() -> Option<Self> {
        if !peers::require_program("openssl", "apt-get install openssl") {
            return None;
        }
        let pkcs1 = openssl(&["genrsa", "-traditional", "2048"], None);
        let pkcs8 = openssl(&["pkcs8", "-topk8", "-nocrypt"], Some(&pkcs1));
        let public = openssl(&["rsa", "-pubout"], Some(&pkcs1));
        Some(Self {
            pkcs1,
            pkcs8,
            public,
        })
    }

    /// One key per test binary (RSA key generation takes a while).
    pub fn shared() -> Option<&'static Self> {
        static KEYS: OnceLock<Option<AppKeys>> = OnceLock::new();
        KEYS.get_or_init(Self::generate).as_ref()
    }

    /// A second key, for "signed with the wrong key".
    pub fn other() -> Option<&'static Self> {
        static KEYS: OnceLock<Option<AppKeys>> = OnceLock::new();
        KEYS.get_or_init(Self::generate).as_ref()
    }
}

/// A GitHub App registered with a fake GitHub: its ids and keys. Made by
/// [`TestApp::register`], which needs openssl (the key) and python3 with
/// PyJWT (the fake's verifier); without them it skips (or fails under CI).
#[derive(Debug, Clone)]
pub struct TestApp {
    pub id: u64,
    pub client_id: String,
    pub keys: &'static AppKeys,
}

impl TestApp {
    /// Registers an App with `gh`; `None` when a peer is missing outside CI.
    pub fn register(gh: &relay_fakes::FakeGitHub) -> Option<Self> {
        if !peers::require_python_module("jwt", "pip install 'PyJWT[crypto]'") {
            return None;
        }
        let keys = AppKeys::shared()?;
        let app = Self {
            id: 424242,
            client_id: "Iv23liDeployRelayTest".into(),
            keys,
        };
        gh.app(relay_fakes::AppSeed {
            id: app.id,
            client_id: app.client_id.clone(),
            slug: "deploy-relay-test".into(),
            public_key: keys.public.clone(),
        });
        Some(app)
    }

    /// Installs the App on `repos` of `account` with `permissions`.
    pub fn install(
        &self,
        gh: &relay_fakes::FakeGitHub,
        account: &str,
        repos: &[&str],
        permissions: &[(&str, &str)],
    ) -> u64 {
        gh.install(
            self.id,
            relay_fakes::InstallationSeed::new(account, repos, permissions),
        )
    }

    /// The App's credentials as an action takes them (the client id and the
    /// PKCS#1 key GitHub downloads).
    pub fn inputs(&self, run: crate::ActionRun) -> crate::ActionRun {
        run.input("github-app-id", &self.client_id)
            .input("github-app-private-key", &self.keys.pkcs1)
    }
}
