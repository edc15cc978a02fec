//! Check runs and commit statuses (issue 4: verify-ci-status grows this).

use axum::Router;

use super::server::Shared;

/// Check runs and statuses per repository and sha.
#[derive(Default)]
pub(crate) struct Checks {}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
}
