//! What went wrong talking to GitHub, said so a user can fix it.

/// The permission a call needs, as a fine-grained token / `permissions:` key
/// and as a classic PAT scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub fine_grained: &'static str,
    pub classic: &'static str,
}

impl Permission {
    pub const CONTENTS_WRITE: Self = Self {
        fine_grained: "contents: write",
        classic: "repo",
    };
    pub const ACTIONS_WRITE: Self = Self {
        fine_grained: "actions: write",
        classic: "repo, workflow",
    };
    pub const ACTIONS_READ: Self = Self {
        fine_grained: "actions: read",
        classic: "repo",
    };
    pub const CHECKS_READ: Self = Self {
        fine_grained: "checks: read",
        classic: "repo",
    };
    pub const STATUSES_READ: Self = Self {
        fine_grained: "statuses: read",
        classic: "repo:status",
    };
    pub const ISSUES_WRITE: Self = Self {
        fine_grained: "issues: write",
        classic: "repo",
    };
    pub const METADATA_READ: Self = Self {
        fine_grained: "metadata: read",
        classic: "repo",
    };
}

/// One API call, described for error messages: `what` completes "couldn't …".
#[derive(Debug, Clone)]
pub struct Call {
    pub what: String,
    pub repo: String,
    pub permission: Permission,
}

impl Call {
    pub fn new(what: impl Into<String>, repo: &str, permission: Permission) -> Self {
        Self {
            what: what.into(),
            repo: repo.to_owned(),
            permission,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("couldn't {call}: GitHub answered {status}{message}\nhint: {hint}")]
    Status {
        call: String,
        status: u16,
        message: String,
        hint: String,
    },
    #[error("couldn't {call}: {detail}\nhint: check that the runner can reach {url}")]
    Transport {
        call: String,
        url: String,
        detail: String,
    },
    #[error("couldn't {call}: the answer was not what GitHub documents: {detail}")]
    Decode { call: String, detail: String },
    #[error(
        "couldn't {call}: the API rate limit is used up for another {wait_secs}s, longer than deploy-relay waits\nhint: use a GitHub App token (higher limits) or run later"
    )]
    RateLimited { call: String, wait_secs: u64 },
}

impl Error {
    /// The HTTP status GitHub answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The advice for a refused call: which permission or token kind is missing.
pub fn hint(status: u16, message: &str, call: &Call, current_repo: Option<&str>) -> String {
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
