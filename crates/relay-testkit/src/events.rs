//! Event payloads for tests: the runner's payloads
//! ([`relay_runner::events`]) laid over GitHub's real examples
//! (`@octokit/webhooks-examples`) when installed, so the typed views are
//! checked against everything else GitHub sends.

use serde_json::Value;

use crate::peers;

/// The first example of `event` with `action`, from `@octokit/webhooks-examples`.
pub fn example(event: &str, action: &str) -> Option<Value> {
    let path = peers::npm_package("@octokit/webhooks-examples/api.github.com/index.json");
    if !peers::require(&path, "cd peers && npm ci") {
        return None;
    }
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    all.as_array()?.iter().find(|e| e["name"] == event)?["examples"]
        .as_array()?
        .iter()
        .find(|x| x["action"] == action)
        .cloned()
}

/// `ours` laid over GitHub's example of `event`/`action`: every field we
/// set wins, objects merge, the example fills in the rest.
fn over_example(event: &str, action: &str, ours: Value) -> Value {
    fn lay(base: &mut Value, top: Value) {
        match (base, top) {
            (Value::Object(base), Value::Object(top)) => {
                for (key, value) in top {
                    lay(base.entry(key).or_insert(Value::Null), value);
                }
            }
            (base, top) => *base = top,
        }
    }
    let mut event = example(event, action).unwrap_or(Value::Null);
    lay(&mut event, ours);
    event
}

/// [`relay_runner::events::workflow_run`] over GitHub's example.
pub fn workflow_run(repo: &str, sha: &str, branch: &str, run_id: u64, conclusion: &str) -> Value {
    let ours = relay_runner::events::workflow_run(repo, sha, branch, run_id, conclusion);
    over_example("workflow_run", "completed", ours)
}

/// [`relay_runner::events::workflow_run_from_fork`] over GitHub's example.
pub fn workflow_run_from_fork(
    repo: &str,
    fork: &str,
    sha: &str,
    branch: &str,
    run_id: u64,
) -> Value {
    let ours = relay_runner::events::workflow_run_from_fork(repo, fork, sha, branch, run_id);
    over_example("workflow_run", "completed", ours)
}

/// [`relay_runner::events::workflow_run_from_deleted_fork`] over GitHub's example.
pub fn workflow_run_from_deleted_fork(repo: &str, sha: &str, branch: &str, run_id: u64) -> Value {
    let ours = relay_runner::events::workflow_run_from_deleted_fork(repo, sha, branch, run_id);
    over_example("workflow_run", "completed", ours)
}

/// [`relay_runner::events::repository_dispatch`] over GitHub's example.
pub fn repository_dispatch(event_type: &str, client_payload: Value) -> Value {
    let ours = relay_runner::events::repository_dispatch(event_type, client_payload);
    over_example("repository_dispatch", "on-demand-test", ours)
}
