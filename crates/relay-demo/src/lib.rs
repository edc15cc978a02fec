//! The demo: the whole deployment on one machine, in one command, with no
//! GitHub account, no Docker and no network. The test kit's fake GitHub
//! (REST, results service, blob store) holds an app repository whose build
//! finished and a platform repository; the real `deploy-receiver` runs a
//! deploy script that switches a demo service between releases; and the
//! real actions, each its own process started as the runner starts a
//! container action, are played through the examples and the reusable
//! workflows (`relay.yml`, then `deploy.yml`) by the test kit's local
//! runner. The build attests its image with the demo's own Sigstore
//! (relay-fakes), whose trusted root verify-provenance is given. Release 1
//! deploys with its provenance verified and passes its health window;
//! release 2 fails its window and `deploy.yml` rolls it back; release 3,
//! an image built outside CI, is stopped by verify-provenance before the
//! webhook. Then the queue scene (release 4 of the api, a deploy of a
//! second app from its own repository to its own hook on the same VM, a
//! rollback by hand and release 5 meet on `production`; none is dropped)
//! and the fleet scene (`examples/fleet`, three VMs in waves). `--break`
//! breaks one link of release 2 instead and shows where
//! the flow stops. A live timeline, an HTML report,
//! and an exit code that says whether the story went as told.
//!
//! Not part of the shipped image: it carries the fake GitHub.

mod check;
mod cli;
mod demo;
mod example;
mod fleet;
mod github;
mod logs;
mod markdown;
mod network;
mod queue;
mod report;
mod service;
mod steps;
mod story;
mod supervisor;
mod timeline;
mod vm;

pub use cli::main;
pub use github::TOKENS;
pub use markdown::to_html;
pub use steps::{Break, DEPLOY, RELAY};
