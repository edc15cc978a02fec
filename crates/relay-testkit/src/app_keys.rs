//! Throwaway GitHub App keys, made by the `openssl` command line (a peer
//! `.ci/run` installs) at test time, so no private key is ever committed.

use std::process::Command;
use std::sync::OnceLock;

use crate::peers;

/// One RSA key as a GitHub App has it: the PKCS#1 PEM GitHub downloads,
/// the same key as PKCS#8, and its public half (what GitHub keeps).
#[derive(Debug, Clone)]
pub struct AppKeys {
    /// The private key as GitHub hands it out (`BEGIN RSA PRIVATE KEY`).
    pub pkcs1: String,
    /// The same private key as PKCS#8 (`BEGIN PRIVATE KEY`).
    pub pkcs8: String,
    /// The public key, PEM.
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
/// `PyJWT` (the fake's verifier); without them it skips (or fails under CI).
#[derive(Debug, Clone)]
pub struct TestApp {
    /// The App's id.
    pub id: u64,
    /// The App's client id (an `Iv23…` string).
    pub client_id: String,
    /// Its keys, shared by every test App of the process.
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
            id: 424_242,
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

/// A permission-table row: per repository, the permissions (`name`,
/// `read`|`write`) one token needs there.
pub type Grants = Vec<(String, Permissions)>;

/// `(name, read|write)` pairs.
pub type Permissions = Vec<(String, String)>;

/// One token's scope: its repositories and permissions.
type Scope = (Vec<String>, Permissions);

/// Per owner: its repositories and the union of their permissions.
type Owners<'a> = std::collections::BTreeMap<&'a str, (Vec<&'a str>, Vec<(&'a str, &'a str)>)>;

/// `grants` from literals.
pub fn grants(rows: &[(&str, &[(&str, &str)])]) -> Grants {
    rows.iter()
        .map(|(repo, perms)| {
            (
                (*repo).to_owned(),
                perms
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        })
        .collect()
}

impl TestApp {
    /// Installs the App so that it holds exactly `grants`: one installation
    /// per owner, on the owner's repositories of `grants`, with the union
    /// of their permissions (an installation's permissions cover all its
    /// repositories).
    pub fn install_exactly(&self, gh: &relay_fakes::FakeGitHub, grants: &Grants) {
        let mut owners = Owners::new();
        for (repo, perms) in grants {
            let owner = repo.split('/').next().unwrap_or_default();
            let entry = owners.entry(owner).or_default();
            if !entry.0.contains(&repo.as_str()) {
                entry.0.push(repo);
            }
            for (k, v) in perms {
                match entry.1.iter_mut().find(|(name, _)| name == k) {
                    Some(slot) if v == "write" => slot.1 = "write",
                    Some(_) => {}
                    None => entry.1.push((k, v)),
                }
            }
        }
        for (owner, (repos, perms)) in owners {
            self.install(gh, owner, &repos, &perms);
        }
    }
}

/// Asserts that the tokens `gh` issued are exactly one per row of `grants`
/// (those repositories, those permissions: least privilege) and that every
/// one of them was revoked when the action ended.
pub fn assert_minted_exactly(gh: &relay_fakes::FakeGitHub, grants: &Grants) {
    let mut issued: Vec<Scope> = gh
        .issued_tokens()
        .iter()
        .map(|t| {
            assert!(
                t.revoked,
                "token for {:?} was not revoked when the action ended",
                t.repos
            );
            (t.repos.clone(), t.permissions.clone().into_iter().collect())
        })
        .collect();
    let mut want: Vec<Scope> = grants
        .iter()
        .map(|(repo, perms)| {
            let mut perms = perms.clone();
            perms.sort();
            (vec![repo.clone()], perms)
        })
        .collect();
    issued.sort();
    want.sort();
    assert_eq!(
        issued, want,
        "the tokens minted are not exactly the table's row"
    );
}

/// Every way to take one permission away from `grants`: the permission
/// removed (`name: level` on `repo`) and what is left.
pub fn one_fewer(grants: &Grants) -> Vec<(String, Grants)> {
    let mut out = Vec::new();
    for (i, (repo, perms)) in grants.iter().enumerate() {
        for (j, (k, v)) in perms.iter().enumerate() {
            // The same permission on another repository of the owner would
            // keep it in the installation: take it from every row.
            let owner = repo.split('/').next().unwrap_or_default();
            let fewer: Grants = grants
                .iter()
                .enumerate()
                .map(|(x, (r, ps))| {
                    let same_owner = r.split('/').next() == Some(owner);
                    let ps = ps
                        .iter()
                        .enumerate()
                        .filter(|(y, (name, _))| {
                            !((x == i && *y == j) || (same_owner && name == k))
                        })
                        .map(|(_, p)| p.clone())
                        .collect();
                    (r.clone(), ps)
                })
                .collect();
            out.push((format!("{k}: {v}"), fewer));
        }
    }
    out
}
