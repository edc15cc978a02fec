//! What can go wrong, without ever carrying secret material or the expected
//! signature: a verifier that explained *how* a signature was wrong would be
//! an oracle.

/// A secret that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
pub enum SecretError {
    #[error("the secret is empty")]
    Empty,
    #[error("a `whsec_` secret must be base64 after the prefix; it is not")]
    NotBase64,
}

/// A message that cannot be signed as asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
pub enum SignError {
    #[error(
        "webhook id `{0}` is not usable: it must be 1-256 visible ASCII characters without `.` or spaces"
    )]
    BadId(String),
    #[error("timestamp `{0}` is negative")]
    BadTimestamp(i64),
    #[error("no secret to sign with")]
    NoSecret,
}

/// Why a signature was refused. Receivers log this; they answer the same
/// 401 whatever the variant.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
pub enum VerifyError {
    #[error("the `{0}` header is missing")]
    Missing(&'static str),
    #[error("the `{0}` header is malformed")]
    Malformed(&'static str),
    #[error("no signature matches")]
    Mismatch,
    #[error("the timestamp is outside the tolerance")]
    Stale,
}
