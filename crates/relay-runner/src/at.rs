//! Points in a run where a test acts: cancel the run there, or let
//! another run arrive there.

use std::time::Duration;

/// A moment of a run: a step of a job starting or finishing. `job` is the
/// job's id (`deploy`), or `file/job` (`deploy.yml/deploy`) to tell jobs
/// of called workflows apart; `step` is the step's `id:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// While the step runs, `after` its start: a cancellation then
    /// interrupts the step as the runner does; a run queued to arrive then
    /// arrives while the step's process runs, and takes its turn before
    /// the step is waited for.
    StepRunning {
        /// The job's id, or `file/job`.
        job: String,
        /// The step's `id:`.
        step: String,
        /// How long after the step's start.
        after: Duration,
    },
    /// Once the step has finished.
    StepFinished {
        /// The job's id, or `file/job`.
        job: String,
        /// The step's `id:`.
        step: String,
    },
}

impl At {
    /// While step `step` of job `job` runs, right after it started.
    pub fn step_running(job: &str, step: &str) -> Self {
        Self::step_running_for(job, step, Duration::ZERO)
    }

    /// While step `step` of job `job` runs, `after` its start.
    pub fn step_running_for(job: &str, step: &str, after: Duration) -> Self {
        Self::StepRunning {
            job: job.to_owned(),
            step: step.to_owned(),
            after,
        }
    }

    /// Once step `step` of job `job` has finished.
    pub fn step_finished(job: &str, step: &str) -> Self {
        Self::StepFinished {
            job: job.to_owned(),
            step: step.to_owned(),
        }
    }

    /// Whether this point is `event` (which names the job in full).
    pub(crate) fn matches(&self, event: &Self) -> bool {
        let same = |want: &str, job: &str| job == want || job.ends_with(&format!("/{want}"));
        match (self, event) {
            (
                Self::StepRunning { job, step, .. },
                Self::StepRunning {
                    job: j, step: s, ..
                },
            )
            | (Self::StepFinished { job, step }, Self::StepFinished { job: j, step: s }) => {
                same(job, j) && step == s
            }
            _ => false,
        }
    }

    pub(crate) fn after(&self) -> Duration {
        match self {
            Self::StepRunning { after, .. } => *after,
            Self::StepFinished { .. } => Duration::ZERO,
        }
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::StepRunning { job, step, .. } => write!(f, "while step `{step}` of `{job}` ran"),
            Self::StepFinished { job, step } => {
                write!(f, "after step `{step}` of `{job}` finished")
            }
        }
    }
}
