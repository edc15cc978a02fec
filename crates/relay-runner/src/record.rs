//! What a run did: workflows, jobs and steps, and the events a live
//! timeline is told as they happen.

use std::collections::BTreeMap;
use std::time::Duration;

/// What a step did.
#[derive(Debug, Clone, Default)]
pub struct StepRecord {
    /// The step's `id:`, or `__<index>` for a step without one.
    pub id: String,
    /// The step's `name:` evaluated, else its `uses:`, else `run <n>`.
    pub name: String,
    /// `uses:` of the step, or `run` for a script.
    pub uses: String,
    /// `success`, `failure`, `cancelled` or `skipped`, before
    /// `continue-on-error`.
    pub outcome: String,
    /// The outcome after `continue-on-error`.
    pub conclusion: String,
    /// What the step wrote to `GITHUB_OUTPUT`.
    pub outputs: BTreeMap<String, String>,
    /// What the step wrote to `GITHUB_STEP_SUMMARY`.
    pub summary: String,
    /// The step's stdout, then its stderr.
    pub log: String,
    /// How long the step's process ran.
    pub elapsed: Duration,
    /// Why a step did not run as on GitHub (a third-party action).
    pub note: Option<String>,
}

/// What a job did.
#[derive(Debug, Clone, Default)]
pub struct JobRecord {
    /// `workflow-file/job` for jobs of called workflows.
    pub id: String,
    /// `success`, `failure`, `cancelled` or `skipped`.
    pub result: String,
    /// The job's `environment:` (or `environment.name`), evaluated.
    pub environment: Option<String>,
    /// `environment.url`, evaluated when the job ended.
    pub environment_url: Option<String>,
    /// The environment did not exist: this job's use created it,
    /// unprotected.
    pub environment_created: bool,
    /// The runner labels `runs-on` chose (none for a job that calls a
    /// reusable workflow).
    pub runs_on: Vec<String>,
    /// The concurrency group the job ran in.
    pub concurrency: Option<String>,
    /// The outputs the jobs that need this one see.
    pub outputs: BTreeMap<String, String>,
    /// Outputs not passed on because their value held a secret or a
    /// masked value.
    pub dropped_outputs: Vec<String>,
    /// Why the job ended as it did when no step says it: refused, waiting
    /// for a group that never freed, rejected, cancelled.
    pub note: Option<String>,
    /// The job's steps in order, skipped ones included.
    pub steps: Vec<StepRecord>,
    /// The jobs of a reusable workflow this job called.
    pub called: Option<Box<WorkflowRecord>>,
}

/// What a workflow did.
#[derive(Debug, Clone, Default)]
pub struct WorkflowRecord {
    /// The workflow's file name (`deploy.yml`).
    pub file: String,
    /// `success`, `failure` or `cancelled`.
    pub result: String,
    /// The jobs in `needs` order.
    pub jobs: Vec<JobRecord>,
    /// The `on.workflow_call.outputs`, evaluated, for a called workflow's caller.
    pub outputs: BTreeMap<String, String>,
    /// The workflow-level concurrency group.
    pub concurrency: Option<String>,
    /// Why the run was cancelled, when it was.
    pub cancelled: Option<String>,
}

impl WorkflowRecord {
    /// Every step of every job, called workflows included, in order.
    pub fn steps(&self) -> Vec<(&str, &StepRecord)> {
        let mut out = Vec::new();
        for j in &self.jobs {
            for s in &j.steps {
                out.push((j.id.as_str(), s));
            }
            if let Some(c) = &j.called {
                out.extend(c.steps());
            }
        }
        out
    }

    /// The step with id `id` in job `job` (searched in called workflows too).
    pub fn step(&self, job: &str, id: &str) -> Option<&StepRecord> {
        self.steps()
            .into_iter()
            .find(|(j, s)| (*j == job || j.ends_with(&format!("/{job}"))) && s.id == id)
            .map(|(_, s)| s)
    }

    /// The job `job` (searched in called workflows too).
    pub fn job(&self, job: &str) -> Option<&JobRecord> {
        for j in &self.jobs {
            if j.id == job || j.id.ends_with(&format!("/{job}")) {
                return Some(j);
            }
            if let Some(found) = j.called.as_ref().and_then(|c| c.job(job)) {
                return Some(found);
            }
        }
        None
    }
}

/// What the runner reports as it goes, for a live timeline.
#[derive(Debug)]
#[non_exhaustive]
// Each variant's doc says when it is told; its fields are the record's
// fields of the same name.
#[allow(missing_docs)]
pub enum Event<'a> {
    /// A job starts (its concurrency group, if any, granted).
    Job {
        id: &'a str,
        environment: Option<&'a str>,
    },
    /// A step's process is about to start.
    StepStarted {
        job: &'a str,
        /// The step's `id:`, or `__<index>` for a step without one.
        id: &'a str,
        name: &'a str,
    },
    /// A step that ran, or was skipped (`outcome` says which).
    StepFinished { job: &'a str, step: &'a StepRecord },
    /// A job that ran, or was skipped (`result: "skipped"`, with no `Job` before it).
    JobFinished { id: &'a str, result: &'a str },
    /// A job (`file/job`) or a whole run (its workflow file) waits for a
    /// concurrency group another run holds.
    Pending { id: &'a str, group: &'a str },
    /// A job waits for a review of its environment.
    Review { job: &'a str, environment: &'a str },
    /// The run was cancelled.
    RunCancelled { reason: &'a str },
}
