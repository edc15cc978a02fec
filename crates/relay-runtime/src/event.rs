//! The event that started the workflow (`GITHUB_EVENT_PATH`), with typed
//! views of the payloads deploy-relay reads. Only the fields we use are
//! typed; the rest stays in [`Event::payload`].

use serde::Deserialize;
use serde_json::Value;

use crate::env::{Env, vars};
use crate::states::{Conclusion, RunStatus};

/// The events of a build run whose commit deploys by default: a push and a
/// manual run. A pull request's build (even of a branch of the repository
/// itself) is never deployed unless the consumer names its event.
pub const DEFAULT_TRIGGER_EVENTS: &[&str] = &["push", "workflow_dispatch"];

/// `trigger-events`: event names, one per line or comma-separated; empty
/// gives [`DEFAULT_TRIGGER_EVENTS`].
pub fn trigger_events(lines: &[&str]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for name in lines.iter().flat_map(|l| l.split(',')).map(str::trim) {
        if name.is_empty() {
            continue;
        }
        if !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(format!("has `{name}`, which is no event name"));
        }
        if !out.iter().any(|o| o == name) {
            out.push(name.to_owned());
        }
    }
    if out.is_empty() {
        out = DEFAULT_TRIGGER_EVENTS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
    }
    Ok(out)
}

/// Why the event payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The file could not be read.
    #[error("couldn't read the event payload `{path}`: {source}")]
    Read {
        /// `GITHUB_EVENT_PATH`.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file is not the JSON the event has.
    #[error("the event payload `{path}` is not valid JSON for a `{event}` event: {source}")]
    Parse {
        /// `GITHUB_EVENT_PATH`.
        path: String,
        /// `GITHUB_EVENT_NAME`.
        event: String,
        /// What the JSON parser said.
        source: serde_json::Error,
    },
}

/// The event that started the workflow: its name and its payload.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// `GITHUB_EVENT_NAME`, e.g. `workflow_run`.
    pub name: String,
    /// The payload as JSON; the typed views read from it.
    pub payload: Value,
}

/// A user or organisation as events name them.
#[derive(Debug, Clone, Deserialize)]
pub struct Owner {
    /// Their login.
    pub login: String,
}

/// A repository as an event payload names it.
#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    /// Its id; the one sure way to tell two repositories apart (a renamed fork keeps its id).
    #[serde(default)]
    pub id: Option<u64>,
    /// `owner/repo`.
    pub full_name: String,
    /// The repository's name, without the owner.
    pub name: String,
    /// The account that owns it.
    pub owner: Owner,
    /// Its default branch.
    #[serde(default)]
    pub default_branch: Option<String>,
}

/// A workflow run: the `workflow_run` of a `workflow_run` event, and the
/// same object as the REST API answers it (one type for both). Only `id`
/// and `head_sha` are always there.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    /// The run's id.
    pub id: u64,
    /// The workflow's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The run's title (`run-name:`); where dispatch-deploy finds its dispatch id.
    #[serde(default)]
    pub display_title: Option<String>,
    /// Its number among the workflow's runs.
    #[serde(default)]
    pub run_number: Option<u64>,
    /// Which attempt of the run (re-runs count up).
    #[serde(default)]
    pub run_attempt: Option<u64>,
    /// The commit it ran on.
    pub head_sha: String,
    /// The branch of that commit.
    #[serde(default)]
    pub head_branch: Option<String>,
    /// The event that started it.
    #[serde(default)]
    pub event: Option<String>,
    /// Its run status.
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// How it ended, once completed.
    #[serde(default)]
    pub conclusion: Option<Conclusion>,
    /// Its page on GitHub.
    #[serde(default)]
    pub html_url: String,
    /// When it was created (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// The repository it ran in.
    #[serde(default)]
    pub repository: Option<Repository>,
    /// The repository the head commit came from: a fork's for a fork's pull
    /// request, `null` when that fork was deleted.
    #[serde(default)]
    pub head_repository: Option<Repository>,
    /// Who started the run first.
    #[serde(default)]
    pub actor: Option<Owner>,
    /// Who started this attempt (a re-run).
    #[serde(default)]
    pub triggering_actor: Option<Owner>,
}

/// Where a `workflow_run`'s head commit came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// The repository itself.
    Own,
    /// Another repository: a fork's pull request.
    /// Another repository: a fork's pull request; `head` is the fork, `owner/repo`.
    Fork {
        /// The fork, `owner/repo`.
        head: String,
    },
    /// No head repository at all: the fork was deleted.
    DeletedFork,
}

impl WorkflowRun {
    /// Whether the head commit is the repository's own. A fork's pull
    /// request runs in the base repository with a head repository of its
    /// own (or none, once the fork is deleted); its artifacts and sha must
    /// not be deployed as if they were the repository's. `own` is the
    /// repository this workflow runs in, used when the payload names none.
    pub fn provenance(&self, own: &str) -> Provenance {
        let Some(head) = &self.head_repository else {
            return Provenance::DeletedFork;
        };
        let same = match &self.repository {
            Some(repo) => match (repo.id, head.id) {
                (Some(a), Some(b)) => a == b,
                _ => repo.full_name.eq_ignore_ascii_case(&head.full_name),
            },
            None => own.eq_ignore_ascii_case(&head.full_name),
        };
        if same {
            Provenance::Own
        } else {
            Provenance::Fork {
                head: head.full_name.clone(),
            }
        }
    }
}

impl Provenance {
    /// Why a run of this provenance is not trusted, as a notice says it.
    pub fn distrust(&self) -> Option<String> {
        match self {
            Provenance::Own => None,
            Provenance::Fork { head } => Some(format!(
                "its head commit comes from the fork `{head}` (a fork's pull request)"
            )),
            Provenance::DeletedFork => Some(
                "it has no head repository (a pull request from a fork that was since deleted)"
                    .to_owned(),
            ),
        }
    }
}

/// `workflow_run` event: a workflow run requested or completed.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRunEvent {
    /// `requested`, `in_progress` or `completed`.
    pub action: String,
    /// The run.
    pub workflow_run: WorkflowRun,
}

/// `repository_dispatch` event: `action` is the dispatch's `event_type`.
#[derive(Debug, Clone, Deserialize)]
pub struct RepositoryDispatchEvent {
    /// The `event_type` the dispatch was sent with.
    pub action: String,
    /// The branch the workflow runs on.
    #[serde(default)]
    pub branch: Option<String>,
    /// The dispatch's `client_payload`.
    #[serde(default)]
    pub client_payload: Value,
}

impl RepositoryDispatchEvent {
    /// A string field of `client_payload`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.client_payload
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// `push` event.
#[derive(Debug, Clone, Deserialize)]
pub struct PushEvent {
    /// The ref pushed to (`refs/heads/main`).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit the ref points to now.
    pub after: String,
    /// The commit it pointed to before.
    #[serde(default)]
    pub before: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequestRef {
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    #[serde(default)]
    pub repo: Option<Repository>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub head: PullRequestRef,
    pub base: PullRequestRef,
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
}

/// `pull_request` event.
#[derive(Debug, Clone, Deserialize)]
pub struct PullRequestEvent {
    /// What happened (`opened`, `synchronize`, …).
    pub action: String,
    /// The pull request's number.
    pub number: u64,
    /// The pull request.
    pub pull_request: PullRequest,
}

impl Event {
    /// Reads `GITHUB_EVENT_NAME` and the JSON at `GITHUB_EVENT_PATH`; a
    /// missing path (local use) gives an empty payload.
    pub fn load(env: &Env) -> Result<Self, EventError> {
        let name = env
            .get(vars::GITHUB_EVENT_NAME)
            .unwrap_or_default()
            .to_owned();
        let Some(path) = env.get(vars::GITHUB_EVENT_PATH) else {
            return Ok(Self {
                name,
                payload: Value::Null,
            });
        };
        let text = std::fs::read_to_string(path).map_err(|source| EventError::Read {
            path: path.to_owned(),
            source,
        })?;
        let payload = serde_json::from_str(&text).map_err(|source| EventError::Parse {
            path: path.to_owned(),
            event: name.clone(),
            source,
        })?;
        let event = Self { name, payload };
        // Fail early, with the path, if the payload is not the shape its name promises.
        event.typed_check(path)?;
        Ok(event)
    }

    fn typed_check(&self, path: &str) -> Result<(), EventError> {
        let check = match self.name.as_str() {
            "workflow_run" => self.view::<WorkflowRunEvent>().map(drop),
            "repository_dispatch" => self.view::<RepositoryDispatchEvent>().map(drop),
            "push" => self.view::<PushEvent>().map(drop),
            "pull_request" | "pull_request_target" => self.view::<PullRequestEvent>().map(drop),
            _ => Ok(()),
        };
        check.map_err(|source| EventError::Parse {
            path: path.to_owned(),
            event: self.name.clone(),
            source,
        })
    }

    fn view<T: for<'de> Deserialize<'de>>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }

    /// Why the `workflow_run` that started this workflow must not be
    /// deployed (a fork's run), or `None` for any other event or a run of
    /// the repository itself. `env` says which repository this is.
    pub fn distrust(&self, env: &Env) -> Option<String> {
        self.workflow_run().and_then(|e| {
            e.workflow_run
                .provenance(env.get(vars::GITHUB_REPOSITORY).unwrap_or_default())
                .distrust()
        })
    }

    /// Why the `workflow_run` that started this workflow must not be
    /// deployed because of the event that started *it*: a build run
    /// started by an event outside `allowed` (a same-repository pull
    /// request, by default). `None` for any other event, or a run whose
    /// event is allowed. A run that names no event is refused too.
    pub fn refused_trigger(&self, allowed: &[String]) -> Option<String> {
        let run = self.workflow_run()?.workflow_run;
        let event = run.event.unwrap_or_default();
        if allowed.iter().any(|a| a == &event) {
            return None;
        }
        Some(if event.is_empty() {
            "the event that started it is not known".to_owned()
        } else {
            format!(
                "it was started by a `{event}` event, not by {}",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        })
    }

    /// The `workflow_run` payload, under that event.
    pub fn workflow_run(&self) -> Option<WorkflowRunEvent> {
        (self.name == "workflow_run")
            .then(|| self.view().ok())
            .flatten()
    }

    /// The `repository_dispatch` payload, under that event.
    pub fn repository_dispatch(&self) -> Option<RepositoryDispatchEvent> {
        (self.name == "repository_dispatch")
            .then(|| self.view().ok())
            .flatten()
    }

    /// The `push` payload, under that event.
    pub fn push(&self) -> Option<PushEvent> {
        (self.name == "push").then(|| self.view().ok()).flatten()
    }

    /// The `pull_request` payload, under that event (or `pull_request_target`).
    pub fn pull_request(&self) -> Option<PullRequestEvent> {
        matches!(self.name.as_str(), "pull_request" | "pull_request_target")
            .then(|| self.view().ok())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(name: &str, payload: Value) -> Event {
        Event {
            name: name.into(),
            payload,
        }
    }

    fn repo(full: &str) -> Value {
        let (o, n) = full.split_once('/').unwrap();
        json!({"full_name": full, "name": n, "owner": {"login": o}})
    }

    #[test]
    fn workflow_run_view() {
        let e = event(
            "workflow_run",
            json!({"action": "completed", "workflow_run": {
                "id": 9, "head_sha": "abc", "head_branch": "main", "conclusion": "success",
                "run_number": 3, "repository": repo("xtp-tour/xtp-tour")}}),
        );
        let run = e.workflow_run().unwrap().workflow_run;
        assert_eq!((run.id, run.head_sha.as_str()), (9, "abc"));
        assert_eq!(run.repository.unwrap().full_name, "xtp-tour/xtp-tour");
        assert!(e.push().is_none(), "views follow the event name");
    }

    #[test]
    fn provenance_tells_own_runs_from_forks_and_deleted_forks() {
        let run = |head: Value| {
            serde_json::from_value::<WorkflowRun>(json!({
                "id": 1, "head_sha": "abc",
                "repository": {"id": 10, "full_name": "o/app", "name": "app", "owner": {"login": "o"}},
                "head_repository": head,
            }))
            .unwrap()
        };
        let own = json!({"id": 10, "full_name": "o/app", "name": "app", "owner": {"login": "o"}});
        let fork =
            json!({"id": 99, "full_name": "evil/app", "name": "app", "owner": {"login": "evil"}});
        // A fork renamed to the base's name still has another id.
        let lookalike =
            json!({"id": 98, "full_name": "o/app", "name": "app", "owner": {"login": "o"}});
        assert_eq!(run(own).provenance("o/app"), Provenance::Own);
        assert_eq!(
            run(fork).provenance("o/app"),
            Provenance::Fork {
                head: "evil/app".into()
            }
        );
        assert!(matches!(
            run(lookalike).provenance("o/app"),
            Provenance::Fork { .. }
        ));
        assert_eq!(
            run(Value::Null).provenance("o/app"),
            Provenance::DeletedFork
        );
        assert!(
            Provenance::DeletedFork
                .distrust()
                .unwrap()
                .contains("deleted")
        );
        assert_eq!(Provenance::Own.distrust(), None);
    }

    #[test]
    fn only_runs_of_the_allowed_events_deploy() {
        let run = |ev: Value| {
            event(
                "workflow_run",
                json!({"action": "completed", "workflow_run": {"id": 1, "head_sha": "abc", "event": ev}}),
            )
        };
        let default = trigger_events(&[]).unwrap();
        assert_eq!(default, ["push", "workflow_dispatch"]);
        assert_eq!(run(json!("push")).refused_trigger(&default), None);
        assert_eq!(
            run(json!("workflow_dispatch")).refused_trigger(&default),
            None
        );
        let why = run(json!("pull_request"))
            .refused_trigger(&default)
            .unwrap();
        assert!(why.contains("`pull_request`"), "{why}");
        assert!(
            run(json!("pull_request_target"))
                .refused_trigger(&default)
                .is_some()
        );
        assert!(
            run(Value::Null).refused_trigger(&default).is_some(),
            "no event named"
        );
        let with_prs = trigger_events(&["push, pull_request", "merge_group"]).unwrap();
        assert_eq!(run(json!("pull_request")).refused_trigger(&with_prs), None);
        assert!(trigger_events(&["push; rm"]).is_err());
        assert_eq!(
            event("push", json!({"ref": "refs/heads/main", "after": "a"}))
                .refused_trigger(&default),
            None,
            "only a workflow_run is judged"
        );
    }

    #[test]
    fn repository_dispatch_view_reads_client_payload_fields() {
        let e = event(
            "repository_dispatch",
            json!({"action": "deploy", "client_payload": {"sha": "abc", "n": 1, "e": ""}}),
        );
        let d = e.repository_dispatch().unwrap();
        assert_eq!(d.action, "deploy");
        assert_eq!(d.field("sha"), Some("abc"));
        assert_eq!(d.field("n"), None, "only strings");
        assert_eq!(d.field("e"), None, "empty is unset");
    }

    #[test]
    fn push_view() {
        let e = event(
            "push",
            json!({"ref": "refs/heads/main", "after": "def", "before": "abc"}),
        );
        assert_eq!(e.push().unwrap().after, "def");
    }

    #[test]
    fn pull_request_view_has_head_sha_not_merge_sha() {
        let side = |sha: &str| json!({"sha": sha, "ref": "x", "repo": repo("o/r")});
        let e = event(
            "pull_request",
            json!({"action": "opened", "number": 5, "pull_request": {
                "number": 5, "head": side("head1"), "base": side("base1"),
                "merge_commit_sha": "merge1"}}),
        );
        let pr = e.pull_request().unwrap().pull_request;
        assert_eq!(pr.head.sha, "head1");
    }

    #[test]
    fn load_reports_a_payload_of_the_wrong_shape_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event.json");
        std::fs::write(&path, r#"{"workflow_run": {"id": "not a number"}}"#).unwrap();
        let env = Env::from_pairs([
            (vars::GITHUB_EVENT_NAME, "workflow_run"),
            (vars::GITHUB_EVENT_PATH, path.to_str().unwrap()),
        ]);
        let e = Event::load(&env).unwrap_err().to_string();
        assert!(
            e.contains("event.json") && e.contains("workflow_run"),
            "{e}"
        );
    }

    #[test]
    fn load_without_a_path_is_an_empty_event() {
        let env = Env::from_pairs([(vars::GITHUB_EVENT_NAME, "push")]);
        let e = Event::load(&env).unwrap();
        assert_eq!(e.name, "push");
        assert!(e.push().is_none());
    }
}
