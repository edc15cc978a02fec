//! Our block upload checked by a real Azure implementation: azurite.

#![allow(clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use relay_fakes::FakeArtifacts;

use crate::test_support::{opts, pipe_one, pseudo_random, url};

const ACCOUNT: &str = "devstoreaccount1";
/// azurite's published well-known development key (not a secret).
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

struct Azurite(Child);
impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An account SAS (sv 2023-11-03) for blob service, container and object.
fn account_sas() -> String {
    let (sp, ss, srt, se, sv) = ("rwdlac", "b", "sco", "2099-01-01T00:00:00Z", "2023-11-03");
    let to_sign = format!("{ACCOUNT}\n{sp}\n{ss}\n{srt}\n\n{se}\n\n\n{sv}\n\n");
    let key = base64::engine::general_purpose::STANDARD
        .decode(KEY)
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let sig = sig
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    format!("sv={sv}&ss={ss}&srt={srt}&sp={sp}&se={se}&sig={sig}")
}

#[tokio::test]
async fn block_upload_is_accepted_and_assembled_by_azurite() {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/node/node_modules/.bin/azurite-blob");
    if !relay_testkit::peers::require(&bin, "cd crates/relay-artifacts/tests/node && npm ci") {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let _azurite = Azurite(
        Command::new(&bin)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &port.to_string(),
                "--silent",
                "--location",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}/{ACCOUNT}");
    let sas = account_sas();
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = http
            .put(format!("{base}/artifacts?restype=container&{sas}"))
            .header("x-ms-version", super::X_MS_VERSION)
            .send()
            .await
        {
            assert!(
                r.status().is_success() || r.status() == 409,
                "create container: {}",
                r.status()
            );
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ready, "azurite did not start");

    let data = pseudo_random(2 * (1 << 20) + 4321);
    let source = FakeArtifacts::start();
    let (_, src, _) = source.seed("source-run", "web", data.clone());
    let upload = format!("{base}/artifacts/web.zip?{sas}");
    let r = pipe_one(&http, &url(&src), &upload, None, &opts())
        .await
        .unwrap();
    assert_eq!(r.blocks, 3);
    let got = http
        .get(&upload)
        .header("x-ms-version", super::X_MS_VERSION)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "application/zip");
    assert_eq!(got.bytes().await.unwrap().to_vec(), data);
}
