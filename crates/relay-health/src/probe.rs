//! One probe: a GET with a deadline, judged by the conditions.

use std::time::{Duration, Instant};

use relay_http::DisplaySafeUrl;
use relay_runtime::HttpStatusSet;
use reqwest::header::HeaderMap;

use crate::condition::{Condition, Observed};
use crate::config::Config;

/// Bodies are read up to this much; a health answer is small and a huge
/// one must not eat the runner's memory.
const MAX_BODY: usize = 1024 * 1024;

/// Why a probe failed. Each counts as one failed probe; none is retried.
///
/// The texts come from the endpoint (a connection error, a value quoted
/// from the body) and are untrusted: the log gets them through
/// `Console::info` (one line, command-like lines fenced), markdown as
/// `md_code`, outputs as they are. Secrets are already redacted from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No complete answer within `timeout`.
    Timeout,
    /// Refused, reset, DNS or TLS trouble: no HTTP answer at all.
    Connection(String),
    /// An answer that did not meet a condition.
    Condition(String),
}

impl Failure {
    /// The failure as one piece of untrusted text.
    pub fn describe(&self) -> String {
        match self {
            Self::Timeout => "timed out".into(),
            Self::Connection(e) => format!("connection failed: {e}"),
            Self::Condition(e) => e.clone(),
        }
    }
}

/// What one probe found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Option<u16>,
    pub latency: Duration,
    pub failure: Option<Failure>,
}

pub fn client(config: &Config) -> anyhow::Result<reqwest::Client> {
    // Header values are often credentials: the input reader marked them
    // sensitive, which keeps them out of any debug output.
    let headers: HeaderMap = config.headers.iter().cloned().collect();
    let redirects = if config.follow_redirects {
        reqwest::redirect::Policy::limited(10)
    } else {
        reqwest::redirect::Policy::none()
    };
    Ok(relay_http::client_builder()
        .default_headers(headers)
        .redirect(redirects)
        .danger_accept_invalid_certs(config.insecure)
        .tls_info(true)
        // A fresh connection per probe would measure handshakes, not the
        // service; keep-alive is what a browser sees too.
        .pool_idle_timeout(Duration::from_secs(90))
        .build()?)
}

/// What must not show in a text a probe brings back: the registered
/// secrets, and what the inputs carry that an endpoint could echo — header
/// values (and the credential after an `Authorization` scheme), the user
/// info and query values of each URL. Only these texts are redacted with
/// them (the runner is not asked to mask an `Accept` value everywhere);
/// values under 4 characters are left, they would blank out the text.
/// Longest first, so a secret that contains another is replaced whole.
pub fn secrets(config: &Config, masks: Vec<String>) -> Vec<String> {
    from_inputs(&config.headers, &config.urls, masks)
}

fn from_inputs(
    headers: &[(reqwest::header::HeaderName, reqwest::header::HeaderValue)],
    urls: &[DisplaySafeUrl],
    masks: Vec<String>,
) -> Vec<String> {
    let mut out = masks;
    for (_, value) in headers {
        if let Ok(v) = value.to_str() {
            out.push(v.trim().to_owned());
            if let Some((scheme, credential)) = v.trim().split_once(' ')
                && scheme.chars().all(|c| c.is_ascii_alphabetic())
            {
                out.push(credential.trim().to_owned());
            }
        }
    }
    for url in urls {
        out.extend(url.credentials());
    }
    out.retain(|s| s.chars().count() >= 4);
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

/// One probe of `url`, judged by `expected` and `conditions`; what the
/// endpoint sent is masked with `secrets` before it is kept.
pub async fn probe(
    client: &reqwest::Client,
    url: &DisplaySafeUrl,
    timeout: Duration,
    expected: Option<&HttpStatusSet>,
    conditions: &[Condition],
    secrets: &[String],
) -> Outcome {
    let started = Instant::now();
    let answer = tokio::time::timeout(timeout, fetch(client, url)).await;
    let latency = started.elapsed();
    let (status, body, cert) = match answer {
        Err(_) => {
            return Outcome {
                status: None,
                latency,
                failure: Some(Failure::Timeout),
            };
        }
        Ok(Err(e)) => {
            return Outcome {
                status: None,
                latency,
                failure: Some(Failure::Connection(relay_runtime::redact(
                    &describe(e),
                    secrets,
                ))),
            };
        }
        Ok(Ok(answer)) => answer,
    };
    let certificate_left = cert.map(|not_after| {
        let left = not_after - time::OffsetDateTime::now_utc();
        Duration::try_from(left).unwrap_or(Duration::ZERO)
    });
    let seen = Observed {
        status,
        response_time: latency,
        body: &body,
        certificate_left,
        secrets,
    };
    let unexpected = expected
        .is_some_and(|e| !e.contains(status))
        .then(|| format!("status {status} is not an expected status"));
    let failure = unexpected
        .or_else(|| conditions.iter().find_map(|c| c.check(&seen).err()))
        .map(Failure::Condition);
    Outcome {
        status: Some(status),
        latency,
        failure,
    }
}

async fn fetch(
    client: &reqwest::Client,
    url: &DisplaySafeUrl,
) -> Result<(u16, String, Option<time::OffsetDateTime>), reqwest::Error> {
    let mut resp = client.get(url.expose().clone()).send().await?;
    let status = resp.status().as_u16();
    let cert = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .and_then(crate::cert::not_after);
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = MAX_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned(), cert))
}

/// The innermost cause: "Connection refused", not "error sending request".
fn describe(e: reqwest::Error) -> String {
    let inner = relay_runtime::root_cause(&e);
    if inner.is_empty() {
        e.without_url().to_string()
    } else {
        inner
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn secrets_are_what_an_endpoint_could_echo_from_the_inputs() {
        let headers = vec![
            (
                HeaderName::from_static("authorization"),
                HeaderValue::from_static("Bearer eyJhbGciOi.token"),
            ),
            (
                HeaderName::from_static("x-n"),
                HeaderValue::from_static("1"),
            ),
        ];
        let urls = [
            "https://probe:hunter2pw@h.example/a?token=tok-123&v=1&verbose",
            "https://h.example/b?bare-secret-key",
        ]
        .map(|u| DisplaySafeUrl::parse(u).unwrap());
        let got = from_inputs(&headers, &urls, vec!["ghs_masked".into()]);
        assert_eq!(
            got,
            [
                "Bearer eyJhbGciOi.token",
                "eyJhbGciOi.token",
                "bare-secret-key",
                "ghs_masked",
                "hunter2pw",
                "tok-123",
                "verbose",
                "probe",
            ]
        );
    }
}
