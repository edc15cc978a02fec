//! deploy-receiver as a sender meets it: real HTTP on 127.0.0.1, real
//! commands, the real binary for signals and logs, openssl + curl as an
//! independent signer, and `examples/vm/deploy.sh` against a fake `docker`.

// Helpers outside #[test] fns panic on purpose: a broken fixture is a failed test.
#![allow(clippy::unwrap_used)]

mod async_mode;
mod binary;
mod deliveries;
mod deploy_sh;
mod example_vm;
mod flood;
mod hardening;
mod harness;
mod interop;
mod processes;
