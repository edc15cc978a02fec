//! The signed deploy call, as `sign-and-call-webhook` and `fleet-deploy`
//! make it: the exact body signed (GitHub's `X-Hub-Signature-256` or
//! Standard Webhooks), tried again only where nothing can have run — with
//! the same delivery id — an async deploy's status path followed to its
//! end, and an answer that leaves the outcome open reported as exactly
//! that. Every answer is masked before it is kept, so it can never carry a
//! secret further. The rule both ends agree on is [`next`]; the receiver's
//! half is `deploy-receiver`.

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

mod call;
mod deliver;
mod follow;
mod retry;
mod send;

pub use call::{Call, ca_cert};
pub use deliver::{Delivery, Ending, MIN_RETRY_AFTER, deliver, deliver_with};
pub use follow::{FollowError, status_url};
pub use retry::{Next, Tried, next};
pub use send::{MAX_RESPONSE, Reply, SendError, client, interpret, mask_then_cut};
