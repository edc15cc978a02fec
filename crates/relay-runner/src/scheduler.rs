//! Several runs that contend for concurrency groups, played together.
//!
//! Each queued run plays on its own thread with its own [`Runner`], but
//! the runs take turns ([`crate::concurrency`]): a run goes on until it
//! asks for a group, waits for a review, lets another run arrive, or ends.
//! Runs queued with [`Scheduler::queue`] arrive together, in order: each
//! reaches its first group before any of them goes past it, so "A, then B,
//! then C queued on one environment" means A runs, B and C wait (and, by
//! default, C's arrival cancels B). [`Scheduler::queue_when`] lets a run
//! arrive at a given point of another.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use serde_json::{Map, Value};

use crate::at::At;
use crate::concurrency::Control;
use crate::record::WorkflowRecord;
use crate::run::{Link, Runner};

/// One run to queue: a runner (with its event, env and secrets), the
/// workflow it plays, and the inputs and secrets [`Runner::run`] takes.
pub struct Run {
    label: String,
    runner: Runner,
    workflow: PathBuf,
    inputs: Map<String, Value>,
    secrets: BTreeMap<String, String>,
}

impl Run {
    /// `runner` playing `workflow`; `label` names the run in outcomes and
    /// cancellation reasons ("deploy app-b").
    pub fn new(label: &str, runner: Runner, workflow: impl Into<PathBuf>) -> Self {
        Self {
            label: label.to_owned(),
            runner,
            workflow: workflow.into(),
            inputs: Map::new(),
            secrets: BTreeMap::new(),
        }
    }

    /// The inputs the run starts with, as `workflow_dispatch` gives them.
    pub fn inputs(mut self, inputs: Map<String, Value>) -> Self {
        self.inputs = inputs;
        self
    }

    /// Secrets laid over the repository's for this run.
    pub fn secrets(mut self, secrets: BTreeMap<String, String>) -> Self {
        self.secrets = secrets;
        self
    }
}

/// A queued run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunId(usize);

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// What [`Scheduler::queue`] returned for the run.
    pub id: RunId,
    /// The run's label, as given to [`Run::new`].
    pub label: String,
    /// The run as played (`result` is `success`, `failure` or `cancelled`),
    /// or why it could not be played (a workflow error, a deadlock, an
    /// arrival that never came).
    pub record: Result<WorkflowRecord, String>,
}

impl RunOutcome {
    /// `success`, `failure`, `cancelled`, or `error`.
    pub fn conclusion(&self) -> &str {
        self.record.as_ref().map_or("error", |r| r.result.as_str())
    }

    /// Why the run was cancelled, if it was.
    pub fn cancelled(&self) -> Option<&str> {
        self.record.as_ref().ok()?.cancelled.as_deref()
    }
}

/// Runs in arrival order, contending for concurrency groups as on GitHub.
#[derive(Default)]
pub struct Scheduler {
    runs: Vec<(Run, Option<(RunId, At)>)>,
}

impl Scheduler {
    /// No runs queued yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `run` arrives at the start, after the runs queued before it.
    pub fn queue(&mut self, run: Run) -> RunId {
        self.runs.push((run, None));
        RunId(self.runs.len() - 1)
    }

    /// `run` arrives when run `of` reaches `at` (a step of it starting or
    /// finishing), before `of` goes on.
    pub fn queue_when(&mut self, of: RunId, at: At, run: Run) -> RunId {
        self.runs.push((run, Some((of, at))));
        RunId(self.runs.len() - 1)
    }

    /// Plays every run to its end; outcomes in queueing order.
    pub fn play(self) -> Vec<RunOutcome> {
        let ctl = Arc::new(Control::new());
        for (i, (run, when)) in self.runs.iter().enumerate() {
            ctl.register(i, &run.label, when.clone().map(|(of, at)| (of.0, at)));
        }
        let mut handles = Vec::new();
        for (i, (run, _)) in self.runs.into_iter().enumerate() {
            let ctl = ctl.clone();
            handles.push(thread::spawn(move || play_one(&ctl, i, run)));
        }
        ctl.start();
        handles
            .into_iter()
            .enumerate()
            .map(|(i, h)| {
                h.join().unwrap_or_else(|_| RunOutcome {
                    id: RunId(i),
                    label: String::new(),
                    record: Err("the run's thread panicked".into()),
                })
            })
            .collect()
    }
}

/// Ends run `id`'s turn however its thread ends.
struct Done<'a>(&'a Control, usize);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.finish(self.1);
    }
}

fn play_one(ctl: &Arc<Control>, id: usize, run: Run) -> RunOutcome {
    let Run {
        label,
        mut runner,
        workflow,
        inputs,
        secrets,
    } = run;
    let _done = Done(ctl, id);
    let record = ctl.wait_turn(id).and_then(|()| {
        runner.link = Some(Link {
            ctl: ctl.clone(),
            id,
            label: label.clone(),
        });
        runner.run(&workflow, &inputs, &secrets)
    });
    RunOutcome {
        id: RunId(id),
        label,
        record,
    }
}
