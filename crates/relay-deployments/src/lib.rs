//! deploy-relay's deployment records. Each deploy is recorded in the deploy
//! repository as a GitHub Deployment of task `deploy-relay` whose payload
//! names the app repository, commit, images and dispatch; its deployment
//! statuses go `in_progress` → `success` | `failure` | `error`. From them
//! comes "previous good", the sha a failed deploy rolls back to: the rule is
//! [`choose_previous_good`] over records already read, and
//! [`find_previous_good`] reads as few of them from GitHub as it can. The
//! `record-deployment` action, `deploy-relay status` and the demo all use
//! this one rule.

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

mod error;
mod fleet;
mod payload;
mod read;
mod record;
mod write;

pub use error::Error;
pub use fleet::{
    Fleet, FleetKind, FleetRecord, History, NewFleetRecord, Release, Standing, fleet_payload,
    set_state, standing, start_fleet_record,
};
pub use payload::{Payload, is_commit, provenance_report, same_commit};
pub use read::{current_good, find_previous_good, newest, records};
pub use record::{Record, choose_previous_good, is_candidate};
pub use write::{
    Finish, Finished, NewRecord, Started, commit_context, commit_state, describe,
    describe_cancelled, finish, set_commit_status, start,
};

/// The `task` of every deploy-relay deployment; GitHub's own deployments
/// for `environment:` jobs are `deploy`.
pub const TASK: &str = "deploy-relay";
