//! The multi-call binary: its metadata, the operators' commands against
//! the fake GitHub, the aarch64 build under emulation, and the wiring of
//! every workflow and example.

#![allow(clippy::unwrap_used)]

mod aarch64;
mod metadata;
mod ops;
mod wiring;
mod workflows;
