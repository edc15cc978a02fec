//! `receiver.toml`: read, checked in full at start-up, so a bad pattern or a
//! missing secret stops the service before it listens rather than at the
//! first deploy.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use relay_signature::Scheme;
use serde::Deserialize;

/// The pattern `image_sha` gets when the hook gives none (SPEC).
pub const DEFAULT_IMAGE_SHA_PATTERN: &str = "^[0-9a-f]{7,64}$";

/// A configuration that cannot be used; each says which key and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("couldn't read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` is not valid receiver TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("`{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
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
    signature: Option<String>,
    signature_header: Option<String>,
    timestamp_tolerance: Option<String>,
    replay_window: Option<String>,
    replay_capacity: Option<usize>,
    require_delivery_id: Option<bool>,
    output_tail: Option<String>,
    log_format: Option<String>,
    max_connections: Option<usize>,
    hooks: Vec<RawHook>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook {
    path: String,
    command: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    timeout: Option<String>,
    kill_grace: Option<String>,
    #[serde(default)]
    queue: bool,
    working_dir: Option<PathBuf>,
    #[serde(default)]
    validate: BTreeMap<String, String>,
    #[serde(default)]
    exit_codes: BTreeMap<String, u16>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// Where the shared secret comes from; the value itself is read by
/// [`crate::auth::load_secrets`], never kept in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub secret: SecretSource,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub max_body: usize,
    pub scheme: Scheme,
    /// The header carrying the GitHub-scheme signature.
    pub signature_header: String,
    pub timestamp_tolerance: Duration,
    /// How long a delivery id is remembered to refuse a replay.
    pub replay_window: Duration,
    pub replay_capacity: usize,
    pub require_delivery_id: bool,
    pub output_tail: usize,
    pub log_format: LogFormat,
    /// Open connections at most; more wait in the kernel's backlog.
    pub max_connections: usize,
    pub hooks: Vec<Hook>,
}

#[derive(Debug, Clone)]
pub struct Hook {
    pub path: String,
    pub command: Vec<String>,
    /// Payload fields passed as arguments, in order, each with the pattern
    /// it must match in full.
    pub args: Vec<(String, Regex)>,
    pub timeout: Duration,
    pub kill_grace: Duration,
    pub queue: bool,
    pub working_dir: Option<PathBuf>,
    pub exit_codes: BTreeMap<i32, u16>,
    /// Extra env for the command (e.g. `DEPLOY_SERVICE` for deploy.sh).
    pub env: Vec<(String, String)>,
}

impl Hook {
    /// The HTTP status for an exit code: the configured map, else 500.
    pub fn status_for(&self, code: i32) -> u16 {
        self.exit_codes.get(&code).copied().unwrap_or(500)
    }
}

impl Config {
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
        let secret = match (raw.secret_file, raw.secret_env) {
            (Some(file), None) => SecretSource::File(file),
            (None, Some(env)) if !env.is_empty() => SecretSource::Env(env),
            (None, None) | (None, Some(_)) => {
                return Err(invalid("secret_file", "set `secret_file` or `secret_env`"));
            }
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "secret_file",
                    "set only one of `secret_file` and `secret_env`",
                ));
            }
        };
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
            None => Scheme::GitHub,
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
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "log_format",
                    format!("`{other}` is neither `text` nor `json`"),
                ));
            }
        };
        if raw.hooks.is_empty() {
            return Err(invalid("hooks", "add at least one [[hooks]] table"));
        }
        let mut seen = HashSet::new();
        let mut hooks = Vec::new();
        for (i, hook) in raw.hooks.into_iter().enumerate() {
            let hook = parse_hook(i, hook)?;
            if !seen.insert(hook.path.clone()) {
                return Err(invalid(
                    format!("hooks[{i}].path"),
                    format!("`{}` is used twice", hook.path),
                ));
            }
            hooks.push(hook);
        }
        Ok(Config {
            listen,
            secret,
            tls,
            max_body: size_key("max_body", raw.max_body.as_deref(), 1024 * 1024)?,
            scheme,
            signature_header,
            timestamp_tolerance: duration_key(
                "timestamp_tolerance",
                raw.timestamp_tolerance.as_deref(),
                "5m",
            )?,
            replay_window: duration_key("replay_window", raw.replay_window.as_deref(), "24h")?,
            replay_capacity: raw.replay_capacity.unwrap_or(10_000).max(1),
            require_delivery_id: raw.require_delivery_id.unwrap_or(false),
            output_tail: size_key("output_tail", raw.output_tail.as_deref(), 16 * 1024)?,
            log_format,
            max_connections: raw.max_connections.unwrap_or(512).max(1),
            hooks,
        })
    }
}

fn parse_hook(i: usize, raw: RawHook) -> Result<Hook, ConfigError> {
    let key = |k: &str| format!("hooks[{i}].{k}");
    if !raw.path.starts_with('/') || raw.path == "/healthz" || raw.path.contains(['{', '}', '*']) {
        return Err(invalid(
            key("path"),
            format!(
                "`{}` must start with `/`, be a plain path and not be `/healthz`",
                raw.path
            ),
        ));
    }
    if raw.command.first().is_none_or(|c| c.is_empty()) {
        return Err(invalid(
            key("command"),
            "give the program to run, e.g. [\"/opt/deploy/deploy.sh\"]",
        ));
    }
    let mut validate = raw.validate;
    let mut args = Vec::new();
    for field in &raw.args {
        let pattern = match validate.remove(field) {
            Some(p) => p,
            None if field == "image_sha" => DEFAULT_IMAGE_SHA_PATTERN.to_owned(),
            None => {
                return Err(invalid(
                    key("validate"),
                    format!(
                        "field `{field}` is passed to the command but has no pattern; add `{field} = \"^...$\"` to [hooks.validate]"
                    ),
                ));
            }
        };
        // Wrapped so the whole value must match even if the pattern forgot its anchors.
        let regex = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                invalid(
                    format!("{}.{field}", key("validate")),
                    format!("`{pattern}` is not a valid pattern: {e}"),
                )
            })?;
        args.push((field.clone(), regex));
    }
    if let Some(unused) = validate.keys().next() {
        return Err(invalid(
            format!("{}.{unused}", key("validate")),
            "has a pattern but is not in `args`",
        ));
    }
    let mut exit_codes: BTreeMap<i32, u16> = [(0, 200), (2, 422), (3, 503)].into();
    for (code, status) in raw.exit_codes {
        let parsed: i32 = code
            .parse()
            .ok()
            .filter(|c| (0..=255).contains(c))
            .ok_or_else(|| {
                invalid(
                    key("exit_codes"),
                    format!("`{code}` is not an exit code (0-255)"),
                )
            })?;
        if !(200..=599).contains(&status) {
            return Err(invalid(
                format!("{}.{code}", key("exit_codes")),
                format!("`{status}` is not an HTTP status (200-599)"),
            ));
        }
        exit_codes.insert(parsed, status);
    }
    Ok(Hook {
        path: raw.path,
        command: raw.command,
        args,
        timeout: duration_key(&key("timeout"), raw.timeout.as_deref(), "10m")?,
        kill_grace: duration_key(&key("kill_grace"), raw.kill_grace.as_deref(), "10s")?,
        queue: raw.queue,
        working_dir: raw.working_dir,
        exit_codes,
        env: raw.env.into_iter().collect(),
    })
}

fn duration_key(key: &str, value: Option<&str>, default: &str) -> Result<Duration, ConfigError> {
    let text = value.unwrap_or(default);
    relay_runtime::duration::parse(text).map_err(|e| invalid(key, format!("`{text}`: {e}")))
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
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = r#"
listen = "0.0.0.0:8443"
secret_file = "/etc/deploy-receiver/secret"   # or secret_env = "DEPLOY_SECRET"
max_body = "1MiB"

[[hooks]]
path = "/deploy"
command = ["/opt/deploy/deploy.sh"]
args = ["image_sha"]
timeout = "10m"
queue = false
[hooks.validate]
image_sha = "^[0-9a-f]{7,64}$"
[hooks.exit_codes]
0 = 200
2 = 422
3 = 503
"#;

    #[test]
    fn spec_example_reads() {
        let c = Config::parse(SPEC_EXAMPLE).unwrap();
        assert_eq!(c.listen.port(), 8443);
        assert_eq!(c.max_body, 1 << 20);
        assert_eq!(
            c.secret,
            SecretSource::File("/etc/deploy-receiver/secret".into())
        );
        let hook = &c.hooks[0];
        assert_eq!(hook.timeout, Duration::from_secs(600));
        assert_eq!(
            (
                hook.status_for(0),
                hook.status_for(2),
                hook.status_for(3),
                hook.status_for(1)
            ),
            (200, 422, 503, 500)
        );
        let (field, re) = &hook.args[0];
        assert_eq!(field, "image_sha");
        assert!(re.is_match("0123abc"));
        assert!(!re.is_match("abc;rm -rf /"));
    }

    #[test]
    fn patterns_match_in_full_even_without_anchors() {
        let text = SPEC_EXAMPLE.replace("^[0-9a-f]{7,64}$", "[0-9a-f]{7}");
        let c = Config::parse(&text).unwrap();
        let re = &c.hooks[0].args[0].1;
        assert!(re.is_match("abcdef0"));
        assert!(!re.is_match("abcdef0$(id)"));
        assert!(!re.is_match("x abcdef0"));
    }

    #[test]
    fn image_sha_has_a_default_pattern_other_fields_need_one() {
        let no_validate =
            SPEC_EXAMPLE.replace("[hooks.validate]\nimage_sha = \"^[0-9a-f]{7,64}$\"\n", "");
        let c = Config::parse(&no_validate).unwrap();
        assert_eq!(c.hooks[0].args[0].1.as_str(), "^(?:^[0-9a-f]{7,64}$)$");
        let other =
            no_validate.replace("args = [\"image_sha\"]", "args = [\"image_sha\", \"env\"]");
        let err = Config::parse(&other).unwrap_err().to_string();
        assert!(err.contains("`env`") && err.contains("no pattern"), "{err}");
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                "listen = \"0.0.0.0:8443\"",
                "listen = \"nowhere\"",
                "listen",
            ),
            ("max_body = \"1MiB\"", "max_body = \"1 parsec\"", "max_body"),
            (
                "timeout = \"10m\"",
                "timeout = \"soon\"",
                "hooks[0].timeout",
            ),
            ("0 = 200", "0 = 99", "exit_codes.0"),
            ("3 = 503", "x = 503", "exit_codes"),
            (
                "image_sha = \"^[0-9a-f]{7,64}$\"",
                "image_sha = \"(\"",
                "validate.image_sha",
            ),
            ("path = \"/deploy\"", "path = \"deploy\"", "hooks[0].path"),
            (
                "secret_file = \"/etc/deploy-receiver/secret\"",
                "",
                "secret_file",
            ),
            (
                "queue = false",
                "queue = false\nshell = true",
                "unknown field `shell`",
            ),
        ];
        for (from, to, expect) in cases {
            let text = SPEC_EXAMPLE.replace(from, to);
            let err = Config::parse(&text).unwrap_err().to_string();
            assert!(err.contains(expect), "{from} -> {to}: {err}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("2048"), Ok(2048));
        assert_eq!(parse_size("1 MB"), Ok(1_000_000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
    }
}
