//! The post-deploy health window, as `monitor-health` and `fleet-deploy`
//! run it: every endpoint probed on one fixed grid from the window's start
//! (no drift, probes side by side), each probe judged by its HTTP status
//! and Gatus-like conditions, and the verdict — an endpoint fails on
//! `consecutive_failures` in a row or a success rate below the threshold,
//! optionally ending the window as soon as it cannot pass. What a probe
//! brings back is untrusted and redacted of every secret the settings
//! carry before it is kept.

#![warn(unreachable_pub, clippy::pedantic)]
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

mod cert;
mod condition;
mod config;
mod monitor;
mod probe;
mod report;

pub use condition::{Condition, ParseError, Subject};
pub use config::Config;
pub use monitor::{Endpoint, Record, Window, slots, watch};
pub use probe::{Failure, Outcome, client, probe, secrets};
pub use report::{Figures, Report, pct, percentile};
