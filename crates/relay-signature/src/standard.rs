//! Standard Webhooks, symmetric variant
//! (<https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>):
//! `webhook-signature` holds space-separated `v1,<base64>` entries, each an
//! HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`. Several entries
//! let a sender sign with the old and the new key during a rotation; entries
//! of other versions (`v1a`, asymmetric) are skipped.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

use crate::{SignError, SigningKey, VerifyError, github};

/// The header carrying the message id.
pub const ID_HEADER: &str = "webhook-id";
/// The header carrying the Unix time of signing.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header carrying the signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// The reference libraries' tolerance: five minutes either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_mins(5);
const VERSION: &str = "v1";
/// More entries than any rotation needs; bounds the work per request.
const MAX_SIGNATURES: usize = 16;

/// The three headers as received (`None` when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`.
    pub signature: Option<&'a str>,
}

/// A webhook id must survive the `.`-joined signed content unambiguously
/// and travel in a header, as the spec asks of senders.
fn check_id(id: &str) -> Result<(), SignError> {
    let ok =
        !id.is_empty() && id.len() <= 256 && id.bytes().all(|b| b.is_ascii_graphic() && b != b'.');
    if ok {
        Ok(())
    } else {
        Err(SignError::BadId(id.to_owned()))
    }
}

fn tag(secret: &SigningKey, id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    let mut content = Vec::with_capacity(id.len() + 24 + body.len());
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.to_string().as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    github::tag(secret, &content)
}

/// The `webhook-signature` value: one `v1,<base64>` per secret, space
/// separated, in the order given (current key first, then keys being retired).
pub fn sign(
    secrets: &[SigningKey],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignError> {
    check_id(id)?;
    if timestamp < 0 {
        return Err(SignError::BadTimestamp(timestamp));
    }
    if secrets.is_empty() {
        return Err(SignError::NoSecret);
    }
    let entries: Vec<String> = secrets
        .iter()
        .map(|s| format!("{VERSION},{}", STANDARD.encode(tag(s, id, timestamp, body))))
        .collect();
    Ok(entries.join(" "))
}

/// The `v1` signatures a header carries, decoded. Entries of other versions
/// or that are not 32 bytes of base64 are dropped: they can never match, and
/// one odd entry must not hide a good one next to it.
pub fn parse_signatures(header: &str) -> Vec<[u8; 32]> {
    header
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == VERSION)
        .filter_map(|(_, sig)| STANDARD.decode(sig).ok())
        .filter_map(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .take(MAX_SIGNATURES)
        .collect()
}

/// Reads `webhook-timestamp`: whole seconds since the epoch, digits only.
pub fn parse_timestamp(header: &str) -> Result<i64, VerifyError> {
    let malformed = VerifyError::Malformed(TIMESTAMP_HEADER);
    if header.is_empty() || header.len() > 18 || !header.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed);
    }
    header.parse().map_err(|_| malformed)
}

/// Verifies a delivery: all three headers present, the timestamp within
/// `tolerance` of `now` (unix seconds) either way, and at least one `v1`
/// entry matching under one of `secrets`. Every entry is compared against
/// every secret in constant time.
pub fn verify(
    secrets: &[SigningKey],
    headers: Headers<'_>,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let id = headers.id.ok_or(VerifyError::Missing(ID_HEADER))?;
    let timestamp = headers
        .timestamp
        .ok_or(VerifyError::Missing(TIMESTAMP_HEADER))?;
    let signature = headers
        .signature
        .ok_or(VerifyError::Missing(SIGNATURE_HEADER))?;
    check_id(id).map_err(|_| VerifyError::Malformed(ID_HEADER))?;
    let timestamp = parse_timestamp(timestamp)?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    let given = parse_signatures(signature);
    if given.is_empty() {
        return Err(VerifyError::Malformed(SIGNATURE_HEADER));
    }
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        let expected = tag(secret, id, timestamp, body);
        for candidate in &given {
            matched |= expected.ct_eq(candidate);
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The vector of the Standard Webhooks reference libraries
    // (libraries/rust/src/lib.rs `test_sign`, the same in the other languages).
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const TS: i64 = 1_649_367_553;
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const EXPECTED: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn secret() -> SigningKey {
        SigningKey::from_whsec(SECRET).unwrap()
    }

    fn headers(signature: &str) -> Headers<'_> {
        Headers {
            id: Some(ID),
            timestamp: Some("1649367553"),
            signature: Some(signature),
        }
    }

    #[test]
    fn reference_vector() {
        assert_eq!(sign(&[secret()], ID, TS, BODY).unwrap(), EXPECTED);
        verify(&[secret()], headers(EXPECTED), BODY, TS, DEFAULT_TOLERANCE).unwrap();
    }

    #[test]
    fn one_good_entry_among_many_verifies() {
        // Entries from the reference suite's multi-signature test plus junk.
        let multi = format!(
            "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1a,AAAA v1,@@@ v2,{} {EXPECTED}",
            &EXPECTED[3..]
        );
        verify(&[secret()], headers(&multi), BODY, TS, DEFAULT_TOLERANCE).unwrap();
        let without = "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=";
        assert_eq!(
            verify(&[secret()], headers(without), BODY, TS, DEFAULT_TOLERANCE),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn signing_with_two_keys_lets_either_verify() {
        let new = SigningKey::new(vec![7u8; 32]).unwrap();
        let header = sign(&[new.clone(), secret()], ID, TS, BODY).unwrap();
        assert_eq!(header.split(' ').count(), 2);
        verify(&[secret()], headers(&header), BODY, TS, DEFAULT_TOLERANCE).unwrap();
        verify(&[new], headers(&header), BODY, TS, DEFAULT_TOLERANCE).unwrap();
    }

    #[test]
    fn timestamp_tolerance_both_ways() {
        let tol = Duration::from_mins(5);
        let ok = |now| verify(&[secret()], headers(EXPECTED), BODY, now, tol);
        ok(TS + 300).unwrap();
        ok(TS - 300).unwrap();
        assert_eq!(ok(TS + 301), Err(VerifyError::Stale));
        assert_eq!(ok(TS - 301), Err(VerifyError::Stale));
    }

    #[test]
    fn missing_and_malformed_headers() {
        let full = headers(EXPECTED);
        let now = TS;
        let tol = DEFAULT_TOLERANCE;
        let check = |h: Headers<'_>| verify(&[secret()], h, BODY, now, tol);
        assert_eq!(
            check(Headers { id: None, ..full }),
            Err(VerifyError::Missing(ID_HEADER))
        );
        assert_eq!(
            check(Headers {
                timestamp: None,
                ..full
            }),
            Err(VerifyError::Missing(TIMESTAMP_HEADER))
        );
        assert_eq!(
            check(Headers {
                signature: None,
                ..full
            }),
            Err(VerifyError::Missing(SIGNATURE_HEADER))
        );
        for ts in ["", "-1649367553", "+1649367553", "1649367553.0", "16493x"] {
            assert_eq!(
                check(Headers {
                    timestamp: Some(ts),
                    ..full
                }),
                Err(VerifyError::Malformed(TIMESTAMP_HEADER)),
                "{ts}"
            );
        }
        assert_eq!(
            check(Headers {
                id: Some("a.b"),
                ..full
            }),
            Err(VerifyError::Malformed(ID_HEADER))
        );
        assert_eq!(
            check(headers("v1a,abcd")),
            Err(VerifyError::Malformed(SIGNATURE_HEADER))
        );
    }

    #[test]
    fn sign_refuses_ambiguous_input() {
        assert!(matches!(
            sign(&[secret()], "a.b", TS, BODY),
            Err(SignError::BadId(_))
        ));
        assert!(matches!(
            sign(&[secret()], "", TS, BODY),
            Err(SignError::BadId(_))
        ));
        assert_eq!(
            sign(&[secret()], ID, -1, BODY),
            Err(SignError::BadTimestamp(-1))
        );
        assert_eq!(sign(&[], ID, TS, BODY), Err(SignError::NoSecret));
    }
}
