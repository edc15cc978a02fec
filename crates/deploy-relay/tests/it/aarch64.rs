//! The aarch64 release binaries, run under user-mode emulation
//! (`qemu-aarch64-static`) on an x86_64 machine, or directly on an aarch64
//! one: each action answers `--help` through its symlink, `dispatch-deploy`
//! sends a `repository_dispatch` the fake GitHub records, and
//! `deploy-receiver --check` starts on a config.
//!
//! `scripts/dist.sh aarch64-unknown-linux-gnu` builds them; the tests run
//! when `DEPLOY_RELAY_AARCH64_BIN` names the `deploy-relay` it made
//! (`scripts/test.sh` sets it in its aarch64 step). Set, everything they need
//! must be there: a missing binary or emulator fails, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_runtime::Env;
use relay_testkit::ActionRun;

const ENV_BIN: &str = "DEPLOY_RELAY_AARCH64_BIN";
const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
const TARGET: &str = "octo/app-deploy";

/// The aarch64 binaries and how to run them on this machine.
struct Aarch64 {
    dir: PathBuf,
    /// `qemu-aarch64-static`, or `None` on an aarch64 host.
    emulator: Option<PathBuf>,
}

impl Aarch64 {
    /// `None` (skip, with a note) when the env var is unset.
    fn from_env() -> Option<Self> {
        let env = Env::from_process();
        let Some(bin) = env.path(ENV_BIN) else {
            eprintln!(
                "skipped: {ENV_BIN} is not set (scripts/dist.sh aarch64-unknown-linux-gnu, then point it at dist/aarch64-unknown-linux-gnu/deploy-relay)"
            );
            return None;
        };
        let bin = relay_testkit::peers::workspace_root().join(bin);
        assert!(
            bin.is_file(),
            "{ENV_BIN}=`{}` is not a file; run scripts/dist.sh aarch64-unknown-linux-gnu",
            bin.display()
        );
        let described = Command::new("file").arg("-b").arg(&bin).output();
        let described =
            String::from_utf8_lossy(&described.expect("run `file`").stdout).into_owned();
        assert!(
            described.contains("ARM aarch64")
                && (described.contains("statically linked")
                    || described.contains("static-pie linked")),
            "`{}` is not a static aarch64 binary: {described}",
            bin.display()
        );
        let emulator = (std::env::consts::ARCH != "aarch64").then(|| {
            let path = env.get("PATH").unwrap_or_default();
            path.split(':')
                .map(|dir| Path::new(dir).join("qemu-aarch64-static"))
                .find(|p| p.is_file())
                .expect("qemu-aarch64-static is not on PATH; install it: apt-get install qemu-user-static")
        });
        let dir = bin.parent().expect("the binary's directory").to_owned();
        Some(Self { dir, emulator })
    }

    /// A run of `name` (a file in the dist directory, e.g. an action's symlink).
    fn action(&self, name: &str) -> ActionRun {
        let bin = self.dir.join(name);
        match &self.emulator {
            // qemu passes the path it was given as argv[0], so the multi-call
            // binary sees the symlink's name, as in the image.
            Some(qemu) => ActionRun::new(qemu).arg(bin.to_str().expect("utf-8 path")),
            None => ActionRun::new(bin),
        }
    }
}

#[test]
fn every_action_answers_help_through_its_symlink() {
    let Some(arm) = Aarch64::from_env() else {
        return;
    };
    let root = relay_testkit::peers::workspace_root();
    let mut names: Vec<String> = std::fs::read_dir(root.join("actions"))
        .expect("actions/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "actions/ lists {names:?}");
    for name in names {
        let out = arm.action(&name).arg("--help").run();
        assert_eq!(out.code, 0, "{name} --help: {}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains(&format!("Usage: {name}")),
            "{name} --help printed: {}",
            out.stdout
        );
    }
}

#[test]
fn dispatch_deploy_sends_a_repository_dispatch_the_fake_records() {
    let Some(arm) = Aarch64::from_env() else {
        return;
    };
    let gh = FakeGitHub::start();
    gh.repo(TARGET, "main");
    let out = arm
        .action("dispatch-deploy")
        .api(gh.url())
        .env("GITHUB_SHA", SHA)
        .input("token", DEFAULT_TOKEN)
        .input("deploy-repository", TARGET)
        .env("RUNNER_DEBUG", "1")
        .run();
    out.assert_success().assert_secret_hidden(DEFAULT_TOKEN);
    let sent = gh.dispatches(TARGET);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["event_type"], "deploy");
    assert_eq!(sent[0]["client_payload"]["sha"], SHA);
    assert_eq!(sent[0]["client_payload"]["repository"], "octo/app");
    assert_eq!(out.output("dispatched"), "true");
    assert_eq!(
        sent[0]["client_payload"]["dispatch_id"],
        out.output("dispatch-id"),
        "the id the action reports is the one it sent"
    );
}

#[test]
fn deploy_receiver_checks_a_config() {
    let Some(arm) = Aarch64::from_env() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "an-aarch64-test-secret\n").expect("secret");
    let config = dir.path().join("receiver.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nsecret_file = \"{}\"\n[[hooks]]\npath = \"/deploy\"\ncommand = [\"/bin/true\"]\n",
            secret.display()
        ),
    )
    .expect("config");
    let config = config.to_str().expect("utf-8 path");
    let out = arm
        .action("deploy-receiver")
        .arg("--check")
        .arg("--config")
        .arg(config)
        .run();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("is valid; it would listen on 127.0.0.1:"),
        "{}",
        out.stdout
    );
    out.assert_secret_hidden("an-aarch64-test-secret");

    std::fs::remove_file(&secret).expect("remove secret");
    let out = arm
        .action("deploy-receiver")
        .arg("--check")
        .arg("--config")
        .arg(config)
        .run();
    assert_ne!(out.code, 0, "--check passed without its secret file");
}
