//! relay-signature as a sender and a receiver see it: properties over
//! arbitrary secrets and bodies, and interop with adnanh/webhook.

// Helpers outside #[test] fns panic on purpose: a broken fixture is a failed test.
#![allow(clippy::unwrap_used)]

mod properties;
mod webhook_peer;
