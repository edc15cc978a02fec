//! The status poll of a deploy, the one request both ends exchange besides
//! the deploy itself (deploy-receiver's `mode = "async"`).
//!
//! The status of delivery `D` at hook URL `U` is `U/deliveries/D`. A poll is
//! `POST` with `Content-Type: text/plain` and the body
//! `deploy-relay-status D T` (`T`: unix seconds when it was sent), signed
//! exactly like a deploy under the hook's scheme and secret. The body binds
//! the poll to one delivery and one moment, so a captured poll reveals only
//! that delivery's status and only for the receiver's timestamp tolerance,
//! under either scheme; and it is not JSON, so a receiver can never take a
//! signed poll for a deploy (a deploy body must be a JSON object).

/// The path segment between the hook's path and the delivery id.
pub const SEGMENT: &str = "deliveries";
/// The header that carries a finished deploy's exit code (a number, or
/// `null` when it ran without one: timed out or killed), beside the
/// `exit_code` of the JSON answer, so a sender reads the verdict even from
/// an answer whose body it could not read whole.
pub const EXIT_CODE_HEADER: &str = "deploy-exit-code";
/// The poll's `Content-Type`.
pub const CONTENT_TYPE: &str = "text/plain";
const PREFIX: &str = "deploy-relay-status";
const MAX_ID: usize = 200;

/// Whether `id` can name a status path as is: 1-200 of `A-Z a-z 0-9 - _ . ~`
/// (URL-unreserved, so no encoding is needed on either end).
pub fn path_safe(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// `{hook_path}/deliveries/{id}`; a trailing `/` of the hook path is dropped.
pub fn path(hook_path: &str, id: &str) -> String {
    format!("{}/{SEGMENT}/{id}", hook_path.trim_end_matches('/'))
}

/// The poll body for delivery `id` at `timestamp` (unix seconds).
pub fn body(id: &str, timestamp: i64) -> String {
    format!("{PREFIX} {id} {timestamp}")
}

/// Why a poll body is not one.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum PollError {
    /// The body is not a status poll.
    #[error("the body is not `{PREFIX} <delivery-id> <unix-seconds>`")]
    Malformed,
    /// It asks about another delivery than the URL names.
    #[error("the poll is for another delivery than its path names")]
    OtherDelivery,
    /// Its time is outside the tolerance.
    #[error("the poll's timestamp is outside the tolerance")]
    Stale,
}

/// Checks a poll body against the delivery its path names and the clock:
/// `now` and the tolerance in seconds, either way.
pub fn check(body: &[u8], path_id: &str, now: i64, tolerance_secs: u64) -> Result<(), PollError> {
    let text = std::str::from_utf8(body).map_err(|_| PollError::Malformed)?;
    let mut parts = text.split(' ');
    let (Some(PREFIX), Some(id), Some(ts), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PollError::Malformed);
    };
    let digits = !ts.is_empty() && ts.len() <= 18 && ts.bytes().all(|b| b.is_ascii_digit());
    let ts: i64 = ts
        .parse()
        .ok()
        .filter(|_| digits)
        .ok_or(PollError::Malformed)?;
    if !path_safe(id) {
        return Err(PollError::Malformed);
    }
    if id != path_id {
        return Err(PollError::OtherDelivery);
    }
    if now.abs_diff(ts) > tolerance_secs {
        return Err(PollError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_and_binds_id_and_time() {
        let b = body("d-1", 1_700_000_000);
        assert_eq!(b, "deploy-relay-status d-1 1700000000");
        assert_eq!(check(b.as_bytes(), "d-1", 1_700_000_100, 300), Ok(()));
        assert_eq!(
            check(b.as_bytes(), "d-2", 1_700_000_000, 300),
            Err(PollError::OtherDelivery)
        );
        assert_eq!(
            check(b.as_bytes(), "d-1", 1_700_000_301, 300),
            Err(PollError::Stale)
        );
        assert_eq!(
            check(b.as_bytes(), "d-1", 1_699_999_699, 300),
            Err(PollError::Stale)
        );
    }

    #[test]
    fn anything_else_is_malformed() {
        for bad in [
            "",
            "{\"image_sha\":\"0123abc\"}",
            "deploy-relay-status d-1",
            "deploy-relay-status d-1 12 extra",
            "deploy-relay-status d-1 -12",
            "deploy-relay-status d-1 +12",
            "deploy-relay-status  d-1 12",
            "deploy-relay-status d/1 12",
            "status d-1 12",
        ] {
            assert_eq!(
                check(bad.as_bytes(), "d-1", 12, 300),
                Err(PollError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn paths() {
        assert_eq!(path("/deploy", "abc"), "/deploy/deliveries/abc");
        assert_eq!(path("/deploy/", "abc"), "/deploy/deliveries/abc");
        assert!(path_safe("5f0c2b9e-0d1c-4c59-a7a4-2f1f3c1e9a00"));
        for bad in ["", "a/b", "a b", "a?b", "a%2f", &"x".repeat(201)] {
            assert!(!path_safe(bad), "{bad:?}");
        }
    }
}
