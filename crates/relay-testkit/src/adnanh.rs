//! adnanh/webhook (`apt-get install webhook`) as an independent receiver:
//! one hook, `deploy`, whose trigger rule is `payload-hmac-sha256` on
//! `X-Hub-Signature-256`; when the rule holds it runs a script that writes
//! the payload's `image_sha` to a file.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers;

/// A running `webhook`; killed when dropped.
pub struct Webhook {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    ran: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Webhook {
    /// `None` (skipped) when `webhook` is not installed outside CI.
    pub fn start(secret: &str) -> Option<Self> {
        if !peers::require_program("webhook", "apt-get install -y webhook") {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let script = dir.path().join("record.sh");
        let ran = dir.path().join("ran");
        std::fs::write(&script, "#!/bin/sh\nprintf '%s' \"$1\" > \"$2\"\n").expect("script");
        let mut perms = std::fs::metadata(&script).expect("script").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&script, perms).expect("chmod");
        let hooks = serde_json::json!([{
            "id": "deploy",
            "execute-command": script,
            "include-command-output-in-response": true,
            "trigger-rule-mismatch-http-response-code": 401,
            "pass-arguments-to-command": [
                {"source": "payload", "name": "image_sha"},
                {"source": "string", "name": ran},
            ],
            "trigger-rule": {"match": {
                "type": "payload-hmac-sha256",
                "secret": secret,
                "parameter": {"source": "header", "name": "X-Hub-Signature-256"},
            }},
        }]);
        std::fs::write(dir.path().join("hooks.json"), hooks.to_string()).expect("hooks");
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new("webhook")
            .arg("-hooks")
            .arg(dir.path().join("hooks.json"))
            .args(["-ip", "127.0.0.1", "-port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start webhook");
        let peer = Self {
            child,
            port,
            ran,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "webhook did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(peer)
    }

    /// The URL of its deploy hook.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/deploy", self.port)
    }

    /// The `image_sha` the hook's command received, if it ran.
    pub fn ran_with(&self) -> Option<String> {
        std::fs::read_to_string(&self.ran).ok()
    }
}
