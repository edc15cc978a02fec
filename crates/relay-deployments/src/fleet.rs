//! Fleet records: a fleet deploy (waves of receivers in one environment)
//! records each wave as one record of the environment, and each rollback
//! (the targets that go back to one earlier release) as one more. Their
//! payload is a record's ([`Payload`]: the app, the release) with a
//! `fleet` object beside it: the run, the wave, the targets it covers and
//! each target's previous good release when the wave started.
//!
//! The rule of [`crate::choose_previous_good`] then holds per target: a
//! target's **current** release is the newest good record (reached
//! `success`, never `failure`) that covers it; its **previous good** for a
//! deploy replacing `sha` is the newest good record covering it of another
//! sha. A record without `fleet` (a single-target deploy of the
//! environment) covers every target. So a partial rollout leaves each
//! target its own: a target of a wave that was never called has no record
//! of the new release, and a wave that was rolled back gets a `failure`.
//!
//! Every record costs two or three writes (create, `in_progress`, the
//! outcome), per wave and not per target: GitHub limits content-creating
//! requests (<https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits>),
//! and a fleet of a hundred targets must not spend them one per target.

use std::collections::BTreeMap;

use relay_github::{
    Deployment, DeploymentFilter, DeploymentState, GitHub, NewDeployment, NewDeploymentStatus,
};
use relay_runtime::RepoName;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::TASK;
use crate::error::Error;
use crate::payload::{Payload, same_commit};
use crate::record::Record;

/// What a target runs: an app commit and the image references it pulled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The app commit.
    pub sha: String,
    /// Image references by payload field (`image` → `ghcr.io/o/api@sha256:…`).
    #[serde(default)]
    pub images: BTreeMap<String, String>,
}

impl Release {
    /// The release a record's payload names.
    pub fn of(payload: &Payload) -> Self {
        Self {
            sha: payload.sha.clone(),
            images: payload.images.clone(),
        }
    }

    /// The same commit and the same image references.
    pub fn same_as(&self, other: &Release) -> bool {
        same_commit(&self.sha, &other.sha) && self.images == other.images
    }
}

/// What a fleet record is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FleetKind {
    /// One wave of a rollout.
    Wave,
    /// Targets put back on one earlier release after a failed rollout.
    Rollback,
}

/// The `fleet` object of a fleet record's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fleet {
    /// The workflow run of the rollout (`GITHUB_RUN_ID`): the records of
    /// one rollout share it, re-runs and approval jobs included.
    pub run_id: String,
    /// The run attempt that wrote the record.
    pub run_attempt: u32,
    /// Wave or rollback.
    pub kind: FleetKind,
    /// The wave's name (for a rollback, the wave that failed).
    pub wave: String,
    /// The wave's place, 1 for the first (0 for a rollback).
    pub position: u32,
    /// How many waves the rollout has.
    pub waves: u32,
    /// The targets the record covers, by name.
    pub targets: Vec<String>,
    /// Each target's previous good release when the record was made (what
    /// a rollback puts back); a target without one is not listed.
    #[serde(default)]
    pub previous: BTreeMap<String, Release>,
}

impl Fleet {
    /// The `fleet` object of `d`'s payload, when it has one.
    pub fn of(d: &Deployment) -> Option<Self> {
        let value = match &d.payload {
            Value::String(text) => serde_json::from_str(text).ok()?,
            v => v.clone(),
        };
        serde_json::from_value(value.get("fleet")?.clone()).ok()
    }
}

/// A record read from the environment's history, with its `fleet` object
/// (`None` for a single-target record, which covers every target).
#[derive(Debug, Clone, PartialEq)]
pub struct FleetRecord {
    /// The record, with its deployment statuses.
    pub record: Record,
    /// Its fleet object.
    pub fleet: Option<Fleet>,
}

impl FleetRecord {
    /// Whether the record says something about `target`.
    pub fn covers(&self, target: &str) -> bool {
        self.fleet
            .as_ref()
            .is_none_or(|f| f.targets.iter().any(|t| t == target))
    }

    /// The release it deployed.
    pub fn release(&self) -> Release {
        Release::of(&self.record.payload)
    }
}

/// Where one target stands, from the records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// What it runs: the newest good record covering it (id, release).
    pub current: Option<(u64, Release)>,
    /// What a deploy replacing the sha asked for goes back to: the newest
    /// good record covering it of another sha.
    pub previous: Option<(u64, Release)>,
}

/// Where `target` stands among `records` (any order, statuses read) for a
/// deploy replacing `replacing`.
pub fn standing(records: &[FleetRecord], target: &str, replacing: &str) -> Standing {
    let mut good: Vec<&FleetRecord> = records
        .iter()
        .filter(|r| r.covers(target) && r.record.is_good())
        .collect();
    good.sort_by_key(|r| std::cmp::Reverse(r.record.deployment.id));
    let pick = |r: &&FleetRecord| (r.record.deployment.id, r.release());
    Standing {
        current: good.first().map(pick),
        previous: good
            .iter()
            .find(|r| !same_commit(r.record.sha(), replacing))
            .map(pick),
    }
}

/// The fleet records of one app in one environment, read from GitHub.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Records read, newest first, each with its deployment statuses.
    pub records: Vec<FleetRecord>,
}

impl History {
    /// Reads the history of `app` in `environment` newest first, until
    /// every one of `targets` has its current and previous good release
    /// for a deploy replacing `replacing` (or the history ends). Statuses
    /// are read only for records that cover a target still open, and for
    /// every record of run `run_id` (a rollout resumed after an approval,
    /// or re-run, reads what it did before).
    pub async fn read(
        gh: &GitHub,
        repo: &RepoName,
        environment: &str,
        app: &str,
        targets: &[&str],
        replacing: &str,
        run_id: &str,
    ) -> Result<Self, Error> {
        let mut deployments = gh
            .deployments(
                repo,
                &DeploymentFilter {
                    task: Some(TASK),
                    environment: Some(environment),
                    sha: None,
                },
            )
            .await?;
        deployments.sort_by_key(|d| std::cmp::Reverse(d.id));
        // Targets whose current (first) or previous (second) is still open.
        let mut open: BTreeMap<&str, (bool, bool)> =
            targets.iter().map(|t| (*t, (true, true))).collect();
        let mut records = Vec::new();
        for d in deployments {
            let ours = d.task == TASK
                && d.environment == environment
                && Payload::of(&d).is_some_and(|p| p.repository.eq_ignore_ascii_case(app));
            if !ours {
                continue;
            }
            let fleet = Fleet::of(&d);
            let of_this_run = fleet.as_ref().is_some_and(|f| f.run_id == run_id);
            let covers_open = open.iter().any(|(t, (cur, prev))| {
                (*cur || *prev)
                    && fleet
                        .as_ref()
                        .is_none_or(|f| f.targets.iter().any(|x| x == t))
            });
            if !covers_open && !of_this_run {
                continue;
            }
            let statuses = gh.deployment_statuses(repo, d.id).await?;
            let Some(record) = Record::of(d, statuses) else {
                continue;
            };
            let read = FleetRecord { record, fleet };
            if read.record.is_good() {
                for (t, (cur, prev)) in &mut open {
                    if read.covers(t) {
                        *cur = false;
                        if !same_commit(read.record.sha(), replacing) {
                            *prev = false;
                        }
                    }
                }
            }
            records.push(read);
            if open.values().all(|(cur, prev)| !cur && !prev) && !of_this_run {
                break;
            }
        }
        Ok(Self { records })
    }

    /// Where `target` stands for a deploy replacing `replacing`.
    pub fn standing(&self, target: &str, replacing: &str) -> Standing {
        standing(&self.records, target, replacing)
    }

    /// The wave records of run `run_id`, newest first.
    pub fn waves_of_run<'a>(&'a self, run_id: &'a str) -> impl Iterator<Item = &'a FleetRecord> {
        self.records.iter().filter(move |r| {
            r.fleet
                .as_ref()
                .is_some_and(|f| f.run_id == run_id && f.kind == FleetKind::Wave)
        })
    }

    /// The run of the newest fleet record read, if any.
    pub fn newest_run(&self) -> Option<&str> {
        self.records
            .iter()
            .filter_map(|r| r.fleet.as_ref().map(|f| (r.record.deployment.id, f)))
            .max_by_key(|(id, _)| *id)
            .map(|(_, f)| f.run_id.as_str())
    }
}

/// A fleet record about to be written.
#[derive(Debug, Clone)]
pub struct NewFleetRecord<'a> {
    /// The deploy repository, where the record lives.
    pub repo: &'a RepoName,
    /// The environment deployed to.
    pub environment: &'a str,
    /// The deploy repository's commit: the deployment's `ref`.
    pub git_ref: &'a str,
    /// The app and the release (for a rollback, the release put back).
    pub payload: &'a Payload,
    /// Its fleet object.
    pub fleet: &'a Fleet,
    /// The `in_progress` deployment status's text.
    pub description: &'a str,
    /// Where the rollout's log is.
    pub log_url: Option<&'a str>,
}

/// The payload a fleet record carries: the record's, and `fleet`.
pub fn fleet_payload(payload: &Payload, fleet: &Fleet) -> Value {
    let mut value = payload.to_value();
    if let Value::Object(map) = &mut value {
        map.insert(
            "fleet".into(),
            serde_json::to_value(fleet).unwrap_or_default(),
        );
    }
    value
}

/// Creates a fleet record and sets it `in_progress`; returns its id.
/// Unlike [`crate::start`] it reads no history: the rollout read it once.
pub async fn start_fleet_record(gh: &GitHub, new: &NewFleetRecord<'_>) -> Result<u64, Error> {
    let deployment = gh
        .create_deployment(
            new.repo,
            &NewDeployment {
                git_ref: new.git_ref,
                task: TASK,
                environment: new.environment,
                payload: &fleet_payload(new.payload, new.fleet),
                description: new.description,
                required_contexts: &[],
                production_environment: None,
                transient_environment: false,
            },
        )
        .await?;
    set_state(
        gh,
        new.repo,
        deployment.id,
        DeploymentState::InProgress,
        new.description,
        new.log_url,
    )
    .await?;
    Ok(deployment.id)
}

/// Adds a deployment status to record `id` (its text cut to GitHub's 140
/// characters by the client).
pub async fn set_state(
    gh: &GitHub,
    repo: &RepoName,
    id: u64,
    state: DeploymentState,
    description: &str,
    log_url: Option<&str>,
) -> Result<(), Error> {
    gh.create_deployment_status(
        repo,
        id,
        &NewDeploymentStatus {
            state,
            description,
            environment_url: None,
            log_url,
            auto_inactive: None,
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "cccccccccccccccccccccccccccccccccccccccc";

    fn fleet(targets: &[&str], kind: FleetKind) -> Fleet {
        Fleet {
            run_id: "7".into(),
            run_attempt: 1,
            kind,
            wave: "w".into(),
            position: 1,
            waves: 2,
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
            previous: BTreeMap::new(),
        }
    }

    fn record(id: u64, sha: &str, fleet: Option<Fleet>, states: &[&str]) -> FleetRecord {
        let payload = Payload {
            repository: "o/app".into(),
            sha: sha.into(),
            images: [("image".to_owned(), format!("ghcr.io/o/app@{}", &sha[..7]))].into(),
            ..Payload::default()
        };
        let value = match &fleet {
            Some(f) => fleet_payload(&payload, f),
            None => payload.to_value(),
        };
        let d: Deployment = serde_json::from_value(json!({
            "id": id, "sha": "d".repeat(40), "ref": "main", "task": TASK,
            "environment": "production", "payload": value, "created_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap();
        assert_eq!(Fleet::of(&d), fleet, "the fleet object reads back");
        let statuses = states
            .iter()
            .enumerate()
            .map(|(i, s)| {
                serde_json::from_value(json!({
                    "id": id * 100 + i as u64, "state": s, "created_at": "2026-01-01T00:00:00Z",
                }))
                .unwrap()
            })
            .collect();
        FleetRecord {
            record: Record::of(d, statuses).unwrap(),
            fleet,
        }
    }

    fn ids(s: &Standing) -> (Option<u64>, Option<u64>) {
        (
            s.current.as_ref().map(|c| c.0),
            s.previous.as_ref().map(|p| p.0),
        )
    }

    #[test]
    fn a_partial_rollout_leaves_each_target_its_own() {
        let records = [
            // Everyone on A, from a single-target deploy of the environment.
            record(1, A, None, &["in_progress", "success"]),
            // B's canary passed, then wave 2 failed: both rolled back.
            record(
                2,
                B,
                Some(fleet(&["vm-1"], FleetKind::Wave)),
                &["in_progress", "success", "failure"],
            ),
            record(
                3,
                B,
                Some(fleet(&["vm-2"], FleetKind::Wave)),
                &["in_progress", "failure"],
            ),
            record(
                4,
                A,
                Some(fleet(&["vm-1", "vm-2"], FleetKind::Rollback)),
                &["in_progress", "success"],
            ),
            // C's canary passed; the rest was never called.
            record(
                5,
                C,
                Some(fleet(&["vm-1"], FleetKind::Wave)),
                &["in_progress", "success"],
            ),
        ];
        // vm-1 runs C; rolling C back puts it on A (the rollback record).
        assert_eq!(ids(&standing(&records, "vm-1", C)), (Some(5), Some(4)));
        // vm-2 never got C: it runs A, its previous for C is A too.
        assert_eq!(ids(&standing(&records, "vm-2", C)), (Some(4), Some(4)));
        // vm-3 has only the environment's record.
        assert_eq!(ids(&standing(&records, "vm-3", C)), (Some(1), Some(1)));
        // Replacing A, vm-1's previous is C's canary.
        assert_eq!(ids(&standing(&records, "vm-1", A)), (Some(5), Some(5)));
        assert_eq!(ids(&standing(&records, "vm-2", A)), (Some(4), None));
    }

    #[test]
    fn releases_compare_by_commit_and_images() {
        let a = Release {
            sha: A.into(),
            images: [("image".to_owned(), "x@sha256:1".to_owned())].into(),
        };
        let short = Release {
            sha: A[..7].into(),
            ..a.clone()
        };
        assert!(a.same_as(&short));
        let other_image = Release {
            images: [("image".to_owned(), "x@sha256:2".to_owned())].into(),
            ..a.clone()
        };
        assert!(!a.same_as(&other_image));
    }

    #[test]
    fn a_record_without_fleet_is_not_read_as_one() {
        let single = record(1, A, None, &["success"]);
        assert!(single.covers("anything"));
        let wave = record(2, B, Some(fleet(&["vm-1"], FleetKind::Wave)), &["success"]);
        assert!(wave.covers("vm-1") && !wave.covers("vm-2"));
        let history = History {
            records: vec![single, wave],
        };
        assert_eq!(history.newest_run(), Some("7"));
        assert_eq!(history.waves_of_run("7").count(), 1);
        assert_eq!(history.waves_of_run("8").count(), 0);
    }
}
