//! A fake GitHub REST API: in-process, stateful, strict.

mod apps;
mod artifacts;
mod attestations;
mod checks;
mod deployments;
mod grants;
mod issues;
mod jwt;
mod reviews;
mod runs;
mod server;
mod statuses;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

pub use apps::{AppKeyPair, AppSeed, InstallationSeed, IssuedToken};
pub use artifacts::ArtifactSeed;
pub use checks::CheckScript;
pub use grants::{Grant, TokenKind};
pub use jwt::{JwtRefusal, verifier_in_use};
pub use runs::{Run, RunScript, WorkflowDispatchMode};

/// The token every fake accepts unless a test registers others.
pub const DEFAULT_TOKEN: &str = "ghs_TestkitDefaultToken0123456789abcdef";

/// What a token may do.
#[derive(Debug, Clone)]
pub enum Access {
    /// Read and write every repository.
    All,
    /// Read only these repositories; writes answer 403 like `GITHUB_TOKEN`
    /// without the permission ("Resource not accessible by integration").
    ReadOnly(Vec<String>),
    /// Read and write only these repositories; others answer 404.
    Repos(Vec<String>),
    /// A token of a kind GitHub knows with its grant: any call outside it
    /// is refused as GitHub refuses it (see [`Grant`]).
    Grant(Grant),
}

/// A canned answer served instead of the real one, once.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The HTTP status answered.
    pub status: u16,
    /// Headers added to the answer, name and value.
    pub headers: Vec<(String, String)>,
    /// The answer's body.
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
    /// Close the connection after sending this many body bytes.
    pub reset_after: Option<usize>,
}

impl Fault {
    /// `status` at once, with a GitHub-shaped `message` body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: format!(r#"{{"message":"fault {status}"}}"#),
            delay: Duration::ZERO,
            reset_after: None,
        }
    }
    /// With header `name: value` too.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// With `body` instead.
    pub fn body(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }
    /// Answered `delay` late.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
    /// 429 with `retry-after`.
    pub fn too_many(retry_after_secs: u64) -> Self {
        Self::status(429).header("retry-after", &retry_after_secs.to_string())
    }
    /// GitHub's secondary rate limit: a 403 with `retry-after`.
    pub fn secondary_rate_limit(retry_after_secs: u64) -> Self {
        Self::status(403)
            .header("retry-after", &retry_after_secs.to_string())
            .body(r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#)
    }
    /// A 200 whose connection drops after `bytes` bytes of body.
    pub fn reset_mid_body(bytes: usize) -> Self {
        let mut f = Self::status(200).body(&"x".repeat(bytes * 2 + 16));
        f.reset_after = Some(bytes);
        f
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The HTTP method (`GET`, `POST`, …).
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, without `?` (empty when none).
    pub query: String,
    /// Lower-case name → value; `authorization` reads `<redacted>`.
    pub headers: BTreeMap<String, String>,
    /// The body, when it was JSON.
    pub body: Option<Value>,
    /// The answer's status.
    pub status: u16,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Repo {
    pub default_branch: String,
    pub branches: Vec<String>,
    /// file name → (id, name, declared inputs or None for "any").
    pub workflows: Vec<Workflow>,
}

#[derive(Debug, Clone)]
pub(crate) struct Workflow {
    pub id: u64,
    pub file: String,
    pub name: String,
    pub inputs: Option<Vec<String>>,
}

#[derive(Default)]
pub(crate) struct State {
    pub base_url: String,
    pub tokens: HashMap<String, Access>,
    pub repos: BTreeMap<String, Repo>,
    pub faults: HashMap<(String, String), VecDeque<Fault>>,
    pub requests: Vec<Recorded>,
    /// repo → `repository_dispatch` bodies, in order.
    pub dispatches: BTreeMap<String, Vec<Value>>,
    /// repo → `workflow_dispatch` bodies (with the workflow id), in order.
    pub workflow_dispatches: BTreeMap<String, Vec<Value>>,
    pub runs: runs::Runs,
    pub checks: checks::Checks,
    pub issues: issues::Issues,
    pub artifacts: artifacts::Artifacts,
    pub attestations: attestations::Attestations,
    pub deployments: deployments::Deployments,
    pub apps: apps::Apps,
    /// Requests that would cost rate limit (everything but 304s).
    pub rate_limit_used: u64,
    pub next_id: u64,
}

impl State {
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// A running fake GitHub. Stops when dropped.
pub struct FakeGitHub {
    url: String,
    state: Arc<Mutex<State>>,
    _server: server::Handle,
}

impl FakeGitHub {
    /// Starts a fake on a free port of 127.0.0.1, accepting [`DEFAULT_TOKEN`].
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            next_id: 1000,
            ..State::default()
        }));
        state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .tokens
            .insert(DEFAULT_TOKEN.into(), Access::All);
        let (url, handle) = server::spawn(state.clone());
        state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .base_url
            .clone_from(&url);
        Self {
            url,
            state,
            _server: handle,
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The API base URL, for `GITHUB_API_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds a repository with its default branch.
    pub fn repo(&self, full_name: &str, default_branch: &str) -> &Self {
        self.state().repos.insert(
            full_name.to_owned(),
            Repo {
                default_branch: default_branch.into(),
                branches: vec![default_branch.into()],
                workflows: Vec::new(),
            },
        );
        self
    }

    /// Adds a branch that `workflow_dispatch` may target.
    ///
    /// # Panics
    ///
    /// When `repo` was not added with [`FakeGitHub::repo`] first.
    pub fn branch(&self, repo: &str, branch: &str) -> &Self {
        self.state()
            .repos
            .get_mut(repo)
            .expect("add the repo first")
            .branches
            .push(branch.into());
        self
    }

    /// Adds a workflow file to a repository; `inputs` are the names its
    /// `workflow_dispatch` trigger declares (`None`: accept any). Returns
    /// the workflow's id.
    ///
    /// # Panics
    ///
    /// When `repo` was not added with [`FakeGitHub::repo`] first.
    pub fn workflow(&self, repo: &str, file: &str, name: &str, inputs: Option<&[&str]>) -> u64 {
        let mut state = self.state();
        let id = state.next_id();
        state
            .repos
            .get_mut(repo)
            .expect("add the repo first")
            .workflows
            .push(Workflow {
                id,
                file: file.into(),
                name: name.into(),
                inputs: inputs.map(|i| i.iter().map(|s| (*s).to_owned()).collect()),
            });
        id
    }

    /// Accepts `token` too, with `access`.
    pub fn token(&self, token: &str, access: Access) -> &Self {
        self.state().tokens.insert(token.into(), access);
        self
    }

    /// Serves `faults`, one per request, to `method path` before answering normally.
    pub fn fault(
        &self,
        method: &str,
        path: &str,
        faults: impl IntoIterator<Item = Fault>,
    ) -> &Self {
        self.state()
            .faults
            .entry((method.to_uppercase(), path.to_owned()))
            .or_default()
            .extend(faults);
        self
    }

    /// What runs a dispatch to `repo` starts, and how they progress.
    pub fn on_dispatch(&self, repo: &str, script: RunScript) -> &Self {
        self.state().runs.scripts.insert(repo.to_owned(), script);
        self
    }

    /// How `workflow_dispatch` to `repo` answers.
    pub fn workflow_dispatch_mode(&self, repo: &str, mode: WorkflowDispatchMode) -> &Self {
        self.state().runs.modes.insert(repo.to_owned(), mode);
        self
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// The `repository_dispatch` bodies `repo` accepted.
    pub fn dispatches(&self, repo: &str) -> Vec<Value> {
        self.state()
            .dispatches
            .get(repo)
            .cloned()
            .unwrap_or_default()
    }

    /// The `workflow_dispatch` bodies `repo` accepted.
    pub fn workflow_dispatches(&self, repo: &str) -> Vec<Value> {
        self.state()
            .workflow_dispatches
            .get(repo)
            .cloned()
            .unwrap_or_default()
    }

    /// The runs of `repo`, oldest first.
    pub fn runs(&self, repo: &str) -> Vec<Run> {
        self.state()
            .runs
            .list
            .iter()
            .filter(|r| r.repo == repo)
            .cloned()
            .collect()
    }

    /// Adds a run directly (as if some other trigger had started it).
    // By value like `on_dispatch`, which keeps its script; callers build it
    // inline.
    #[allow(clippy::needless_pass_by_value)]
    pub fn add_run(&self, repo: &str, event: &str, title: &str, script: RunScript) -> u64 {
        let mut state = self.state();
        runs::create_run(&mut state, repo, event, title, None, &script)
    }

    /// Requests that cost rate limit: all but the 304s.
    pub fn rate_limit_used(&self) -> u64 {
        self.state().rate_limit_used
    }
}
