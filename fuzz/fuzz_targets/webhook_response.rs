//! How sign-and-call-webhook reads an answer — status, headers and a body
//! of any length, cut where the action cuts it — and what it does next
//! because of it. Invariants: no panic; the body kept is at most
//! `MAX_RESPONSE` bytes and never shows a secret; a body cut before its
//! verdict could be read is never taken for "nothing ran" (retried) nor for
//! an async acceptance (followed); a `Deploy-Exit-Code` header always makes
//! the answer final.

#![no_main]

use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderValue};
use sign_and_call_webhook::fuzzing::{MAX_RESPONSE, Next, Tried, interpret, next};

const STATUSES: [u16; 12] = [200, 202, 204, 400, 401, 409, 422, 429, 500, 502, 503, 504];
const SECRETS: [&str; 2] = ["It's a Secret to Everybody", "pa%ss\"w\\rd"];

fuzz_target!(|data: &[u8]| {
    let [status, flags, repeat, body @ ..] = data else { return };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    let mut headers = HeaderMap::new();
    let exit_header = match flags & 3 {
        1 => Some("3"),
        2 => Some("null"),
        3 => Some("x1"),
        _ => None,
    };
    if let Some(v) = exit_header {
        headers.insert("deploy-exit-code", HeaderValue::from_static(v));
    }
    if flags & 4 != 0 {
        headers.insert("retry-after", HeaderValue::from_static("0"));
    }
    // A long answer without a long input: the body repeated, then cut where
    // the action stops reading (the limit plus the longest mask).
    let masks: Vec<String> = {
        let mut m: Vec<String> = SECRETS.iter().map(|s| (*s).to_owned()).collect();
        m.sort_by_key(|s| std::cmp::Reverse(s.len()));
        m
    };
    let window = MAX_RESPONSE + masks[0].len();
    let times = 1 + usize::from(*repeat) * 64;
    let mut raw: Vec<u8> = Vec::new();
    for _ in 0..times {
        if raw.len() > window {
            break;
        }
        raw.extend_from_slice(body);
    }
    raw.truncate(window + 1);

    let reply = interpret(status, &headers, &raw, &masks);
    assert!(reply.body.len() <= MAX_RESPONSE);
    for secret in SECRETS {
        assert!(!reply.body.contains(secret), "a secret shows");
    }
    if raw.len() > MAX_RESPONSE {
        assert!(reply.truncated, "a body over the limit kept whole");
    }
    if matches!(exit_header, Some("3" | "null")) {
        assert!(reply.exit_code && !reply.verdict_unread);
    }
    if reply.verdict_unread {
        assert!(reply.truncated && !reply.exit_code);
    }
    let decided = next(Tried::Answered {
        status: reply.status,
        exit_code: reply.exit_code,
        verdict_unread: reply.verdict_unread,
        status_path: reply.status_path.is_some(),
        retry_after: reply.retry_after,
    });
    if reply.verdict_unread {
        assert!(
            !matches!(decided, Next::Retry { .. } | Next::Follow),
            "a cut body read as {decided:?}"
        );
    }
    if reply.exit_code {
        assert_eq!(decided, Next::Final);
    }
});
