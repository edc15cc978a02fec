//! The GitHub layer against the fake GitHub of `relay-fakes`.

#![allow(clippy::unwrap_used)]

mod client;
