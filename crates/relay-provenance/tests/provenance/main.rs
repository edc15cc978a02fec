//! relay-provenance against bundles made by implementations we did not
//! write: real attestations GitHub Actions made (vendored fixtures), and
//! bundles `@sigstore/sign` makes against `@sigstore/mock`, judged case by
//! case against `@sigstore/verify`.

#![allow(clippy::unwrap_used)]

mod github;
mod github_root;
mod real;
mod sigstore_js;
