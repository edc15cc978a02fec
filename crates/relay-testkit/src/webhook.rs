//! A webhook endpoint for tests: records every request with its raw body
//! and answers from a script (status, body, delay, dropped connection), over
//! HTTP or HTTPS. A scripted body or header value may say
//! [`DELIVERY_ID`]: it is replaced by the request's `X-Deploy-Delivery`, so
//! a script can answer like deploy-receiver's async mode
//! (`202 {"status_path": "/deploy/deliveries/{delivery_id}", …}`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

/// Replaced, in scripted bodies and header values, by the request's
/// `X-Deploy-Delivery` header.
pub const DELIVERY_ID: &str = "{delivery_id}";

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The headers, names lower-case (the last of a repeated one).
    pub headers: BTreeMap<String, String>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
    /// Headers after `content-type: application/json`; [`DELIVERY_ID`] in a
    /// value is replaced.
    pub headers: Vec<(String, String)>,
    /// How long to wait before answering.
    pub delay: Duration,
    /// Close the connection without answering.
    pub drop: bool,
}

impl Reply {
    /// An answer with `status` and an empty body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            body: String::new(),
            headers: Vec::new(),
            delay: Duration::ZERO,
            drop: false,
        }
    }
    /// With this body.
    pub fn body(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }
    /// With this header too.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Sent after `delay`.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
    /// No answer: the connection is closed.
    pub fn dropped() -> Self {
        Self {
            drop: true,
            ..Self::status(0)
        }
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    received: Vec<Received>,
}

/// A running endpoint. Stops when dropped.
pub struct Sink {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sink {
    /// Starts it over plain HTTP.
    pub fn start() -> Self {
        Self::spawn(None)
    }

    /// Starts it over HTTPS with `config` (e.g. [`crate::tls::TestCa`]'s).
    pub fn start_tls(config: Arc<rustls::ServerConfig>) -> Self {
        Self::spawn(Some(tokio_rustls::TlsAcceptor::from(config)))
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
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let scheme = if tls.is_some() { "https" } else { "http" };
                url_tx.send(format!("{scheme}://{}", listener.local_addr().expect("addr"))).expect("url");
                loop {
                    let (stream, _) = tokio::select! {
                        accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                        _ = &mut stop_rx => break,
                    };
                    let state = shared.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                        let builder = hyper::server::conn::http1::Builder::new();
                        match tls {
                            Some(acceptor) => {
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                                }
                            }
                            None => {
                                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    });
                }
            });
        });
        let url = url_rx.recv().expect("sink started");
        Self {
            url,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers the next requests with these, in order; then 200 `{"status":"ok"}`.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) -> &Self {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .script
            .extend(replies);
        self
    }

    /// Every request so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .received
            .clone()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let delivery = parts
        .headers
        .get("x-deploy-delivery")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let reply = {
        let mut s = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.received.push(Received {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        v.to_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            body: body.to_vec(),
            at: Instant::now(),
        });
        s.script.pop_front()
    };
    let reply = reply.unwrap_or_else(|| Reply::status(200).body(r#"{"status":"ok"}"#));
    tokio::time::sleep(reply.delay).await;
    if reply.drop {
        // An error from the service makes hyper close the connection unanswered.
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "scripted drop",
        ));
    }
    let mut resp = Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json");
    for (k, v) in &reply.headers {
        resp = resp.header(k, v.replace(DELIVERY_ID, &delivery));
    }
    Ok(resp
        .body(Full::new(Bytes::from(
            reply.body.replace(DELIVERY_ID, &delivery),
        )))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}
