//! `deploy-receiver`, the endpoint on the VM that the `sign-and-call-webhook`
//! action calls. It verifies the signature over the raw body (GitHub's
//! `X-Hub-Signature-256` or Standard Webhooks, with a secret per hook if
//! wanted), validates each payload field it passes on against a pattern,
//! and runs the hook's command directly — no shell — one deploy at a time
//! per hook, under a supervisor that owns its whole process tree, mapping
//! the command's exit code to the HTTP answer (or, in async mode, to the
//! answer of its status path). Unauthenticated clients share bounded
//! connection slots and one body budget. Everything is configured in one
//! TOML file ([`Config`]).

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

mod accept;
mod admission;
mod answer;
mod app;
mod auth;
mod body;
mod cli;
mod command;
mod config;
mod config_keys;
mod decision;
mod deliveries;
mod deploy;
mod hook;
mod in_flight;
mod redact;
mod replay;
mod routes;
mod supervisor;
mod tls;
mod weak_settings;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

pub use auth::{Auth, SecretLoadError, Secrets, load_secrets, parse_secrets};
pub use cli::main;
pub use config::{
    Config, ConfigError, DEFAULT_IMAGE_SHA_PATTERN, Hook, LogFormat, Mode, SecretSource, parse_size,
};
pub use decision::{Accepted, DELIVERY_HEADERS, Limits, Rejection, decide};
pub use replay::{StateError, StoredIds};
/// The hidden first argument that runs a binary as a deploy's supervisor: a
/// program embedding the receiver must hand it to [`main`] (see [`Receiver::bind`]).
pub use supervisor::MODE as SUPERVISOR_MODE;
pub use tls::{TlsError, tls_acceptor};

use relay_runtime::Env;
use replay::IdStore;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
pub enum StartError {
    #[error(transparent)]
    Secret(#[from] SecretLoadError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("couldn't listen on `{addr}`: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Connections the kernel queues before they are accepted: room for a
/// flood's reconnects, so a signed deploy's SYN is not dropped (and retried
/// a second later) while the accept loop catches up.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // A restart may bind while the old process's connections are in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// How to start, beyond the config.
#[derive(Debug, Clone, Copy, Default)]
pub struct StartOptions {
    /// What to do with the delivery ids the state file holds.
    pub stored_ids: StoredIds,
}

/// `--check`: everything a start reads — the secrets, the TLS material,
/// the delivery-id state file and its directory — checked without binding
/// the address or writing anything, so it can run beside the serving
/// receiver. The weak settings, one sentence each.
pub fn preflight(
    config: &Config,
    env: &Env,
    options: StartOptions,
) -> Result<Vec<String>, StartError> {
    let secrets = load_secrets(config, env)?;
    if let Some((cert, key)) = &config.tls {
        tls_acceptor(cert, key)?;
    }
    let state = replay::state_path(config.replay_state.as_deref(), env);
    if let Some(path) = &state {
        replay::check_state(path, options.stored_ids)?;
    }
    let ids = match state {
        Some(_) => IdStore::StateFile,
        None => IdStore::Memory,
    };
    Ok(weak_settings::warnings(config, &secrets, ids))
}

/// A receiver bound to its address, ready to serve.
pub struct Receiver {
    listener: TcpListener,
    config: Config,
    secrets: Secrets,
    replay: replay::Replay,
    tls: Option<TlsAcceptor>,
    supervisor: PathBuf,
}

impl Receiver {
    /// Loads the secrets, TLS material and delivery-id state, and binds the
    /// listen address.
    pub async fn bind(config: Config, env: &Env) -> Result<Self, StartError> {
        Self::bind_with(config, env, StartOptions::default()).await
    }

    /// [`Receiver::bind`] with [`StartOptions`].
    // Async though nothing in it awaits: the listener registers with the
    // runtime's reactor, so it must be called inside a runtime.
    #[allow(clippy::unused_async)]
    pub async fn bind_with(
        config: Config,
        env: &Env,
        options: StartOptions,
    ) -> Result<Self, StartError> {
        let secrets = load_secrets(&config, env)?;
        let tls = match &config.tls {
            Some((cert, key)) => Some(tls_acceptor(cert, key)?),
            None => None,
        };
        let (window, capacity) = (config.replay_window, config.replay_capacity);
        let replay = match replay::state_path(config.replay_state.as_deref(), env) {
            Some(path) => replay::Replay::with_state(window, capacity, path, options.stored_ids)?,
            None => replay::Replay::new(window, capacity),
        };
        let addr = config.listen;
        let listener = listen(addr).map_err(|source| StartError::Listen { addr, source })?;
        Ok(Self {
            listener,
            config,
            secrets,
            replay,
            tls,
            // The running binary's own inode, even if a package upgrade has
            // replaced the file since: supervisor and receiver always match.
            supervisor: PathBuf::from("/proc/self/exe"),
        })
    }

    /// Runs each deploy's supervisor from `program` (a `deploy-receiver`
    /// binary) instead of this process's own executable — for embedding
    /// the receiver in another binary, such as a test.
    pub fn with_supervisor(mut self, program: impl Into<PathBuf>) -> Self {
        self.supervisor = program.into();
        self
    }

    /// The bound address (the real port when the config said `:0`).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Weak settings, one sentence each (see `--check`).
    pub fn warnings(&self) -> Vec<String> {
        weak_settings::warnings(&self.config, &self.secrets, self.replay.store())
    }

    /// Serves until `shutdown` resolves, then lets running deploys finish.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let app = app::App::new(self.config, &self.secrets, self.replay, self.supervisor);
        accept::serve(self.listener, app, self.tls, shutdown).await
    }
}

/// What the fuzz targets reach that a user never calls.
#[doc(hidden)]
pub mod fuzzing {
    use super::{Config, IdStore, PathBuf, Secrets, app, replay, weak_settings};

    /// Everything a start builds from `config` without touching the world
    /// outside: the app, its routes, the weak-settings report. A config
    /// that would panic at start (two routes on one path, a route syntax
    /// axum refuses) panics here.
    pub fn start_offline(config: Config) -> Vec<String> {
        let secrets = Secrets::from_global(&config, Vec::new());
        let warnings = weak_settings::warnings(&config, &secrets, IdStore::Memory);
        let replay = replay::Replay::new(config.replay_window, config.replay_capacity);
        let app = app::App::new(config, &secrets, replay, PathBuf::from("/bin/false"));
        drop(app.router());
        warnings
    }
}
