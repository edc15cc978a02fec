//! The shared secrets and the signature check. Secrets are read once at
//! start-up; several non-empty lines in a file (or env value) are several
//! accepted keys, so a key can be rotated without a window of refusals. A
//! hook may have its own secret, so a request signed for one hook cannot
//! run another.

use std::collections::BTreeMap;
use std::time::Duration;

use http::HeaderMap;
use relay_runtime::Env;
use relay_runtime::Secret;
use relay_signature::standard::{self, Headers};
use relay_signature::{Scheme, SigningKey, VerifyError, github};

use zeroize::Zeroizing;

use crate::config::{Config, Hook, SecretSource};

/// Why the secret could not be loaded. Never carries the secret's text.
#[derive(Debug, thiserror::Error)]
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
pub enum SecretLoadError {
    #[error("couldn't read the secret file `{path}`: {source}")]
    File {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the secret env var `{0}` is unset or empty")]
    Env(String),
    #[error("the secret{at} holds no key; write it on one line")]
    Empty { at: String },
    #[error(
        "line {line} of the secret{at} is not a usable `whsec_` secret ({source}); the `standard-webhooks` scheme needs `whsec_<base64>`"
    )]
    NotWhsec {
        line: usize,
        at: String,
        #[source]
        source: relay_signature::SecretError,
    },
}

impl SecretLoadError {
    /// Names the file or variable the bad secret came from.
    fn at(self, source: &SecretSource) -> Self {
        let at = match source {
            SecretSource::File(path) => format!(" in `{}`", path.display()),
            SecretSource::Env(name) => format!(" in `{name}`"),
        };
        match self {
            SecretLoadError::Empty { .. } => SecretLoadError::Empty { at },
            SecretLoadError::NotWhsec { line, source, .. } => {
                SecretLoadError::NotWhsec { line, at, source }
            }
            other => other,
        }
    }
}

/// Verifies requests under the configured scheme.
pub struct Auth {
    scheme: Scheme,
    keys: Vec<SigningKey>,
    header: http::HeaderName,
    tolerance: Duration,
}

impl Auth {
    /// A verifier of `config`'s scheme and signature header that accepts
    /// a signature by any of `keys`.
    pub fn new(config: &Config, keys: Vec<SigningKey>) -> Self {
        Self {
            scheme: config.scheme,
            keys,
            header: http::HeaderName::try_from(config.signature_header.as_str())
                .unwrap_or_else(|_| http::HeaderName::from_static("x-hub-signature-256")),
            tolerance: config.timestamp_tolerance,
        }
    }

    /// The signature scheme requests are verified under.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// How far a Standard Webhooks (or status poll) timestamp may be from now.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Checks the signature of the raw `body`; `now` is unix seconds.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), VerifyError> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        match self.scheme {
            Scheme::GitHub => github::verify(&self.keys, text(self.header.as_str()), body),
            Scheme::StandardWebhooks => standard::verify(
                &self.keys,
                Headers {
                    id: text(standard::ID_HEADER),
                    timestamp: text(standard::TIMESTAMP_HEADER),
                    signature: text(standard::SIGNATURE_HEADER),
                },
                body,
                now,
                self.tolerance,
            ),
        }
    }
}

/// Every secret the config names, read once at start-up.
pub struct Secrets {
    by_source: BTreeMap<SecretSource, Vec<SigningKey>>,
    /// Each secret line exactly as written, for masking it in output.
    lines: Vec<Secret>,
}

impl Secrets {
    /// The keys `hook` accepts: its own, else the global ones.
    pub fn for_hook(&self, config: &Config, hook: &Hook) -> Vec<SigningKey> {
        hook.secret
            .as_ref()
            .or(config.secret.as_ref())
            .and_then(|source| self.by_source.get(source))
            .cloned()
            .unwrap_or_default()
    }

    /// Every key, of every source.
    pub fn all(&self) -> impl Iterator<Item = &SigningKey> {
        self.by_source.values().flatten()
    }

    /// The lines as written, for masking.
    pub fn lines(&self) -> &[Secret] {
        &self.lines
    }

    /// Each source with its keys, for `--check`.
    pub fn sources(&self) -> impl Iterator<Item = (&SecretSource, &[SigningKey])> {
        self.by_source.iter().map(|(s, k)| (s, k.as_slice()))
    }

    /// For tests and the fuzzer: one set of keys as the global secret.
    pub fn from_global(config: &Config, keys: Vec<SigningKey>) -> Self {
        let mut by_source = BTreeMap::new();
        if let Some(source) = &config.secret {
            by_source.insert(source.clone(), keys);
        }
        Self {
            by_source,
            lines: Vec::new(),
        }
    }
}

/// Reads every secret the config names (the global one and each hook's).
pub fn load_secrets(config: &Config, env: &Env) -> Result<Secrets, SecretLoadError> {
    let mut by_source = BTreeMap::new();
    let mut lines = Vec::new();
    for source in config.secret_sources() {
        let text = Zeroizing::new(match source {
            SecretSource::File(path) => {
                warn_if_readable_by_others(path);
                std::fs::read_to_string(path).map_err(|source| SecretLoadError::File {
                    path: path.clone(),
                    source,
                })?
            }
            SecretSource::Env(name) => env
                .get(name)
                .ok_or_else(|| SecretLoadError::Env(name.clone()))?
                .to_owned(),
        });
        let keys = parse_secrets(&text, config.scheme).map_err(|e| e.at(source))?;
        lines.extend(
            text.lines()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.is_empty())
                .map(Secret::new),
        );
        by_source.insert(source.clone(), keys);
    }
    Ok(Secrets { by_source, lines })
}

/// A secret file others can read is worth a warning, not a refusal: the
/// operator may have a reason (a group for a sidecar).
fn warn_if_readable_by_others(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o044 != 0
    {
        tracing::warn!(path = %path.display(), mode = format!("{:o}", meta.permissions().mode() & 0o777), "the secret file is readable by group or others; chmod 600 it");
    }
}

/// One secret per non-empty line, its key made for `scheme`; only the line
/// ending is stripped, so a GitHub secret may hold inner spaces exactly as
/// GitHub stores it.
pub fn parse_secrets(text: &str, scheme: Scheme) -> Result<Vec<SigningKey>, SecretLoadError> {
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let key = SigningKey::from_secret(&Secret::new(line), scheme).map_err(|source| {
            SecretLoadError::NotWhsec {
                line: i + 1,
                at: String::new(),
                source,
            }
        })?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(SecretLoadError::Empty { at: String::new() });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_secrets_and_errors_hide_them() {
        let two = parse_secrets("first secret\r\n\nsecond\n", Scheme::GitHub).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[0].expose(), b"first secret");
        assert!(matches!(
            parse_secrets("\n \n", Scheme::GitHub),
            Err(SecretLoadError::Empty { .. })
        ));
        let err = parse_secrets("whsec_%%%topsecret%%%", Scheme::StandardWebhooks)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("topsecret"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }
}
