//! The multi-call binary: its metadata, the operators' commands against
//! the fake GitHub, the aarch64 build under emulation, the image run as the
//! runner runs it, the release rewrite, and the wiring of every workflow
//! and example.

#![allow(clippy::unwrap_used)]

mod aarch64;
mod container;
mod defaults;
mod fleet;
mod metadata;
mod ops;
mod release;
mod wiring;
mod workflows;
