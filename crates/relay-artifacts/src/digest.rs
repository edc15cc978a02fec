//! Digest checks against the REST `digest` (`sha256:<hex>`).

/// `verify-digest`: what a mismatch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestPolicy {
    /// A mismatch fails the artifact, which is never finalized.
    Error,
    /// A mismatch is a warning.
    Warn,
    /// No check.
    Off,
}

impl DigestPolicy {
    /// Input `verify-digest`: `error`, `warn` or `off`.
    pub fn from_input(
        inputs: &relay_runtime::Inputs,
        name: &str,
    ) -> Result<Self, relay_runtime::InputError> {
        Ok(match inputs.choice(name, &["error", "warn", "off"])? {
            "warn" => Self::Warn,
            "off" => Self::Off,
            _ => Self::Error,
        })
    }
}

/// How an artifact's bytes compared with the digest GitHub recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestCheck {
    /// The bytes match it.
    Match,
    /// GitHub recorded no digest (artifacts uploaded before v4 digests).
    Unknown,
    /// The bytes differ from it.
    Mismatch {
        /// The digest GitHub recorded.
        expected: String,
        /// The digest of the bytes relayed.
        actual: String,
    },
    /// Not checked (`verify-digest: off`).
    Skipped,
}

/// Compares `sha256:<hex>` from the REST API with the relayed bytes' hash.
pub(crate) fn check_digest(
    policy: DigestPolicy,
    expected: Option<&str>,
    actual_hex: &str,
) -> DigestCheck {
    if policy == DigestPolicy::Off {
        return DigestCheck::Skipped;
    }
    match expected {
        None | Some("") => DigestCheck::Unknown,
        Some(e) => {
            let want = e.strip_prefix("sha256:").unwrap_or(e);
            if want.eq_ignore_ascii_case(actual_hex) {
                DigestCheck::Match
            } else {
                DigestCheck::Mismatch {
                    expected: e.to_owned(),
                    actual: format!("sha256:{actual_hex}"),
                }
            }
        }
    }
}

/// [`check_digest`], with a mismatch under [`DigestPolicy::Error`] turned
/// into the error that names artifact `name`.
pub(crate) fn verify_digest(
    policy: DigestPolicy,
    expected: Option<&str>,
    actual_hex: &str,
    name: &str,
) -> Result<DigestCheck, crate::ArtifactError> {
    match check_digest(policy, expected, actual_hex) {
        DigestCheck::Mismatch { expected, actual } if policy == DigestPolicy::Error => {
            Err(crate::ArtifactError::DigestMismatch {
                name: name.to_owned(),
                expected,
                actual,
            })
        }
        check => Ok(check),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        use DigestPolicy::*;
        assert_eq!(
            check_digest(Error, Some("sha256:AB"), "ab"),
            DigestCheck::Match
        );
        assert_eq!(check_digest(Error, None, "ab"), DigestCheck::Unknown);
        assert_eq!(
            check_digest(Off, Some("sha256:00"), "ab"),
            DigestCheck::Skipped
        );
        assert_eq!(
            check_digest(Warn, Some("sha256:00"), "ab"),
            DigestCheck::Mismatch {
                expected: "sha256:00".into(),
                actual: "sha256:ab".into()
            }
        );
    }
}
