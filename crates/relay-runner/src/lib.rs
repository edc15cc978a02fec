//! A local runner for our workflows: it plays a workflow file the way
//! GitHub's runner does — jobs in `needs` order, `if:` conditions with the
//! status functions, `${{ }}` expressions over `github`, `inputs`,
//! `secrets`, `env`, `steps`, `needs` and `jobs`, reusable workflow calls,
//! `continue-on-error`, outputs through `GITHUB_OUTPUT`, summaries through
//! `GITHUB_STEP_SUMMARY` — and starts each of our actions as the runner
//! starts a container action: `INPUT_*` env (hyphens kept, `action.yml`
//! defaults applied), a workspace as the working directory, the event at
//! `GITHUB_EVENT_PATH`. The demo plays the reusable workflows with it, and
//! tests check their rules (who rolls back, when) with it.
//!
//! GitHub's rules the workflows rely on are modelled as GitHub documents
//! them, each with its page cited where it is applied: concurrency groups
//! and their queue modes ([`Scheduler`] plays runs that contend),
//! cancellation ([`Runner::cancel_at`]), secrets by scope and how they
//! reach a called workflow ([`Secrets`]), job outputs holding a masked
//! value, `runs-on`, environments and their required reviewers
//! ([`Runner::protect`], [`Runner::reviewer`]). The crate's README lists
//! them, and what is not modelled. What GitHub does that a local run cannot
//! (third-party actions such as `actions/checkout`) is recorded as skipped
//! or noted, never faked as done.
//!
//! [`events`] builds the event payloads a run starts from, and
//! [`runner_commands`] reads a step's output the way the runner reads
//! workflow commands.

#![warn(unreachable_pub, missing_docs, clippy::pedantic)]
// The allow-list of [workspace.lints] (reasons there), repeated because a
// crate-level `warn` of the group overrides the workspace's `allow`s.
#![allow(
    clippy::must_use_candidate,
    clippy::missing_errors_doc,
    clippy::return_self_not_must_use,
    clippy::format_push_string,
    clippy::too_many_lines,
    clippy::similar_names,
    clippy::struct_excessive_bools,
    clippy::cast_precision_loss
)]

mod at;
mod commands;
mod concurrency;
mod environment;
pub mod events;
pub mod expr;
mod job;
mod process;
mod record;
mod run;
mod scheduler;
mod secrets;

pub use at::At;
pub use commands::runner_commands;
pub use concurrency::{Concurrency, MAX_PENDING, Queue};
pub use environment::{Protection, Review, ReviewRequest};
pub use record::{Event, JobRecord, StepRecord, WorkflowRecord};
pub use run::{Launcher, Runner};
pub use scheduler::{Run, RunId, RunOutcome, Scheduler};
pub use secrets::Secrets;
