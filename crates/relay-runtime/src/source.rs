//! What is being deployed: the source repository, commit and branch, taken
//! from the event that started the workflow. Under `workflow_run` they are
//! the finished run's (`head_sha`, `head_branch`, `id`), not the runner's own
//! `GITHUB_SHA`, which there points at the default branch.

use crate::env::{Env, vars};
use crate::error::InputError;
use crate::event::Event;
use crate::repo::RepoName;
use crate::states::Conclusion;

/// What is being deployed: repository, commit, branch and the run that built it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `owner/repo` as GitHub spells it.
    pub repository: String,
    /// The commit.
    pub sha: String,
    /// Branch or tag name, without `refs/heads/`.
    pub ref_name: String,
    /// The run that built it: the `workflow_run`'s id, else this run.
    pub run_id: String,
    /// That run's number.
    pub run_number: String,
    /// The `workflow_run`'s conclusion, under that event.
    pub conclusion: Option<Conclusion>,
    /// The `workflow_run`'s workflow name, under that event.
    pub workflow: Option<String>,
}

impl Source {
    /// The source the event names (see the module documentation), else the runner's.
    pub fn from_event(env: &Env, event: &Event) -> Self {
        if let Some(wr) = event.workflow_run() {
            let run = wr.workflow_run;
            return Self {
                repository: run.repository.map(|r| r.full_name).unwrap_or_default(),
                sha: run.head_sha,
                ref_name: run.head_branch.unwrap_or_default(),
                run_id: run.id.to_string(),
                run_number: run.run_number.map(|n| n.to_string()).unwrap_or_default(),
                conclusion: run.conclusion,
                workflow: run.name,
            };
        }
        if let Some(d) = event.repository_dispatch() {
            // A deploy repo started by dispatch-deploy: what to deploy is in
            // the payload; fields it lacks fall back to the runner's.
            let mut own = Self::from_runner(env);
            if let Some(repo) = d.field("repository") {
                repo.clone_into(&mut own.repository);
            }
            if let Some(sha) = d.field("sha") {
                sha.clone_into(&mut own.sha);
            }
            if let Some(r) = d.field("ref") {
                own.ref_name = short_ref(r);
            }
            if let Some(run) = d.field("workflow_run_id") {
                run.clone_into(&mut own.run_id);
            }
            return own;
        }
        Self::from_runner(env)
    }

    /// The runner's own context: `GITHUB_REPOSITORY`, `GITHUB_SHA`, ….
    pub fn from_runner(env: &Env) -> Self {
        let ref_name = env
            .get(vars::GITHUB_REF_NAME)
            .map(str::to_owned)
            .or_else(|| env.get(vars::GITHUB_REF).map(short_ref))
            .unwrap_or_default();
        Self {
            repository: env
                .get(vars::GITHUB_REPOSITORY)
                .unwrap_or_default()
                .to_owned(),
            sha: env.get(vars::GITHUB_SHA).unwrap_or_default().to_owned(),
            ref_name,
            run_id: env.get(vars::GITHUB_RUN_ID).unwrap_or_default().to_owned(),
            run_number: env
                .get(vars::GITHUB_RUN_NUMBER)
                .unwrap_or_default()
                .to_owned(),
            conclusion: None,
            workflow: None,
        }
    }

    /// The first seven characters of the sha.
    pub fn short_sha(&self) -> &str {
        self.sha.get(..7).unwrap_or(&self.sha)
    }

    /// The repository's owner.
    pub fn owner(&self) -> &str {
        self.repository.split_once('/').map_or("", |(o, _)| o)
    }

    /// The repository's name, without the owner.
    pub fn repo(&self) -> &str {
        self.repository
            .split_once('/')
            .map_or(self.repository.as_str(), |(_, r)| r)
    }
}

/// `refs/heads/main` → `main`, `refs/tags/v1` → `v1`; other text unchanged.
pub fn short_ref(r: &str) -> String {
    r.strip_prefix("refs/heads/")
        .or_else(|| r.strip_prefix("refs/tags/"))
        .unwrap_or(r)
        .to_owned()
}

/// Checks that input `input` is a repository as GitHub spells one,
/// `owner/repo`; `hint` says where the right value comes from.
pub fn check_repository(input: &str, repo: &str, hint: &str) -> Result<RepoName, InputError> {
    RepoName::parse(repo).map_err(|why| InputError::new(input, &why, hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_must_be_owner_slash_repo() {
        for ok in ["o/r", "my-org/deploy.repo", "a/b_c"] {
            assert!(check_repository("repository", ok, "").is_ok(), "{ok}");
        }
        for bad in ["nope", "/r", "o/", "o/r/x", "o o/r", "o/..", ""] {
            let e = check_repository("repository", bad, "").unwrap_err();
            assert_eq!(e.input, "repository");
        }
    }
    use serde_json::json;

    #[test]
    fn workflow_run_wins_over_runner_sha() {
        let env = Env::from_pairs([
            (vars::GITHUB_SHA, "runner"),
            (vars::GITHUB_REPOSITORY, "o/deploy"),
        ]);
        let event = Event {
            name: "workflow_run".into(),
            payload: json!({"action": "completed", "workflow_run": {
                "id": 77, "run_number": 5, "head_sha": "abcdef123456", "head_branch": "develop",
                "conclusion": "failure", "name": "Main",
                "repository": {"full_name": "Xtp/App", "name": "App", "owner": {"login": "Xtp"}}}}),
        };
        let s = Source::from_event(&env, &event);
        assert_eq!(s.sha, "abcdef123456");
        assert_eq!(s.short_sha(), "abcdef1");
        assert_eq!(
            (
                s.repository.as_str(),
                s.ref_name.as_str(),
                s.run_id.as_str()
            ),
            ("Xtp/App", "develop", "77")
        );
        assert_eq!(s.conclusion, Some(crate::Conclusion::Failure));
        assert_eq!((s.owner(), s.repo()), ("Xtp", "App"));
    }

    #[test]
    fn push_uses_the_runner_context() {
        let env = Env::from_pairs([
            (vars::GITHUB_SHA, "1234567890"),
            (vars::GITHUB_REPOSITORY, "o/r"),
            (vars::GITHUB_REF, "refs/heads/feature/x"),
            (vars::GITHUB_RUN_ID, "9"),
        ]);
        let s = Source::from_event(
            &env,
            &Event {
                name: "push".into(),
                payload: json!({}),
            },
        );
        assert_eq!(
            (s.ref_name.as_str(), s.run_id.as_str(), s.short_sha()),
            ("feature/x", "9", "1234567")
        );
    }

    #[test]
    fn repository_dispatch_reads_the_client_payload() {
        let env = Env::from_pairs([
            (vars::GITHUB_SHA, "runner"),
            (vars::GITHUB_REPOSITORY, "o/deploy"),
            (vars::GITHUB_RUN_ID, "5"),
        ]);
        let event = Event {
            name: "repository_dispatch".into(),
            payload: json!({"action": "deploy", "client_payload": {"repository": "o/app", "sha": "abc1234def", "ref": "refs/heads/develop"}}),
        };
        let s = Source::from_event(&env, &event);
        assert_eq!(
            (s.repository.as_str(), s.sha.as_str(), s.ref_name.as_str()),
            ("o/app", "abc1234def", "develop")
        );
        assert_eq!(s.run_id, "5", "no workflow_run_id in the payload: this run");
    }

    #[test]
    fn short_ref_strips_heads_and_tags() {
        assert_eq!(short_ref("refs/heads/a/b"), "a/b");
        assert_eq!(short_ref("refs/tags/v1"), "v1");
        assert_eq!(short_ref("main"), "main");
    }
}
