//! Issues (issue 6: monitor-health opens one on failure; grows this).

use axum::Router;

use super::server::Shared;

/// Issues per repository.
#[derive(Default)]
pub(crate) struct Issues {}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
}
