//! Runs a hook's command: directly (no shell), in its own process group so a
//! timeout can stop everything it started (`docker compose` children,
//! `sleep`s in a health loop), with stdout and stderr merged into a bounded
//! tail.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// What to run and how long it may take.
pub struct Job {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Env vars the child must not inherit (the secret's, when read from env).
    pub env_remove: Vec<String>,
    pub working_dir: Option<PathBuf>,
    pub timeout: Duration,
    /// After the timeout: SIGTERM, this long to exit, then SIGKILL.
    pub kill_grace: Duration,
    pub output_tail: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    /// Ended by a signal it did not get from us.
    Signal(i32),
    TimedOut,
    /// The program could not be started (missing, not executable).
    NotStarted(String),
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub exit: Exit,
    pub duration: Duration,
    /// The last `output_tail` bytes of stdout and stderr, interleaved as they came.
    pub output: Vec<u8>,
    pub truncated: bool,
}

struct Tail {
    cap: usize,
    bytes: VecDeque<u8>,
    truncated: bool,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend(chunk);
        let excess = self.bytes.len().saturating_sub(self.cap);
        if excess > 0 {
            self.bytes.drain(..excess);
            self.truncated = true;
        }
    }
}

async fn pump(mut from: impl AsyncRead + Unpin, tail: Arc<Mutex<Tail>>) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if let Ok(mut t) = tail.lock() {
            t.push(&buf[..n]);
        }
    }
}

/// How long output may keep flowing after the command exits: a background
/// child that kept the pipes open must not hold the answer hostage.
const DRAIN: Duration = Duration::from_secs(2);

pub async fn run(job: Job) -> Outcome {
    let started = Instant::now();
    let mut command = Command::new(&job.program);
    command
        .args(&job.args)
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for name in &job.env_remove {
        command.env_remove(name);
    }
    if let Some(dir) = &job.working_dir {
        command.current_dir(dir);
    }
    let tail = Arc::new(Mutex::new(Tail {
        cap: job.output_tail,
        bytes: VecDeque::new(),
        truncated: false,
    }));
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Outcome {
                exit: Exit::NotStarted(format!("couldn't start `{}`: {e}", job.program)),
                duration: started.elapsed(),
                output: Vec::new(),
                truncated: false,
            };
        }
    };
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let mut pumps = Vec::new();
    if let Some(out) = child.stdout.take() {
        pumps.push(tokio::spawn(pump(out, tail.clone())));
    }
    if let Some(err) = child.stderr.take() {
        pumps.push(tokio::spawn(pump(err, tail.clone())));
    }

    let exit = match tokio::time::timeout(job.timeout, child.wait()).await {
        Ok(Ok(status)) => exit_of(status),
        Ok(Err(e)) => Exit::NotStarted(format!("couldn't wait for `{}`: {e}", job.program)),
        Err(_) => {
            if let Some(pgid) = pgid {
                stop_group(&mut child, pgid, job.kill_grace).await;
            }
            Exit::TimedOut
        }
    };
    let drain = async {
        for pump in pumps {
            let _ = pump.await;
        }
    };
    let _ = tokio::time::timeout(DRAIN, drain).await;
    let (output, truncated) = match tail.lock() {
        Ok(t) => (t.bytes.iter().copied().collect(), t.truncated),
        Err(_) => (Vec::new(), false),
    };
    Outcome {
        exit,
        duration: started.elapsed(),
        output,
        truncated,
    }
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(-1),
    }
}

/// SIGTERM to the whole group, up to `grace` for it to empty, then SIGKILL
/// to whatever is left — including grandchildren that outlived the leader.
async fn stop_group(child: &mut tokio::process::Child, pgid: Pid, grace: Duration) {
    let _ = killpg(pgid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    loop {
        // Reap the leader so it does not linger as a zombie member of the group.
        let _ = child.try_wait();
        if killpg(pgid, None).is_err() || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = killpg(pgid, Signal::SIGKILL);
    let _ = child.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(script: &str, timeout: Duration) -> Job {
        Job {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("GREETING".into(), "hi".into())],
            env_remove: vec![],
            working_dir: None,
            timeout,
            kill_grace: Duration::from_millis(300),
            output_tail: 64,
        }
    }

    #[tokio::test]
    async fn exit_codes_and_merged_output() {
        let out = run(job(
            "echo $GREETING; echo oops >&2; exit 3",
            Duration::from_secs(10),
        ))
        .await;
        assert_eq!(out.exit, Exit::Code(3));
        let text = String::from_utf8(out.output).unwrap();
        assert!(text.contains("hi\n") && text.contains("oops\n"), "{text}");
    }

    #[tokio::test]
    async fn tail_keeps_the_end() {
        let out = run(job("seq 1 1000", Duration::from_secs(10))).await;
        assert!(out.truncated);
        assert_eq!(out.output.len(), 64);
        assert!(
            String::from_utf8(out.output)
                .unwrap()
                .ends_with("999\n1000\n")
        );
    }

    #[tokio::test]
    async fn timeout_kills_a_stubborn_group() {
        // The leader ignores TERM, so only the SIGKILL after the grace ends it.
        let out = run(job(
            "trap '' TERM; sleep 30 & sleep 30",
            Duration::from_millis(200),
        ))
        .await;
        assert_eq!(out.exit, Exit::TimedOut);
        assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
    }

    #[tokio::test]
    async fn missing_program_is_reported() {
        let mut j = job("", Duration::from_secs(1));
        j.program = "/nonexistent/deploy.sh".into();
        assert!(
            matches!(run(j).await.exit, Exit::NotStarted(m) if m.contains("/nonexistent/deploy.sh"))
        );
    }
}
