//! The GitHub Actions artifacts v4 protocol as the official `@actions/artifact`
//! client speaks it, plus the pieces a relay needs around it: artifact-name
//! validation (done before any request), the runtime token whose `scp` claim
//! carries the results-service backend ids, and safe zip extraction.
//!
//! Extraction reads the zip from a file, not from the network stream: a zip's
//! central directory sits at its end, and entries written with data
//! descriptors do not record their sizes up front, so a local-header reader
//! cannot tell where a stored entry ends. The relay therefore writes the
//! downloaded zip to disk once (while hashing it and cutting it into upload
//! blocks) and extracts from that file, which is "on disk once" and keeps
//! memory flat whatever the artifact size.

mod blob;
mod error;
mod extract;
mod name;
mod relay;
pub mod rest;
mod results;
mod retry;
mod reupload;
mod token;
mod verify;

pub use blob::{X_MS_VERSION, block_id, put_block, put_block_list, redact_url};
pub use error::ArtifactError;
pub use extract::{ExtractError, ExtractLimits, ExtractReport, Extractor};
pub use name::{NameError, validate_artifact_name};
pub use relay::{RelayOptions, Relayed, download, relay};
pub use rest::{RestArtifact, RunArtifacts};
pub use results::{ARTIFACT_VERSION, ListedArtifact, ResultsClient};
pub use retry::RetryPolicy;
pub use reupload::{Reupload, Reuploaded, Staged, reupload, stage};
pub use token::{BackendIds, RuntimeToken, TokenError};
pub use verify::{DigestCheck, DigestPolicy, check_digest, expires_at, verify_digest};
