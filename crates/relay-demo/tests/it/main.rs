//! The demo end to end, as a user runs it: the real binary, its own
//! processes (actions, the receiver's supervisor, the demo service), the
//! story and each broken link, the report, and what is left running after
//! it exits or is interrupted. No assertion depends on how fast anything
//! ran; the only clock is a generous deadline per run.
#![allow(clippy::unwrap_used)]

mod deploy_sh;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_relay-demo");
/// Far beyond a run's few seconds, for a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(300);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    work: PathBuf,
}

impl Run {
    fn report(&self) -> String {
        std::fs::read_to_string(self.work.join("report.html")).unwrap_or_else(|e| {
            panic!("no report in {}: {e}\n{}", self.work.display(), self.stdout)
        })
    }

    /// Every secret of the run: each VM's receiver key and supervisor
    /// token (the story's VM, and the fleet scene's when it played), and
    /// the demo's GitHub tokens.
    fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = relay_demo::TOKENS.iter().map(|t| (*t).to_owned()).collect();
        let mut vms = vec![self.work.join("vm")];
        if let Ok(fleet) = std::fs::read_dir(self.work.join("fleet")) {
            vms.extend(fleet.map(|e| e.unwrap().path()).filter(|p| p.is_dir()));
        }
        for vm in vms {
            out.push(
                std::fs::read_to_string(vm.join("secret"))
                    .unwrap()
                    .trim()
                    .to_owned(),
            );
            let header = std::fs::read_to_string(vm.join("supervisor-auth")).unwrap();
            out.push(header.trim().rsplit(' ').next().unwrap().to_owned());
        }
        out
    }

    fn assert_no_secret_anywhere(&self) {
        let report = self.report();
        for s in self.secrets() {
            assert!(s.len() > 8, "{s}");
            assert!(
                !self.stdout.contains(&s),
                "a secret in stdout:\n{}",
                self.stdout
            );
            assert!(
                !self.stderr.contains(&s),
                "a secret in stderr:\n{}",
                self.stderr
            );
            assert!(!report.contains(&s), "a secret in the report");
        }
    }

    /// The pids the supervisor started the service with.
    fn service_pids(&self) -> Vec<i32> {
        self.stdout
            .lines()
            .filter_map(|l| l.split("started (pid ").nth(1))
            .filter_map(|rest| rest.split(')').next()?.parse().ok())
            .collect()
    }

    fn failure(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.work.starts_with(std::env::temp_dir()) {
            let _ = std::fs::remove_dir_all(&self.work);
        }
    }
}

fn start(args: &[&str], path: Option<&str>) -> Child {
    let mut c = Command::new(BIN);
    c.args(args).arg("--no-color");
    if let Some(path) = path {
        c.env("PATH", path);
    }
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("start relay-demo")
}

/// Reads the child's output line by line; `on_line` may act on the child
/// (interrupt it); kills it at the deadline.
fn finish(mut child: Child, mut on_line: impl FnMut(&str, u32)) -> Run {
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<Option<String>>();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(Some(line));
        }
        let _ = tx.send(None);
    });
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            s.push_str(&line);
            s.push('\n');
        }
        drop(tx2);
        s
    });
    let deadline = std::time::Instant::now() + DEADLINE;
    let mut stdout = String::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(Some(line)) => {
                on_line(&line, pid);
                stdout.push_str(&line);
                stdout.push('\n');
            }
            Ok(None) => break,
            Err(_) => {
                let _ = child.kill();
                panic!("relay-demo ran past {DEADLINE:?}:\n{stdout}");
            }
        }
    }
    let status = child.wait().unwrap();
    let work = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("work folder"))
        .map(|p| PathBuf::from(p.trim()))
        .unwrap_or_default();
    Run {
        code: status.code(),
        stdout,
        stderr: stderr.join().unwrap(),
        work,
    }
}

fn demo(args: &[&str]) -> Run {
    finish(start(args, None), |_, _| {})
}

fn alive(pid: i32) -> bool {
    // Not a zombie of ours either: the service is the demo's child, reaped by it.
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// The lines of the timeline's release 2, from its header to the next
/// release's or the end state.
fn release_2(stdout: &str) -> &str {
    let from = stdout.find("━━ Release 2").expect("release 2 played");
    let to = stdout
        .find("━━ Release 3")
        .or_else(|| stdout.find("━━ End state"))
        .expect("an end state");
    &stdout[from..to]
}

/// The lines of the timeline's release 3 (built outside CI).
fn release_3(stdout: &str) -> &str {
    let from = stdout.find("━━ Release 3").expect("release 3 played");
    // Up to the queue scene's releases, or the end state.
    let to = stdout
        .find("━━ Release 4")
        .or_else(|| stdout.find("━━ End state"))
        .expect("an end state");
    &stdout[from..to]
}

/// The lines of the fleet scene, from its header to the end state.
fn fleet(stdout: &str) -> &str {
    let from = stdout
        .find("━━ Fleet · examples/fleet")
        .expect("the fleet scene played");
    let to = stdout.find("━━ End state").expect("an end state");
    &stdout[from..to]
}

/// `labels` appear in `text` in this order, each as a step line.
fn in_order(text: &str, labels: &[&str]) {
    let mut at = 0;
    for l in labels {
        let found = text[at..]
            .find(l)
            .unwrap_or_else(|| panic!("`{l}` missing or out of order in:\n{text}"));
        at += found + l.len();
    }
}

#[test]
fn the_story_goes_as_told_and_leaves_nothing_running() {
    let run = demo(&[]);
    assert_eq!(run.code, Some(0), "{}", run.failure());
    let out = &run.stdout;
    assert!(out.contains("✓ served release: release 1 ("), "{out}");
    assert!(out.contains("✓ open issues: 1"), "{out}");
    assert!(
        out.contains("✓ releases the supervisor started: 1, 2, 1"),
        "{out}"
    );
    assert!(out.contains("The story went as expected."), "{out}");
    // The queue scene: a deploy of the api, a deploy of a second app, a
    // rollback of the api by hand and another deploy of it met on
    // production; none was dropped, each ran in the order it came, and the
    // second app went to its own hook and service on the same VM.
    assert!(
        out.contains("✓ runs queued on production, in arrival order: release 4 success · web release 1 success · rollback by hand success · release 5 success"),
        "{out}"
    );
    assert!(
        out.contains("✓ releases the supervisor started while they queued: 4, 1, 5"),
        "{out}"
    );
    assert!(
        out.contains("✓ releases the web's supervisor started: 1"),
        "{out}"
    );
    assert!(
        out.contains("→ dispatched `deploy-web` to xtp-tour/xtp-tour-deploy: examples/platform-repo/.github/workflows/deploy-web.yml takes it"),
        "{out}"
    );
    assert!(out.contains("→ the web answers: web release 1 ("), "{out}");
    // deploy.yml's own sequence for the broken release, as played.
    in_order(
        release_2(out),
        &[
            "✓ relay/relay",
            "✓ check/gate",
            "✓ check/check",
            "✓ verify/verify",
            "✓ verify/provenance",
            "provenance verified · image sha256:",
            "✓ deploy/dry-run",
            "✓ deploy/before",
            "✓ deploy/record",
            "✓ deploy/webhook",
            "! deploy/health",
            "probes failed",
            "✓ deploy/rollback-provenance",
            "✓ deploy/finish",
            "✓ deploy/rollback-record",
            "✓ deploy/rollback",
            "✓ deploy/rollback-finish",
            "✗ deploy/summary",
            "rolled back to",
            "→ the service answers: release 1",
        ],
    );
    // The build attested its image; the good release deployed with its
    // provenance verified against the demo's trust root.
    assert!(
        out.contains("attested by xtp-tour/xtp-tour/.github/workflows/main.yaml@refs/heads/main"),
        "{out}"
    );
    assert!(out.contains("and trust root (verify-provenance"), "{out}");
    assert!(
        out.contains("✓ release 1 deployed with: provenance verified"),
        "{out}"
    );
    // Release 3, built outside CI, is stopped before the webhook.
    in_order(
        release_3(out),
        &[
            "pushed from a laptop, not attested",
            "✓ relay/relay",
            "✓ verify/verify",
            "✗ verify/provenance",
            "provenance missing",
            "· deploy.yml › deploy: skipped",
            "■ the flow stopped at deploy.yml verify/provenance: ",
            "✋ release 3's image was not built by the app's CI (no attestation found",
            "image never pulled",
            "→ the service answers: release 1",
        ],
    );
    assert!(!release_3(out).contains("deploy/webhook"), "{out}");
    for check in [
        "✓ release 3 (built outside CI) stopped at: deploy.yml verify/provenance",
        "✓ release 3's provenance: missing",
        "✓ release 3's deploy call: never made (webhook skipped), image never pulled",
        "✓ release 3's steps went as expected: yes",
    ] {
        assert!(out.contains(check), "`{check}` not in:\n{out}");
    }
    // The fleet scene: examples/fleet's three VMs, the canary first;
    // release 1 reaches all three, release 2 fails the canary's gate, the
    // canary goes back to release 1 and the second wave is never called.
    let scene = fleet(out);
    assert_eq!(run.secrets().len(), relay_demo::TOKENS.len() + 2 * 4);
    in_order(
        scene,
        &[
            "vm-1   wave canary  deploy-receiver http://127.0.0.1:",
            "key DEPLOY_VM_1 (production)",
            "vm-2   wave rest    deploy-receiver http://127.0.0.1:",
            "vm-3   wave rest    deploy-receiver http://127.0.0.1:",
            "beneath the example: the runner skips actions/checkout, so fleet-deploy reads examples/fleet/deploy-relay.fleet.toml as the demo maps it",
            "(10m → 12s, 2m → 2.4s, 30s → 600ms, 5m → 6s)",
            "━━ Fleet · release 1 ·",
            "examples/fleet/.github/workflows/deploy.yml (the dispatch of release 1 again",
            "✓ check/gate",
            "✓ verify/verify",
            "✓ verify/provenance",
            "provenance verified · image sha256:",
            "✓ waves/fleet",
            "vm-1   canary  deployed · health gate passed",
            "vm-2   rest    deployed · health gate passed",
            "vm-3   rest    deployed · health gate passed",
            "→ fleet.yml: every wave passed",
            "→ the VMs answer: vm-1 release 1 (",
            "━━ Fleet · release 2 ·",
            "✓ verify/provenance",
            "✗ waves/fleet",
            "The fleet deploy stopped: wave 1/2 `canary`: health gate failed",
            "vm-1   canary  deployed · health gate failed: ",
            " · rolled back to release 1 (",
            "vm-2   rest    not-called",
            "vm-3   rest    not-called",
            "↺ fleet.yml failure: failed vm-1 · rolled back vm-1 · never called: wave rest · issue https://github.com/xtp-tour/xtp-tour-deploy/issues/",
            "→ the VMs answer: vm-1 release 1 (",
        ],
    );
    let release_2_on_fleet = &scene[scene.find("━━ Fleet · release 2").unwrap()..];
    for never in [
        "vm-2   rest    deployed",
        "vm-3   rest    deployed",
        "approved-1/",
    ] {
        assert!(!release_2_on_fleet.contains(never), "{out}");
    }
    for check in [
        "✓ fleet: release 1's rollout: success · failed [] · rolled back [] · vm-1 deployed, vm-2 deployed, vm-3 deployed",
        "✓ fleet: release 2's rollout: failure · failed [vm-1] · rolled back [vm-1] · vm-1 deployed, vm-2 not-called, vm-3 not-called",
        "✓ fleet: the release each VM serves: vm-1 release 1 (",
        "✓ fleet: deploy calls each VM's receiver took: vm-1 3 · vm-2 1 · vm-3 1",
        "✓ fleet: releases each VM's supervisor started: vm-1 1, 2, 1 · vm-2 1 · vm-3 1",
        "✓ fleet: the issue of release 2's rollout: 1 open: vm-1 failed, vm-1 rolled back to ",
    ] {
        assert!(out.contains(check), "`{check}` not in:\n{out}");
    }

    // The deploy script spoke through the receiver's answer.
    assert!(out.contains("│ deploy.sh: pulled"), "{out}");
    assert!(out.contains("is healthy"), "{out}");

    let report = run.report();
    for needle in [
        "✓ The story went as expected.",
        "Health window failed",
        "Timeline",
        "<table>",
        "in_progress → failure",
        // The story's issue, and the fleet scene's.
        "Open issues (2)",
        "Fleet deploy failed: production at ",
        "Release 3: the flow stopped at <code>deploy.yml verify/provenance</code>",
        "Provenance verified: 1 of 1 image(s)",
    ] {
        assert!(report.contains(needle), "`{needle}` not in the report");
    }
    assert!(!report.contains("<script"), "the report runs nothing");
    run.assert_no_secret_anywhere();

    readme_sample_is_real(out);

    let pids = run.service_pids();
    assert_eq!(
        pids.len(),
        7,
        "releases 1, 2, 1, then 4, the web's 1, 1, 5: {out}"
    );
    for pid in pids {
        assert!(
            !alive(pid),
            "the demo service (pid {pid}) outlived the demo"
        );
    }
}

/// A line with its numbers (times, ports, pids, ids) and runs of blanks
/// made alike, so README's sample compares with any real run.
fn normalise(line: &str) -> String {
    let mut out = String::new();
    let mut last = ' ';
    for c in line.trim().chars() {
        let c = if c.is_ascii_digit() { '#' } else { c };
        if (c == '#' && last == '#') || (c == ' ' && last == ' ') {
            continue;
        }
        out.push(c);
        last = c;
    }
    out
}

/// README's "Try it" sample is trimmed, not invented: each of its lines is
/// a line of this run's output.
fn readme_sample_is_real(stdout: &str) {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let commands = &readme[readme
        .find("## The two commands")
        .expect("README has the two commands")..];
    let first = commands.split("```").nth(1).and_then(|b| {
        b.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "sh")
    });
    assert_eq!(
        first,
        Some("cargo run --release -p relay-demo"),
        "README's first command is the demo"
    );
    let try_it = &readme[readme.find("### Try it").expect("README has Try it")..];
    let block = try_it.split("```").nth(1).expect("a sample block");
    let seen: std::collections::HashSet<String> = stdout.lines().map(normalise).collect();
    let mut compared = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            seen.contains(&normalise(line)),
            "README's sample line is not in the demo's output: `{line}`\n{stdout}"
        );
        compared += 1;
    }
    assert!(compared > 10, "{block}");
}

fn broken(link: &str, place: &str) {
    let run = demo(&["--break", link]);
    assert_eq!(run.code, Some(0), "{}", run.failure());
    let out = &run.stdout;
    assert!(
        out.contains(&format!("■ the flow stopped at {place}: ")),
        "no one-line reason at {place}:\n{out}"
    );
    assert!(
        out.contains(&format!(
            "--break {link} stopped the flow at {place}; nothing of release 2 was deployed, release 1 is served"
        )),
        "{out}"
    );
    assert!(
        out.contains("✓ releases the supervisor started: 1\n"),
        "{out}"
    );
    assert!(out.contains("✓ open issues: 0"), "{out}");
    assert!(
        !out.contains("━━ Release 3"),
        "a broken link is shown on release 2 alone:\n{out}"
    );
    assert!(
        release_2(out).contains("→ the service answers: release 1"),
        "{out}"
    );
    let report = run.report();
    assert!(
        report.contains(&format!("the flow stopped at <code>{place}</code>")),
        "{place}"
    );
    run.assert_no_secret_anywhere();
}

#[test]
fn a_wrong_secret_stops_at_the_signed_call() {
    broken("wrong-secret", "deploy.yml deploy/webhook");
}

#[test]
fn an_image_nobody_pushed_is_refused_by_the_vm_and_changes_nothing() {
    broken("unpushed-image", "deploy.yml deploy/webhook");
}

#[test]
fn a_red_check_stops_at_verify() {
    broken("red-check", "deploy.yml verify/verify");
}

#[test]
fn a_digest_mismatch_stops_at_the_relay() {
    broken("digest-mismatch", "relay.yml relay/relay");
}

#[test]
fn a_fork_stops_at_the_relay() {
    broken("fork", "relay.yml relay/relay");
}

/// With no `bash` to be found, the VM's deploy script cannot start: the
/// story cannot go as told, and the demo says so with a non-zero exit.
#[test]
fn a_story_that_goes_wrong_exits_non_zero() {
    let run = finish(start(&[], Some("/nonexistent")), |_, _| {});
    assert_eq!(run.code, Some(1), "{}", run.failure());
    assert!(
        run.stdout.contains("✗ served release: expected release 1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("The story did NOT go as expected"),
        "{}",
        run.stdout
    );
    assert!(run.report().contains("✗ The story did not go as expected"));
}

/// Ctrl-C (SIGINT to the demo alone) in the middle of release 1's health
/// window: the demo stops the service it started and exits 130.
#[test]
fn an_interrupted_demo_stops_its_service() {
    let mut interrupted = false;
    let run = finish(start(&[], None), |line, pid| {
        if !interrupted && line.contains("supervisor: release 1 started") {
            interrupted = true;
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGINT,
            );
        }
    });
    assert!(interrupted, "{}", run.failure());
    assert_eq!(run.code, Some(130), "{}", run.failure());
    assert!(run.stderr.contains("interrupted"), "{}", run.failure());
    let pids = run.service_pids();
    assert!(!pids.is_empty());
    for pid in pids {
        assert!(
            !alive(pid),
            "the demo service (pid {pid}) outlived the interrupted demo"
        );
    }
}

/// `--help` names every link `--break` can break.
#[test]
fn help_lists_the_breaks() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for b in relay_demo::Break::ALL {
        assert!(text.contains(b.name()), "{text}");
    }
    let bad = Command::new(BIN)
        .args(["--break", "nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
