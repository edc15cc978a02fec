//! What one deploy call is: where it goes, the exact body, how it is
//! signed, and how long and how often it may be tried.

use std::time::Duration;

use relay_signature::{Scheme, SigningKey};
use reqwest::Url;

/// One deploy call, checked: the sender's inputs (or a fleet target)
/// already turned into what goes on the wire.
pub struct Call {
    pub url: Url,
    /// The HMAC key, made from the secret for `scheme`.
    pub key: SigningKey,
    /// The exact bytes sent and signed.
    pub body: Vec<u8>,
    pub method: reqwest::Method,
    pub headers: Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    pub signature_header: reqwest::header::HeaderName,
    pub scheme: Scheme,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retries: u32,
    pub insecure: bool,
    pub ca_cert: Option<reqwest::Certificate>,
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
