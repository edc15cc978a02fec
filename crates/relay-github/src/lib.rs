//! deploy-relay's typed GitHub layer, on reqwest with rustls. Every REST
//! call an action makes has one home here, as a method of [`GitHub`] with
//! typed answers: dispatches, workflow runs, check runs and commit
//! statuses, issues, artifacts, deployments and their deployment statuses.
//! The states GitHub reports as strings (a run's run status and conclusion,
//! a commit status's or deployment status's state) are enums, parsed once
//! here; a value GitHub adds later is kept as `Other`. Underneath, one client sends the headers GitHub asks
//! for, retries what is safe to retry (429, 5xx, rate-limit 403s, failed
//! connections) honouring `retry-after` and `x-ratelimit-reset`, polls with
//! `If-None-Match` so unchanged answers cost no rate limit, follows
//! pagination, and turns refusals into errors that name the call and the
//! permission or token kind missing.
//!
//! octocrab was the first choice; it does not honour `retry-after` or
//! `x-ratelimit-reset`, has no `ETag` cache, and doubles the image size.
//!
//! Where a new call goes: a method in the file of its REST resource
//! (`repos.rs`, `actions.rs`, `artifacts.rs`, `checks.rs`, `issues.rs`, …),
//! building its path with [`path`]'s encoder and its [`Call`] (what it does,
//! on which repository, needing which [`Permission`]); answers get a typed
//! model beside it.

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

mod actions;
mod app;
mod artifacts;
mod attestations;
mod checks;
mod client;
mod deployments;
mod environments;
mod error;
mod issues;
mod mint;
pub mod path;
mod repos;
mod token;

pub use actions::{Job, RunDetails, RunFilter};
pub use app::{App, JWT_BACKDATE, JWT_LIFETIME};
pub use artifacts::Artifact;
pub use attestations::Attestation;
pub use checks::{CheckRun, CommitState, CommitStatus, NewCommitStatus};
pub use client::{API_VERSION, BACKOFF, GitHub, MAX_SERVER_WAIT, StatsSnapshot};
pub use deployments::{
    Actor, Deployment, DeploymentFilter, DeploymentState, DeploymentStatus, EnvironmentRef,
    MAX_STATUS_DESCRIPTION, NewDeployment, NewDeploymentStatus, PendingDeployment, Review,
    Reviewer, ReviewerName,
};
pub use environments::{Environment, ProtectionRule};
pub use error::{Call, Error, Permission};
pub use issues::Issue;
pub use mint::{Access, Auth};
pub use relay_runtime::{Conclusion, RunStatus, WorkflowRun};
#[doc(hidden)]
pub use token::Token;
