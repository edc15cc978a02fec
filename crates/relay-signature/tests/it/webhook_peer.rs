//! adnanh/webhook (`apt-get install webhook`) as an independent verifier:
//! a hook whose trigger rule is `payload-hmac-sha256` on
//! `X-Hub-Signature-256` must run for a body signed by relay-signature with
//! the right secret and refuse it with a wrong one.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use relay_signature::{SigningKey, github};
use relay_testkit::peers;

const SECRET: &str = "peer-secret: spaces, \"quotes\" and ünïcode";

/// Kills the peer however the test ends.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_webhook(dir: &Path) -> (Peer, u16) {
    let script = dir.join("record.sh");
    std::fs::write(&script, "#!/bin/sh\nprintf '%s' \"$1\" > \"$2\"\n").unwrap();
    let hooks = serde_json_hooks(&script, &dir.join("ran"));
    std::fs::write(dir.join("hooks.json"), hooks).unwrap();
    let port = free_port();
    let child = Command::new("webhook")
        .arg("-hooks")
        .arg(dir.join("hooks.json"))
        .args(["-ip", "127.0.0.1", "-port", &port.to_string(), "-verbose"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peer = Peer(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "webhook did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    (peer, port)
}

/// The hooks file, written by hand so the test states exactly what the peer
/// is told (the script runs only when the trigger rule holds).
fn serde_json_hooks(script: &Path, ran: &Path) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    format!(
        r#"[{{
  "id": "deploy",
  "execute-command": {script},
  "include-command-output-in-response": true,
  "trigger-rule-mismatch-http-response-code": 401,
  "pass-arguments-to-command": [
    {{"source": "payload", "name": "image_sha"}},
    {{"source": "string", "name": {ran}}}
  ],
  "trigger-rule": {{
    "match": {{
      "type": "payload-hmac-sha256",
      "secret": {secret},
      "parameter": {{"source": "header", "name": "X-Hub-Signature-256"}}
    }}
  }}
}}]"#,
        script = quote(&script.display().to_string()),
        ran = quote(&ran.display().to_string()),
        secret = quote(SECRET),
    )
}

#[tokio::test]
async fn adnanh_webhook_accepts_our_signature_and_refuses_a_wrong_one() {
    if !peers::require_program("webhook", "apt-get install -y webhook") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("record.sh");
    let (_peer, port) = start_webhook(dir.path());
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();

    let url = format!("http://127.0.0.1:{port}/hooks/deploy");
    let body = br#"{"image_sha":"0123abc","ref":"refs/heads/main"}"#;
    let client = reqwest::Client::new();
    let post = |signature: String| {
        client
            .post(&url)
            .header("Content-Type", "application/json")
            .header(github::HEADER, signature)
            .body(body.to_vec())
            .send()
    };

    let wrong = SigningKey::new("not the secret").unwrap();
    let refused = post(github::sign(&wrong, body)).await.unwrap();
    // webhook 2.8 answers a signature that does not match with 500 ("error
    // evaluating hook rules"), not with the rule-mismatch code; what matters
    // is that it refused and the command did not run.
    let status = refused.status();
    let text = refused.text().await.unwrap();
    assert!(!status.is_success(), "{status} {text}");
    assert!(text.contains("rules"), "{text}");
    assert!(
        !dir.path().join("ran").exists(),
        "the hook ran on a wrong signature"
    );

    let right = SigningKey::new(SECRET).unwrap();
    let accepted = post(github::sign(&right, body)).await.unwrap();
    assert_eq!(accepted.status(), 200, "{:?}", accepted.text().await);
    let ran = std::fs::read_to_string(dir.path().join("ran")).unwrap();
    assert_eq!(ran, "0123abc");
}
