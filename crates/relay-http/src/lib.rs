//! What every deploy-relay HTTP client shares: one way to build a reqwest
//! client (rustls, one `User-Agent`), one retry loop that each caller runs
//! with its own [`Backoff`] and its own idea of what is worth retrying, one
//! way to poll until a deadline ([`Poll`], with `Retry-After`), and one URL
//! type whose every print is safe to show ([`DisplaySafeUrl`]).

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

mod poll;
mod redact;
mod retry;

pub use poll::{AtDeadline, DeadlinePassed, MIN_SERVER_WAIT, Poll, retry_after};
pub use redact::{DisplaySafeUrl, UrlParseError, redact_url};
pub use retry::{Attempt, Backoff, RetryError, Retrying, retry};

/// Sent with every request: `deploy-relay/<version>`.
pub const USER_AGENT: &str = concat!("deploy-relay/", env!("CARGO_PKG_VERSION"));

/// A client builder with deploy-relay's `User-Agent`; callers add their
/// timeouts, redirect policy and certificates.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().user_agent(USER_AGENT)
}
