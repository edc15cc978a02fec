//! The answer to a deploy that ran — `{status, exit_code, duration_ms,
//! output, output_truncated, leftovers_killed, delivery_id}` — bounded by
//! its encoded size, not by the bytes of output it holds: a script that
//! prints control characters has each one written as `\u00XX` (six bytes),
//! and an answer that grew past what a sender reads would lose its verdict.
//! The exit code also travels in the `Deploy-Exit-Code` header, which no
//! body size can push out of reach.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde_json::{Value, json};

/// The largest answer, as JSON on the wire.
pub(crate) const MAX_ANSWER: usize = 32 * 1024;
/// The largest `output_tail`: room for the output and every other field
/// within [`MAX_ANSWER`] when the output is plain text. Output that
/// escapes to more is cut further, from its start.
pub(crate) const MAX_OUTPUT_TAIL: usize = 24 * 1024;
/// Longer status texts (an unstartable program's error names its path)
/// are cut to this many characters.
const MAX_STATUS_TEXT: usize = 1024;

/// What a finished deploy says.
pub(crate) struct Finished<'a> {
    pub text: String,
    /// `None`: it ran but has no exit code (timed out, killed, not started).
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    /// The tail of the output, secrets already masked.
    pub output: &'a [u8],
    /// Output was dropped before `output`.
    pub cut: bool,
    pub leftovers_killed: usize,
    pub delivery_id: Option<&'a str>,
}

impl Finished<'_> {
    /// The JSON body, at most [`MAX_ANSWER`] bytes encoded; the output is
    /// cut from its start until it fits, and `output_truncated` says so.
    pub(crate) fn body(&self) -> Value {
        let text: String = self.text.chars().take(MAX_STATUS_TEXT).collect();
        let mut body = json!({
            "status": text,
            "exit_code": self.exit_code,
            "duration_ms": self.duration_ms,
            "output": "",
            // `false` encodes one byte longer than `true`: the room left is
            // measured with the longer one.
            "output_truncated": false,
            "leftovers_killed": self.leftovers_killed,
            "delivery_id": self.delivery_id,
        });
        let rest = encoded_len(&body);
        let output = String::from_utf8_lossy(self.output);
        let (kept, dropped) = fitting_tail(&output, MAX_ANSWER.saturating_sub(rest));
        body["output"] = kept.into();
        body["output_truncated"] = (self.cut || dropped).into();
        body
    }
}

fn encoded_len(value: &Value) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |v| v.len())
}

/// The bytes `c` takes inside a JSON string as `serde_json` writes it: `"`,
/// `\` and the short escapes two, other control characters six
/// (`\u001b`), everything else its UTF-8 length.
fn json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        c if u32::from(c) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The longest end of `text` whose JSON string form (quotes aside) fits
/// in `room` bytes, and whether anything was dropped.
fn fitting_tail(text: &str, room: usize) -> (&str, bool) {
    let mut used = 0;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        used += json_len(c);
        if used > room {
            return (&text[start..], true);
        }
        start = i;
    }
    (text, false)
}

/// `status` with `body`, and the body's `exit_code` (a number, or `null`
/// when the deploy ran without one) in the `Deploy-Exit-Code` header too.
pub(crate) fn response(status: StatusCode, body: Value) -> Response {
    let header = match body.get("exit_code") {
        Some(Value::Number(n)) => HeaderValue::from_str(&n.to_string()).ok(),
        Some(Value::Null) => Some(HeaderValue::from_static("null")),
        _ => None,
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(value) = header {
        response
            .headers_mut()
            .insert(relay_signature::status::EXIT_CODE_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(output: &[u8]) -> Finished<'_> {
        Finished {
            text: "unhealthy, rolled back".into(),
            exit_code: Some(3),
            duration_ms: 123_456,
            output,
            cut: false,
            leftovers_killed: 0,
            delivery_id: Some("5f0c1c2e-0000-4000-8000-000000000000"),
        }
    }

    #[test]
    fn json_len_is_what_serde_json_writes() {
        for c in (0u32..0x80)
            .filter_map(char::from_u32)
            .chain(['é', '€', '😀', '\u{7f}', '\u{fffd}'])
        {
            let written = serde_json::to_string(&c.to_string()).unwrap().len() - 2;
            assert_eq!(json_len(c), written, "{c:?}");
        }
    }

    #[test]
    fn control_heavy_output_keeps_the_answer_within_its_bound() {
        for output in [
            vec![0x1b_u8; MAX_OUTPUT_TAIL],
            b"\x07\x1b[31m\"\\".repeat(MAX_OUTPUT_TAIL / 8),
            "é€😀".repeat(MAX_OUTPUT_TAIL / 9).into_bytes(),
            vec![0xff_u8; MAX_OUTPUT_TAIL],
            b"plain ascii output\n".repeat(MAX_OUTPUT_TAIL / 19),
        ] {
            let body = finished(&output).body();
            let len = serde_json::to_vec(&body).unwrap().len();
            assert!(len <= MAX_ANSWER, "{len} bytes");
            assert_eq!(body["exit_code"], 3);
            assert_eq!(body["status"], "unhealthy, rolled back");
            // As much as fits: one more character (six bytes at most, and
            // `false` for `true`) would not have.
            let shown = body["output"].as_str().unwrap();
            let truncated = body["output_truncated"].as_bool().unwrap();
            assert!(len + 7 > MAX_ANSWER || !truncated, "{len} bytes");
            assert!(String::from_utf8_lossy(&output).ends_with(shown));
        }
    }

    #[test]
    fn plain_output_of_the_largest_tail_is_kept_whole() {
        let output = vec![b'x'; MAX_OUTPUT_TAIL];
        let body = finished(&output).body();
        assert_eq!(body["output"].as_str().unwrap().len(), MAX_OUTPUT_TAIL);
        assert_eq!(body["output_truncated"], false);
        let mut cut = finished(&output);
        cut.cut = true;
        assert_eq!(cut.body()["output_truncated"], true);
    }

    #[test]
    fn the_exit_code_rides_in_a_header_too() {
        let r = response(StatusCode::SERVICE_UNAVAILABLE, finished(b"x").body());
        assert_eq!(r.headers()["deploy-exit-code"], "3");
        let mut timed_out = finished(b"");
        timed_out.exit_code = None;
        let r = response(StatusCode::GATEWAY_TIMEOUT, timed_out.body());
        assert_eq!(r.headers()["deploy-exit-code"], "null");
        let r = response(StatusCode::CONFLICT, json!({"status": "busy"}));
        assert!(r.headers().get("deploy-exit-code").is_none());
    }
}
