//! Every environment variable deploy-relay reads, and the one place that reads them.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::console::Verbosity;

/// Names of the environment variables the runner (or a user) hands to an action.
///
/// What the runner's ones hold:
/// <https://docs.github.com/en/actions/reference/workflows-and-actions/variables>.
// A constant's name is the variable's; the ones of our own say more.
#[allow(missing_docs)]
pub mod vars {
    pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
    pub const GITHUB_EVENT_NAME: &str = "GITHUB_EVENT_NAME";
    pub const GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
    pub const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
    pub const GITHUB_SHA: &str = "GITHUB_SHA";
    pub const GITHUB_REF: &str = "GITHUB_REF";
    pub const GITHUB_REF_NAME: &str = "GITHUB_REF_NAME";
    pub const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
    pub const GITHUB_RUN_NUMBER: &str = "GITHUB_RUN_NUMBER";
    pub const GITHUB_RUN_ATTEMPT: &str = "GITHUB_RUN_ATTEMPT";
    pub const GITHUB_JOB: &str = "GITHUB_JOB";
    pub const GITHUB_WORKFLOW: &str = "GITHUB_WORKFLOW";
    pub const GITHUB_API_URL: &str = "GITHUB_API_URL";
    pub const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
    pub const GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";
    pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
    pub const GITHUB_WORKSPACE: &str = "GITHUB_WORKSPACE";
    pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
    /// The GitHub CLI's token variable; `deploy-relay status` and `approve`
    /// read it before `GITHUB_TOKEN`, as `gh` does.
    pub const GH_TOKEN: &str = "GH_TOKEN";
    pub const GITHUB_RETENTION_DAYS: &str = "GITHUB_RETENTION_DAYS";
    pub const ACTIONS_RESULTS_URL: &str = "ACTIONS_RESULTS_URL";
    pub const ACTIONS_RUNTIME_TOKEN: &str = "ACTIONS_RUNTIME_TOKEN";
    pub const RUNNER_DEBUG: &str = "RUNNER_DEBUG";
    pub const RUNNER_TEMP: &str = "RUNNER_TEMP";
    /// Scales every retry back-off (a float, default 1). Tests set it low so
    /// a retried 503 does not cost seconds; users have no reason to touch it.
    pub const DEPLOY_RELAY_BACKOFF_SCALE: &str = "DEPLOY_RELAY_BACKOFF_SCALE";

    // deploy-receiver, the server on the VM.
    /// `tracing` filter for deploy-receiver's logs (`RUST_LOG` syntax; default `info`).
    pub const DEPLOY_RECEIVER_LOG: &str = "DEPLOY_RECEIVER_LOG";
    /// Set by deploy-receiver for each command: the delivery id it serves (empty when none).
    pub const DEPLOY_DELIVERY_ID: &str = "DEPLOY_DELIVERY_ID";
    /// Set by deploy-receiver for each command: the hook path that was called.
    pub const DEPLOY_HOOK_PATH: &str = "DEPLOY_HOOK_PATH";
    /// Set by systemd with `StateDirectory=`: where deploy-receiver keeps
    /// delivery ids across restarts unless `replay_state` says otherwise.
    pub const STATE_DIRECTORY: &str = "STATE_DIRECTORY";
}

/// A snapshot of the process environment, taken once at start-up.
///
/// Everything reads env through this so tests can hand an action any
/// environment without touching the process's own.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The real process environment. The only place that reads it.
    #[allow(clippy::disallowed_methods)]
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    /// An environment made of exactly these pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `name`, or `None` when it is unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Sets `name` (for the checkout's defaults, and tests).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// The value of `name` as a path.
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.get(name).map(PathBuf::from)
    }

    /// `RUNNER_DEBUG=1` turns on the step's debug output.
    pub fn debug(&self) -> bool {
        self.get(vars::RUNNER_DEBUG) == Some("1")
    }

    /// The console's [`Verbosity`] for this step: debug with `RUNNER_DEBUG=1`.
    pub fn verbosity(&self) -> Verbosity {
        if self.debug() {
            Verbosity::Debug
        } else {
            Verbosity::Normal
        }
    }

    /// Base URL of the REST API, `GITHUB_API_URL` (GitHub Enterprise Server
    /// sets it to `https://HOST/api/v3`), without a trailing slash.
    pub fn api_url(&self) -> String {
        self.get(vars::GITHUB_API_URL)
            .unwrap_or("https://api.github.com")
            .trim_end_matches('/')
            .to_owned()
    }

    /// Base URL of the web UI, for links in summaries.
    pub fn server_url(&self) -> String {
        self.get(vars::GITHUB_SERVER_URL)
            .unwrap_or("https://github.com")
            .trim_end_matches('/')
            .to_owned()
    }

    /// Link to the current workflow run, when the runner said which it is.
    pub fn run_url(&self) -> Option<String> {
        let repo = self.get(vars::GITHUB_REPOSITORY)?;
        let run = self.get(vars::GITHUB_RUN_ID)?;
        Some(format!("{}/{repo}/actions/runs/{run}", self.server_url()))
    }

    /// `DEPLOY_RELAY_BACKOFF_SCALE`: every retry wait is multiplied by it (default 1).
    pub fn backoff_scale(&self) -> f64 {
        self.get(vars::DEPLOY_RELAY_BACKOFF_SCALE)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .unwrap_or(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_read_as_unset() {
        let env = Env::from_pairs([("A", ""), ("B", "x")]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), Some("x"));
        assert_eq!(env.get("C"), None);
    }

    #[test]
    fn api_url_defaults_to_github_com_and_drops_trailing_slash() {
        assert_eq!(Env::default().api_url(), "https://api.github.com");
        let ghes = Env::from_pairs([(vars::GITHUB_API_URL, "https://ghe.example/api/v3/")]);
        assert_eq!(ghes.api_url(), "https://ghe.example/api/v3");
    }

    #[test]
    fn run_url_joins_server_repo_and_run() {
        let env = Env::from_pairs([
            (vars::GITHUB_REPOSITORY, "o/r"),
            (vars::GITHUB_RUN_ID, "42"),
            (vars::GITHUB_SERVER_URL, "https://ghe.example"),
        ]);
        assert_eq!(
            env.run_url().unwrap(),
            "https://ghe.example/o/r/actions/runs/42"
        );
    }

    #[test]
    fn debug_only_when_runner_debug_is_1() {
        assert!(Env::from_pairs([(vars::RUNNER_DEBUG, "1")]).debug());
        assert!(!Env::from_pairs([(vars::RUNNER_DEBUG, "0")]).debug());
        assert!(!Env::default().debug());
    }
}
