//! The event payloads a run starts from, with the fields our actions read
//! set as GitHub sets them. The test kit lays these over GitHub's own
//! example payloads (`relay_testkit::events`), so the shapes stay checked
//! against what GitHub sends; the demo uses them as they are.

use serde_json::{Value, json};

/// A repository object as events carry it. Distinct names get distinct
/// ids, as on GitHub.
pub fn repository(full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or(("octo", full_name));
    let id = full_name
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 1_000_000_000;
    json!({"id": id, "full_name": full_name, "name": name, "owner": {"login": owner}, "default_branch": "main", "fork": false})
}

/// A `workflow_run` `completed` event for a run of `repo` at `sha` on
/// `branch`, triggered by a push.
pub fn workflow_run(repo: &str, sha: &str, branch: &str, run_id: u64, conclusion: &str) -> Value {
    json!({
        "action": "completed",
        "workflow_run": {
            "id": run_id,
            "name": "Main",
            "run_number": 12,
            "status": "completed",
            "event": "push",
            "head_sha": sha,
            "head_branch": branch,
            "conclusion": conclusion,
            "repository": repository(repo),
            "head_repository": repository(repo),
        },
        "repository": repository(repo),
    })
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

/// A `repository_dispatch` event carrying `client_payload`.
// Callers write the payload inline with `json!`; taking it by value keeps
// their calls plain.
#[allow(clippy::needless_pass_by_value)]
pub fn repository_dispatch(event_type: &str, client_payload: Value) -> Value {
    json!({
        "action": event_type,
        "branch": "main",
        "client_payload": client_payload,
        "repository": repository("octo/deploy"),
    })
}
