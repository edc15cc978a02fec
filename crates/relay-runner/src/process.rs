//! A step's process: started, read to its end, and — when the run is
//! cancelled while it runs — stopped the way the runner stops it.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// How long the runner waits after `SIGINT`, then after `SIGTERM`, before
/// it kills the process tree: "If the process doesn't exit within 7500 ms,
/// the runner will send SIGTERM/Ctrl-Break to the process, then wait for
/// 2500 ms for the process to exit. If the process is still running, the
/// runner kills the process tree."
/// <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-cancellation>
const AFTER_SIGINT: Duration = Duration::from_millis(7500);
const AFTER_SIGTERM: Duration = Duration::from_millis(2500);

/// What a step's process did.
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The cancellation reached it while it ran.
    pub interrupted: bool,
}

/// A step's process, started.
pub(crate) struct Running {
    child: Child,
    stdout: thread::JoinHandle<String>,
    stderr: thread::JoinHandle<String>,
}

/// Starts `cmd` in a process group of its own, its output read as it
/// comes.
pub(crate) fn start(mut cmd: Command) -> Result<Running, String> {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("couldn't start a step: {e}"))?;
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    Ok(Running {
        child,
        stdout,
        stderr,
    })
}

impl Running {
    /// Waits for the process to end. With `interrupt_after`, the step is
    /// cancelled that long from now if still running: `SIGINT` to its entry
    /// process, then `SIGTERM`, then `SIGKILL` to its whole process group.
    pub(crate) fn finish(mut self, interrupt_after: Option<Duration>) -> Result<Finished, String> {
        let child = &mut self.child;
        let mut interrupted = false;
        let status = match interrupt_after {
            None => child
                .wait()
                .map_err(|e| format!("couldn't wait for a step: {e}"))?,
            Some(after) => {
                if let Some(status) = wait_for(child, after)? {
                    status
                } else {
                    interrupted = true;
                    let status = stop(child)?;
                    // What the step left behind in its group goes too, as
                    // the runner cleans up orphan processes when a job ends.
                    if let Ok(pid) = i32::try_from(child.id()) {
                        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                    }
                    status
                }
            }
        };
        Ok(Finished {
            status,
            stdout: self.stdout.join().unwrap_or_default(),
            stderr: self.stderr.join().unwrap_or_default(),
            interrupted,
        })
    }
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The child's exit status if it ends within `limit`.
fn wait_for(child: &mut Child, limit: Duration) -> Result<Option<ExitStatus>, String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| format!("couldn't wait for a step: {e}"))?
        {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn stop(child: &mut Child) -> Result<ExitStatus, String> {
    let pid = Pid::from_raw(i32::try_from(child.id()).map_err(|e| e.to_string())?);
    let _ = kill(pid, Signal::SIGINT);
    if let Some(status) = wait_for(child, AFTER_SIGINT)? {
        return Ok(status);
    }
    let _ = kill(pid, Signal::SIGTERM);
    if let Some(status) = wait_for(child, AFTER_SIGTERM)? {
        return Ok(status);
    }
    // The group is the child's own (`process_group(0)`), so this is its tree.
    let _ = killpg(pid, Signal::SIGKILL);
    child
        .wait()
        .map_err(|e| format!("couldn't wait for a step: {e}"))
}
