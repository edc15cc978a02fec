//! deploy-relay's test helpers, named only in `[dev-dependencies]`:
//! [`ActionRun`] runs an action binary exactly as the runner runs a
//! container action and reads back what it wrote; [`events`] gives GitHub's
//! real event payloads; [`openapi`] checks recorded requests and answers
//! against GitHub's REST description; [`peers`] finds (or, under CI,
//! requires) the third-party peers; [`health`], [`webhook`], [`adnanh`] and
//! [`tls`] serve the other ends of a test; [`oracle`] judges markdown from
//! the attacker's view.
//!
//! The fakes the actions talk to are `relay-fakes`, and the workflow runner
//! is `relay-runner`: the demo ships both, so neither lives here.

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
// A test helper fails the test by panicking, as an assertion does.
#![allow(clippy::missing_panics_doc)]

pub mod adnanh;
pub mod app_keys;
pub mod events;
mod harness;
pub mod health;
pub mod openapi;
pub mod oracle;
pub mod peers;
pub mod tls;
pub mod webhook;

pub use harness::{ActionRun, Outcome};
