//! Installation tokens minted inside the action, one per installation and
//! [`Access`] (repositories and permissions): an action says what it needs
//! and gets a [`GitHub`] client whose token has exactly that.
//!
//! With App credentials, [`Auth::client`] finds the installation of each
//! repository (`GET /repos/{owner}/{repo}/installation`, as the App), asks
//! for a token limited to those repositories and permissions (`POST
//! /app/installations/{id}/access_tokens`), masks it the moment it exists,
//! re-mints it when a long wait would outlive it (tokens last an hour), and
//! revokes every token it minted when the action ends, on failure too
//! (`DELETE /installation/token`, registered on the run's
//! [`relay_runtime::Cleanup`]). With a token, the client simply uses it.
//!
//! <https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app>
//! <https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app>
//! <https://docs.github.com/en/rest/apps/installations#revoke-an-installation-access-token>

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use relay_runtime::{Cleanup, Console, Context, Credentials, Env, InputError, RepoName, Secret};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::client::GitHub;
use crate::error::{Call, Error, Permission};

/// How a client authenticates each request.
#[derive(Clone)]
pub(crate) enum Bearer {
    None,
    Static(Secret),
    /// As the App itself: a fresh JWT per request.
    App(App),
    /// An installation token, re-minted before it expires.
    Minted(Arc<Minted>),
}

impl Bearer {
    pub(crate) async fn header(&self) -> Result<Option<http::HeaderValue>, Error> {
        match self {
            Bearer::None => Ok(None),
            Bearer::Static(token) => Ok(crate::token::authorization(token)),
            Bearer::App(app) => app
                .jwt(SystemTime::now())
                .map(|t| crate::token::authorization(&t))
                .map_err(|_| Error::AppSign {
                    app: app.id().to_string(),
                }),
            Bearer::Minted(minted) => Ok(crate::token::authorization(&minted.current().await?)),
        }
    }

    /// The advice for a refusal of a token deploy-relay minted itself: the
    /// job's `permissions:` or a PAT's settings have nothing to do with it.
    pub(crate) fn hint(&self, status: u16, call: &Call) -> Option<String> {
        let Bearer::Minted(minted) = self else {
            return None;
        };
        let has = format!(
            "the token deploy-relay minted for this step has {} on {}",
            minted.access.describe(),
            minted
                .access
                .repos()
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        match status {
            403 | 404 => Some(format!(
                "{has}, and this call needs `{}` on `{}`: a gap in deploy-relay's permission table; please report it",
                call.permission.fine_grained, call.repo
            )),
            401 => Some(format!(
                "{has}, and GitHub no longer accepts it (revoked, or the App was uninstalled or suspended meanwhile); re-run the job"
            )),
            _ => None,
        }
    }
}

/// What one token may do: these repositories, these permissions. Build it
/// from the [`Permission`]s of the calls a step makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Access {
    repos: Vec<RepoName>,
    /// permission → `read` or `write`.
    permissions: BTreeMap<&'static str, &'static str>,
}

impl Access {
    /// `permissions` on `repo`; of two levels of one permission the higher wins.
    pub fn new(repo: &RepoName, permissions: &[Permission]) -> Self {
        let mut access = Self {
            repos: vec![repo.clone()],
            permissions: BTreeMap::new(),
        };
        for p in permissions {
            let level = access.permissions.entry(p.key()).or_insert(p.level());
            if p.level() == "write" {
                *level = "write";
            }
        }
        access
    }

    /// The same permissions on another repository too.
    pub fn and_repo(mut self, repo: &RepoName) -> Self {
        if !self.repos.iter().any(|r| r.same_as(repo.as_str())) {
            self.repos.push(repo.clone());
            self.repos.sort();
        }
        self
    }

    /// The repositories the access covers.
    pub fn repos(&self) -> &[RepoName] {
        &self.repos
    }

    /// `name: level` pairs, as a `permissions:` block writes them.
    pub fn describe(&self) -> String {
        self.permissions
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What an action authenticates with: a token, or an App that mints one
/// token per [`Access`]. Cheap to clone.
#[derive(Clone)]
pub struct Auth(Kind);

#[derive(Clone)]
enum Kind {
    Token(Option<Secret>),
    App(Arc<Minter>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Kind::Token(t) => write!(f, "Auth::Token({t:?})"),
            Kind::App(m) => write!(f, "Auth::App({})", m.shared.app.id()),
        }
    }
}

impl Auth {
    /// The run's credentials from its inputs (`github-token`/`token`, or
    /// `github-app-id` with `github-app-private-key`; see
    /// [`relay_runtime::Inputs::github_credentials`]), checked before any
    /// request: a key that does not load is an input error.
    /// `other_tokens` names the action's further token inputs.
    pub fn from_context(ctx: &Context, other_tokens: &[&str]) -> Result<Self, InputError> {
        match ctx.inputs.github_credentials(other_tokens)? {
            Credentials::Token(token) => Ok(Self::token(token)),
            Credentials::App(creds) => {
                // The runner masked the input as given; mask the key as
                // read too, line by line, when it came with `\n` escapes.
                ctx.console.add_mask(creds.key.pem().expose());
                if ctx.inputs.secret("github-token").is_some() {
                    ctx.console.debug(
                        "GitHub App credentials are set, so `github-token` (the job's token by default) is not used",
                    );
                }
                let app = App::new(&creds)?;
                Ok(Self::app(app, &ctx.env, ctx.console.clone(), &ctx.cleanup))
            }
        }
    }

    /// A token (or none).
    pub fn token(token: Option<Secret>) -> Self {
        Self(Kind::Token(token))
    }

    /// An App that mints installation tokens; they are revoked when
    /// `cleanup` runs.
    pub fn app(app: App, env: &Env, console: Console, cleanup: &Cleanup) -> Self {
        Self(Kind::App(Arc::new(Minter {
            shared: Arc::new(Shared {
                app,
                env: env.clone(),
                console,
                issued: Mutex::default(),
            }),
            cleanup: cleanup.clone(),
            registered: AtomicBool::new(false),
            installations: tokio::sync::Mutex::default(),
            scopes: tokio::sync::Mutex::default(),
        })))
    }

    /// Whether tokens are minted from a GitHub App.
    pub fn is_app(&self) -> bool {
        matches!(self.0, Kind::App(_))
    }

    /// Neither a token nor an App.
    pub fn is_missing(&self) -> bool {
        matches!(self.0, Kind::Token(None))
    }

    /// A client for calls within `access`. With a token, the token (its
    /// own grants apply); with an App, an installation token minted for
    /// exactly `access` (one per installation and access, reused).
    pub async fn client(
        &self,
        env: &Env,
        console: &Console,
        access: &Access,
    ) -> Result<GitHub, Error> {
        match &self.0 {
            Kind::Token(token) => GitHub::new(env, console.clone(), token.clone()),
            Kind::App(minter) => {
                let minted = minter.minted(access).await?;
                GitHub::with_bearer(env, console.clone(), Bearer::Minted(minted))
            }
        }
    }

    /// [`Auth::client`] with the run's env and console.
    pub async fn client_for(&self, ctx: &Context, access: &Access) -> Result<GitHub, Error> {
        self.client(&ctx.env, &ctx.console, access).await
    }
}

/// What the App side of an [`Auth`] keeps.
struct Minter {
    shared: Arc<Shared>,
    cleanup: Cleanup,
    registered: AtomicBool,
    /// repository (lower-cased) → its installation.
    installations: tokio::sync::Mutex<HashMap<String, Installation>>,
    scopes: tokio::sync::Mutex<HashMap<Access, Arc<Minted>>>,
}

/// What minting and revoking need, shared with every minted token.
struct Shared {
    app: App,
    env: Env,
    console: Console,
    /// Every token minted, for revocation at the end.
    issued: Mutex<Vec<(Secret, SystemTime)>>,
}

#[derive(Debug, Clone, Deserialize)]
struct Installation {
    id: u64,
    /// What the installation was granted: `permission → read|write`.
    #[serde(default)]
    permissions: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Created {
    token: String,
    expires_at: String,
}

/// One minted token and what it was minted for.
pub(crate) struct Minted {
    shared: Arc<Shared>,
    installation: Installation,
    access: Access,
    current: tokio::sync::Mutex<Current>,
}

struct Current {
    token: Secret,
    expires_at: SystemTime,
    lifetime: Duration,
}

/// A token is re-minted when less than this (or half its lifetime, for a
/// short-lived one) is left, so no request goes out with a dying token.
const RENEW_BEFORE: Duration = Duration::from_mins(5);

impl Current {
    fn needs_renewal(&self, now: SystemTime) -> bool {
        let left = self.expires_at.duration_since(now).unwrap_or_default();
        left < RENEW_BEFORE.min(self.lifetime / 2)
    }
}

impl Minted {
    /// The token to send now, re-minted first when it is about to expire.
    /// Boxed (and so `Send` by its signature): re-minting sends a request,
    /// whose client asks its bearer again.
    fn current(&self) -> Pin<Box<dyn Future<Output = Result<Secret, Error>> + Send + '_>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            if current.needs_renewal(SystemTime::now()) {
                *current = self.shared.create(&self.installation, &self.access).await?;
            }
            Ok(current.token.clone())
        })
    }
}

impl Minter {
    async fn minted(self: &Arc<Self>, access: &Access) -> Result<Arc<Minted>, Error> {
        let mut scopes = self.scopes.lock().await;
        if let Some(m) = scopes.get(access) {
            return Ok(m.clone());
        }
        let installation = self.installation(access).await?;
        if !self.registered.swap(true, Ordering::SeqCst) {
            let shared = self.shared.clone();
            self.cleanup
                .defer(move || async move { shared.revoke_all().await });
        }
        let current = self.shared.create(&installation, access).await?;
        let minted = Arc::new(Minted {
            shared: self.shared.clone(),
            installation,
            access: access.clone(),
            current: tokio::sync::Mutex::new(current),
        });
        scopes.insert(access.clone(), minted.clone());
        Ok(minted)
    }

    /// The one installation all of `access`'s repositories are in.
    async fn installation(&self, access: &Access) -> Result<Installation, Error> {
        let mut found: Option<(RepoName, Installation)> = None;
        for repo in access.repos() {
            let installation = self.lookup(repo).await?;
            match &found {
                Some((first, i)) if i.id != installation.id => {
                    return Err(Error::AppInstallationsDiffer {
                        app: self.shared.app.id().to_string(),
                        first: first.to_string(),
                        second: repo.to_string(),
                    });
                }
                Some(_) => {}
                None => found = Some((repo.clone(), installation)),
            }
        }
        found.map(|(_, i)| i).ok_or_else(|| Error::AppSign {
            app: self.shared.app.id().to_string(),
        })
    }

    async fn lookup(&self, repo: &RepoName) -> Result<Installation, Error> {
        let key = repo.as_str().to_ascii_lowercase();
        let mut cache = self.installations.lock().await;
        if let Some(i) = cache.get(&key) {
            return Ok(i.clone());
        }
        let shared = &self.shared;
        let call = Call::new(
            format!(
                "find the installation of GitHub App `{}` on `{repo}`",
                shared.app.id()
            ),
            repo.as_str(),
            Permission::APP_JWT,
        );
        let gh = shared.as_app()?;
        let answer = gh
            .request(Method::GET, format!("/repos/{repo}/installation"))
            .send(&call)
            .await;
        let installation: Installation = match answer {
            Ok(resp) => resp.json(&call)?,
            Err(Error::Status { status: 404, .. }) => {
                return Err(Error::AppNotInstalled {
                    app: shared.app.id().to_string(),
                    repo: repo.to_string(),
                    owner: repo.owner().to_owned(),
                });
            }
            Err(e) => return Err(shared.jwt_refused(e)),
        };
        cache.insert(key, installation.clone());
        Ok(installation)
    }
}

impl Shared {
    /// A client that speaks as the App (JWT).
    fn as_app(&self) -> Result<GitHub, Error> {
        GitHub::with_bearer(
            &self.env,
            self.console.clone(),
            Bearer::App(self.app.clone()),
        )
    }

    /// A 401 to a JWT says why: the clock, or the key and id.
    fn jwt_refused(&self, e: Error) -> Error {
        match e {
            Error::Status {
                status: 401,
                message,
                ..
            } => {
                let clock = ["'exp'", "'iat'", "Expiration time", "Issued at"]
                    .iter()
                    .any(|m| message.contains(m));
                let hint = if clock {
                    "the runner's clock is off from GitHub's by more than a minute (the JWT is dated 60 s back and lasts 9 minutes); fix the runner's time sync (NTP), or run on another runner".to_owned()
                } else {
                    format!(
                        "GitHub could not verify the JWT: `github-app-private-key` is not a key of the App `github-app-id` names (`{}`); check that both secrets come from the same App and that the key was not deleted in the App's settings",
                        self.app.id()
                    )
                };
                Error::AppJwtRejected {
                    app: self.app.id().to_string(),
                    message,
                    hint,
                    clock,
                }
            }
            e => e,
        }
    }

    /// Mints a token of `installation` for `access`, masks it at once and
    /// keeps it for revocation.
    async fn create(&self, installation: &Installation, access: &Access) -> Result<Current, Error> {
        let repos = access
            .repos()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let call = Call::new(
            format!(
                "create an installation token of GitHub App `{}` for `{repos}` ({})",
                self.app.id(),
                access.describe()
            ),
            access.repos().first().map_or("", RepoName::as_str),
            Permission::APP_JWT,
        );
        let names: Vec<&str> = access.repos().iter().map(RepoName::name).collect();
        let gh = self.as_app()?;
        let asked = std::time::Instant::now();
        let answer = gh
            .request(
                Method::POST,
                format!("/app/installations/{}/access_tokens", installation.id),
            )
            .json(json!({"repositories": names, "permissions": access.permissions}))
            .send(&call)
            .await;
        let created: Created = match answer {
            Ok(resp) => resp.json(&call)?,
            Err(Error::Status {
                status: 422,
                message,
                ..
            }) => {
                let missing: Vec<String> = access
                    .permissions
                    .iter()
                    .filter(|(k, v)| {
                        let granted = installation.permissions.get(**k).map(String::as_str);
                        !(granted == Some("write") || (granted == Some(**v) && **v == "read"))
                    })
                    .map(|(k, v)| format!("`{k}: {v}`"))
                    .collect();
                return Err(Error::AppPermissionMissing {
                    app: self.app.id().to_string(),
                    repos,
                    owner: access
                        .repos()
                        .first()
                        .map_or("", RepoName::owner)
                        .to_owned(),
                    missing: if missing.is_empty() {
                        format!(
                            "the repositories or permissions asked ({})",
                            access.describe()
                        )
                    } else {
                        missing.join(", ")
                    },
                    message,
                });
            }
            Err(e) => return Err(self.jwt_refused(e)),
        };
        // Masked before anything else can print it.
        self.console.add_mask(&created.token);
        let now = SystemTime::now();
        let expires_at = parse_time(&created.expires_at).unwrap_or(now + Duration::from_hours(1));
        let token = Secret::new(created.token);
        self.issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((token.clone(), expires_at));
        self.console.info(&format!(
            "Minted a token of GitHub App `{}` for `{repos}` ({}), valid until {} ({} ms)",
            self.app.id(),
            access.describe(),
            created.expires_at,
            asked.elapsed().as_millis()
        ));
        Ok(Current {
            token,
            expires_at,
            lifetime: expires_at.duration_since(now).unwrap_or_default(),
        })
    }

    /// Revokes every token minted that may still be alive; a refusal is a
    /// warning (the token still expires within the hour). A token is only
    /// left alone once it expired [`EXPIRED_FOR_SURE`] ago by this clock,
    /// which may run behind GitHub's; a 401 to the revocation means GitHub
    /// already counts it dead.
    async fn revoke_all(self: Arc<Self>) {
        let issued =
            std::mem::take(&mut *self.issued.lock().unwrap_or_else(PoisonError::into_inner));
        let now = SystemTime::now();
        let mut revoked = 0;
        for (token, expires_at) in issued {
            if expires_at + EXPIRED_FOR_SURE <= now {
                continue;
            }
            let call = Call::new("revoke an installation token", "", Permission::APP_JWT);
            let result =
                match GitHub::with_bearer(&self.env, self.console.clone(), Bearer::Static(token)) {
                    Ok(gh) => gh
                        .request(Method::DELETE, "/installation/token")
                        .send(&call)
                        .await
                        .map(drop),
                    Err(e) => Err(e),
                };
            match result {
                Ok(()) => revoked += 1,
                Err(Error::Status { status: 401, .. }) => {}
                Err(e) => self.console.warning(&format!(
                    "{e}\nhint: the token expires within the hour by itself"
                )),
            }
        }
        if revoked > 0 {
            self.console.info(&format!(
                "Revoked {revoked} installation token{} of GitHub App `{}`",
                if revoked == 1 { "" } else { "s" },
                self.app.id()
            ));
        }
    }
}

/// How long after its `expires_at` a token is dead whatever the clocks
/// say (a runner's clock may be behind GitHub's; the JWT allows a minute).
const EXPIRED_FOR_SURE: Duration = Duration::from_mins(2);

fn parse_time(text: &str) -> Option<SystemTime> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(s: &str) -> RepoName {
        RepoName::parse(s).unwrap()
    }

    #[test]
    fn access_keeps_the_highest_level_and_sorted_repos() {
        let a = Access::new(
            &repo("o/b"),
            &[
                Permission::ACTIONS_READ,
                Permission::CONTENTS_WRITE,
                Permission::ACTIONS_WRITE,
            ],
        )
        .and_repo(&repo("o/a"))
        .and_repo(&repo("O/A"));
        assert_eq!(a.describe(), "actions: write, contents: write");
        assert_eq!(a.repos(), &[repo("o/a"), repo("o/b")]);
    }

    #[test]
    fn a_token_is_renewed_before_the_last_five_minutes_or_half_its_life() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000);
        let hour = Current {
            token: Secret::new("t"),
            expires_at: at + Duration::from_hours(1),
            lifetime: Duration::from_hours(1),
        };
        assert!(!hour.needs_renewal(at));
        assert!(!hour.needs_renewal(at + Duration::from_secs(3600 - 301)));
        assert!(hour.needs_renewal(at + Duration::from_secs(3600 - 299)));
        let short = Current {
            lifetime: Duration::from_secs(4),
            expires_at: at + Duration::from_secs(4),
            ..hour
        };
        assert!(!short.needs_renewal(at + Duration::from_secs(1)));
        assert!(short.needs_renewal(at + Duration::from_secs(3)));
        assert!(short.needs_renewal(at + Duration::from_secs(5)));
    }

    #[test]
    fn expiry_times_parse_as_github_writes_them() {
        assert_eq!(
            parse_time("2016-07-11T22:14:10Z"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_468_275_250))
        );
        assert_eq!(parse_time("soon"), None);
    }
}
