//! The multi-call binary: its metadata, and the operators' commands against
//! the fake GitHub.

mod metadata;
mod ops;
