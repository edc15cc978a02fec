//! Runs a hook's command under its supervisor ([`crate::supervisor`]):
//! directly (no shell), stdout and stderr in one pipe kept as a bounded
//! tail, the whole process tree killed on timeout and — unless the hook
//! keeps its children — after a normal exit.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::supervisor::{Plan, Report, ReportExit};

/// What to run and how long it may take.
pub(crate) struct Job {
    /// The program that runs [`crate::supervisor`] (this binary).
    pub supervisor: PathBuf,
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Env vars the command must not inherit (the secrets', when read from env).
    pub env_remove: Vec<String>,
    pub working_dir: Option<PathBuf>,
    pub timeout: Duration,
    /// After the timeout: SIGTERM, this long to exit, then SIGKILL.
    pub kill_grace: Duration,
    pub keep_children: bool,
    /// Bytes of output to keep: the answer's tail plus room to redact
    /// across its cut.
    pub keep_output: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    Code(i32),
    /// Ended by a signal it did not get from us.
    Signal(i32),
    TimedOut,
    /// The program could not be started (missing, not executable).
    NotStarted(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub exit: Exit,
    pub duration: Duration,
    /// The last `keep_output` bytes of stdout and stderr, in the order written.
    pub output: Vec<u8>,
    /// Output was dropped before `output`.
    pub dropped: bool,
    pub leftovers_killed: usize,
}

/// How long output may keep flowing after the supervisor exits: a child
/// kept with `keep_children` may hold the pipe open.
const DRAIN: Duration = Duration::from_secs(2);
/// Beyond timeout + grace, the supervisor itself is presumed stuck.
const SUPERVISOR_SLACK: Duration = Duration::from_secs(30);

/// The end of the output so far, and whether anything before it was dropped.
#[derive(Default)]
struct Tail {
    bytes: VecDeque<u8>,
    dropped: bool,
}

type SharedTail = Arc<Mutex<Tail>>;

async fn pump(mut from: impl AsyncRead + Unpin, cap: usize, tail: SharedTail) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let mut t = tail.lock().unwrap_or_else(PoisonError::into_inner);
        t.bytes.extend(&buf[..n]);
        let excess = t.bytes.len().saturating_sub(cap);
        if excess > 0 {
            t.bytes.drain(..excess);
            t.dropped = true;
        }
    }
}

pub(crate) async fn run(job: Job) -> Outcome {
    let started = Instant::now();
    let plan = Plan {
        timeout: job.timeout,
        grace: job.kill_grace,
        keep_children: job.keep_children,
        dir: job.working_dir.clone(),
        program: job.program.clone().into(),
        args: job.args.iter().map(Into::into).collect(),
    };
    let mut command = Command::new(&job.supervisor);
    command
        .args(plan.to_args())
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    for name in &job.env_remove {
        command.env_remove(name);
    }
    let not_started = |message: String| Outcome {
        exit: Exit::NotStarted(message),
        duration: started.elapsed(),
        output: Vec::new(),
        dropped: false,
        leftovers_killed: 0,
    };
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return not_started(format!(
                "couldn't start the deploy supervisor `{}`: {e}",
                job.supervisor.display()
            ));
        }
    };
    let (Some(report), Some(output)) = (child.stdout.take(), child.stderr.take()) else {
        return not_started("the deploy supervisor has no pipes".into());
    };
    let shared = SharedTail::default();
    let mut pumping = tokio::spawn(pump(output, job.keep_output, shared.clone()));
    let report = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = report.take(64 * 1024).read_to_end(&mut text).await;
        text
    });
    let limit = job.timeout + job.kill_grace + SUPERVISOR_SLACK;
    let stuck = tokio::time::timeout(limit, child.wait()).await.is_err();
    if stuck {
        let _ = child.kill().await;
    }
    let report = report.await.unwrap_or_default();
    // Whatever arrived by then. A child kept with `keep_children` that
    // still holds the pipe loses it here (its writes fail from now on): it
    // should write to its own log.
    if tokio::time::timeout(DRAIN, &mut pumping).await.is_err() {
        pumping.abort();
    }
    let (output, dropped) = {
        let t = shared.lock().unwrap_or_else(PoisonError::into_inner);
        (t.bytes.iter().copied().collect(), t.dropped)
    };
    let report: Option<Report> = serde_json::from_slice(&report).ok();
    let (exit, leftovers_killed) = match report {
        Some(r) => (
            match r.exit {
                ReportExit::Code { code } => Exit::Code(code),
                ReportExit::Signal { signal } => Exit::Signal(signal),
                ReportExit::TimedOut => Exit::TimedOut,
                ReportExit::NotStarted { message } => Exit::NotStarted(message),
            },
            r.leftovers_killed,
        ),
        None if stuck => (Exit::TimedOut, 0),
        None => (
            Exit::NotStarted("the deploy supervisor ended without a report".into()),
            0,
        ),
    };
    Outcome {
        exit,
        duration: started.elapsed(),
        output,
        dropped,
        leftovers_killed,
    }
}
