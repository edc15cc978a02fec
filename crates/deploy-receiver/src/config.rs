//! `receiver.toml`: read, checked in full at start-up, so a bad pattern or a
//! missing secret stops the service before it listens rather than at the
//! first deploy. Every key, its default and meaning is in [`crate::config_keys`]
//! (printed by `--help`).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use relay_signature::Scheme;
use serde::Deserialize;

pub use crate::hook::{DEFAULT_IMAGE_SHA_PATTERN, Hook, Mode};

// The defaults of the top-level keys, each written once: the parser uses
// them and `--help` renders them (`crate::config_keys`).
pub(crate) const DEFAULT_MAX_BODY: usize = 64 * 1024;
pub(crate) const DEFAULT_BODY_BUDGET: usize = 8 * 1024 * 1024;
pub(crate) const DEFAULT_TIMESTAMP_TOLERANCE: Duration = Duration::from_mins(5);
pub(crate) const DEFAULT_REPLAY_WINDOW: Duration = Duration::from_hours(24);
pub(crate) const DEFAULT_REPLAY_CAPACITY: usize = 10_000;
pub(crate) const DEFAULT_REQUIRE_DELIVERY_ID: bool = false;
pub(crate) const DEFAULT_RESULT_TTL: Duration = Duration::from_hours(1);
pub(crate) const DEFAULT_OUTPUT_TAIL: usize = 16 * 1024;
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 512;
pub(crate) const DEFAULT_MAX_CONNECTIONS_PER_PEER: usize = 16;

/// A configuration that cannot be used; each says which key and why.
#[derive(Debug, thiserror::Error)]
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
pub enum ConfigError {
    #[error("couldn't read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not valid receiver TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("`{key}`: {message}")]
    Invalid { key: String, message: String },
}

pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: String,
    secret_file: Option<PathBuf>,
    secret_env: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    max_body: Option<String>,
    body_budget: Option<String>,
    signature: Option<String>,
    signature_header: Option<String>,
    timestamp_tolerance: Option<String>,
    replay_window: Option<String>,
    replay_capacity: Option<usize>,
    replay_state: Option<PathBuf>,
    require_delivery_id: Option<bool>,
    result_ttl: Option<String>,
    output_tail: Option<String>,
    log_format: Option<String>,
    max_connections: Option<usize>,
    max_connections_per_peer: Option<usize>,
    hooks: Vec<crate::hook::RawHook>,
}

/// Where a secret comes from; the value itself is read by
/// [`crate::auth::load_secrets`], never kept in the config.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretSource {
    /// `secret_file`: a file, one key per non-empty line.
    File(PathBuf),
    /// `secret_env`: an environment variable, removed from every command's.
    Env(String),
}

impl SecretSource {
    /// `secret_file` / `secret_env` of one table: exactly one, or neither.
    pub(crate) fn from_keys(
        prefix: &str,
        file: Option<PathBuf>,
        env: Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        match (file, env) {
            (Some(file), None) => Ok(Some(SecretSource::File(file))),
            (None, Some(env)) if !env.is_empty() => Ok(Some(SecretSource::Env(env))),
            (None, Some(_)) => Err(invalid(format!("{prefix}secret_env"), "is empty")),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(invalid(
                format!("{prefix}secret_file"),
                "set only one of `secret_file` and `secret_env`",
            )),
        }
    }
}

/// How the receiver writes its log (`log_format`, `--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// A line of text per event.
    #[default]
    Text,
    /// A JSON object per event, for a log collector.
    Json,
}

impl LogFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [LogFormat; 2] = [LogFormat::Text, LogFormat::Json];

    /// The name `log_format` and `--log-format` take.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }

    /// The format called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A checked `receiver.toml`: every default filled in, every pattern
/// compiled (see `--help` for each key's meaning).
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The secret of every hook that names none of its own; `None` when
    /// each hook has its own.
    pub secret: Option<SecretSource>,
    /// The PEM certificate chain and private key; `None`: plain HTTP.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// Bytes of bodies not yet authenticated, all connections together.
    pub body_budget: usize,
    /// The signature scheme.
    pub scheme: Scheme,
    /// The header carrying the GitHub-scheme signature.
    pub signature_header: String,
    /// How far a signed timestamp may be from now, either way.
    pub timestamp_tolerance: Duration,
    /// How long a delivery id is remembered to refuse a replay.
    pub replay_window: Duration,
    /// Delivery ids remembered at most.
    pub replay_capacity: usize,
    /// Where delivery ids are kept across restarts; `None`: the default
    /// (systemd's `$STATE_DIRECTORY`, else memory only), see
    /// `replay::state_path`.
    pub replay_state: Option<PathBuf>,
    /// Whether a request without a delivery id is refused.
    pub require_delivery_id: bool,
    /// How long a finished deploy's answer stays available at its status path.
    pub result_ttl: Duration,
    /// Bytes of command output in the answer.
    pub output_tail: usize,
    /// How the receiver writes its log.
    pub log_format: LogFormat,
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections per client address (IPv6: per /64); `None`: no limit.
    pub max_connections_per_peer: Option<usize>,
    /// The hooks, in the file's order.
    pub hooks: Vec<Hook>,
}

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Toml { message, .. } => ConfigError::Toml {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Checks the text of a `receiver.toml`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Toml {
            path: PathBuf::from("<config>"),
            message: e.message().to_owned(),
        })?;
        let listen = raw.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!("`{}` is not an address like `0.0.0.0:8443`", raw.listen),
            )
        })?;
        let secret = SecretSource::from_keys("", raw.secret_file, raw.secret_env)?;
        let tls = match (raw.tls_cert, raw.tls_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "tls_cert",
                    "set both `tls_cert` and `tls_key`, or neither",
                ));
            }
        };
        let scheme = match raw.signature {
            Some(s) => s
                .parse()
                .map_err(|e: relay_signature::UnknownScheme| invalid("signature", e.to_string()))?,
            None => Scheme::default(),
        };
        let signature_header = raw
            .signature_header
            .unwrap_or_else(|| relay_signature::github::HEADER.to_owned());
        if http::HeaderName::try_from(signature_header.as_str()).is_err() {
            return Err(invalid(
                "signature_header",
                format!("`{signature_header}` is not a header name"),
            ));
        }
        let log_format = match raw.log_format.as_deref() {
            None => LogFormat::default(),
            Some(name) => LogFormat::from_name(name).ok_or_else(|| {
                invalid(
                    "log_format",
                    format!("`{name}` is neither `text` nor `json`"),
                )
            })?,
        };
        let hooks = hooks(raw.hooks, secret.as_ref())?;
        let max_body = size_key("max_body", raw.max_body.as_deref(), DEFAULT_MAX_BODY)?;
        let body_budget = size_key(
            "body_budget",
            raw.body_budget.as_deref(),
            DEFAULT_BODY_BUDGET,
        )?;
        if max_body > body_budget {
            return Err(invalid(
                "max_body",
                format!(
                    "{max_body} bytes is more than `body_budget` ({body_budget} bytes), so such a body could never be read\nhint: raise `body_budget` to at least `max_body`"
                ),
            ));
        }
        Ok(Config {
            listen,
            secret,
            tls,
            max_body,
            body_budget,
            scheme,
            signature_header,
            timestamp_tolerance: duration_key(
                "timestamp_tolerance",
                raw.timestamp_tolerance.as_deref(),
                DEFAULT_TIMESTAMP_TOLERANCE,
            )?,
            replay_window: duration_key(
                "replay_window",
                raw.replay_window.as_deref(),
                DEFAULT_REPLAY_WINDOW,
            )?,
            replay_capacity: raw
                .replay_capacity
                .unwrap_or(DEFAULT_REPLAY_CAPACITY)
                .max(1),
            replay_state: raw.replay_state,
            require_delivery_id: raw
                .require_delivery_id
                .unwrap_or(DEFAULT_REQUIRE_DELIVERY_ID),
            result_ttl: duration_key("result_ttl", raw.result_ttl.as_deref(), DEFAULT_RESULT_TTL)?,
            output_tail: output_tail(raw.output_tail.as_deref())?,
            log_format,
            max_connections: raw
                .max_connections
                .unwrap_or(DEFAULT_MAX_CONNECTIONS)
                .max(1),
            max_connections_per_peer: match raw.max_connections_per_peer {
                Some(0) => None,
                Some(n) => Some(n),
                None => Some(DEFAULT_MAX_CONNECTIONS_PER_PEER),
            },
            hooks,
        })
    }

    /// Every distinct secret source, the global one first.
    pub fn secret_sources(&self) -> Vec<&SecretSource> {
        let mut seen = BTreeSet::new();
        self.secret
            .iter()
            .chain(self.hooks.iter().filter_map(|h| h.secret.as_ref()))
            .filter(|s| seen.insert(*s))
            .collect()
    }
}

fn hooks(
    raw: Vec<crate::hook::RawHook>,
    global_secret: Option<&SecretSource>,
) -> Result<Vec<Hook>, ConfigError> {
    if raw.is_empty() {
        return Err(invalid("hooks", "add at least one [[hooks]] table"));
    }
    let mut hooks: Vec<Hook> = Vec::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let written = raw.path.clone();
        let hook = crate::hook::parse(i, raw)?;
        if hook.secret.is_none() && global_secret.is_none() {
            return Err(invalid(
                "secret_file",
                format!(
                    "`hooks[{i}]` ({}) has no secret of its own, and there is no global one\nhint: set `secret_file` (or `secret_env`) at the top, or in each [[hooks]] table",
                    hook.path
                ),
            ));
        }
        if let Some(j) = hooks.iter().position(|h| h.path == hook.path) {
            return Err(invalid(
                format!("hooks[{i}].path"),
                format!(
                    "`{}` is the same hook as `hooks[{j}]` (`{}`): a trailing `/` makes no other path\nhint: give each hook its own path",
                    written.escape_debug(),
                    hook.path
                ),
            ));
        }
        // `/a/deliveries/x` is the status of a delivery of `/a`; no hook may sit there.
        let nested = hooks.iter().find(|h| {
            hook.path
                .starts_with(&relay_signature::status::path(&h.path, ""))
                || h.path
                    .starts_with(&relay_signature::status::path(&hook.path, ""))
        });
        if let Some(other) = nested {
            return Err(invalid(
                format!("hooks[{i}].path"),
                format!(
                    "`{}` and `{}` overlap: `<hook>/{}/…` is where a hook's deliveries are polled",
                    hook.path,
                    other.path,
                    relay_signature::status::SEGMENT
                ),
            ));
        }
        hooks.push(hook);
    }
    Ok(hooks)
}

/// `output_tail`, no more than fits the answer's size bound.
fn output_tail(value: Option<&str>) -> Result<usize, ConfigError> {
    let tail = size_key("output_tail", value, DEFAULT_OUTPUT_TAIL)?;
    if tail > crate::answer::MAX_OUTPUT_TAIL {
        return Err(invalid(
            "output_tail",
            format!(
                "{tail} bytes is more than {} bytes: the whole answer is at most {} bytes, so a sender always reads its verdict\nhint: write the rest of the output to a log of the deploy's own",
                crate::answer::MAX_OUTPUT_TAIL,
                crate::answer::MAX_ANSWER
            ),
        ));
    }
    Ok(tail)
}

pub(crate) fn duration_key(
    key: &str,
    value: Option<&str>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(text) => {
            relay_runtime::duration::parse(text).map_err(|e| invalid(key, format!("`{text}`: {e}")))
        }
    }
}

fn size_key(key: &str, value: Option<&str>, default: usize) -> Result<usize, ConfigError> {
    match value {
        None => Ok(default),
        Some(text) => parse_size(text).map_err(|e| invalid(key, format!("`{text}`: {e}"))),
    }
}

/// Sizes as people write them (`1MiB`, `512KiB`, `64kB`, `2048` bytes; see
/// [`relay_runtime::size`]), as a buffer length.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let bytes = relay_runtime::size::parse(text)?;
    usize::try_from(bytes).map_err(|_| "it does not fit in memory".to_owned())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
