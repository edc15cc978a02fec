//! The real binary: SIGTERM lets a running deploy finish, logs carry the
//! delivery id and never the secret, the command never sees the secret.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::{SCRIPT, SECRET, SECRET_ENV, body, config_text, json, signed, write_script};

pub struct Binary {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    pub base: String,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Binary {
    fn start(dir: &std::path::Path, extra_top: &str) -> Self {
        let script = write_script(dir, "deploy.sh", SCRIPT);
        Self::with_config(dir, &config_text(&script, extra_top), None)
    }

    /// The real binary on `config` (written to `dir`), the secret in env,
    /// run as `uid` when given.
    pub fn with_config(dir: &std::path::Path, config: &str, uid: Option<u32>) -> Self {
        Self::launch(dir, config, uid, &[], None)
    }

    /// [`Binary::with_config`] with more flags, under `umask` when given.
    pub fn launch(
        dir: &std::path::Path,
        config: &str,
        uid: Option<u32>,
        flags: &[&str],
        umask: Option<&str>,
    ) -> Self {
        Self::launch_with_secret(dir, config, uid, flags, umask, SECRET)
    }

    /// [`Binary::launch`] with `secret` in the secret's env var.
    pub fn launch_with_secret(
        dir: &std::path::Path,
        config: &str,
        uid: Option<u32>,
        flags: &[&str],
        umask: Option<&str>,
        secret: &str,
    ) -> Self {
        use std::os::unix::process::CommandExt as _;
        let path = dir.join("receiver.toml");
        std::fs::write(&path, config).unwrap();
        let bin = env!("CARGO_BIN_EXE_deploy-receiver");
        let mut command = match umask {
            // The shell sets the umask, then becomes the receiver.
            Some(mask) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("umask {mask} && exec \"$0\" \"$@\""))
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        command
            .arg("--config")
            .arg(&path)
            .args(["--log-format", "json"])
            .args(flags)
            .env(SECRET_ENV, secret)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(uid) = uid {
            command.uid(uid).gid(uid);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut bin = Self {
            child,
            lines,
            seen: Vec::new(),
            base: String::new(),
        };
        let listening = bin.wait_for_log("listening");
        let log: serde_json::Value = serde_json::from_str(&listening).unwrap();
        bin.base = format!("http://{}", log["addr"].as_str().unwrap());
        bin
    }

    pub fn wait_for_log(&mut self, needle: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(15))
                .unwrap_or_else(|_| {
                    panic!(
                        "no log line containing `{needle}` in:\n{}",
                        self.seen.join("\n")
                    )
                });
            self.seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Every line logged so far, including those still unread.
    pub fn whole_log(&mut self) -> Vec<String> {
        self.seen.extend(self.lines.try_iter());
        self.seen.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_waits_for_the_running_deploy() {
    let dir = tempfile::tempdir().unwrap();
    let mut bin = Binary::start(dir.path(), "");
    let client = reqwest::Client::new();
    let url = format!("{}/deploy", bin.base);
    let deploy = tokio::spawn(
        signed(&client, &url, &body("5555555"), SECRET)
            .header("X-Deploy-Delivery", "graceful-1")
            .send(),
    );
    bin.wait_for_log("deploy started");
    kill(
        Pid::from_raw(i32::try_from(bin.child.id()).unwrap()),
        Signal::SIGTERM,
    )
    .unwrap();
    bin.wait_for_log("shutting down");
    // No new connections once shutting down…
    let late = reqwest::Client::new()
        .get(format!("{}/healthz", bin.base))
        .send()
        .await;
    assert!(late.is_err(), "a new connection was accepted after SIGTERM");
    // …but the deploy in flight finishes and answers.
    let (status, answer) = json(deploy.await.unwrap().unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
    assert!(calls.contains("end 5555555"), "{calls}");
    let status = tokio::task::spawn_blocking(move || bin.child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_name_the_delivery_and_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut bin = Binary::start(dir.path(), "");
    let client = reqwest::Client::new();
    let url = format!("{}/deploy", bin.base);
    // The command does not inherit the secret's env var, so it cannot echo it.
    let (status, answer) = json(
        signed(&client, &url, &body("7777777"), SECRET)
            .header("X-Deploy-Delivery", "logged-7")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["output"]
            .as_str()
            .unwrap()
            .contains("secret is unset"),
        "{answer}"
    );
    let refused = signed(&client, &url, &body("7777777"), "wrong")
        .header("X-Deploy-Delivery", "logged-8")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    bin.wait_for_log("refused");
    kill(
        Pid::from_raw(i32::try_from(bin.child.id()).unwrap()),
        Signal::SIGINT,
    )
    .unwrap();
    assert!(bin.child.wait().unwrap().success());
    std::thread::sleep(Duration::from_millis(100));
    let log = bin.whole_log();
    let all = log.join("\n");
    assert!(
        !all.contains(SECRET),
        "the secret leaked into the logs:\n{all}"
    );
    let finished: serde_json::Value = log
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["message"] == "deploy finished")
        .unwrap_or_else(|| panic!("no `deploy finished` line:\n{all}"));
    assert_eq!(finished["span"]["delivery"], "logged-7", "{finished}");
    assert_eq!(finished["exit_code"], 0, "{finished}");
    let refused = log
        .iter()
        .find(|l| l.contains("no signature matches"))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(refused.contains("\"status\":401"), "{refused}");
}

#[test]
fn check_mode_reports_problems_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "deploy.sh", SCRIPT);
    let good = dir.path().join("good.toml");
    std::fs::write(&good, config_text(&script, "")).unwrap();
    let ok = Command::new(env!("CARGO_BIN_EXE_deploy-receiver"))
        .arg("--config")
        .arg(&good)
        .arg("--check")
        .env(SECRET_ENV, SECRET)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("is valid"));
    // The same config without the secret in env.
    let missing = Command::new(env!("CARGO_BIN_EXE_deploy-receiver"))
        .arg("--config")
        .arg(&good)
        .arg("--check")
        .env_remove(SECRET_ENV)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("`DEPLOY_SECRET` is unset"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        config_text(&script, "").replace("timeout = \"20s\"", "timeout = \"later\""),
    )
    .unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_deploy-receiver"))
        .arg("--config")
        .arg(&bad)
        .arg("--check")
        .env(SECRET_ENV, SECRET)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("hooks[0].timeout") && err.contains("`later`"),
        "{err}"
    );
}

/// The example unit is valid for systemd and stays hardened: `verify`
/// finds nothing at all (docker is only wanted, so a host without it is
/// fine; the binary this test built stands in for the installed one), and
/// the offline security score stays at 2.0 or better.
#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    if !relay_testkit::peers::require_program("systemd-analyze", "apt-get install -y systemd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("deploy-receiver.service");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/vm/deploy-receiver.service");
    let text = std::fs::read_to_string(example).unwrap();
    assert!(
        text.contains("ExecStart=/usr/bin/deploy-receiver "),
        "{text}"
    );
    let text = text.replace(
        "ExecStart=/usr/bin/deploy-receiver ",
        &format!("ExecStart={} ", env!("CARGO_BIN_EXE_deploy-receiver")),
    );
    std::fs::write(&unit, text).unwrap();
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && text.trim().is_empty(), "{text}");
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20"])
        .arg(&unit)
        .output()
        .unwrap();
    assert!(
        security.status.success(),
        "{}",
        String::from_utf8_lossy(&security.stdout)
    );
}

/// The command runs as the receiver's user, yet cannot read the receiver's
/// environment (where a `secret_env` secret is) through /proc: the
/// receiver is not dumpable. As root the receiver is run as `nobody`, since
/// root could read any process's environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_cannot_read_the_receivers_environment() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Its parent is the supervisor; the supervisor's parent is the receiver.
    let probe = "#!/bin/sh\nreceiver=$(sed 's/.*) [A-Za-z] \\([0-9]*\\) .*/\\1/' /proc/$PPID/stat)\necho \"receiver $receiver\"\nif cat /proc/$receiver/environ > /dev/null 2>&1; then echo 'environ readable'; else echo 'environ unreadable'; fi\n";
    let script = write_script(dir.path(), "probe.sh", probe);
    use std::os::unix::fs::MetadataExt as _;
    let root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let uid = root.then_some(65534);
    let mut bin = Binary::with_config(dir.path(), &config_text(&script, ""), uid);
    let client = reqwest::Client::new();
    let url = format!("{}/deploy", bin.base);
    let (status, answer) = json(
        signed(&client, &url, &body("0123abc"), SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let output = answer["output"].as_str().unwrap();
    assert!(
        output.contains(&format!("receiver {}", bin.child.id())),
        "{output}"
    );
    assert!(output.contains("environ unreadable"), "{output}");
    bin.wait_for_log("deploy finished");
}

#[test]
fn check_warns_about_weak_settings() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "deploy.sh", SCRIPT);
    let config = dir.path().join("weak.toml");
    std::fs::write(&config, config_text(&script, "replay_window = \"0s\"")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_deploy-receiver"))
        .arg("--config")
        .arg(&config)
        .arg("--check")
        .env(SECRET_ENV, "short")
        .output()
        .unwrap();
    assert!(out.status.success(), "weak is not invalid");
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "warning: the secret env var `DEPLOY_SECRET` holds a key of 5 bytes",
        "warning: `replay_window = \"0s\"`",
        "warning: `signature = \"github\"`",
        "warning: `require_delivery_id = false`",
        "share the secret env var `DEPLOY_SECRET`",
        "memory only",
    ] {
        assert!(err.contains(needle), "{needle}:\n{err}");
    }
    assert!(!err.contains("short"), "the secret is never shown:\n{err}");
}

#[test]
fn help_documents_every_config_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_deploy-receiver"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for key in [
        "listen",
        "secret_file",
        "secret_env",
        "tls_cert",
        "tls_key",
        "max_body",
        "body_budget",
        "signature",
        "signature_header",
        "timestamp_tolerance",
        "replay_window",
        "replay_capacity",
        "replay_state",
        "require_delivery_id",
        "result_ttl",
        "output_tail",
        "log_format",
        "max_connections",
        "max_connections_per_peer",
        "path",
        "command",
        "args",
        "mode",
        "timeout",
        "kill_grace",
        "queue",
        "keep_children",
        "working_dir",
        "validate",
        "exit_codes",
        "env",
        "DEPLOY_RECEIVER_LOG",
        "64KiB",
        "8MiB",
    ] {
        assert!(
            help.lines().any(|l| l.trim() == key || l.contains(key)),
            "--help lacks `{key}`:\n{help}"
        );
    }
}
