//! deploy-relay's test kit. [`github::FakeGitHub`] serves, on 127.0.0.1 and
//! on its own thread, the parts of GitHub's REST API the actions use — strict
//! like GitHub (requests GitHub would refuse are refused), stateful (runs
//! progress as they are polled, dispatches are recorded) and with faults on
//! demand. [`harness::ActionRun`] runs an action binary exactly as the runner
//! runs a container action and reads back what it wrote.

// Handlers return `Result<_, Response>`: the refusal is the answer itself.
#![allow(clippy::result_large_err)]

pub mod adnanh;
pub mod blob;
pub mod events;
pub mod github;
pub mod harness;
pub mod health;
pub mod openapi;
pub mod oracle;
pub mod peers;
pub mod results;
mod serve;
pub mod tls;
pub mod webhook;
pub mod workflow;

pub use github::{
    Access, DEFAULT_TOKEN, FakeGitHub, Fault, Recorded, RunScript, WorkflowDispatchMode,
};
pub use harness::{ActionRun, Outcome};
