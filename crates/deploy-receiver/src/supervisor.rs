//! The per-deploy supervisor: `deploy-receiver` re-executed in a hidden mode
//! between the receiver and the hook's command.
//!
//! It makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`), so every
//! process the command starts — a `setsid` child that left the process
//! group, a double-forked daemon — is re-parented to it rather than to init
//! when its parent exits. It can therefore always find (through `/proc`)
//! and kill the whole tree: on timeout, and after a normal exit unless the
//! hook keeps its children. No cgroups are needed, so this works under the
//! hardened unit (`ProtectControlGroups`, `NoNewPrivileges`). The receiver's
//! own child reaping (tokio's) only ever sees the supervisor.
//!
//! Wire protocol with the receiver: arguments
//! `__supervise --timeout-ms N --grace-ms N [--keep-children] [--dir D] -- PROGRAM ARGS...`;
//! the command's stdout and stderr both go to the supervisor's stderr (one
//! pipe, in order); the supervisor's stdout carries one JSON [`Report`],
//! which nothing the command starts can write to.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io::Write as _;
use std::os::fd::AsFd as _;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// The hidden first argument that selects supervisor mode.
pub const MODE: &str = "__supervise";

/// What the supervisor tells the receiver when the deploy is over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Report {
    pub exit: ReportExit,
    /// Processes still running after the command ended that were killed.
    pub leftovers_killed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum ReportExit {
    Code { code: i32 },
    Signal { signal: i32 },
    TimedOut,
    NotStarted { message: String },
}

/// The supervisor's arguments (after [`MODE`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub timeout: Duration,
    pub grace: Duration,
    pub keep_children: bool,
    pub dir: Option<PathBuf>,
    pub program: OsString,
    pub args: Vec<OsString>,
}

impl Plan {
    /// The arguments that [`Plan::parse`] reads back.
    pub(crate) fn to_args(&self) -> Vec<OsString> {
        let mut out: Vec<OsString> = vec![
            MODE.into(),
            "--timeout-ms".into(),
            self.timeout.as_millis().to_string().into(),
            "--grace-ms".into(),
            self.grace.as_millis().to_string().into(),
        ];
        if self.keep_children {
            out.push("--keep-children".into());
        }
        if let Some(dir) = &self.dir {
            out.push("--dir".into());
            out.push(dir.clone().into_os_string());
        }
        out.push("--".into());
        out.push(self.program.clone());
        out.extend(self.args.iter().cloned());
        out
    }

    pub(crate) fn parse(args: &[OsString]) -> Option<Self> {
        let mut it = args.iter();
        let mut plan = Plan {
            timeout: Duration::ZERO,
            grace: Duration::ZERO,
            keep_children: false,
            dir: None,
            program: OsString::new(),
            args: Vec::new(),
        };
        let millis = |v: Option<&OsString>| {
            v.and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        loop {
            match it.next()?.to_str() {
                Some("--timeout-ms") => plan.timeout = millis(it.next())?,
                Some("--grace-ms") => plan.grace = millis(it.next())?,
                Some("--keep-children") => plan.keep_children = true,
                Some("--dir") => plan.dir = Some(PathBuf::from(it.next()?)),
                Some("--") => break,
                _ => return None,
            }
        }
        plan.program.clone_from(it.next()?);
        plan.args = it.cloned().collect();
        Some(plan)
    }
}

/// Supervisor mode's `main`: `args` are those after [`MODE`].
pub(crate) fn main(args: &[OsString]) -> ExitCode {
    let Some(plan) = Plan::parse(args) else {
        eprintln!("deploy-receiver: `{MODE}` is for the receiver's own use");
        return ExitCode::from(2);
    };
    let report = supervise(&plan);
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &report)
        .ok()
        .and_then(|()| out.write_all(b"\n").ok());
    if written.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn supervise(plan: &Plan) -> Report {
    let not_started = |message: String| Report {
        exit: ReportExit::NotStarted { message },
        leftovers_killed: 0,
    };
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        return not_started(format!("couldn't become a child subreaper: {e}"));
    }
    // The command's stdout joins its stderr, so the supervisor's own stdout
    // stays a channel only the supervisor writes to.
    let stdout = match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => Stdio::from(fd),
        Err(e) => return not_started(format!("couldn't set up the output pipe: {e}")),
    };
    let mut command = std::process::Command::new(&plan.program);
    command
        .args(&plan.args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .process_group(0);
    if let Some(dir) = &plan.dir {
        command.current_dir(dir);
    }
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return not_started(format!(
                "couldn't start `{}`: {e}",
                plan.program.to_string_lossy()
            ));
        }
    };
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    // Reaped below with waitpid; std's handle is never waited on.
    drop(child);
    let me = Pid::this();
    let Some(exit) = wait_for(pid, Instant::now() + plan.timeout) else {
        let killed = stop_tree(me, plan.grace);
        return Report {
            exit: ReportExit::TimedOut,
            leftovers_killed: killed.saturating_sub(1),
        };
    };
    reap_all();
    let leftovers_killed = if plan.keep_children || descendants(me).is_empty() {
        0
    } else {
        stop_tree(me, plan.grace)
    };
    Report {
        exit,
        leftovers_killed,
    }
}

/// Waits for `pid` until `deadline`, reaping orphans re-parented to us on
/// the way; `None` on timeout.
fn wait_for(pid: Pid, deadline: Instant) -> Option<ReportExit> {
    let mut pause = Duration::from_millis(5);
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(p, code)) if p == pid => {
                return Some(ReportExit::Code { code });
            }
            Ok(WaitStatus::Signaled(p, signal, _)) if p == pid => {
                return Some(ReportExit::Signal {
                    signal: signal as i32,
                });
            }
            Ok(WaitStatus::StillAlive) => {
                if Instant::now() >= deadline {
                    return None;
                }
                std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            // An orphan reaped, or a stop/continue: keep waiting.
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => {
                return Some(ReportExit::NotStarted {
                    message: format!("lost track of the command: {e}"),
                });
            }
        }
    }
}

/// Reaps every child that has exited.
fn reap_all() {
    while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// SIGTERM to every descendant, `grace` for them to exit, then SIGKILL
/// until none is left (a process forking meanwhile is caught by the next
/// pass: its parent's death re-parents it to us). Returns how many
/// processes were signalled.
fn stop_tree(me: Pid, grace: Duration) -> usize {
    let mut signalled = HashSet::new();
    for pid in descendants(me) {
        if kill(pid, Signal::SIGTERM).is_ok() {
            signalled.insert(pid);
        }
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        reap_all();
        if descendants(me).is_empty() {
            return signalled.len();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        reap_all();
        let left = descendants(me);
        if left.is_empty() || Instant::now() >= give_up {
            break;
        }
        for pid in left {
            if kill(pid, Signal::SIGKILL).is_ok() {
                signalled.insert(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    signalled.len()
}

/// Every process below `root`, from `/proc/*/stat`.
pub(crate) fn descendants(root: Pid) -> Vec<Pid> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            if let Some(ppid) = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|stat| parent_of(&stat))
            {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = Vec::new();
    let mut queue = vec![root.as_raw()];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            out.push(Pid::from_raw(child));
            queue.push(child);
        }
    }
    out
}

/// The parent pid in a `/proc/PID/stat` line: the second field after the
/// command name, which is in parentheses and may itself hold `)` or spaces.
fn parent_of(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_round_trips() {
        let plan = Plan {
            timeout: Duration::from_mins(10),
            grace: Duration::from_secs(10),
            keep_children: true,
            dir: Some("/opt/deploy".into()),
            program: "/opt/deploy/deploy.sh".into(),
            args: vec!["--".into(), "0123abc".into()],
        };
        let args = plan.to_args();
        assert_eq!(args[0], MODE);
        assert_eq!(Plan::parse(&args[1..]), Some(plan));
        assert_eq!(Plan::parse(&["--timeout-ms".into(), "x".into()]), None);
        assert_eq!(Plan::parse(&["--".into()]), None);
    }

    #[test]
    fn report_is_one_json_line() {
        let r = Report {
            exit: ReportExit::Code { code: 3 },
            leftovers_killed: 2,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"exit":{"kind":"code","code":3},"leftovers_killed":2}"#
        );
        assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), r);
    }

    #[test]
    fn parent_pid_survives_odd_command_names() {
        assert_eq!(parent_of("42 (sh) S 7 42 42 0"), Some(7));
        assert_eq!(parent_of("42 (a) b) c) R 9 1 1"), Some(9));
        assert_eq!(parent_of("garbage"), None);
    }

    #[test]
    fn descendants_of_this_process_include_a_grandchild() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 5 & wait"])
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let found = loop {
            let found = descendants(Pid::this());
            if found.len() >= 2 || Instant::now() > deadline {
                break found;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        child.kill().unwrap();
        let _ = child.wait();
        for pid in &found {
            let _ = kill(*pid, Signal::SIGKILL);
        }
        assert!(found.len() >= 2, "{found:?}");
    }
}
