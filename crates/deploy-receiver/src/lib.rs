//! `deploy-receiver`, the endpoint on the VM that the `sign-and-call-webhook`
//! action calls. It verifies the signature over the raw body (GitHub's
//! `X-Hub-Signature-256` or Standard Webhooks), validates each payload field
//! it passes on against a pattern, and runs the hook's command directly — no
//! shell — one deploy at a time per hook, mapping the command's exit code to
//! the HTTP answer. Everything is configured in one TOML file ([`Config`]).

mod auth;
mod check;
mod cli;
mod config;
mod deploy;
mod replay;
mod runner;
mod serve;
mod server;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use auth::{Auth, SecretLoadError, load_secrets, parse_secrets};
pub use check::{Accepted, DELIVERY_HEADERS, Limits, Rejection, check};
pub use cli::main;
pub use config::{
    Config, ConfigError, DEFAULT_IMAGE_SHA_PATTERN, Hook, LogFormat, SecretSource, parse_size,
};
pub use serve::{TlsError, tls_acceptor};
pub use server::{ENV_DELIVERY_ID, ENV_HOOK_PATH};

use relay_runtime::Env;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Secret(#[from] SecretLoadError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("couldn't listen on `{addr}`: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A receiver bound to its address, ready to serve.
pub struct Receiver {
    listener: TcpListener,
    app: Arc<server::App>,
    tls: Option<TlsAcceptor>,
}

impl Receiver {
    /// Loads the secret and TLS material and binds the listen address.
    pub async fn bind(config: Config, env: &Env) -> Result<Self, StartError> {
        let secrets = load_secrets(&config, env)?;
        let tls = match &config.tls {
            Some((cert, key)) => Some(tls_acceptor(cert, key)?),
            None => None,
        };
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
        Ok(Self {
            listener,
            app: server::App::new(config, secrets),
            tls,
        })
    }

    /// The bound address (the real port when the config said `:0`).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then lets running deploys finish.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        serve::serve(self.listener, self.app, self.tls, shutdown).await
    }
}
