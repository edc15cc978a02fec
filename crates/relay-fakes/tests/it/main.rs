//! The fakes held to GitHub: its OpenAPI description, its pagination, its
//! refusals, and the state each endpoint keeps.

mod apps;
mod artifacts_rest;
mod attestations;
mod checks;
mod deployments;
mod fake;
mod results;
mod sigstore;
