//! A small GitHub REST client for deploy-relay's actions, on reqwest with
//! rustls. It sends the headers GitHub asks for, retries what is safe to retry
//! (429, 5xx, rate-limit 403s, failed connections) honouring `retry-after`
//! and `x-ratelimit-reset` with capped, jittered back-off, polls with
//! `If-None-Match` so unchanged answers cost no rate limit, and turns refusals
//! into errors that name the call and the permission or token kind missing.
//!
//! octocrab was the first choice; it does not honour `retry-after` or
//! `x-ratelimit-reset`, has no ETag cache, and doubles the image size, so
//! the few endpoints the actions use are spelled out in their own crates.

mod client;
mod error;
mod token;

pub use client::{API_VERSION, Backoff, GitHub, Response, StatsSnapshot, USER_AGENT};
pub use error::{Call, Error, Permission, hint};
pub use reqwest::{Method, StatusCode};
pub use token::Token;
