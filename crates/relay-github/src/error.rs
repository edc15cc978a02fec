//! What went wrong talking to GitHub, said so a user can fix it.

use relay_http::DisplaySafeUrl;

/// The permission a call needs, as a fine-grained token / `permissions:` key
/// and as a classic PAT scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// As a fine-grained token or a job's `permissions:` names it (`contents: write`).
    pub fine_grained: &'static str,
    /// As a classic personal access token's scope (`repo`).
    pub classic: &'static str,
}

impl Permission {
    /// `repository_dispatch`.
    pub const CONTENTS_WRITE: Self = Self {
        fine_grained: "contents: write",
        classic: "repo",
    };
    /// `workflow_dispatch`, deleting artifacts.
    pub const ACTIONS_WRITE: Self = Self {
        fine_grained: "actions: write",
        classic: "repo, workflow",
    };
    /// Reading runs and artifacts.
    pub const ACTIONS_READ: Self = Self {
        fine_grained: "actions: read",
        classic: "repo",
    };
    /// Reading check runs.
    pub const CHECKS_READ: Self = Self {
        fine_grained: "checks: read",
        classic: "repo",
    };
    /// Reading commit statuses.
    pub const STATUSES_READ: Self = Self {
        fine_grained: "statuses: read",
        classic: "repo:status",
    };
    /// Reading and opening issues.
    pub const ISSUES_WRITE: Self = Self {
        fine_grained: "issues: write",
        classic: "repo",
    };
    /// Setting commit statuses.
    pub const STATUSES_WRITE: Self = Self {
        fine_grained: "statuses: write",
        classic: "repo:status",
    };
    /// Reading deployments.
    pub const DEPLOYMENTS_READ: Self = Self {
        fine_grained: "deployments: read",
        classic: "repo_deployment",
    };
    /// Creating deployments and deployment statuses.
    pub const DEPLOYMENTS_WRITE: Self = Self {
        fine_grained: "deployments: write",
        classic: "repo_deployment",
    };
    /// Listing artifact attestations.
    /// <https://docs.github.com/en/rest/repos/attestations#list-attestations>
    pub const ATTESTATIONS_READ: Self = Self {
        fine_grained: "attestations: read",
        classic: "repo",
    };
    /// Reading a repository.
    pub const METADATA_READ: Self = Self {
        fine_grained: "metadata: read",
        classic: "repo",
    };
    /// The App's own calls (installations, tokens): its JWT, no permission.
    pub const APP_JWT: Self = Self {
        fine_grained: "the GitHub App's JWT",
        classic: "none (a GitHub App's JWT only)",
    };

    /// The permission's name, as a `permissions:` key (`contents`).
    pub fn key(&self) -> &'static str {
        self.fine_grained
            .split_once(": ")
            .map_or(self.fine_grained, |(k, _)| k)
    }

    /// `read` or `write`.
    pub fn level(&self) -> &'static str {
        self.fine_grained
            .split_once(": ")
            .map_or("read", |(_, l)| l)
    }
}

/// One API call, described for error messages: `what` completes "couldn't …".
#[derive(Debug, Clone)]
pub struct Call {
    /// What the call does, completing "couldn't …".
    pub what: String,
    /// The repository it is made on, `owner/repo`.
    pub repo: String,
    /// The permission it needs.
    pub permission: Permission,
}

impl Call {
    /// A call doing `what` on `repo`, needing `permission`.
    pub fn new(what: impl Into<String>, repo: &str, permission: Permission) -> Self {
        Self {
            what: what.into(),
            repo: repo.to_owned(),
            permission,
        }
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

/// What went wrong with one call. Every variant names the call (and with
/// it the repository); causes are kept as sources.
#[derive(Debug, thiserror::Error)]
// Each variant's `#[error]` text says when it happens and what its
// fields hold.
#[allow(missing_docs)]
pub enum Error {
    #[error(
        "couldn't {call}: GitHub answered {status}{}\nhint: {hint}",
        said(message)
    )]
    Status {
        call: Box<Call>,
        status: u16,
        /// GitHub's `message` (with `errors[]` details), as data.
        message: String,
        hint: String,
    },
    #[error(
        "couldn't {call}: {}\nhint: check that the runner can reach {url}",
        transport(source)
    )]
    Transport {
        call: Box<Call>,
        url: DisplaySafeUrl,
        #[source]
        source: reqwest::Error,
    },
    #[error("couldn't {call}: the answer was not what GitHub documents: {source}")]
    Decode {
        call: Box<Call>,
        #[source]
        source: serde_json::Error,
    },
    #[error("couldn't {call}: expected a redirect, GitHub answered {status}")]
    NotRedirected { call: Box<Call>, status: u16 },
    #[error("couldn't {call}: GitHub redirected to `{shown}`, which is not a URL")]
    BadRedirect { call: Box<Call>, shown: String },
    #[error(
        "couldn't {call}: the API rate limit is used up for another {wait_secs}s, longer than deploy-relay waits\nhint: use a GitHub App token (higher limits) or run later"
    )]
    RateLimited { call: Box<Call>, wait_secs: u64 },
    #[error(
        "the GitHub App `{app}` is not installed on `{repo}` (or `{repo}` does not exist)\nhint: install it there: the App's settings → Install App → `{owner}` → Only select repositories → add `{repo}` (or ask an owner of `{owner}` to), then re-run the job"
    )]
    AppNotInstalled {
        app: String,
        repo: String,
        owner: String,
    },
    #[error(
        "the GitHub App `{app}` was not granted {missing} on `{repos}`, which this step needs (GitHub answered 422{})\nhint: in the App's settings → Permissions & events grant {missing}, then have an owner of `{owner}` accept the new permissions (Settings → GitHub Apps → the App → Review request); see README's permission table",
        said(message)
    )]
    AppPermissionMissing {
        app: String,
        repos: String,
        owner: String,
        /// The permissions asked for and not granted, as `name: level`.
        missing: String,
        message: String,
    },
    #[error(
        "GitHub refused the JWT of GitHub App `{app}` (401{})\nhint: {hint}",
        said(message)
    )]
    AppJwtRejected {
        app: String,
        message: String,
        hint: String,
        /// The clock, rather than the key or id, is to blame.
        clock: bool,
    },
    #[error(
        "`{first}` and `{second}` are in different installations of GitHub App `{app}`, and one token covers one installation\nhint: this is a bug of deploy-relay's: each token it mints is for one repository owner"
    )]
    AppInstallationsDiffer {
        app: String,
        first: String,
        second: String,
    },
    #[error("couldn't sign a JWT for GitHub App `{app}`")]
    AppSign { app: String },
    #[error("couldn't start the HTTP client for {url}")]
    Client {
        url: DisplaySafeUrl,
        #[source]
        source: reqwest::Error,
    },
    #[error(
        "GITHUB_API_URL `{shown}` is not a URL\nhint: unset it for github.com, or set it to your GitHub Enterprise Server's `https://HOST/api/v3`"
    )]
    ApiUrl { shown: String },
}

impl Error {
    /// The HTTP status GitHub answered, if it answered one that failed the call.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } | Error::NotRedirected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The call that failed.
    pub fn call(&self) -> Option<&Call> {
        match self {
            Error::Status { call, .. }
            | Error::Transport { call, .. }
            | Error::Decode { call, .. }
            | Error::NotRedirected { call, .. }
            | Error::BadRedirect { call, .. }
            | Error::RateLimited { call, .. } => Some(call.as_ref()),
            Error::Client { .. }
            | Error::ApiUrl { .. }
            | Error::AppNotInstalled { .. }
            | Error::AppPermissionMissing { .. }
            | Error::AppJwtRejected { .. }
            | Error::AppInstallationsDiffer { .. }
            | Error::AppSign { .. } => None,
        }
    }
}

fn said(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// What kind of transport failure, with what the innermost error said.
fn transport(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "couldn't connect"
    } else {
        "the connection failed"
    };
    let detail = relay_runtime::root_cause(e);
    if detail.is_empty() || detail == e.to_string() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}

/// The advice for a refused call: which permission or token kind is missing.
pub(crate) fn hint(status: u16, message: &str, call: &Call, current_repo: Option<&str>) -> String {
    let Permission {
        fine_grained,
        classic,
    } = call.permission;
    let repo = &call.repo;
    let other_repo = current_repo.is_some_and(|c| !c.eq_ignore_ascii_case(repo));
    let cross = if other_repo {
        format!(
            "; `GITHUB_TOKEN` only reaches the repository the workflow runs in, so for `{repo}` pass a fine-grained PAT or GitHub App token with `{fine_grained}` on `{repo}` (classic PAT: `{classic}` scope)"
        )
    } else {
        String::new()
    };
    match status {
        401 => "the token was rejected (invalid, expired or revoked); check the secret passed as the token input".to_owned(),
        403 if message.contains("by integration") => format!(
            "the token lacks `{fine_grained}` on `{repo}`: add `permissions: {{ {fine_grained} }}` to the job{cross}"
        ),
        403 if message.contains("personal access token") => format!(
            "the personal access token lacks `{fine_grained}` on `{repo}` (classic PAT: `{classic}` scope)"
        ),
        403 => format!("the token needs `{fine_grained}` on `{repo}`{cross}"),
        404 => format!(
            "`{repo}` does not exist or the token cannot see it; the token needs `{fine_grained}` on it{cross}"
        ),
        422 => "GitHub refused the request's content; the message above says which field".to_owned(),
        _ => "GitHub may be having trouble; retry the job, and check https://www.githubstatus.com".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call {
        Call::new(
            "create a repository dispatch event",
            "org/deploy",
            Permission::CONTENTS_WRITE,
        )
    }

    #[test]
    fn not_found_on_another_repo_says_github_token_cannot_reach_it() {
        let h = hint(404, "Not Found", &call(), Some("org/app"));
        assert!(h.contains("`contents: write`"), "{h}");
        assert!(h.contains("GITHUB_TOKEN` only reaches"), "{h}");
        assert!(h.contains("classic PAT: `repo`"), "{h}");
    }

    #[test]
    fn not_found_on_the_same_repo_does_not_blame_cross_repo() {
        let h = hint(404, "Not Found", &call(), Some("org/deploy"));
        assert!(!h.contains("only reaches"), "{h}");
    }

    #[test]
    fn integration_403_suggests_a_permissions_block() {
        let h = hint(
            403,
            "Resource not accessible by integration",
            &call(),
            Some("org/deploy"),
        );
        assert!(h.contains("permissions:"), "{h}");
    }

    #[test]
    fn pat_403_names_scope() {
        let h = hint(
            403,
            "Resource not accessible by personal access token",
            &call(),
            None,
        );
        assert!(
            h.contains("personal access token lacks `contents: write`"),
            "{h}"
        );
    }

    #[test]
    fn unauthorized_says_token_rejected() {
        assert!(hint(401, "Bad credentials", &call(), None).contains("rejected"));
    }
}
