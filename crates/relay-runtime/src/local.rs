//! Context on the command line: outside a runner (`GITHUB_ACTIONS` unset),
//! what the runner would say about the repository, commit and branch comes
//! from the local git checkout instead — the `origin` remote, `HEAD` and the
//! current branch — so a command run by hand never works on empty values.

use std::path::Path;
use std::process::Command;

use crate::env::{Env, vars};
use crate::repo::RepoName;

/// What a git checkout says about itself; each part may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkout {
    /// `origin`'s repository, when it is GitHub's.
    pub repository: Option<RepoName>,
    /// `HEAD`'s commit.
    pub sha: Option<String>,
    /// The branch checked out.
    pub branch: Option<String>,
}

impl Checkout {
    /// Asks `git` about the checkout at `dir`; nothing when there is none
    /// (or no `git`).
    pub fn read(dir: &Path) -> Self {
        let git = |args: &[&str]| -> Option<String> {
            let out = Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .output()
                .ok()?;
            let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
            (out.status.success() && !text.is_empty()).then_some(text)
        };
        Self {
            repository: git(&["remote", "get-url", "origin"])
                .as_deref()
                .and_then(repository_of_remote),
            sha: git(&["rev-parse", "--verify", "-q", "HEAD"])
                .filter(|s| s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())),
            branch: git(&["symbolic-ref", "--short", "-q", "HEAD"]),
        }
    }

    /// Sets the runner's variables this checkout knows and `env` lacks;
    /// what the user set in the environment wins.
    pub fn fill(&self, env: &mut Env) {
        if env.get(vars::GITHUB_REPOSITORY).is_none()
            && let Some(repo) = &self.repository
        {
            env.set(vars::GITHUB_REPOSITORY, repo.as_str());
        }
        if env.get(vars::GITHUB_SHA).is_none()
            && let Some(sha) = &self.sha
        {
            env.set(vars::GITHUB_SHA, sha);
        }
        if env.get(vars::GITHUB_REF_NAME).is_none()
            && env.get(vars::GITHUB_REF).is_none()
            && let Some(branch) = &self.branch
        {
            env.set(vars::GITHUB_REF_NAME, branch);
            env.set(vars::GITHUB_REF, format!("refs/heads/{branch}"));
        }
    }
}

/// `owner/repo` of a remote URL in the forms git accepts:
/// `https://host/owner/repo.git`, `git@host:owner/repo.git`,
/// `ssh://git@host:22/owner/repo`.
pub fn repository_of_remote(url: &str) -> Option<RepoName> {
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/')?.1
    } else {
        // scp-like syntax: user@host:path
        url.split_once(':')?.1
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut parts = path.rsplitn(3, '/');
    let repo = parts.next()?;
    let owner = parts.next()?;
    RepoName::parse(&format!("{owner}/{repo}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_in_every_form_git_accepts() {
        for url in [
            "https://github.com/xtp-tour/xtp-tour.git",
            "https://github.com/xtp-tour/xtp-tour",
            "https://user@ghe.example/api/xtp-tour/xtp-tour/",
            "git@github.com:xtp-tour/xtp-tour.git",
            "ssh://git@github.com:22/xtp-tour/xtp-tour",
        ] {
            assert_eq!(
                repository_of_remote(url).map(|r| r.to_string()).as_deref(),
                Some("xtp-tour/xtp-tour"),
                "{url}"
            );
        }
        assert_eq!(repository_of_remote("/srv/git/repo.git"), None);
        assert_eq!(repository_of_remote("https://h/o/r%0A.git"), None);
    }

    #[test]
    fn a_real_checkout_fills_only_what_env_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let ok = Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@e")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@e")
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "git {args:?}");
        };
        if Command::new("git").arg("--version").output().is_err() {
            eprintln!("skipped: no git");
            return;
        }
        run(&["init", "-q", "-b", "feature/x"]);
        run(&["remote", "add", "origin", "git@github.com:octo/app.git"]);
        run(&["commit", "-q", "--allow-empty", "-m", "c"]);
        let checkout = Checkout::read(dir.path());
        assert_eq!(checkout.repository.as_ref().unwrap().as_str(), "octo/app");
        assert_eq!(checkout.branch.as_deref(), Some("feature/x"));
        assert_eq!(checkout.sha.as_ref().unwrap().len(), 40);

        let mut env = Env::from_pairs([(vars::GITHUB_REPOSITORY, "mine/own")]);
        checkout.fill(&mut env);
        assert_eq!(env.get(vars::GITHUB_REPOSITORY), Some("mine/own"));
        assert_eq!(env.get(vars::GITHUB_REF_NAME), Some("feature/x"));
        assert_eq!(env.get(vars::GITHUB_SHA), checkout.sha.as_deref());

        let none = Checkout::read(&dir.path().join("nope"));
        assert_eq!(none, Checkout::default());
    }
}
