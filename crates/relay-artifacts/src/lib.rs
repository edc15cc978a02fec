//! The GitHub Actions artifacts v4 protocol as the official `@actions/artifact`
//! client speaks it, and the transfer built on it: another run's artifacts,
//! selected by name, glob or id, downloaded through the REST `/zip`
//! redirect, checked against their recorded digest, extracted safely and
//! re-uploaded into this run under new names — one pass over each zip,
//! several at a time, memory flat, nothing finalized before it was checked.
//!
//! # Transferring a run's artifacts
//!
//! ```no_run
//! # async fn example(gh: &relay_github::GitHub, console: relay_runtime::Console,
//! #     repo: &relay_runtime::RepoName, token: relay_artifacts::RuntimeToken)
//! #     -> Result<(), relay_artifacts::ArtifactError> {
//! use relay_artifacts::*;
//! // 1. Which artifacts: every page of the run's list, newest per name.
//! let listing = list(gh, repo, 9001, &Selection::Names(vec!["web".into()])).await?;
//! // `listing.found()`, `.expired`, `.missing` and `.refused` (listed names
//! // that are unusable as a directory or on a log line) are the caller's to report.
//! // 2. Their new names; checked (GitHub's rules, no two alike) before any download.
//! let moves: Vec<ArtifactMove> = listing
//!     .selected
//!     .into_iter()
//!     .map(|a| ArtifactMove { new_name: Some(format!("deploy-{}", a.name)), source: a })
//!     .collect();
//! // 3. Move them.
//! let config = TransferConfig {
//!     upload: Some(Upload {
//!         results_url: "https://results.example/".into(),
//!         token,
//!         expires_at: None,
//!         overwrite: false,
//!     }),
//!     destination: Destination::Extract {
//!         dir: "artifacts".into(),
//!         together: false,
//!         limits: ExtractLimits::default(),
//!     },
//!     digest: DigestPolicy::Error,
//!     retry: RetryPolicy::default(),
//! };
//! let transferred = Transfer::new(gh, repo, http_client()?, config, console)?
//!     .run(&moves)
//!     .await?;
//! for r in &transferred {
//!     println!("{} {} bytes {} -> {:?}", r.name, r.size, r.digest, r.reupload);
//! }
//! # Ok(()) }
//! ```
//!
//! [`Transfer::run`] checks every new name first, then asks this run which of
//! them it already has (an error unless [`Upload::overwrite`]). Each
//! artifact then goes: `CreateArtifact` → download (resumed with `Range`
//! after a reset or stall), hashed and cut into 4 MiB blocks uploaded as it
//! arrives, spooled to disk when it is to be extracted → digest check →
//! extraction → `FinalizeArtifact`. If one fails, the others stop and the
//! artifacts already finalized are deleted again. An artifact that replaces
//! one of the same name is downloaded, checked and extracted first, and
//! uploaded from the local copy after the old one is deleted.
//!
//! # Disk and memory
//!
//! Memory is bounded by the blocks in flight, shared by every artifact
//! (six 4 MiB blocks plus one being filled per artifact). Extraction reads
//! the zip from a file, not from the network stream: a zip's central
//! directory sits at its end, and entries written with data descriptors do
//! not record their sizes up front, so a local-header reader cannot tell
//! where a stored entry ends. The zip is therefore on disk once, beside the
//! destination, and deleted once extracted. [`ExtractLimits::max_total_bytes`]
//! bounds the extracted bytes and, separately, the zips waiting to be
//! extracted, so a step uses at most twice it.
//!
//! # Retries
//!
//! Every request (Twirp, blob upload and download) runs through
//! `relay_http::retry` with [`RetryPolicy`]: `@actions/artifact`'s five
//! attempts from 3 s ×1.5 on 429/5xx and transport errors, plus a stall
//! timeout. Signed URLs appear in messages only through
//! `relay_http::redact_url`.

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

mod blob;
mod digest;
mod error;
// Extraction is another engineer's to bring under these lints.
#[allow(unreachable_pub, missing_docs, clippy::pedantic)]
mod extract;
mod inputs;
mod move_one;
mod name;
mod pipe;
mod rest;
mod results;
mod retry;
mod select;
mod sink;
mod token;
mod transfer;

pub use digest::{DigestCheck, DigestPolicy};
pub use error::ArtifactError;
pub use extract::{ExtractError, ExtractLimits, ExtractReport, Extractor, SpoolIndex};
pub use inputs::{IfNone, ListingWords, ReuploadNames, plan_moves, report_listing, run_id_input};
pub use name::{NameError, validate_artifact_name};
pub use rest::RestArtifact;
pub use retry::RetryPolicy;
pub use select::{Listing, Refused, Selection, list};
pub use token::{RuntimeToken, TokenError};
pub use transfer::{
    ArtifactMove, Destination, Reuploaded, Transfer, TransferConfig, Transferred, Upload,
    check_name_template, expires_at, http_client,
};

#[cfg(test)]
mod test_support;
