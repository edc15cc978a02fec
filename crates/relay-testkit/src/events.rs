//! Event payloads for tests, built on GitHub's real examples
//! (`@octokit/webhooks-examples`) when installed, so the typed views are
//! checked against what GitHub actually sends.

use serde_json::{Value, json};

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

fn repository(full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or(("octo", full_name));
    // Distinct repositories get distinct ids, as on GitHub.
    let id = full_name
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 1_000_000_000;
    json!({"id": id, "full_name": full_name, "name": name, "owner": {"login": owner}, "default_branch": "main", "fork": false})
}

/// The `workflow_run` event of a fork's pull request: the run belongs to
/// `repo`, its head commit to `fork` (GitHub lists no `pull_requests` for a
/// fork's run, and a fork may even name its branch `main`).
pub fn workflow_run_from_fork(
    repo: &str,
    fork: &str,
    sha: &str,
    branch: &str,
    run_id: u64,
) -> Value {
    let mut event = workflow_run(repo, sha, branch, run_id, "success");
    let mut head = repository(fork);
    head["fork"] = json!(true);
    event["workflow_run"]["head_repository"] = head;
    event["workflow_run"]["event"] = json!("pull_request");
    event["workflow_run"]["pull_requests"] = json!([]);
    event
}

/// The same after the fork was deleted: no head repository at all.
pub fn workflow_run_from_deleted_fork(repo: &str, sha: &str, branch: &str, run_id: u64) -> Value {
    let mut event = workflow_run_from_fork(repo, "gone/gone", sha, branch, run_id);
    event["workflow_run"]["head_repository"] = Value::Null;
    event
}

/// A `workflow_run` `completed` event for a run of `repo` at `sha` on `branch`.
pub fn workflow_run(repo: &str, sha: &str, branch: &str, run_id: u64, conclusion: &str) -> Value {
    let mut event = example("workflow_run", "completed").unwrap_or_else(|| {
        json!({"action": "completed", "workflow_run": {"name": "Main", "run_number": 12, "status": "completed"}})
    });
    let run = &mut event["workflow_run"];
    run["id"] = json!(run_id);
    run["head_sha"] = json!(sha);
    run["head_branch"] = json!(branch);
    run["conclusion"] = json!(conclusion);
    run["name"] = json!("Main");
    run["repository"] = repository(repo);
    run["head_repository"] = repository(repo);
    event["repository"] = repository(repo);
    event
}

/// A `repository_dispatch` event carrying `client_payload`.
pub fn repository_dispatch(event_type: &str, client_payload: Value) -> Value {
    let mut event = example("repository_dispatch", "on-demand-test")
        .unwrap_or_else(|| json!({"branch": "main", "repository": repository("octo/deploy")}));
    event["action"] = json!(event_type);
    event["client_payload"] = client_payload;
    event
}
