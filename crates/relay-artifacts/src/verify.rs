//! Digest checks against the REST `digest` (`sha256:<hex>`) and the
//! `expires_at` a retention period asks for.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `verify-digest`: what a mismatch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestPolicy {
    Error,
    Warn,
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

/// `if-no-artifact-found`: what a selection that finds nothing (or misses
/// a named artifact) does. The relay needs "not there" to be an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfNone {
    Warn,
    Error,
    Ignore,
}

impl IfNone {
    /// Input `if-no-artifact-found`: `warn`, `error` or `ignore`.
    pub fn from_input(
        inputs: &relay_runtime::Inputs,
        name: &str,
    ) -> Result<Self, relay_runtime::InputError> {
        Ok(match inputs.choice(name, &["warn", "error", "ignore"])? {
            "error" => Self::Error,
            "ignore" => Self::Ignore,
            _ => Self::Warn,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestCheck {
    Match,
    /// GitHub recorded no digest (artifacts uploaded before v4 digests).
    Unknown,
    Mismatch {
        expected: String,
        actual: String,
    },
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

/// `expires_at` for `retention_days`, capped by the repository maximum
/// (`GITHUB_RETENTION_DAYS`) as the official client caps it. Returns the
/// timestamp and whether the cap applied (worth a warning).
pub fn expires_at(
    retention_days: Option<u32>,
    repo_max: Option<&str>,
    now: OffsetDateTime,
) -> (Option<String>, bool) {
    let Some(mut days) = retention_days.filter(|d| *d > 0) else {
        return (None, false);
    };
    let mut capped = false;
    if let Some(max) = repo_max.and_then(|m| m.trim().parse::<u32>().ok())
        && max < days
    {
        days = max;
        capped = true;
    }
    let at = now + time::Duration::days(i64::from(days));
    (at.format(&Rfc3339).ok(), capped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

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

    #[test]
    fn retention_is_capped_by_the_repository() {
        let now = datetime!(2026-11-22 13:00 UTC);
        assert_eq!(expires_at(None, Some("90"), now), (None, false));
        assert_eq!(
            expires_at(Some(5), Some("90"), now),
            (Some("2026-11-27T13:00:00Z".into()), false)
        );
        assert_eq!(
            expires_at(Some(30), Some("7"), now),
            (Some("2026-11-29T13:00:00Z".into()), true)
        );
        assert_eq!(
            expires_at(Some(30), None, now),
            (Some("2026-12-22T13:00:00Z".into()), false)
        );
    }
}
