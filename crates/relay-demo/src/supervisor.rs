//! The demo's supervisor: it owns the demo service as docker owns a
//! container, so the deploy script asks it to restart the service
//! (`POST /restart`, bearer token) instead of starting the service itself.
//! The service is therefore never a child of the deploy, and the
//! receiver's rule — kill whatever a deploy leaves running — holds.
//!
//! One thread owns the child process and the listening socket it hands to
//! each start (see [`crate::service`]); the control endpoint talks to that
//! thread. Stopping the supervisor (or dropping it) stops the service.

use std::fs::OpenOptions;
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use crate::service::{self, Release};

/// How long a stopping service gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// One start of the service.
#[derive(Debug, Clone)]
pub struct Start {
    /// Since the supervisor started.
    pub at: Duration,
    pub release: Option<Release>,
    pub pid: u32,
}

enum Cmd {
    Restart(mpsc::Sender<Result<String, String>>),
    Stop(mpsc::Sender<()>),
}

/// A running supervisor.
pub struct Supervisor {
    tx: mpsc::Sender<Cmd>,
    thread: Option<std::thread::JoinHandle<()>>,
    service_url: String,
    control_url: String,
    token: String,
    history: Arc<Mutex<Vec<Start>>>,
    stop_control: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Supervisor {
    /// Binds the service's port and the control endpoint; runs `program
    /// service <current>` on each restart, its output appended to `log`.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        program: PathBuf,
        current: PathBuf,
        log: PathBuf,
        token: String,
    ) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind("127.0.0.1:0").context("couldn't bind the service port")?;
        let service_url = format!("http://{}", listener.local_addr()?);
        let history: Arc<Mutex<Vec<Start>>> = Arc::default();
        let (tx, rx) = mpsc::channel();
        let owner = Owner {
            listener,
            program,
            current,
            log,
            child: None,
            started: Instant::now(),
            history: history.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("demo-supervisor".into())
            .spawn(move || owner.serve(&rx))?;

        let control = std::net::TcpListener::bind("127.0.0.1:0")?;
        control.set_nonblocking(true)?;
        let control_url = format!("http://{}", control.local_addr()?);
        let app = Router::new()
            .route("/restart", post(restart))
            .with_state(Control {
                tx: tx.clone(),
                token: token.clone(),
            });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let _guard = runtime.enter();
        let control = tokio::net::TcpListener::from_std(control)?;
        runtime.spawn(async move {
            let _ = axum::serve(control, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
        });
        Ok(Self {
            tx,
            thread: Some(thread),
            service_url,
            control_url,
            token,
            history,
            stop_control: Some(stop_tx),
        })
    }

    /// Where the service answers (the same across restarts).
    pub fn service_url(&self) -> &str {
        &self.service_url
    }

    /// Where the deploy script asks for a restart.
    pub fn control_url(&self) -> &str {
        &self.control_url
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Every start so far, oldest first.
    pub fn history(&self) -> Vec<Start> {
        self.history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A handle that stops the service from elsewhere (a signal handler).
    pub fn stopper(&self) -> Stopper {
        Stopper(self.tx.clone())
    }

    /// Stops the service and the supervisor; safe to call twice.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop_control.take() {
            let _ = stop.send(());
        }
        let (done_tx, done_rx) = mpsc::channel();
        if self.tx.send(Cmd::Stop(done_tx)).is_ok() {
            let _ = done_rx.recv_timeout(STOP_GRACE + Duration::from_secs(5));
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Stops the service; see [`Supervisor::stopper`].
pub struct Stopper(mpsc::Sender<Cmd>);

impl Stopper {
    pub fn stop(&self) {
        let (done_tx, done_rx) = mpsc::channel();
        if self.0.send(Cmd::Stop(done_tx)).is_ok() {
            let _ = done_rx.recv_timeout(STOP_GRACE + Duration::from_secs(5));
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The thread that owns the service process.
struct Owner {
    listener: TcpListener,
    program: PathBuf,
    current: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    started: Instant,
    history: Arc<Mutex<Vec<Start>>>,
}

impl Owner {
    fn serve(mut self, rx: &mpsc::Receiver<Cmd>) {
        while let Ok(cmd) = rx.recv() {
            match cmd {
                Cmd::Restart(reply) => {
                    let _ = reply.send(self.restart());
                }
                Cmd::Stop(done) => {
                    self.stop_child();
                    let _ = done.send(());
                    return;
                }
            }
        }
        self.stop_child();
    }

    fn restart(&mut self) -> Result<String, String> {
        self.stop_child();
        let release = Release::read(&self.current).ok();
        let child = self
            .spawn()
            .map_err(|e| format!("couldn't start the service: {e:#}"))?;
        let pid = child.id();
        self.child = Some(child);
        self.history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Start {
                at: self.started.elapsed(),
                release: release.clone(),
                pid,
            });
        Ok(match release {
            Some(r) => format!("supervisor: release {} started (pid {pid})", r.number),
            None => format!("supervisor: service started (pid {pid}) without a release.json"),
        })
    }

    fn spawn(&self) -> anyhow::Result<Child> {
        let socket: OwnedFd = self.listener.try_clone()?.into();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("couldn't open `{}`", self.log.display()))?;
        let child = Command::new(&self.program)
            .arg(service::MODE)
            .arg(&self.current)
            .stdin(Stdio::from(socket))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("couldn't run `{}`", self.program.display()))?;
        Ok(child)
    }

    fn stop_child(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[derive(Clone)]
struct Control {
    tx: mpsc::Sender<Cmd>,
    token: String,
}

async fn restart(State(c): State<Control>, headers: HeaderMap) -> (StatusCode, String) {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given != Some(c.token.as_str()) {
        return (StatusCode::UNAUTHORIZED, "unauthorized\n".into());
    }
    let answer = tokio::task::spawn_blocking(move || {
        let (reply_tx, reply_rx) = mpsc::channel();
        c.tx.send(Cmd::Restart(reply_tx))
            .map_err(|_| "the supervisor has stopped".to_owned())?;
        reply_rx
            .recv()
            .map_err(|_| "the supervisor has stopped".to_owned())?
    })
    .await
    .unwrap_or_else(|e| Err(format!("restart failed: {e}")));
    match answer {
        Ok(text) => (StatusCode::OK, format!("{text}\n")),
        Err(text) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{text}\n")),
    }
}

impl Supervisor {
    /// The release the service answers with (`/api/version`); `None` when
    /// it was never started (the port is held for it, so a connection would
    /// only wait) or does not answer.
    pub fn served(&self) -> Option<(u64, String)> {
        if self.history().is_empty() {
            return None;
        }
        served_release(&self.service_url)
    }
}

fn served_release(service_url: &str) -> Option<(u64, String)> {
    let body = http_get(service_url, "/api/version").ok()?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    Some((v["release"].as_u64()?, v["sha"].as_str()?.to_owned()))
}

/// A plain HTTP/1.1 GET on loopback; the body of a 2xx answer.
fn http_get(base: &str, path: &str) -> std::io::Result<String> {
    use std::io::{Read as _, Write as _};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    stream.take(1 << 20).read_to_string(&mut text)?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if !head.starts_with("HTTP/1.1 2") {
        return Err(std::io::Error::other(format!(
            "`{path}` answered `{}`",
            head.lines().next().unwrap_or_default()
        )));
    }
    Ok(body.to_owned())
}
