//! Telling a deploy repository to deploy, as `dispatch-deploy` and the root
//! `relay` action both do: the computed payload (under `workflow_run`, the
//! finished run's commit and branch, not the runner's), image tags from
//! templates, GitHub's dispatch limits checked before anything is sent,
//! sending `repository_dispatch` or `workflow_dispatch`, and waiting for the
//! run it started.

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

mod payload;
mod send;
mod wait;

pub use payload::{
    DispatchKind, MAX_BODY_BYTES, MAX_CLIENT_PAYLOAD_KEYS, MAX_EVENT_TYPE, MAX_WORKFLOW_INPUTS,
    check_limits, computed_payload, merge_client_payload, render_images,
};
pub use send::{access, send};
pub use wait::{WaitError, WaitOptions, wait};
