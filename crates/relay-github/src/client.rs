//! The HTTP side: headers, retries, conditional requests, pagination.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use relay_runtime::{Console, Context, Env, vars};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Call, Error, hint};
use crate::token::Token;

/// The REST API version every request asks for.
pub const API_VERSION: &str = "2022-11-28";
pub const USER_AGENT: &str = concat!("deploy-relay/", env!("CARGO_PKG_VERSION"));

/// How long to wait between tries.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    pub max_retries: u32,
    /// The longest server-requested wait (rate-limit reset) we accept.
    pub max_wait: Duration,
    /// GitHub asks for at least a minute after a secondary rate limit that
    /// came without `retry-after`.
    pub secondary_min: Duration,
}

impl Backoff {
    pub fn scaled(scale: f64) -> Self {
        Self {
            base: Duration::from_secs(1).mul_f64(scale),
            cap: Duration::from_secs(30).mul_f64(scale),
            max_retries: 5,
            max_wait: Duration::from_secs(600),
            secondary_min: Duration::from_secs(60).mul_f64(scale),
        }
    }

    /// Capped exponential back-off with jitter: somewhere in the upper half
    /// of `min(cap, base * 2^attempt)`, so parallel clients spread out.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        exp.mul_f64(0.5 + rand::random::<f64>() * 0.5)
    }
}

/// Counters for the final summary of a polling action.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    not_modified: AtomicU64,
    retries: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Answered 304 from the ETag cache: these cost no rate limit.
    pub not_modified: u64,
    pub retries: u64,
}

/// An answer from GitHub.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// True when GitHub answered 304 and `body` came from the ETag cache.
    pub not_modified: bool,
}

impl Response {
    pub fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode {
            call: call.what.clone(),
            detail: e.to_string(),
        })
    }

    /// The `rel="next"` URL of the `Link` header.
    pub fn next_page(&self) -> Option<String> {
        let link = self.headers.get("link")?.to_str().ok()?;
        link.split(',').find_map(|part| {
            let (url, rel) = part.split_once(';')?;
            rel.contains("rel=\"next\"").then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
        })
    }
}

/// A GitHub REST client.
pub struct GitHub {
    http: reqwest::Client,
    api: String,
    token: Option<Token>,
    console: Console,
    current_repo: Option<String>,
    backoff: Backoff,
    etags: Mutex<HashMap<String, (HeaderValue, Bytes)>>,
    stats: Stats,
}

impl GitHub {
    /// A client for the API named by `GITHUB_API_URL`, logging to `console`.
    pub fn new(env: &Env, console: Console, token: Option<&str>) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            // Redirects are followed by callers that need them (artifact
            // downloads), so the token never travels to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Transport {
                call: "start the HTTP client".into(),
                url: env.api_url(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            http,
            api: env.api_url(),
            token: token.map(Token::new),
            console,
            current_repo: env.get(vars::GITHUB_REPOSITORY).map(str::to_owned),
            backoff: Backoff::scaled(env.backoff_scale()),
            etags: Mutex::default(),
            stats: Stats::default(),
        })
    }

    /// A client for an action run.
    pub fn from_context(ctx: &Context, token: Option<&str>) -> Result<Self, Error> {
        Self::new(&ctx.env, ctx.console.clone(), token)
    }

    pub fn api_url(&self) -> &str {
        &self.api
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    pub fn stats(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.stats.requests.load(Ordering::Relaxed),
            not_modified: self.stats.not_modified.load(Ordering::Relaxed),
            retries: self.stats.retries.load(Ordering::Relaxed),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.api)
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, call: &Call, path: &str) -> Result<T, Error> {
        self.send(call, Method::GET, path, None, false)
            .await?
            .json(call)
    }

    /// GET with `If-None-Match` from the ETag cache: an unchanged resource
    /// costs GitHub no rate limit and comes back with `not_modified`.
    pub async fn get_conditional(&self, call: &Call, path: &str) -> Result<Response, Error> {
        self.send(call, Method::GET, path, None, true).await
    }

    pub async fn post(
        &self,
        call: &Call,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Response, Error> {
        self.send(call, Method::POST, path, Some(body), false).await
    }

    /// Where a GET redirects to (`Location` of a 3xx), without following it.
    pub async fn location(&self, call: &Call, path: &str) -> Result<String, Error> {
        let resp = self
            .request(call, Method::GET, path, None, false, true)
            .await?;
        resp.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .filter(|_| resp.status.is_redirection())
            .map(str::to_owned)
            .ok_or_else(|| Error::Decode {
                call: call.what.clone(),
                detail: format!("expected a redirect, got {}", resp.status),
            })
    }

    /// Every item of a paginated list: `key` names the array in an object
    /// answer (`workflow_runs`), `None` for a bare array.
    pub async fn paginate<T: DeserializeOwned>(
        &self,
        call: &Call,
        path: &str,
        key: Option<&str>,
        conditional: bool,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(url) = next {
            let resp = self
                .send(call, Method::GET, &url, None, conditional)
                .await?;
            let page: serde_json::Value = resp.json(call)?;
            let list = match key {
                Some(k) => page.get(k).cloned().unwrap_or_default(),
                None => page,
            };
            let list: Vec<T> = serde_json::from_value(list).map_err(|e| Error::Decode {
                call: call.what.clone(),
                detail: e.to_string(),
            })?;
            items.extend(list);
            next = resp.next_page();
        }
        Ok(items)
    }

    /// Sends one request, retrying what is worth retrying; anything but a
    /// 2xx (or a 304 answered from the cache) is an error.
    pub async fn send(
        &self,
        call: &Call,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        conditional: bool,
    ) -> Result<Response, Error> {
        self.request(call, method, path, body, conditional, false)
            .await
    }

    /// [`GitHub::send`]; with `redirect`, a 3xx (never followed) is an
    /// answer too, for [`GitHub::location`].
    async fn request(
        &self,
        call: &Call,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        conditional: bool,
        redirect: bool,
    ) -> Result<Response, Error> {
        let url = self.url(path);
        let mut attempt = 0;
        loop {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", API_VERSION);
            if let Some(auth) = self.token.as_ref().and_then(Token::header) {
                req = req.header("authorization", auth);
            }
            let cached = if conditional {
                self.etags
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&url)
                    .cloned()
            } else {
                None
            };
            if let Some((etag, _)) = &cached {
                req = req.header("if-none-match", etag.clone());
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            self.console.debug(&format!("{method} {url}"));
            let result = async {
                let resp = req.send().await?;
                let status = resp.status();
                let headers = resp.headers().clone();
                let body = resp.bytes().await?;
                Ok::<_, reqwest::Error>((status, headers, body))
            }
            .await;
            let (status, headers, bytes) = match result {
                Ok(parts) => parts,
                // Nothing reached GitHub when the connection failed, so a
                // retry cannot repeat a side effect.
                Err(e) if e.is_connect() && attempt < self.backoff.max_retries => {
                    let wait = self.backoff.delay(attempt);
                    self.retry_note(call, "couldn't connect", wait);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => {
                    return Err(Error::Transport {
                        call: call.what.clone(),
                        url: self.api.clone(),
                        detail: transport_detail(&e),
                    });
                }
            };
            if status == StatusCode::NOT_MODIFIED
                && let Some((_, cached_body)) = cached
            {
                self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
                return Ok(Response {
                    status: StatusCode::OK,
                    headers,
                    body: cached_body,
                    not_modified: true,
                });
            }
            if status.is_success()
                || (redirect && status.is_redirection() && status != StatusCode::NOT_MODIFIED)
            {
                if conditional && let Some(etag) = headers.get("etag") {
                    self.etags
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(url.clone(), (etag.clone(), bytes.clone()));
                }
                return Ok(Response {
                    status,
                    headers,
                    body: bytes,
                    not_modified: false,
                });
            }
            let message = error_message(&bytes);
            if let Some(wait) = self.retry_wait(status, &headers, &message, attempt) {
                if wait > self.backoff.max_wait {
                    return Err(Error::RateLimited {
                        call: call.what.clone(),
                        wait_secs: wait.as_secs(),
                    });
                }
                self.retry_note(call, &format!("GitHub answered {status}"), wait);
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Err(Error::Status {
                call: call.what.clone(),
                status: status.as_u16(),
                message: if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                },
                hint: hint(
                    status.as_u16(),
                    &message,
                    call,
                    self.current_repo.as_deref(),
                ),
            });
        }
    }

    fn retry_note(&self, call: &Call, why: &str, wait: Duration) {
        self.stats.retries.fetch_add(1, Ordering::Relaxed);
        self.console.warning(&format!(
            "{why} to {}; retrying in {}",
            call.what,
            relay_runtime::duration::format(wait)
        ));
    }

    /// How long to wait before retrying, or `None` when this answer must not
    /// be retried. Retried: 429, 5xx, and 403s that are rate limits.
    fn retry_wait(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        message: &str,
        attempt: u32,
    ) -> Option<Duration> {
        if attempt >= self.backoff.max_retries {
            return None;
        }
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
        let exhausted = header("x-ratelimit-remaining") == Some("0");
        let reset_wait = header("x-ratelimit-reset")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|reset| {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                Duration::from_secs(reset.saturating_sub(now) + 1)
            });
        let secondary = message
            .to_ascii_lowercase()
            .contains("secondary rate limit");
        let retryable = status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
            || (status == StatusCode::FORBIDDEN
                && (secondary || exhausted || retry_after.is_some()));
        if !retryable {
            return None;
        }
        // The server's word first: retry-after, then the primary limit's reset.
        if let Some(secs) = retry_after {
            return Some(Duration::from_secs(secs));
        }
        if exhausted && let Some(wait) = reset_wait {
            return Some(wait);
        }
        if secondary {
            return Some(self.backoff.delay(attempt).max(self.backoff.secondary_min));
        }
        Some(self.backoff.delay(attempt))
    }
}

/// The `message` of a GitHub error body, with `errors[]` details when present.
fn error_message(body: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::from_utf8_lossy(body).chars().take(200).collect();
    };
    let mut msg = json
        .get("message")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_owned();
    if let Some(errors) = json.get("errors").and_then(|e| e.as_array()) {
        let details: Vec<String> = errors
            .iter()
            .map(|e| match e.as_str() {
                Some(s) => s.to_owned(),
                None => e
                    .get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| e.to_string()),
            })
            .collect();
        if !details.is_empty() {
            msg.push_str(&format!(" ({})", details.join("; ")));
        }
    }
    msg
}

fn transport_detail(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "couldn't connect"
    } else {
        "the connection failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered_in_the_upper_half() {
        let b = Backoff::scaled(1.0);
        for attempt in 0..10 {
            let d = b.delay(attempt);
            let full = Duration::from_secs(1 << attempt.min(5)).min(Duration::from_secs(30));
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn link_header_next_page() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            HeaderValue::from_static(
                "<https://api.github.com/x?page=2>; rel=\"next\", <https://api.github.com/x?page=5>; rel=\"last\"",
            ),
        );
        let r = Response {
            status: StatusCode::OK,
            headers,
            body: Bytes::new(),
            not_modified: false,
        };
        assert_eq!(r.next_page().unwrap(), "https://api.github.com/x?page=2");
    }

    #[test]
    fn error_message_includes_validation_details() {
        let body = br#"{"message":"Invalid request.","errors":["No more than 10 properties are allowed; 11 were supplied."]}"#;
        assert_eq!(
            error_message(body),
            "Invalid request. (No more than 10 properties are allowed; 11 were supplied.)"
        );
    }
}
