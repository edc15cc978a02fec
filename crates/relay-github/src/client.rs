//! The HTTP side: headers, retries, conditional requests, pagination. Only
//! this crate builds requests; actions call the typed endpoints.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use relay_http::{Attempt, Backoff, DisplaySafeUrl, RetryError};
use relay_runtime::{Console, Context, Env, Secret, vars};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Call, Error, hint};
use crate::mint::Bearer;

/// The REST API version every request asks for.
pub const API_VERSION: &str = "2022-11-28";

/// GitHub's retry policy: capped, jittered exponential back-off, five
/// retries; a server-requested wait (`retry-after`, a rate-limit reset) is
/// honoured up to [`MAX_SERVER_WAIT`].
pub const BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(1),
    multiplier: 2.0,
    cap: Duration::from_secs(30),
    max_retries: 5,
    jitter: true,
};

/// The longest server-requested wait (rate-limit reset) deploy-relay accepts.
pub const MAX_SERVER_WAIT: Duration = Duration::from_mins(10);

/// GitHub asks for at least a minute after a secondary rate limit that came
/// without `retry-after`.
const SECONDARY_MIN: Duration = Duration::from_mins(1);

/// Whether a GET may be answered from the `ETag` cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// Always a full answer.
    Fresh,
    /// `If-None-Match` from the `ETag` cache: an unchanged resource costs no
    /// rate limit and comes back from the cache.
    Conditional,
}

/// Counters for the final summary of a polling action.
#[derive(Debug, Default)]
struct Stats {
    requests: AtomicU64,
    not_modified: AtomicU64,
    retries: AtomicU64,
}

/// What a client has sent so far, for a polling action's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Answered 304 from the `ETag` cache: these cost no rate limit.
    pub not_modified: u64,
    /// Requests that were tries again after a failed one.
    pub retries: u64,
}

/// An answer from GitHub.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub(crate) fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            call: Box::new(call.clone()),
            source,
        })
    }

    /// The `rel="next"` URL of the `Link` header.
    pub(crate) fn next_page(&self) -> Option<String> {
        next_link(&self.headers)
    }
}

fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
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

/// One request to build and send: `gh.request(Method::GET, path).conditional().send(&call)`.
pub(crate) struct Request<'a> {
    gh: &'a GitHub,
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
    fetch: Fetch,
    redirect: bool,
}

impl Request<'_> {
    pub(crate) fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn fetch(mut self, fetch: Fetch) -> Self {
        self.fetch = fetch;
        self
    }

    /// A 3xx (never followed) is an answer, not an error.
    pub(crate) fn redirect_is_answer(mut self) -> Self {
        self.redirect = true;
        self
    }

    pub(crate) async fn send(self, call: &Call) -> Result<Response, Error> {
        self.gh.send(call, self).await
    }
}

type Cached = (HeaderValue, HeaderMap, Bytes);

/// A GitHub REST client.
pub struct GitHub {
    http: reqwest::Client,
    /// `GITHUB_API_URL`: it may carry credentials (a proxy's user info),
    /// so it prints redacted.
    api: DisplaySafeUrl,
    bearer: Bearer,
    console: Console,
    current_repo: Option<String>,
    backoff: Backoff,
    secondary_min: Duration,
    etags: Mutex<HashMap<String, Cached>>,
    stats: Stats,
}

impl GitHub {
    /// A client for the API named by `GITHUB_API_URL`, logging to `console`.
    pub fn new(env: &Env, console: Console, token: Option<Secret>) -> Result<Self, Error> {
        Self::with_bearer(env, console, token.map_or(Bearer::None, Bearer::Static))
    }

    /// A client that authenticates with `bearer`: a token, an App's JWT, or
    /// an installation token minted (and re-minted) for it.
    pub(crate) fn with_bearer(env: &Env, console: Console, bearer: Bearer) -> Result<Self, Error> {
        let api_url = env.api_url();
        let api = DisplaySafeUrl::parse(&api_url).map_err(|_| Error::ApiUrl {
            shown: relay_http::redact_url(&api_url),
        })?;
        let http = relay_http::client_builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_mins(1))
            // Redirects are followed by callers that need them (artifact
            // downloads), so the token never travels to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| Error::Client {
                url: api.clone(),
                source,
            })?;
        let scale = env.backoff_scale();
        Ok(Self {
            http,
            api,
            bearer,
            console,
            current_repo: env.get(vars::GITHUB_REPOSITORY).map(str::to_owned),
            backoff: BACKOFF.scaled(scale),
            secondary_min: SECONDARY_MIN.mul_f64(scale),
            etags: Mutex::default(),
            stats: Stats::default(),
        })
    }

    /// A client for an action run.
    pub fn from_context(ctx: &Context, token: Option<Secret>) -> Result<Self, Error> {
        Self::new(&ctx.env, ctx.console.clone(), token)
    }

    /// The requests sent so far.
    pub fn stats(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.stats.requests.load(Ordering::Relaxed),
            not_modified: self.stats.not_modified.load(Ordering::Relaxed),
            retries: self.stats.retries.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn request(&self, method: Method, path: impl Into<String>) -> Request<'_> {
        Request {
            gh: self,
            method,
            path: path.into(),
            body: None,
            fetch: Fetch::Fresh,
            redirect: false,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.api.expose().as_str().trim_end_matches('/'))
        }
    }

    /// A request's URL as the debug log shows it: the base printed through
    /// [`DisplaySafeUrl`] (it may hold credentials), the path GitHub serves
    /// as it is; an absolute URL (a `Link` header's next page) redacted.
    fn shown(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.api.to_string().trim_end_matches('/'))
        } else {
            relay_http::redact_url(path)
        }
    }

    /// Every item of a paginated list, following `Link: rel="next"`; when an
    /// answer has no `Link` (a 304 from an older cache, a server that counts
    /// instead) but says `total_count`, the next page is asked for by number.
    /// `items` names the array in an object answer (`workflow_runs`), `None`
    /// for a bare array.
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        call: &Call,
        path: &str,
        items: Option<&str>,
        fetch: Fetch,
    ) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        let mut url = path.to_owned();
        let mut page = 1;
        loop {
            let resp = self
                .request(Method::GET, url.as_str())
                .fetch(fetch)
                .send(call)
                .await?;
            let body: serde_json::Value = resp.json(call)?;
            let total = body.get("total_count").and_then(serde_json::Value::as_u64);
            let list = match items {
                Some(k) => body.get(k).cloned().unwrap_or_default(),
                None => body,
            };
            let list: Vec<T> = serde_json::from_value(list).map_err(|source| Error::Decode {
                call: Box::new(call.clone()),
                source,
            })?;
            let got = list.len();
            all.extend(list);
            if let Some(next) = resp.next_page() {
                url = next;
            } else if let Some(total) = total
                && (all.len() as u64) < total
                && got > 0
            {
                page += 1;
                url = crate::path::with_query(path, &[("page", &page.to_string())]);
            } else {
                return Ok(all);
            }
        }
    }

    /// Sends one request, retrying what is worth retrying; anything but a
    /// 2xx (a 3xx when asked, or a 304 answered from the cache) is an error.
    async fn send(&self, call: &Call, req: Request<'_>) -> Result<Response, Error> {
        let url = self.url(&req.path);
        let result = relay_http::retry(
            &self.backoff,
            |r| {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                self.console.warning(&format!(
                    "{} to {call}; retrying in {}",
                    r.why,
                    relay_runtime::duration::format(r.wait)
                ));
            },
            |attempt| self.attempt(call, &req, &url, attempt),
        )
        .await;
        result.map_err(|e| match e {
            RetryError::Failed(e) => e,
            RetryError::Exhausted { last, .. } => last.error,
        })
    }

    async fn attempt(
        &self,
        call: &Call,
        req: &Request<'_>,
        url: &str,
        attempt: u32,
    ) -> Attempt<Response, Error, Retry> {
        let mut builder = self
            .http
            .request(req.method.clone(), url)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", API_VERSION);
        match self.bearer.header().await {
            Ok(Some(auth)) => builder = builder.header("authorization", auth),
            Ok(None) => {}
            Err(e) => return Attempt::Done(Err(e)),
        }
        let cached = match req.fetch {
            Fetch::Conditional => self
                .etags
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(url)
                .cloned(),
            Fetch::Fresh => None,
        };
        if let Some((etag, ..)) = &cached {
            builder = builder.header("if-none-match", etag.clone());
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        // The path GitHub serves, not the base URL (which may hold credentials).
        self.console
            .debug(&format!("{} {}", req.method, self.shown(&req.path)));
        let answered = async {
            let resp = builder.send().await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        let (status, headers, body) = match answered {
            Ok(parts) => parts,
            // Nothing reached GitHub when the connection failed, so a retry
            // cannot repeat a side effect.
            Err(source) if source.is_connect() => {
                return Attempt::Again {
                    why: Retry::new("couldn't connect", self.transport(call, source)),
                    wait: None,
                };
            }
            Err(source) => return Attempt::Done(Err(self.transport(call, source))),
        };
        if status == StatusCode::NOT_MODIFIED
            && let Some((_, cached_headers, cached_body)) = cached
        {
            self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
            return Attempt::Done(Ok(Response {
                status: StatusCode::OK,
                headers: cached_headers,
                body: cached_body,
            }));
        }
        if status.is_success()
            || (req.redirect && status.is_redirection() && status != StatusCode::NOT_MODIFIED)
        {
            if req.fetch == Fetch::Conditional
                && let Some(etag) = headers.get("etag")
            {
                self.etags
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(
                        url.to_owned(),
                        (etag.clone(), headers.clone(), body.clone()),
                    );
            }
            return Attempt::Done(Ok(Response {
                status,
                headers,
                body,
            }));
        }
        let message = error_message(&body);
        let error = Error::Status {
            call: Box::new(call.clone()),
            status: status.as_u16(),
            hint: self.bearer.hint(status.as_u16(), call).unwrap_or_else(|| {
                hint(
                    status.as_u16(),
                    &message,
                    call,
                    self.current_repo.as_deref(),
                )
            }),
            message,
        };
        match self.retry_wait(status, &headers, &error, attempt) {
            None => Attempt::Done(Err(error)),
            Some(wait) if wait > MAX_SERVER_WAIT => Attempt::Done(Err(Error::RateLimited {
                call: Box::new(call.clone()),
                wait_secs: wait.as_secs(),
            })),
            Some(wait) => Attempt::Again {
                why: Retry::new(&format!("GitHub answered {status}"), error),
                wait: Some(wait),
            },
        }
    }

    fn transport(&self, call: &Call, source: reqwest::Error) -> Error {
        Error::Transport {
            call: Box::new(call.clone()),
            url: self.api.clone(),
            source,
        }
    }

    /// How long to wait before retrying, or `None` when this answer must not
    /// be retried. Retried: 429, 5xx, and 403s that are rate limits.
    fn retry_wait(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        error: &Error,
        attempt: u32,
    ) -> Option<Duration> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let retry_after = relay_http::retry_after(headers);
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
        let secondary = matches!(error, Error::Status { message, .. }
            if message.to_ascii_lowercase().contains("secondary rate limit"));
        let retryable = status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
            || (status == StatusCode::FORBIDDEN
                && (secondary || exhausted || retry_after.is_some()));
        if !retryable {
            return None;
        }
        // The server's word first: retry-after, then the primary limit's reset.
        if let Some(wait) = retry_after {
            return Some(wait);
        }
        if exhausted && let Some(wait) = reset_wait {
            return Some(wait);
        }
        if secondary {
            return Some(self.backoff.delay(attempt).max(self.secondary_min));
        }
        Some(self.backoff.delay(attempt))
    }
}

/// A failed try worth another, with the error to report if none succeeds.
struct Retry {
    why: String,
    error: Error,
}

impl Retry {
    fn new(why: &str, error: Error) -> Self {
        Self {
            why: why.to_owned(),
            error,
        }
    }
}

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
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
                    .map_or_else(|| e.to_string(), str::to_owned),
            })
            .collect();
        if !details.is_empty() {
            msg.push_str(&format!(" ({})", details.join("; ")));
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next_page() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            HeaderValue::from_static(
                "<https://api.github.com/x?page=2>; rel=\"next\", <https://api.github.com/x?page=5>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_link(&headers).unwrap(),
            "https://api.github.com/x?page=2"
        );
    }

    #[test]
    fn error_message_includes_validation_details() {
        let body = br#"{"message":"Invalid request.","errors":["No more than 10 properties are allowed; 11 were supplied."]}"#;
        assert_eq!(
            error_message(body),
            "Invalid request. (No more than 10 properties are allowed; 11 were supplied.)"
        );
    }

    #[test]
    fn the_policy_is_githubs() {
        for attempt in 0..10 {
            let d = BACKOFF.delay(attempt);
            let full = Duration::from_secs(1 << attempt.min(5)).min(Duration::from_secs(30));
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }
}
