//! GitHub Apps: their installations, the installation tokens they mint and
//! revoke, as GitHub's REST description defines the three endpoints
//! (`apps/get-repo-installation`, `apps/create-installation-access-token`,
//! `apps/revoke-installation-access-token`). The App's JWT is checked by
//! [`super::jwt`] (`PyJWT`); every token issued is recorded with its scope,
//! expiry and whether it was revoked, so tests can assert least privilege.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{Extension, Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::FakeGitHub;
use super::deployments::{now, user};
use super::grants::{Grant, TokenKind};
use super::jwt::Verifier;
use super::server::{Caller, Shared, error, lock, not_found, unprocessable};

/// A GitHub App the fake knows: its ids and its public key (what GitHub
/// keeps of the key pair).
#[derive(Debug, Clone)]
pub struct AppSeed {
    /// The App's numeric id; a JWT's `iss` may name it.
    pub id: u64,
    /// The App's client id; a JWT's `iss` may name it instead.
    pub client_id: String,
    /// The App's URL name, answered as the installation's `app_slug`.
    pub slug: String,
    /// PEM `PUBLIC KEY`.
    pub public_key: String,
}

/// A new App key pair, as GitHub generates one for an App: the PKCS#1 PEM
/// private key its owner downloads, and the public half GitHub keeps. Made
/// at run time (2048-bit RSA, `RustCrypto`'s `rsa`), so no key is committed.
pub struct AppKeyPair {
    /// `-----BEGIN RSA PRIVATE KEY-----`: what goes in the App's secret.
    pub private_pem: String,
    /// `-----BEGIN PUBLIC KEY-----`: what [`AppSeed::public_key`] takes.
    pub public_pem: String,
}

impl AppKeyPair {
    /// A fresh key pair; fails only if the system has no randomness.
    pub fn generate() -> Result<Self, String> {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| format!("couldn't make an RSA key: {e}"))?;
        let private_pem = key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| format!("couldn't encode the RSA key: {e}"))?
            .to_string();
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| format!("couldn't encode the public key: {e}"))?;
        Ok(Self {
            private_pem,
            public_pem,
        })
    }
}

impl std::fmt::Debug for AppKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKeyPair").finish_non_exhaustive()
    }
}

/// An installation of an App on an account.
#[derive(Debug, Clone)]
pub struct InstallationSeed {
    /// The user or organisation it is installed on.
    pub account: String,
    /// `None`: all of the account's repositories; else these `owner/repo`s.
    pub repos: Option<Vec<String>>,
    /// What the App was granted there: permission → `read` | `write`.
    pub permissions: BTreeMap<String, String>,
}

impl InstallationSeed {
    /// Installed on these repositories of `account` with `permissions`.
    pub fn new(account: &str, repos: &[&str], permissions: &[(&str, &str)]) -> Self {
        Self {
            account: account.into(),
            repos: Some(repos.iter().map(|r| (*r).to_owned()).collect()),
            permissions: permissions
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// One installation token the fake issued.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token itself (`ghs_…`); the fake accepts it until it expires
    /// or is revoked.
    pub token: String,
    /// The installation it was minted for.
    pub installation: u64,
    /// The repositories it reaches, `owner/repo`.
    pub repos: Vec<String>,
    /// permission → `read` | `write`: what the request asked for, else
    /// all the installation was granted.
    pub permissions: BTreeMap<String, String>,
    /// When it stops working.
    pub expires_at: SystemTime,
    /// Whether `DELETE /installation/token` revoked it.
    pub revoked: bool,
}

#[derive(Debug, Clone)]
struct Installation {
    id: u64,
    app: u64,
    seed: InstallationSeed,
}

pub(crate) struct Apps {
    /// The Apps registered, with the public keys their JWTs verify against.
    seeds: Vec<AppSeed>,
    installations: Vec<Installation>,
    pub(crate) issued: Vec<IssuedToken>,
    /// How long an issued token lasts (GitHub: an hour).
    lifetime: Duration,
    verifier: Option<Verifier>,
    /// JWTs refused, by GitHub's message.
    pub(crate) refused: Vec<&'static str>,
}

impl Default for Apps {
    fn default() -> Self {
        Self {
            seeds: Vec::new(),
            installations: Vec::new(),
            issued: Vec::new(),
            lifetime: Duration::from_hours(1),
            verifier: None,
            refused: Vec::new(),
        }
    }
}

impl Apps {
    /// The App a JWT speaks for, or GitHub's refusal.
    pub(crate) fn verify(&mut self, jwt: &str) -> Result<u64, Response> {
        let mut keys = BTreeMap::new();
        for app in &self.seeds {
            keys.insert(app.id.to_string(), app.public_key.clone());
            keys.insert(app.client_id.clone(), app.public_key.clone());
        }
        match super::jwt::verify(&mut self.verifier, jwt, &keys) {
            Ok(iss) => self
                .seeds
                .iter()
                .find(|a| a.id.to_string() == iss || a.client_id == iss)
                .map(|a| a.id)
                .ok_or_else(|| {
                    error(
                        StatusCode::UNAUTHORIZED,
                        "A JSON web token could not be decoded",
                    )
                }),
            Err(refusal) => {
                self.refused.push(refusal.message());
                Err(error(StatusCode::UNAUTHORIZED, refusal.message()))
            }
        }
    }

    /// The grant of an issued token: `Err` when it is unknown here,
    /// `Ok(None)` when it expired or was revoked.
    pub(crate) fn grant(&self, token: &str) -> Result<Option<Grant>, ()> {
        let issued = self.issued.iter().find(|t| t.token == token).ok_or(())?;
        if issued.revoked || issued.expires_at <= SystemTime::now() {
            return Ok(None);
        }
        let repos: Vec<&str> = issued.repos.iter().map(String::as_str).collect();
        let permissions: Vec<(&str, &str)> = issued
            .permissions
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Ok(Some(Grant::with(
            TokenKind::Installation,
            &repos,
            &permissions,
        )))
    }

    fn covers(installation: &Installation, repo: &str) -> bool {
        let owner = repo.split('/').next().unwrap_or_default();
        owner.eq_ignore_ascii_case(&installation.seed.account)
            && installation
                .seed
                .repos
                .as_ref()
                .is_none_or(|r| r.iter().any(|x| x.eq_ignore_ascii_case(repo)))
    }
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/repos/{owner}/{repo}/installation", get(repo_installation))
        .route("/app/installations/{id}/access_tokens", post(create_token))
        .route("/installation/token", delete(revoke))
}

fn jwt_required() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "A JSON web token could not be decoded",
    )
}

fn view(base: &str, i: &Installation, app: &AppSeed) -> Value {
    let account = user(&i.seed.account);
    json!({
        "id": i.id,
        "account": account,
        "repository_selection": if i.seed.repos.is_some() { "selected" } else { "all" },
        "access_tokens_url": format!("{base}/app/installations/{}/access_tokens", i.id),
        "repositories_url": format!("{base}/installation/repositories"),
        "html_url": format!("https://github.com/organizations/{}/settings/installations/{}", i.seed.account, i.id),
        "app_id": app.id,
        "app_slug": app.slug,
        "client_id": app.client_id,
        "target_id": account["id"],
        "target_type": "Organization",
        "permissions": i.seed.permissions,
        "events": [],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "single_file_name": null,
        "has_multiple_single_files": false,
        "single_file_paths": [],
        "suspended_by": null,
        "suspended_at": null,
    })
}

/// `GET /repos/{owner}/{repo}/installation`, as the App (JWT).
async fn repo_installation(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    let Some(app_id) = caller.app else {
        return jwt_required();
    };
    let repo = format!("{owner}/{name}");
    let s = lock(&state);
    if !s.repos.keys().any(|r| r.eq_ignore_ascii_case(&repo)) {
        return not_found();
    }
    let Some(i) = s
        .apps
        .installations
        .iter()
        .find(|i| i.app == app_id && Apps::covers(i, &repo))
    else {
        return not_found();
    };
    let Some(app) = s.apps.seeds.iter().find(|a| a.id == app_id) else {
        return not_found();
    };
    axum::Json(view(&s.base_url, i, app)).into_response()
}

/// `POST /app/installations/{id}/access_tokens`, as the App (JWT): a token
/// for the named repositories (all the installation's when none) with the
/// asked permissions (all the installation's when none); asking for more
/// than the installation has is a 422.
async fn create_token(
    AxState(state): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Some(app_id) = caller.app else {
        return jwt_required();
    };
    let mut s = lock(&state);
    let Some(installation) = s
        .apps
        .installations
        .iter()
        .find(|i| i.id.to_string() == id && i.app == app_id)
        .cloned()
    else {
        return not_found();
    };
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(Value::Object(o)) => Value::Object(o),
            _ => return error(StatusCode::BAD_REQUEST, "Problems parsing JSON"),
        }
    };
    if let Some(k) = body.as_object().and_then(|o| {
        o.keys()
            .find(|k| !["repositories", "repository_ids", "permissions"].contains(&k.as_str()))
            .cloned()
    }) {
        return unprocessable(&format!("\"{k}\" is not a permitted key."));
    }
    let account = installation.seed.account.clone();
    let repos: Vec<String> = match body.get("repositories") {
        None => match &installation.seed.repos {
            Some(r) => r.clone(),
            None => s
                .repos
                .keys()
                .filter(|r| r.split('/').next() == Some(account.as_str()))
                .cloned()
                .collect(),
        },
        Some(Value::Array(names)) => {
            let mut out = Vec::new();
            for n in names {
                let Some(n) = n.as_str() else {
                    return unprocessable("repositories must be an array of strings");
                };
                let full = format!("{account}/{n}");
                if !s.repos.contains_key(&full) || !Apps::covers(&installation, &full) {
                    return unprocessable(
                        "There is at least one repository that does not exist or is not accessible to the parent installation.",
                    );
                }
                out.push(full);
            }
            out
        }
        Some(_) => return unprocessable("repositories must be an array of strings"),
    };
    let granted = &installation.seed.permissions;
    let permissions: BTreeMap<String, String> = match body.get("permissions") {
        None => granted.clone(),
        Some(Value::Object(asked)) => {
            let mut out = BTreeMap::new();
            for (k, v) in asked {
                let Some(level @ ("read" | "write")) = v.as_str() else {
                    return unprocessable(&format!("permissions.{k} must be read or write"));
                };
                let ok = match granted.get(k).map(String::as_str) {
                    Some("write") => true,
                    Some("read") => level == "read",
                    _ => false,
                };
                if !ok {
                    // GitHub's words; it does not say which permission.
                    return unprocessable(
                        "The permissions requested are not granted to this installation.",
                    );
                }
                out.insert(k.clone(), level.to_owned());
            }
            out
        }
        Some(_) => return unprocessable("permissions must be an object"),
    };
    let token = format!("ghs_fake{:032}", s.next_id());
    let expires_at = SystemTime::now() + s.apps.lifetime;
    let expires_text = OffsetDateTime::from(expires_at)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(now);
    s.apps.issued.push(IssuedToken {
        token: token.clone(),
        installation: installation.id,
        repos: repos.clone(),
        permissions: permissions.clone(),
        expires_at,
        revoked: false,
    });
    let repositories: Vec<Value> = repos
        .iter()
        .map(|r| {
            let default_branch = s
                .repos
                .get(r)
                .map(|x| x.default_branch.clone())
                .unwrap_or_default();
            repository(r, &default_branch)
        })
        .collect();
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "token": token,
            "expires_at": expires_text,
            "permissions": permissions,
            "repository_selection": "selected",
            "repositories": repositories,
        })),
    )
        .into_response()
}

/// A repository as GitHub's `repository` schema has one.
fn repository(full: &str, default_branch: &str) -> Value {
    let (owner, name) = full.split_once('/').unwrap_or((full, full));
    let api = format!("https://api.github.com/repos/{full}");
    let mut v = json!({
        "id": 1, "node_id": "R_1", "name": name, "full_name": full, "owner": user(owner),
        "private": true, "description": null, "fork": false, "url": api,
        "html_url": format!("https://github.com/{full}"),
        "clone_url": format!("https://github.com/{full}.git"),
        "git_url": format!("git://github.com/{full}.git"),
        "ssh_url": format!("git@github.com:{full}.git"),
        "svn_url": format!("https://github.com/{full}"),
        "default_branch": default_branch, "homepage": null, "language": null, "mirror_url": null,
        "license": null, "pushed_at": null, "created_at": null, "updated_at": null,
        "forks": 0, "forks_count": 0, "open_issues": 0, "open_issues_count": 0, "size": 0,
        "stargazers_count": 0, "watchers": 0, "watchers_count": 0,
        "has_downloads": false, "has_issues": true, "has_projects": false, "has_wiki": false,
        "has_pages": false, "archived": false, "disabled": false,
    });
    for key in [
        "archive",
        "assignees",
        "blobs",
        "branches",
        "collaborators",
        "comments",
        "commits",
        "compare",
        "contents",
        "contributors",
        "deployments",
        "downloads",
        "events",
        "forks",
        "git_commits",
        "git_refs",
        "git_tags",
        "hooks",
        "issue_comment",
        "issue_events",
        "issues",
        "keys",
        "labels",
        "languages",
        "merges",
        "milestones",
        "notifications",
        "pulls",
        "releases",
        "stargazers",
        "statuses",
        "subscribers",
        "subscription",
        "tags",
        "teams",
        "trees",
    ] {
        v[format!("{key}_url")] = Value::from(format!("{api}/{key}"));
    }
    v
}

/// `DELETE /installation/token`, with the installation token itself.
async fn revoke(AxState(state): AxState<Shared>, Extension(caller): Extension<Caller>) -> Response {
    let mut s = lock(&state);
    let Some(token) = caller.token else {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    match s.apps.issued.iter_mut().find(|t| t.token == token) {
        Some(issued) => {
            issued.revoked = true;
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(
            StatusCode::FORBIDDEN,
            "This endpoint can only be accessed with an installation access token",
        ),
    }
}

impl FakeGitHub {
    /// Registers a GitHub App; its JWTs are checked against `public_key`.
    pub fn app(&self, app: AppSeed) -> &Self {
        self.state().apps.seeds.push(app);
        self
    }

    /// Installs App `app` (its numeric id); returns the installation id.
    pub fn install(&self, app: u64, seed: InstallationSeed) -> u64 {
        let mut s = self.state();
        let id = s.next_id();
        s.apps.installations.push(Installation { id, app, seed });
        id
    }

    /// How long the installation tokens issued from now on last.
    pub fn token_lifetime(&self, lifetime: Duration) -> &Self {
        self.state().apps.lifetime = lifetime;
        self
    }

    /// Every installation token issued, in order.
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.state().apps.issued.clone()
    }

    /// The messages of the JWTs refused, in order.
    pub fn refused_jwts(&self) -> Vec<&'static str> {
        self.state().apps.refused.clone()
    }
}
