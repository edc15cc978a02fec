//! One signed request — the deploy itself, or a poll of its status — and
//! its answer, read with every secret masked before it is cut to
//! [`MAX_RESPONSE`], and failures named by kind.

use std::ops::Range;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use relay_signature::{Scheme, github, standard};
use reqwest::Url;

use crate::call::Call;

/// The largest response body kept (and put in the `response` output).
pub const MAX_RESPONSE: usize = 64 * 1024;

/// An answer, its body already masked.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body as text (invalid UTF-8 replaced), masked, and cut to
    /// [`MAX_RESPONSE`] bytes.
    pub body: String,
    /// The body was longer than [`MAX_RESPONSE`] and is cut there.
    pub truncated: bool,
    /// The answer carries a deploy's verdict — a `Deploy-Exit-Code` header,
    /// or an `exit_code` key in the JSON body: the deploy ran
    /// (deploy-receiver), and the answer is final.
    pub exit_code: bool,
    /// The body was cut and no header carried the verdict: whether the
    /// deploy ran cannot be read from this answer, so it must not be taken
    /// for "nothing ran" (retried) nor for an async acceptance (followed).
    pub verdict_unread: bool,
    /// A `status_path` in the body (deploy-receiver's async `202`).
    pub status_path: Option<String>,
    /// deploy-receiver's `409` for a delivery id it already received.
    pub duplicate: bool,
    /// The body's `delivery_id`: the id deploy-receiver filed the request
    /// under. An async `202` is followed only when it is ours.
    pub delivery_id: Option<String>,
    /// The server's `Retry-After`: how long it asks us to wait before the
    /// next try or poll.
    pub retry_after: Option<Duration>,
}

/// Why a request got no answer, by kind: whether a retry is safe depends
/// on it (see [`crate::deliver`]).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(
        "couldn't connect to {url}: {detail}\nhint: check the host and port, and that the receiver is running and reachable from the runner"
    )]
    /// No connection was made: the request never left the runner.
    Connect {
        /// The URL, redacted for the log.
        url: String,
        /// The innermost cause, e.g. `connection refused`.
        detail: String,
    },
    #[error(
        "the TLS handshake with {url} failed: {detail}\nhint: for a private CA pass its certificate as `ca-cert`; `insecure: true` skips verification and is for tests only"
    )]
    /// The receiver's certificate was not accepted (or the handshake
    /// failed otherwise); never retried, as a retry would fail the same.
    Tls {
        /// The URL, redacted for the log.
        url: String,
        /// The innermost cause, e.g. `connection refused`.
        detail: String,
    },
    #[error("{url} did not answer within `timeout` ({timeout})")]
    /// The request was sent and no answer came in time: the deploy may
    /// be running.
    Timeout {
        /// The URL, redacted for the log.
        url: String,
        /// The time allowed, as the log shows it (`15m`).
        timeout: String,
    },
    #[error("the connection to {url} broke: {detail}")]
    /// The connection broke after the request went out, or while the
    /// answer was read: the deploy may be running.
    Broken {
        /// The URL, redacted for the log.
        url: String,
        /// The innermost cause, e.g. `connection refused`.
        detail: String,
    },
    #[error("couldn't start the HTTP client: {0}")]
    /// The HTTP client could not be built (e.g. from an unusable
    /// `ca-cert`) or the request not signed; nothing was sent.
    Client(String),
}

/// The HTTP client for `call`'s settings: connect timeout, TLS trust,
/// and no redirects (a signed deploy is never replayed elsewhere). Build
/// it once to share among many calls ([`crate::deliver_with`]).
pub fn client(call: &Call) -> Result<reqwest::Client, SendError> {
    let mut builder = relay_http::client_builder()
        .connect_timeout(call.connect_timeout)
        // A signed deploy call is never replayed to another address.
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(call.insecure);
    if let Some(cert) = &call.ca_cert {
        builder = builder.add_root_certificate(cert.clone());
    }
    builder
        .build()
        .map_err(|e| SendError::Client(e.to_string()))
}

/// What one request is.
pub(crate) struct Request<'a> {
    /// The deploy's method; always POST for a poll.
    pub(crate) method: reqwest::Method,
    /// The deploy URL, or the status URL derived from it.
    pub(crate) url: &'a Url,
    /// The exact bytes sent and signed.
    pub(crate) body: &'a [u8],
    /// JSON for the deploy; the status body's own type for a poll.
    pub(crate) content_type: &'static str,
    /// `webhook-id` under Standard Webhooks: the delivery id for the
    /// deploy (the same on every try), a fresh one for each poll.
    pub(crate) webhook_id: &'a str,
    /// How long the answer may take.
    pub(crate) timeout: Duration,
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Sends `request` signed under the configured scheme and reads the answer,
/// masking the console's secrets before the body is cut (one pass over the
/// body, however many secrets: a fleet step holds thousands).
pub(crate) async fn send(
    call: &Call,
    http: &reqwest::Client,
    console: &relay_runtime::Console,
    request: Request<'_>,
) -> Result<Reply, SendError> {
    let shown = call.shown(request.url);
    let mut req = http
        .request(request.method, request.url.clone())
        .timeout(request.timeout)
        .header("content-type", request.content_type)
        .header("x-deploy-delivery", &call.delivery_id);
    for (name, value) in &call.headers {
        req = req.header(name, value);
    }
    req = match call.scheme {
        Scheme::GitHub => req.header(
            &call.signature_header,
            github::sign(&call.key, request.body),
        ),
        Scheme::StandardWebhooks => {
            // Signed per request: the timestamp must be fresh for the
            // receiver's tolerance.
            let now = unix_now();
            let signature = standard::sign(
                std::slice::from_ref(&call.key),
                request.webhook_id,
                now,
                request.body,
            )
            .map_err(|e| SendError::Client(e.to_string()))?;
            req.header(standard::ID_HEADER, request.webhook_id)
                .header(standard::TIMESTAMP_HEADER, now.to_string())
                .header(standard::SIGNATURE_HEADER, signature)
        }
    };
    let timeout = request.timeout;
    let fail = |e: &reqwest::Error| classify(e, &shown, call, timeout);
    let resp = req
        .body(request.body.to_vec())
        .send()
        .await
        .map_err(|e| fail(&e))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    // Enough beyond the limit that a secret crossing it is seen whole.
    let window = MAX_RESPONSE + console.longest_mask();
    let mut raw = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| fail(&e))?;
        let room = window.saturating_sub(raw.len());
        raw.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() >= room {
            // Whatever came beyond the window is cut; a byte more than
            // `MAX_RESPONSE` is enough for [`interpret`] to know.
            break;
        }
    }
    Ok(read_answer(status, &headers, &raw, |text| {
        console.mask_spans(text)
    }))
}

/// What an answer says, from its status, headers and the first bytes of
/// its body (at most [`MAX_RESPONSE`] plus the longest mask; more means the
/// body was cut). The body is masked, then cut to [`MAX_RESPONSE`]; its
/// JSON is read only when it is whole, so a cut body is never read as
/// another outcome. The verdict comes from the `Deploy-Exit-Code` header
/// when there is one, else from the body's `exit_code`.
pub fn interpret(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    raw: &[u8],
    masks: &[String],
) -> Reply {
    read_answer(status, headers, raw, |text| {
        relay_runtime::mask_spans(text, masks)
    })
}

/// [`interpret`], the secrets found in the body by `spans`.
fn read_answer(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    raw: &[u8],
    spans: impl FnOnce(&str) -> Vec<Range<usize>>,
) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (body, truncated) = cut_masked(&text, &spans(&text), MAX_RESPONSE);
    let json: Option<serde_json::Value> = if truncated {
        None
    } else {
        serde_json::from_str(&body).ok()
    };
    let field = |k: &str| json.as_ref().and_then(|j| j.get(k));
    let header_verdict = exit_code_header(headers).is_some();
    Reply {
        status,
        exit_code: header_verdict || field("exit_code").is_some(),
        verdict_unread: truncated && !header_verdict,
        status_path: field("status_path")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        duplicate: status == 409 && field("duplicate") == Some(&serde_json::Value::Bool(true)),
        delivery_id: field("delivery_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        body,
        truncated,
        retry_after: relay_http::retry_after(headers),
    }
}

/// deploy-receiver's `Deploy-Exit-Code`: one value, a number or `null`
/// (the deploy ran without an exit code). `Some(None)` for `null`.
#[allow(clippy::option_option)] // `Some(None)`: the header said `null`, still a verdict
fn exit_code_header(headers: &reqwest::header::HeaderMap) -> Option<Option<i32>> {
    let mut values = headers
        .get_all(relay_signature::status::EXIT_CODE_HEADER)
        .iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return None;
    };
    match value.to_str().ok()?.trim() {
        "null" => Some(None),
        number => number.parse::<i32>().ok().map(Some),
    }
}

/// The first `keep` bytes of `text` (counted before masking, cut on a
/// character boundary) with every mask replaced by `***` first: a secret
/// crossing the cut is masked whole, and `text` holds the longest mask's
/// length beyond `keep`, so none is seen only in part.
pub fn mask_then_cut(text: &str, masks: &[String], keep: usize) -> (String, bool) {
    cut_masked(text, &relay_runtime::mask_spans(text, masks), keep)
}

/// [`mask_then_cut`] with the secrets' places in `text` already found.
fn cut_masked(text: &str, found: &[Range<usize>], keep: usize) -> (String, bool) {
    let mut cut = keep.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = String::with_capacity(cut);
    let mut at = 0;
    for span in found {
        if span.start >= cut {
            break;
        }
        out.push_str(&text[at..span.start]);
        out.push_str("***");
        at = span.end;
    }
    if at < cut {
        out.push_str(&text[at..cut]);
    }
    (out, cut < text.len())
}

fn classify(e: &reqwest::Error, url: &str, call: &Call, timeout: Duration) -> SendError {
    let detail = relay_runtime::root_cause(e);
    let lower = detail.to_lowercase();
    if e.is_timeout() {
        return SendError::Timeout {
            url: url.to_owned(),
            timeout: relay_runtime::duration::format(timeout),
        };
    }
    let tls = [
        "certificate",
        "tls",
        "handshake",
        "invalidcertificate",
        "unknownissuer",
    ]
    .iter()
    .any(|w| lower.contains(w));
    if tls && call.url.scheme() == "https" {
        return SendError::Tls {
            url: url.to_owned(),
            detail,
        };
    }
    if e.is_connect() {
        return SendError::Connect {
            url: url.to_owned(),
            detail,
        };
    }
    SendError::Broken {
        url: url.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> reqwest::header::HeaderMap {
        let mut h = reqwest::header::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_verdict_comes_from_the_header_or_a_whole_body_never_a_cut_one() {
        let long = format!(
            r#"{{"status":"unhealthy, rolled back","exit_code":3,"output":"{}"}}"#,
            "\\u001b".repeat(MAX_RESPONSE / 6)
        );
        assert!(long.len() > MAX_RESPONSE);
        let cut = interpret(503, &headers(&[]), long.as_bytes(), &[]);
        assert!(cut.truncated && cut.verdict_unread && !cut.exit_code);
        let with_header = interpret(
            503,
            &headers(&[("deploy-exit-code", "3")]),
            long.as_bytes(),
            &[],
        );
        assert!(with_header.truncated && with_header.exit_code && !with_header.verdict_unread);
        let timed_out = interpret(504, &headers(&[("Deploy-Exit-Code", "null")]), b"", &[]);
        assert!(timed_out.exit_code);
        let whole = interpret(503, &headers(&[]), br#"{"status":"x","exit_code":3}"#, &[]);
        assert!(whole.exit_code && !whole.verdict_unread);
        let busy = interpret(503, &headers(&[]), br#"{"status":"busy"}"#, &[]);
        assert!(!busy.exit_code && !busy.verdict_unread);
        for bad in [
            &[("deploy-exit-code", "three")][..],
            &[("deploy-exit-code", "1"), ("deploy-exit-code", "2")],
        ] {
            assert!(
                !interpret(503, &headers(bad), b"", &[]).exit_code,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn masks_before_cutting() {
        let masks = vec!["pa%ss:w,rd".to_owned()];
        let text = "0123456789pa%ss:w,rdabc";
        for keep in 0..text.len() + 2 {
            let (out, cut) = mask_then_cut(text, &masks, keep);
            assert!(
                !out.contains("pa%") && !out.contains("ss:"),
                "{keep}: {out}"
            );
            assert_eq!(cut, keep < text.len());
        }
        assert_eq!(mask_then_cut(text, &masks, 12).0, "0123456789***");
        assert_eq!(mask_then_cut(text, &masks, 100).0, "0123456789***abc");
        // A secret that only starts before the cut is masked, not shown in part.
        assert_eq!(mask_then_cut("ab pa%ss:w,rd", &masks, 5).0, "ab ***");
        // Cut on a character boundary.
        assert_eq!(mask_then_cut("aé", &[], 2).0, "a");
        // Two secrets that overlap are masked as one, neither in part.
        let masks = vec!["token-abc".to_owned(), "abc-key".to_owned()];
        assert_eq!(mask_then_cut("x token-abc-key y", &masks, 100).0, "x *** y");
    }
}
