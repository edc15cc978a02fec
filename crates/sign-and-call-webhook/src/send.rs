//! Delivering the signed request: retries only where the deploy cannot have
//! run twice, the same delivery id on every try, and a failure message that
//! says which kind of failure it was.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use relay_runtime::Console;
use relay_signature::{Scheme, github, standard};

use crate::config::Config;

/// The largest response body kept (and put in the `response` output).
pub const MAX_RESPONSE: usize = 64 * 1024;

pub struct Answer {
    pub status: u16,
    pub body: String,
    pub truncated: bool,
    pub attempts: u32,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(
        "couldn't connect to {url}: {detail}\nhint: check the host and port, and that the receiver is running and reachable from the runner"
    )]
    Connect { url: String, detail: String },
    #[error(
        "the TLS handshake with {url} failed: {detail}\nhint: for a private CA pass its certificate as `ca-cert`; `insecure: true` skips verification and is for tests only"
    )]
    Tls { url: String, detail: String },
    #[error(
        "{url} did not answer within `timeout` ({timeout})\nhint: the deploy may still be running on the receiver; raise `timeout` if deploys take longer"
    )]
    Timeout { url: String, timeout: String },
    #[error("the connection to {url} broke: {detail}")]
    Broken { url: String, detail: String },
    #[error("couldn't start the HTTP client: {0}")]
    Client(String),
}

pub fn client(config: &Config) -> Result<reqwest::Client, SendError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("deploy-relay/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        // A signed deploy call is never replayed to another address.
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(config.insecure);
    if let Some(cert) = &config.ca_cert {
        builder = builder.add_root_certificate(cert.clone());
    }
    builder
        .build()
        .map_err(|e| SendError::Client(e.to_string()))
}

/// Sends, retrying connection failures and 429/502/503/504 up to `retries`
/// times. Other answers — a 500 included, since the deploy ran and failed —
/// are returned at once.
pub async fn deliver(config: &Config, console: &Console) -> Result<Answer, SendError> {
    let http = client(config)?;
    let url = config.shown_url();
    let start = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = once(config, &http).await;
        let retry_after = match &result {
            Ok((429 | 502 | 503 | 504, headers, _, _)) => Some(retry_after(headers)),
            Err(SendError::Connect { .. }) => Some(None),
            _ => None,
        };
        if let Some(server_wait) = retry_after
            && attempt <= config.retries
        {
            let wait = server_wait
                .unwrap_or_else(|| backoff(attempt).mul_f64(config.backoff_scale))
                .min(Duration::from_secs(60));
            let why = match &result {
                Ok((status, ..)) => format!("{url} answered {status}"),
                Err(e) => e.to_string().lines().next().unwrap_or_default().to_owned(),
            };
            console.warning(&format!(
                "{why}; retrying in {} (try {} of {}, delivery {})",
                relay_runtime::duration::format(wait),
                attempt + 1,
                config.retries + 1,
                config.delivery_id
            ));
            tokio::time::sleep(wait).await;
            continue;
        }
        let (status, _, body, truncated) = result?;
        return Ok(Answer {
            status,
            body,
            truncated,
            attempts: attempt,
            elapsed: start.elapsed(),
        });
    }
}

type Raw = (u16, reqwest::header::HeaderMap, String, bool);

async fn once(config: &Config, http: &reqwest::Client) -> Result<Raw, SendError> {
    let url = config.shown_url();
    let mut req = http
        .request(config.method.as_reqwest(), config.url.clone())
        .header("content-type", "application/json")
        .header("x-deploy-delivery", &config.delivery_id);
    for (name, value) in &config.headers {
        req = req.header(name, value);
    }
    req = match config.scheme {
        Scheme::GitHub => req.header(
            &config.signature_header,
            github::sign(&config.secret, &config.body),
        ),
        Scheme::StandardWebhooks => {
            // Signed per try: the timestamp must be fresh for the receiver's
            // tolerance, while the id stays the same so it can de-duplicate.
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs() as i64;
            let signature = standard::sign(
                std::slice::from_ref(&config.secret),
                &config.delivery_id,
                now,
                &config.body,
            )
            .map_err(|e| SendError::Client(e.to_string()))?;
            req.header(standard::ID_HEADER, &config.delivery_id)
                .header(standard::TIMESTAMP_HEADER, now.to_string())
                .header(standard::SIGNATURE_HEADER, signature)
        }
    };
    let resp = req
        .body(config.body.clone())
        .send()
        .await
        .map_err(|e| classify(&e, &url, config))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    let mut truncated = false;
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| classify(&e, &url, config))?;
        let room = MAX_RESPONSE - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok((
        status,
        headers,
        String::from_utf8_lossy(&body).into_owned(),
        truncated,
    ))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// 1 s, 2 s, 4 s … with jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1u64 << (attempt - 1).min(5));
    base.mul_f64(0.5 + rand::random::<f64>() * 0.5)
}

fn classify(e: &reqwest::Error, url: &str, config: &Config) -> SendError {
    let detail = root_cause(e);
    let lower = detail.to_lowercase();
    if e.is_timeout() {
        return SendError::Timeout {
            url: url.to_owned(),
            timeout: relay_runtime::duration::format(config.timeout),
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
    if tls && config.url.scheme() == "https" {
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

fn root_cause(e: &reqwest::Error) -> String {
    let mut last = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_is_capped() {
        for attempt in 1..10 {
            let d = super::backoff(attempt);
            let full = std::time::Duration::from_secs(1 << (attempt - 1).min(5));
            assert!(d >= full / 2 && d <= full);
        }
    }
}
