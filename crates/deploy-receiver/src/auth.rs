//! The shared secret and the signature check. The secret is read once at
//! start-up; several non-empty lines in the file (or env value) are several
//! accepted secrets, so a key can be rotated without a window of refusals.

use std::time::Duration;

use http::HeaderMap;
use relay_runtime::Env;
use relay_signature::standard::{self, Headers};
use relay_signature::{Scheme, Secret, VerifyError, github};

use crate::config::{Config, SecretSource};

/// Why the secret could not be loaded. Never carries the secret's text.
#[derive(Debug, thiserror::Error)]
pub enum SecretLoadError {
    #[error("couldn't read the secret file `{path}`: {source}")]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the secret env var `{0}` is unset or empty")]
    Env(String),
    #[error("the secret holds no key; write it on one line")]
    Empty,
    #[error(
        "line {line} of the secret is not a usable `whsec_` secret ({source}); the `standard-webhooks` scheme needs `whsec_<base64>`"
    )]
    NotWhsec {
        line: usize,
        source: relay_signature::SecretError,
    },
}

/// Verifies requests under the configured scheme.
pub struct Auth {
    scheme: Scheme,
    secrets: Vec<Secret>,
    header: http::HeaderName,
    tolerance: Duration,
}

impl Auth {
    pub fn new(config: &Config, secrets: Vec<Secret>) -> Self {
        Self {
            scheme: config.scheme,
            secrets,
            header: http::HeaderName::try_from(config.signature_header.as_str())
                .unwrap_or_else(|_| http::HeaderName::from_static("x-hub-signature-256")),
            tolerance: config.timestamp_tolerance,
        }
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The secrets, for redacting them from command output.
    pub fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    /// Checks the signature of the raw `body`; `now` is unix seconds.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), VerifyError> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        match self.scheme {
            Scheme::GitHub => github::verify(&self.secrets, text(self.header.as_str()), body),
            Scheme::StandardWebhooks => standard::verify(
                &self.secrets,
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

/// Reads the secret(s) named by the config.
pub fn load_secrets(config: &Config, env: &Env) -> Result<Vec<Secret>, SecretLoadError> {
    let text = match &config.secret {
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
    };
    parse_secrets(&text, config.scheme)
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

/// One secret per non-empty line; only the line ending is stripped, so a
/// GitHub secret may hold inner spaces exactly as GitHub stores it.
pub fn parse_secrets(text: &str, scheme: Scheme) -> Result<Vec<Secret>, SecretLoadError> {
    let mut secrets = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let secret = match scheme {
            Scheme::GitHub => Secret::new(line),
            Scheme::StandardWebhooks => Secret::from_whsec(line),
        }
        .map_err(|source| SecretLoadError::NotWhsec {
            line: i + 1,
            source,
        })?;
        secrets.push(secret);
    }
    if secrets.is_empty() {
        return Err(SecretLoadError::Empty);
    }
    Ok(secrets)
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
            Err(SecretLoadError::Empty)
        ));
        let err = parse_secrets("whsec_%%%topsecret%%%", Scheme::StandardWebhooks)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("topsecret"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }
}
