//! deploy-relay's deployment records. Each deploy is recorded in the deploy
//! repository as a GitHub Deployment of task `deploy-relay` whose payload
//! names the app repository, commit, images and dispatch; its statuses go
//! `in_progress` → `success` | `failure` | `error`. From them comes "previous
//! good", the sha a failed deploy rolls back to ([`previous_good`]): the
//! `record-deployment` action, `deploy-relay status` and the demo all use
//! this one rule.

mod error;
mod history;
mod payload;
mod record;
mod rule;

pub use error::Error;
pub use history::{current_good, newest, previous_good as find_previous_good, records};
pub use payload::{Payload, is_commit, same_commit};
pub use record::{
    Finish, Finished, NewRecord, Started, commit_context, commit_state, describe,
    describe_cancelled, finish, set_commit_status, start,
};
pub use rule::{Record, is_candidate, previous_good};

/// The `task` of every deploy-relay deployment; GitHub's own deployments
/// for `environment:` jobs are `deploy`.
pub const TASK: &str = "deploy-relay";
