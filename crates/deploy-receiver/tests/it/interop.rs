//! An independent signer and client: `openssl dgst -hmac` computes the
//! signature and `curl` sends it, so nothing of ours is on the sending side.
//! Also TLS, with a certificate made by openssl.

use std::process::Command;

use relay_testkit::peers;

use crate::harness::{SCRIPT, SECRET, config_text, start, start_with, write_script};

/// `sha256=<hex>` as openssl computes it over the file's exact bytes.
fn openssl_signature(body: &std::path::Path, secret: &str) -> String {
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", secret])
        .arg(body)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "HMAC-SHA2-256(file)= <hex>" or "SHA2-256(file)= <hex>" depending on the version.
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.trim().rsplit(' ').next().unwrap().to_owned();
    assert_eq!(hex.len(), 64, "{text}");
    format!("sha256={hex}")
}

/// POSTs the file with curl; returns the status and body.
fn curl(url: &str, body: &std::path::Path, signature: &str, extra: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "30",
            "--write-out",
            "\n%{http_code}",
        ])
        .args(["-H", "Content-Type: application/json"])
        .args(["-H", &format!("X-Hub-Signature-256: {signature}")])
        .args(extra)
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

fn peers_present() -> bool {
    peers::require_program("openssl", "apt-get install -y openssl")
        && peers::require_program("curl", "apt-get install -y curl")
}

#[tokio::test]
async fn openssl_and_curl_signed_requests() {
    if !peers_present() {
        return;
    }
    let r = start("").await;
    // Pretty-printed on purpose: the signature covers these exact bytes.
    let body = r.dir.path().join("body.json");
    std::fs::write(
        &body,
        "{\n  \"image_sha\": \"89abcdef01\",\n  \"ref\": \"refs/heads/main\"\n}\n",
    )
    .unwrap();
    let url = r.url("/deploy");
    let right = openssl_signature(&body, SECRET);
    let wrong = openssl_signature(&body, "not the secret");
    let (r_status, r_body, w_status, w_body) = tokio::task::spawn_blocking({
        let body = body.clone();
        move || {
            let (ws, wb) = curl(&url, &body, &wrong, &[]);
            let (rs, rb) = curl(&url, &body, &right, &[]);
            (rs, rb, ws, wb)
        }
    })
    .await
    .unwrap();
    assert_eq!(w_status, 401, "{w_body}");
    assert_eq!(r_status, 200, "{r_body}");
    assert_eq!(
        r.calls().first().map(String::as_str),
        Some("start 89abcdef01 ")
    );
    r.stop().await;
}

#[tokio::test]
async fn serves_tls_with_a_pem_certificate() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let script = write_script(dir.path(), "deploy.sh", SCRIPT);
    let tls = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"",
        cert.display(),
        key.display()
    );
    let config = config_text(&script, &tls);
    let r = start_with(dir, &config, SECRET).await;
    let url = r.url("/deploy").replace("http://", "https://");
    let body = r.dir.path().join("body.json");
    std::fs::write(&body, br#"{"image_sha":"0123abc"}"#).unwrap();
    let signature = openssl_signature(&body, SECRET);
    let cacert = cert.display().to_string();
    let (status, text) =
        tokio::task::spawn_blocking(move || curl(&url, &body, &signature, &["--cacert", &cacert]))
            .await
            .unwrap();
    assert_eq!(status, 200, "{text}");
    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::new().get(r.url("/healthz")).send().await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    r.stop().await;
}

/// `v1,<base64>` for Standard Webhooks, computed by openssl over
/// `id.timestamp.body` with the key's raw bytes (hex) — an independent signer.
fn openssl_standard_signature(
    dir: &std::path::Path,
    key_hex: &str,
    signed_content: &[u8],
) -> String {
    let content = dir.join("content");
    let mac = dir.join("mac");
    std::fs::write(&content, signed_content).unwrap();
    let out = Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-mac",
            "HMAC",
            "-macopt",
            &format!("hexkey:{key_hex}"),
            "-binary",
            "-out",
        ])
        .arg(&mac)
        .arg(&content)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("openssl")
        .args(["base64", "-A", "-in"])
        .arg(&mac)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("v1,{}", String::from_utf8(out.stdout).unwrap().trim())
}

#[tokio::test]
async fn openssl_signed_standard_webhooks() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "deploy.sh", SCRIPT);
    let key = relay_signature::SigningKey::new(*b"an independent 32-byte test key!").unwrap();
    let key_hex: String = key.expose().iter().map(|b| format!("{b:02x}")).collect();
    let config = config_text(&script, "signature = \"standard-webhooks\"");
    let r = start_with(dir, &config, &key.to_whsec()).await;
    let body = br#"{"image_sha":"fedcba9876"}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let client = reqwest::Client::new();
    for (id, key_hex, expect) in [
        ("msg_wrong", "00".repeat(32), 401),
        ("msg_right", key_hex, 200),
    ] {
        let content = [format!("{id}.{now}.").as_bytes(), body].concat();
        let signature = openssl_standard_signature(r.dir.path(), &key_hex, &content);
        let response = client
            .post(r.url("/deploy"))
            .header("Content-Type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expect, "{id}");
    }
    assert_eq!(
        r.calls().first().map(String::as_str),
        Some("start fedcba9876 msg_right")
    );
    r.stop().await;
}
