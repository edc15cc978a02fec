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
//! What GitHub does that a local run cannot (third-party actions such as
//! `actions/checkout`, environment protection rules, `concurrency`) is
//! recorded as skipped or noted, never faked as done.
//!
//! [`events`] builds the event payloads a run starts from, and
//! [`runner_commands`] reads a step's output the way the runner reads
//! workflow commands.

mod commands;
pub mod events;
pub mod expr;
mod run;

pub use commands::runner_commands;
pub use run::{Event, JobRecord, Launcher, Runner, StepRecord, WorkflowRecord};
