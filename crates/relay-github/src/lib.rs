//! deploy-relay's typed GitHub layer, on reqwest with rustls. Every REST
//! call an action makes has one home here, as a method of [`GitHub`] with
//! typed answers: dispatches, workflow runs, check runs and statuses,
//! issues, artifacts. Underneath, one client sends the headers GitHub asks
//! for, retries what is safe to retry (429, 5xx, rate-limit 403s, failed
//! connections) honouring `retry-after` and `x-ratelimit-reset`, polls with
//! `If-None-Match` so unchanged answers cost no rate limit, follows
//! pagination, and turns refusals into errors that name the call and the
//! permission or token kind missing.
//!
//! octocrab was the first choice; it does not honour `retry-after` or
//! `x-ratelimit-reset`, has no ETag cache, and doubles the image size.
//!
//! Where a new call goes: a method in the file of its REST resource
//! (`repos.rs`, `actions.rs`, `artifacts.rs`, `checks.rs`, `issues.rs`, …),
//! building its path with [`path`]'s encoder and its [`Call`] (what it does,
//! on which repository, needing which [`Permission`]); answers get a typed
//! model beside it.

mod actions;
mod artifacts;
mod attestations;
mod checks;
mod client;
mod deployments;
mod environments;
mod error;
mod issues;
pub mod path;
mod repos;
mod token;

pub use actions::{RunDetails, RunFilter};
pub use artifacts::Artifact;
pub use attestations::Attestation;
pub use checks::{CheckRun, CommitStatus, NewCommitStatus};
pub use client::{API_VERSION, BACKOFF, GitHub, MAX_SERVER_WAIT, StatsSnapshot};
pub use deployments::{
    Actor, Deployment, DeploymentFilter, DeploymentState, DeploymentStatus, EnvironmentRef,
    MAX_STATUS_DESCRIPTION, NewDeployment, NewDeploymentStatus, PendingDeployment, Review,
    Reviewer, ReviewerName,
};
pub use environments::{Environment, ProtectionRule};
pub use error::{Call, Error, Permission};
pub use issues::Issue;
pub use relay_runtime::WorkflowRun;
pub use token::Token;
