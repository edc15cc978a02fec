//! What one deploy call is: where it goes, the exact body, how it is
//! signed, and how long and how often it may be tried.

use std::time::Duration;

use relay_signature::{Scheme, SigningKey};
use reqwest::Url;

/// One deploy call, checked: the sender's inputs (or a fleet target)
/// already turned into what goes on the wire.
pub struct Call {
    /// The endpoint, as given: it may carry user info or a query with a
    /// token, so logs show it only through [`Call::shown`].
    pub url: Url,
    /// The HMAC key, made from the secret for `scheme`.
    pub key: SigningKey,
    /// The exact bytes sent and signed.
    pub body: Vec<u8>,
    /// The deploy request's method (POST, PUT or PATCH); status polls
    /// are always POST.
    pub method: reqwest::Method,
    /// Extra headers sent on the deploy and on every status poll.
    pub headers: Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    /// Where the `github` scheme puts its `sha256=<hex>`; unused under
    /// Standard Webhooks, whose header names are fixed.
    pub signature_header: reqwest::header::HeaderName,
    /// How each request is signed.
    pub scheme: Scheme,
    /// One try's budget, its answer included and, for an async deploy,
    /// the following of its status to the end.
    pub timeout: Duration,
    /// How long establishing a connection may take.
    pub connect_timeout: Duration,
    /// Extra tries after the first, made only where nothing can have run.
    pub retries: u32,
    /// Skip TLS certificate verification (tests only).
    pub insecure: bool,
    /// A private CA trusted for the receiver's certificate, besides the
    /// usual roots.
    pub ca_cert: Option<reqwest::Certificate>,
    /// Sent as `X-Deploy-Delivery` (and Standard Webhooks' `webhook-id`)
    /// on every try, so the receiver can tell a retry from a new deploy;
    /// async status is polled under it.
    pub delivery_id: String,
    /// Scales the back-off between tries (tests run it fast).
    pub backoff_scale: f64,
    /// A `409` "busy" (another deploy of the hook runs; nothing ran for
    /// this delivery, and the receiver forgot its id) is tried again, like
    /// a `503` without `exit_code`: for a sender that waits its turn on a
    /// receiver rather than failing.
    pub retry_busy: bool,
}

impl Call {
    /// `url` as logs show it: user info and query values redacted
    /// (either may hold a token).
    pub fn shown(&self, url: &Url) -> String {
        relay_http::redact_url(url.as_str())
    }
}

/// The `ca-cert` input, as both senders take it: PEM text, or a path to a
/// PEM file, of a CA the receiver's certificate chains to. Checked now, so a
/// bad certificate is an input error before any request.
pub fn ca_cert(text: &str) -> Result<reqwest::Certificate, relay_runtime::InputError> {
    let pem = if text.contains("-----BEGIN") {
        text.as_bytes().to_vec()
    } else {
        std::fs::read(text).map_err(|e| {
            relay_runtime::InputError::new(
                "ca-cert",
                &format!("is neither PEM text nor a readable file (`{text}`: {e})"),
                "pass the CA certificate's PEM, or a path to it",
            )
        })?
    };
    let bad = |e: reqwest::Error| {
        relay_runtime::InputError::new(
            "ca-cert",
            &format!(
                "is not a PEM certificate ({})",
                relay_runtime::root_cause(&e)
            ),
            "pass the CA certificate's PEM (-----BEGIN CERTIFICATE-----)",
        )
    };
    let cert = reqwest::Certificate::from_pem(&pem).map_err(bad)?;
    // reqwest parses the PEM only when a client is built; find out now, before any request.
    reqwest::Client::builder()
        .add_root_certificate(cert.clone())
        .build()
        .map_err(bad)?;
    Ok(cert)
}
