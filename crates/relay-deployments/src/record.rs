//! A record — a deploy-relay deployment with its deployment statuses — and
//! "previous good": the sha a failed deploy rolls back to.
//!
//! The newest deploy-relay record of the environment that reached
//! `success`, never reached `failure`, and whose app sha differs from the
//! one being replaced. GitHub itself adds `inactive` to earlier successes
//! of non-production environments when a newer deploy succeeds
//! (`auto_inactive`), so a later `inactive` does not disqualify a record;
//! deployments of other tasks (GitHub's own `deploy` for `environment:`
//! jobs) are never records.

use relay_github::{Deployment, DeploymentState, DeploymentStatus};

use crate::TASK;
use crate::payload::{Payload, same_commit};

/// A deploy-relay deployment with its deployment statuses.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The deployment as GitHub keeps it.
    pub deployment: Deployment,
    /// What its payload says was deployed.
    pub payload: Payload,
    /// Its deployment statuses, newest first, as GitHub lists them.
    pub statuses: Vec<DeploymentStatus>,
}

impl Record {
    /// `d` as a record, when it is one (task `deploy-relay`, a payload
    /// naming the app commit).
    pub fn of(d: Deployment, statuses: Vec<DeploymentStatus>) -> Option<Self> {
        if d.task != TASK {
            return None;
        }
        let payload = Payload::of(&d)?;
        Some(Self {
            deployment: d,
            payload,
            statuses,
        })
    }

    /// The app commit deployed.
    pub fn sha(&self) -> &str {
        &self.payload.sha
    }

    /// The newest deployment status's state (`None`: none yet).
    pub fn state(&self) -> Option<&DeploymentState> {
        self.newest().map(|s| &s.state)
    }

    /// The newest deployment status by id (GitHub lists newest first; the id decides
    /// when two share a second).
    pub fn newest(&self) -> Option<&DeploymentStatus> {
        self.statuses.iter().max_by_key(|s| s.id)
    }

    /// Whether any of its deployment statuses is `state`.
    pub fn reached(&self, state: &DeploymentState) -> bool {
        self.statuses.iter().any(|s| s.state == *state)
    }

    /// Reached `success` and never `failure`.
    pub fn is_good(&self) -> bool {
        self.reached(&DeploymentState::Success) && !self.reached(&DeploymentState::Failure)
    }

    /// When it last changed: its newest deployment status, else its creation.
    pub fn updated_at(&self) -> &str {
        self.newest()
            .map_or(self.deployment.created_at.as_str(), |s| {
                s.created_at.as_str()
            })
    }
}

/// Whether `d` could be the previous good one before its deployment
/// statuses are read: a record of app `app` (any, when `None`) of another
/// sha than `replaced`. Lets a walk through the history skip the
/// deployment status reads of what cannot qualify.
pub fn is_candidate(d: &Deployment, app: Option<&str>, replaced: &str) -> bool {
    d.task == TASK && Payload::of(d).is_some_and(|p| p.is_of(app) && !same_commit(&p.sha, replaced))
}

/// The previous good record among `records` (any order, already read) for
/// a deploy of app `app` (any, when `None`) that replaces `replaced`.
/// [`crate::find_previous_good`] reads the records from GitHub.
pub fn choose_previous_good<'a>(
    records: &'a [Record],
    app: Option<&str>,
    replaced: &str,
) -> Option<&'a Record> {
    records
        .iter()
        .filter(|r| {
            r.deployment.task == TASK
                && r.payload.is_of(app)
                && !same_commit(r.sha(), replaced)
                && r.is_good()
        })
        .max_by_key(|r| r.deployment.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "cccccccccccccccccccccccccccccccccccccccc";

    fn deployment(id: u64, task: &str, sha: &str) -> Deployment {
        let payload = if task == TASK {
            json!({"repository": "o/app", "sha": sha})
        } else {
            json!({})
        };
        serde_json::from_value(json!({
            "id": id, "sha": sha, "ref": "main", "task": task, "environment": "production",
            "payload": payload, "created_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap()
    }

    fn record(id: u64, sha: &str, states: &[&str]) -> Record {
        let statuses = states
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| {
                serde_json::from_value(json!({
                    "id": id * 100 + i as u64, "state": s, "created_at": "2026-01-01T00:00:00Z",
                }))
                .unwrap()
            })
            .collect();
        Record::of(deployment(id, TASK, sha), statuses).unwrap()
    }

    fn pick(records: &[Record], replaced: &str) -> Option<u64> {
        choose_previous_good(records, None, replaced).map(|r| r.deployment.id)
    }

    #[test]
    fn the_newest_success_of_another_sha() {
        let records = [
            record(1, A, &["in_progress", "success"]),
            record(2, B, &["in_progress", "success"]),
            record(3, C, &["in_progress"]),
        ];
        assert_eq!(pick(&records, C), Some(2));
        assert_eq!(pick(&records, B), Some(1), "never the sha being replaced");
        assert_eq!(pick(&records, &B[..7]), Some(1), "a short sha names it too");
    }

    #[test]
    fn failure_disqualifies_even_after_success_and_inactive_does_not() {
        let records = [
            record(1, A, &["in_progress", "success", "inactive"]),
            record(2, B, &["in_progress", "success", "failure"]),
            record(3, C, &["in_progress", "failure"]),
        ];
        assert_eq!(pick(&records, C), Some(1));
        assert!(records[0].is_good());
        assert_eq!(records[0].state(), Some(&DeploymentState::Inactive));
    }

    #[test]
    fn nothing_good_is_none() {
        let records = [
            record(1, A, &["in_progress"]),
            record(2, B, &["error"]),
            record(3, C, &["success"]),
        ];
        assert_eq!(pick(&records, C), None);
        assert_eq!(pick(&[], C), None);
    }

    #[test]
    fn other_tasks_are_never_records() {
        assert!(Record::of(deployment(9, "deploy", A), Vec::new()).is_none());
        assert!(!is_candidate(&deployment(9, "deploy", A), None, C));
        assert!(is_candidate(&deployment(9, TASK, A), None, C));
        assert!(!is_candidate(&deployment(9, TASK, C), None, C));
        assert!(is_candidate(&deployment(9, TASK, A), Some("O/App"), C));
        assert!(!is_candidate(&deployment(9, TASK, A), Some("o/other"), C));
    }

    #[test]
    fn another_apps_record_is_never_this_apps_previous_good() {
        let mut other = record(4, B, &["in_progress", "success"]);
        other.payload.repository = "o/other".into();
        let records = [
            record(1, A, &["success"]),
            other,
            record(5, C, &["in_progress"]),
        ];
        let pick_of = |app| choose_previous_good(&records, app, C).map(|r| r.deployment.id);
        assert_eq!(pick_of(Some("o/app")), Some(1));
        assert_eq!(pick_of(Some("o/other")), Some(4));
        assert_eq!(pick_of(None), Some(4));
    }

    #[test]
    fn order_of_the_input_does_not_matter() {
        let mut records = vec![
            record(5, B, &["success"]),
            record(2, A, &["success"]),
            record(7, C, &["in_progress"]),
        ];
        assert_eq!(pick(&records, C), Some(5));
        records.reverse();
        assert_eq!(pick(&records, C), Some(5));
    }
}
