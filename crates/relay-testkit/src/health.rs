//! A scriptable service to health-check: each path behaves as told (up,
//! dies after n requests, flaky every k-th, slow, a chosen JSON body, a
//! dropped connection), over HTTP or HTTPS, and every request's arrival
//! time is recorded so tests and benchmarks can measure the prober's
//! schedule from the outside.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// How one path answers.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// 200 `{"status":"UP"}` every time.
    Up,
    /// 200 for the first `n` requests, then 503 for good.
    DiesAfter(usize),
    /// Every `k`-th request (k, 2k, …) gets 500, the rest 200.
    FlakyEvery(usize),
    /// 200 after this delay.
    Slow(Duration),
    /// This status and JSON body every time.
    Json(u16, Value),
    /// Closes the connection without answering.
    Drop,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Behavior>,
    hits: HashMap<String, Vec<Instant>>,
}

/// A running service. Stops when dropped.
pub struct HealthService {
    base: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HealthService {
    /// Starts it over plain HTTP.
    pub fn start() -> Self {
        Self::spawn(None)
    }

    /// HTTPS with the given server config (e.g. [`crate::tls::TestCa`]'s).
    pub fn start_tls(config: Arc<rustls::ServerConfig>) -> Self {
        Self::spawn(Some(tokio_rustls::TlsAcceptor::from(config)))
    }

    /// A URL on 127.0.0.1 where nothing listens: connections are refused.
    pub fn refused_url(path: &str) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        format!("http://{addr}{path}")
    }

    fn spawn(tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let scheme = if tls.is_some() { "https" } else { "http" };
                let addr = listener.local_addr().expect("addr");
                url_tx.send(format!("{scheme}://{addr}")).expect("url");
                loop {
                    let (stream, _) = tokio::select! {
                        accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                        _ = &mut stop_rx => break,
                    };
                    // Answer each request as soon as it is parsed; Nagle
                    // would add up to 40 ms to small answers.
                    let _ = stream.set_nodelay(true);
                    let state = shared.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        let service =
                            hyper::service::service_fn(move |req| handle(state.clone(), req));
                        let builder = hyper::server::conn::http1::Builder::new();
                        match tls {
                            Some(acceptor) => {
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    let _ = builder
                                        .serve_connection(TokioIo::new(stream), service)
                                        .await;
                                }
                            }
                            None => {
                                let _ = builder
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            }
                        }
                    });
                }
            });
        });
        let base = url_rx.recv().expect("health service started");
        Self {
            base,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Scripts `path`; unscripted paths answer 404.
    pub fn route(&self, path: &str, behavior: Behavior) -> &Self {
        self.state().routes.insert(path.to_owned(), behavior);
        self
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// When each request for `path` arrived, in order.
    pub fn hits(&self, path: &str) -> Vec<Instant> {
        self.state().hits.get(path).cloned().unwrap_or_default()
    }

    /// Requests for any path.
    pub fn total_hits(&self) -> usize {
        self.state().hits.values().map(Vec::len).sum()
    }
}

impl Drop for HealthService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let at = Instant::now();
    let path = req.uri().path().to_owned();
    let (behavior, n) = {
        let mut s = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let hits = s.hits.entry(path.clone()).or_default();
        hits.push(at);
        let n = hits.len();
        (s.routes.get(&path).cloned(), n)
    };
    let up = json!({"status": "UP"});
    Ok(match behavior {
        None => answer(404, &json!({"message": "Not Found"})),
        Some(Behavior::DiesAfter(alive)) if n <= alive => answer(200, &up),
        Some(Behavior::DiesAfter(_)) => answer(503, &json!({"status": "DOWN"})),
        Some(Behavior::FlakyEvery(k)) if k > 0 && n % k == 0 => {
            answer(500, &json!({"status": "DOWN"}))
        }
        Some(Behavior::Up | Behavior::FlakyEvery(_)) => answer(200, &up),
        Some(Behavior::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            answer(200, &up)
        }
        Some(Behavior::Json(status, body)) => answer(status, &body),
        // An error from the service makes hyper close the connection unanswered.
        Some(Behavior::Drop) => return Err(std::io::Error::other("scripted drop")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str) -> Result<u16, reqwest::Error> {
        Ok(reqwest::get(url).await?.status().as_u16())
    }

    #[tokio::test]
    async fn paths_behave_as_scripted() {
        let s = HealthService::start();
        s.route("/up", Behavior::Up)
            .route("/dies", Behavior::DiesAfter(2))
            .route("/flaky", Behavior::FlakyEvery(3))
            .route("/json", Behavior::Json(418, json!({"a": 1})))
            .route("/drop", Behavior::Drop)
            .route("/slow", Behavior::Slow(Duration::from_millis(150)));
        assert_eq!(get(&s.url("/up")).await.unwrap(), 200);
        let mut dies = Vec::new();
        for _ in 0..4 {
            dies.push(get(&s.url("/dies")).await.unwrap());
        }
        assert_eq!(dies, [200, 200, 503, 503]);
        let mut flaky = Vec::new();
        for _ in 0..6 {
            flaky.push(get(&s.url("/flaky")).await.unwrap());
        }
        assert_eq!(flaky, [200, 200, 500, 200, 200, 500]);
        let body: Value = reqwest::get(s.url("/json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body, json!({"a": 1}));
        assert!(get(&s.url("/drop")).await.is_err());
        let t = Instant::now();
        assert_eq!(get(&s.url("/slow")).await.unwrap(), 200);
        assert!(t.elapsed() >= Duration::from_millis(150));
        assert_eq!(get(&s.url("/nope")).await.unwrap(), 404);
        assert_eq!(s.hits("/flaky").len(), 6);
        assert!(s.hits("/flaky").windows(2).all(|w| w[0] <= w[1]));
        assert!(
            get(&HealthService::refused_url("/x"))
                .await
                .unwrap_err()
                .is_connect()
        );
    }
}
