//! The fakes deploy-relay's actions talk to, served in-process on 127.0.0.1,
//! each on its own thread so it keeps answering while a caller blocks on a
//! child process: [`FakeGitHub`], the parts of GitHub's REST API the actions
//! use — strict like GitHub (requests GitHub would refuse are refused),
//! stateful (runs progress as they are polled, dispatches and deployments are
//! recorded) and with faults on demand — [`FakeArtifacts`], the artifacts
//! v4 results service with its block-blob store, and [`FakeSigstore`], the
//! certificate authority and transparency log that attest a build as
//! GitHub Actions would, offline.
//!
//! The tests use them, and so does the demo, which ships them: this is a
//! product crate, not a test helper.

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
// Handlers return `Result<_, Response>`: the refusal is the answer itself.
#![allow(clippy::result_large_err)]

mod blob;
mod github;
mod results;
mod serve;
pub mod sigstore;

pub use blob::{BlobFault, STALL};
pub use github::{
    Access, AppKeyPair, AppSeed, ArtifactSeed, CheckScript, DEFAULT_TOKEN, FakeGitHub, Fault,
    Grant, InstallationSeed, IssuedToken, JwtRefusal, Recorded, Run, RunScript, TokenKind,
    WorkflowDispatchMode, verifier_in_use,
};
pub use results::{FakeArtifacts, StoredArtifact, TwirpFault};
pub use sigstore::{BuildIdentity, FakeSigstore};

/// `bytes` as lower-case hex, two digits a byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}
