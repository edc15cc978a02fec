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
