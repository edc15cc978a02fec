//! Token kinds and what each may do, as GitHub decides it: every request
//! the fake serves needs one permission on one repository, and a token
//! outside its grant is refused the way GitHub refuses it.
//!
//! - A classic PAT has OAuth scopes (`repo` covers `repo:status` and
//!   `repo_deployment`); a missing scope on a private repository answers
//!   404, as GitHub hides what a token may not see, with the
//!   `X-OAuth-Scopes` / `X-Accepted-OAuth-Scopes` headers.
//! - A fine-grained PAT, a GitHub App installation token and the job's
//!   `GITHUB_TOKEN` have repositories and permissions: a repository outside
//!   them answers 404, a missing permission 403 "Resource not accessible by
//!   personal access token" (fine-grained) or "… by integration" (App and
//!   job tokens), with `X-Accepted-GitHub-Permissions`. Fine-grained PATs
//!   have no Checks permission at all.
//!
//! The permission of each endpoint is the one its docs.github.com page
//! lists under "Fine-grained access tokens", e.g.
//! <https://docs.github.com/en/rest/authentication/permissions-required-for-fine-grained-personal-access-tokens>,
//! <https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps>;
//! classic scopes: <https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps>.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use super::server::error;

/// What kind of token a grant belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A personal access token (classic): OAuth scopes.
    Classic,
    /// A fine-grained personal access token.
    FineGrained,
    /// A GitHub App installation token.
    Installation,
    /// The job's `GITHUB_TOKEN` (an installation token of the Actions app
    /// for the workflow's repository, with the job's `permissions:`).
    GithubToken,
}

/// A token's grant: its kind, repositories and permissions (or scopes).
#[derive(Debug, Clone)]
pub struct Grant {
    /// Which kind of token, and so which refusals GitHub answers with.
    pub kind: TokenKind,
    /// `None`: every repository (a classic PAT of a user who can see them).
    pub repos: Option<Vec<String>>,
    /// permission → `read` | `write` (not for classic PATs).
    pub permissions: BTreeMap<String, String>,
    /// OAuth scopes (classic PATs only).
    pub scopes: Vec<String>,
}

impl Grant {
    /// A classic PAT with `scopes` (`repo`, `repo:status`, `repo_deployment`, `workflow`).
    pub fn classic(scopes: &[&str]) -> Self {
        Self {
            kind: TokenKind::Classic,
            repos: None,
            permissions: BTreeMap::new(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// A fine-grained PAT on `repos` with `permissions` (`("contents", "write")`).
    ///
    /// # Panics
    ///
    /// On `checks`: fine-grained PATs cannot have it.
    pub fn fine_grained(repos: &[&str], permissions: &[(&str, &str)]) -> Self {
        assert!(
            permissions.iter().all(|(p, _)| *p != "checks"),
            "fine-grained personal access tokens have no Checks permission"
        );
        Self::with(TokenKind::FineGrained, repos, permissions)
    }

    /// The job's `GITHUB_TOKEN` for `repo` with the job's `permissions:`.
    pub fn github_token(repo: &str, permissions: &[(&str, &str)]) -> Self {
        Self::with(TokenKind::GithubToken, &[repo], permissions)
    }

    pub(crate) fn with(kind: TokenKind, repos: &[&str], permissions: &[(&str, &str)]) -> Self {
        Self {
            kind,
            repos: Some(repos.iter().map(|r| (*r).to_owned()).collect()),
            permissions: permissions
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            scopes: Vec::new(),
        }
    }

    pub(crate) fn covers_repo(&self, repo: &str) -> bool {
        self.repos
            .as_ref()
            .is_none_or(|r| r.iter().any(|x| x.eq_ignore_ascii_case(repo)))
    }

    fn has(&self, need: &Need) -> bool {
        if self.kind == TokenKind::Classic {
            return self
                .scopes
                .iter()
                .any(|s| need.classic.contains(&s.as_str()));
        }
        // Every fine-grained or installation token reads metadata.
        if need.permission == "metadata" {
            return true;
        }
        match self.permissions.get(need.permission).map(String::as_str) {
            Some("write") => true,
            Some("read") => need.level == "read",
            _ => false,
        }
    }

    /// The refusal GitHub would answer for `need`, if any.
    pub(crate) fn refusal(&self, need: &Need) -> Option<Response> {
        if !self.covers_repo(&need.repo) {
            return Some(error(StatusCode::NOT_FOUND, "Not Found"));
        }
        if self.has(need) {
            return None;
        }
        let mut resp = match self.kind {
            TokenKind::Classic => error(StatusCode::NOT_FOUND, "Not Found"),
            TokenKind::FineGrained => error(
                StatusCode::FORBIDDEN,
                "Resource not accessible by personal access token",
            ),
            TokenKind::Installation | TokenKind::GithubToken => error(
                StatusCode::FORBIDDEN,
                "Resource not accessible by integration",
            ),
        };
        let headers = resp.headers_mut();
        if self.kind == TokenKind::Classic {
            if let Ok(v) = HeaderValue::from_str(&self.scopes.join(", ")) {
                headers.insert("x-oauth-scopes", v);
            }
            if let Ok(v) = HeaderValue::from_str(&need.classic.join(", ")) {
                headers.insert("x-accepted-oauth-scopes", v);
            }
        } else if let Ok(v) = HeaderValue::from_str(&format!("{}={}", need.permission, need.level))
        {
            headers.insert("x-accepted-github-permissions", v);
        }
        Some(resp)
    }
}

/// What one request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Need {
    pub repo: String,
    pub permission: &'static str,
    pub level: &'static str,
    /// Any of these classic scopes will do.
    pub classic: &'static [&'static str],
}

const REPO: &[&str] = &["repo"];
const STATUS: &[&str] = &["repo", "repo:status"];
const DEPLOYMENT: &[&str] = &["repo", "repo_deployment"];

/// The permission `method path` needs, for the repository endpoints the
/// fake serves; `None` for the App's own endpoints (a JWT, checked apart)
/// and unknown paths (answered 404 by the router).
// One arm per REST route reads as GitHub's permission table, even where
// two routes need the same permission.
#[allow(clippy::match_same_arms)]
pub(crate) fn need(method: &str, path: &str) -> Option<Need> {
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    if seg.len() < 3 || seg[0] != "repos" {
        return None;
    }
    let repo = format!("{}/{}", seg[1], seg[2]);
    let rest = &seg[3..];
    let read = method == "GET";
    let n = |permission: &'static str, level: &'static str, classic: &'static [&'static str]| {
        Some(Need {
            repo: repo.clone(),
            permission,
            level,
            classic,
        })
    };
    let rw = if read { "read" } else { "write" };
    match rest {
        [] => n("metadata", "read", REPO),
        ["installation"] => None,
        ["dispatches"] => n("contents", "write", REPO),
        ["actions", "workflows", _, "dispatches"] => n("actions", "write", REPO),
        ["actions", "runs", _, "pending_deployments"] if !read => n("deployments", "write", REPO),
        ["actions", "artifacts", _] if method == "DELETE" => n("actions", "write", REPO),
        ["actions", ..] => n("actions", rw, REPO),
        ["commits", _, "check-runs"] => n("checks", rw, REPO),
        ["commits", _, "status" | "statuses"] | ["statuses", _] => n("statuses", rw, STATUS),
        ["issues", ..] => n("issues", rw, REPO),
        ["deployments", ..] => n("deployments", rw, DEPLOYMENT),
        // Reading environments (the protected-production check).
        ["environments", ..] => n("actions", rw, REPO),
        ["attestations", ..] => n("attestations", rw, REPO),
        _ => n("metadata", "read", REPO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need_of(method: &str, path: &str) -> (String, &'static str, &'static str) {
        let n = need(method, path).unwrap();
        (n.repo, n.permission, n.level)
    }

    #[test]
    fn each_endpoint_needs_its_documented_permission() {
        for (method, path, perm, level) in [
            ("POST", "/repos/o/r/dispatches", "contents", "write"),
            (
                "POST",
                "/repos/o/r/actions/workflows/d.yml/dispatches",
                "actions",
                "write",
            ),
            ("GET", "/repos/o/r/actions/runs/1/jobs", "actions", "read"),
            (
                "GET",
                "/repos/o/r/actions/artifacts/3/zip",
                "actions",
                "read",
            ),
            (
                "DELETE",
                "/repos/o/r/actions/artifacts/3",
                "actions",
                "write",
            ),
            ("GET", "/repos/o/r/commits/abc/check-runs", "checks", "read"),
            ("GET", "/repos/o/r/commits/abc/status", "statuses", "read"),
            ("POST", "/repos/o/r/statuses/abc", "statuses", "write"),
            ("POST", "/repos/o/r/issues", "issues", "write"),
            (
                "POST",
                "/repos/o/r/deployments/9/statuses",
                "deployments",
                "write",
            ),
            (
                "GET",
                "/repos/o/r/environments/production",
                "actions",
                "read",
            ),
            (
                "GET",
                "/repos/o/r/attestations/sha256:ab",
                "attestations",
                "read",
            ),
            (
                "POST",
                "/repos/o/r/actions/runs/1/pending_deployments",
                "deployments",
                "write",
            ),
        ] {
            assert_eq!(
                need_of(method, path),
                ("o/r".into(), perm, level),
                "{method} {path}"
            );
        }
        assert_eq!(need("GET", "/repos/o/r/installation"), None);
        assert_eq!(need("POST", "/app/installations/1/access_tokens"), None);
    }

    #[test]
    fn write_covers_read_and_metadata_is_implied() {
        let g = Grant::github_token("o/r", &[("actions", "write")]);
        assert!(
            g.refusal(&need("GET", "/repos/o/r/actions/runs").unwrap())
                .is_none()
        );
        assert!(g.refusal(&need("GET", "/repos/o/r").unwrap()).is_none());
        let refused = g
            .refusal(&need("POST", "/repos/o/r/dispatches").unwrap())
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            refused.headers()["x-accepted-github-permissions"],
            "contents=write"
        );
        let elsewhere = g.refusal(&need("GET", "/repos/o/other").unwrap()).unwrap();
        assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn classic_scopes_and_fine_grained_checks() {
        let status_only = Grant::classic(&["repo:status"]);
        assert!(
            status_only
                .refusal(&need("POST", "/repos/o/r/statuses/a").unwrap())
                .is_none()
        );
        let r = status_only
            .refusal(&need("POST", "/repos/o/r/dispatches").unwrap())
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()["x-accepted-oauth-scopes"], "repo");
        let fine = Grant::fine_grained(&["o/r"], &[("statuses", "read"), ("actions", "read")]);
        let r = fine
            .refusal(&need("GET", "/repos/o/r/commits/a/check-runs").unwrap())
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    #[should_panic(expected = "no Checks permission")]
    fn fine_grained_tokens_cannot_have_checks() {
        Grant::fine_grained(&["o/r"], &[("checks", "read")]);
    }
}
