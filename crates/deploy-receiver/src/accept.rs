//! The accept loop: each connection admitted (or turned away) by
//! [`crate::admission`], served over plain HTTP or rustls, HTTP/1.1; and a
//! graceful shutdown that stops accepting, lets in-flight requests answer,
//! and waits for every running deploy before returning.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use http::{HeaderValue, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::{debug, info, warn};

use crate::admission::{Pressure, Refusal, Ticket};
use crate::app::App;
use crate::routes::Peer;

/// Slow clients get this long to send their headers (each request's, idle
/// keep-alive included) or finish a handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// hyper's per-connection read buffer at most (and so the largest request
/// head); bytes beyond it wait in the kernel until the body is read, which
/// the shared budget paces.
const READ_BUFFER: usize = 16 * 1024;

/// Connections turned away that get a proper 503 at the same time; beyond
/// these (a flood) they are closed unanswered.
const REFUSERS: usize = 64;
/// A turned-away client gets this long to send its request head.
const REFUSER_TIMEOUT: Duration = Duration::from_secs(2);

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let router = app.router();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    let refusers = Arc::new(Semaphore::new(REFUSERS));
    let mut report = tokio::time::interval(PRESSURE_REPORT);
    let mut reported = app.admission.pressure();
    loop {
        let (stream, addr) = tokio::select! {
            _ = report.tick() => {
                reported = report_pressure(&app, reported);
                continue;
            }
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ticket = match app.admission.admit(addr.ip()) {
            Ok(ticket) => Arc::new(ticket),
            Err(refusal) => {
                debug!(peer = %addr, ?refusal, "connection turned away");
                if let Ok(permit) = refusers.clone().try_acquire_owned() {
                    tokio::spawn(turn_away(stream, tls.clone(), refusal, permit));
                }
                continue;
            }
        };
        let connection = Connection {
            router: router.clone(),
            ticket,
            peer: Peer(addr),
            watcher: graceful.watcher(),
        };
        tokio::spawn(connection.run(stream, tls.clone()));
    }
    drop(listener);
    // Requests not yet authenticated are answered 503 now, idle connections
    // closed: only deploys are worth waiting for.
    app.admission.evict_unauthenticated();
    info!(
        running = app.deploys.len(),
        "shutting down: no new connections; waiting for requests and deploys"
    );
    graceful.shutdown().await;
    app.deploys.close();
    app.deploys.wait().await;
    info!("shut down");
    Ok(())
}

/// How often pressure from unauthenticated clients is summed up in the log.
const PRESSURE_REPORT: Duration = Duration::from_secs(10);

/// One warning per period in which connections were evicted or turned
/// away, rather than one line per connection of a flood.
fn report_pressure(app: &App, before: Pressure) -> Pressure {
    let now = app.admission.pressure();
    if now.evictions > before.evictions || now.turned_away > before.turned_away {
        warn!(
            evicted = now.evictions - before.evictions,
            turned_away = now.turned_away - before.turned_away,
            connections = now.connections,
            unauthenticated_bytes = now.held,
            "under pressure from unauthenticated clients"
        );
    }
    now
}

/// Answers the one request of a connection that was not admitted with a
/// 503 (no `exit_code`, `Retry-After`: a sender may retry it), then closes.
async fn turn_away(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    refusal: Refusal,
    _permit: OwnedSemaphorePermit,
) {
    let text = match refusal {
        Refusal::PerPeer => "too many connections from your address; try again later",
        Refusal::Full => "every connection slot holds a running deploy; try again later",
    };
    let service = hyper::service::service_fn(move |_request: http::Request<Incoming>| {
        let mut response = crate::body::busy(text);
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        std::future::ready(Ok::<_, Infallible>(response))
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(REFUSER_TIMEOUT)
        .keep_alive(false)
        .max_buf_size(8192);
    let answer = async {
        match tls {
            None => {
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            }
            Some(acceptor) => {
                if let Ok(stream) = acceptor.accept(stream).await {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        }
    };
    let _ = tokio::time::timeout(REFUSER_TIMEOUT * 2, answer).await;
}

struct Connection {
    router: Router,
    ticket: Arc<Ticket>,
    peer: Peer,
    watcher: Watcher,
}

/// Marks the connection idle when a request's answer is ready, however the
/// request ends.
struct EndRequest(Arc<Ticket>);

impl Drop for EndRequest {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

impl Connection {
    async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        let Some(acceptor) = tls else {
            return self.serve(stream).await;
        };
        let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
        let stream = tokio::select! {
            done = handshake => match done {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    debug!(peer = %self.peer.0, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            },
            () = self.ticket.evicted() => return,
        };
        self.serve(stream).await;
    }

    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (router, peer) = (self.router, self.peer);
        let ticket = self.ticket.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            ticket.begin_request();
            let end = EndRequest(ticket.clone());
            request.extensions_mut().insert(peer);
            request.extensions_mut().insert(ticket.clone());
            let call = router.clone().oneshot(request);
            let ticket = ticket.clone();
            async move {
                let mut response = call.await?;
                // An evicted connection carries no further request.
                if ticket.is_evicted() {
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                drop(end);
                Ok::<_, Infallible>(response)
            }
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(HANDSHAKE_TIMEOUT)
            .max_buf_size(READ_BUFFER);
        let conn = self
            .watcher
            .watch(builder.serve_connection(TokioIo::new(io), service));
        tokio::pin!(conn);
        let evicted = self.ticket.evicted();
        tokio::pin!(evicted);
        let mut draining = false;
        loop {
            tokio::select! {
                result = &mut conn => {
                    if let Err(e) = result {
                        debug!(peer = %peer.0, error = %e, "connection ended with an error");
                    }
                    return;
                }
                // Idle: close now. In a request: its answer closes the connection.
                () = &mut evicted, if !draining => {
                    if !self.ticket.is_busy() {
                        return;
                    }
                    draining = true;
                }
            }
        }
    }
}
