//! `examples/vm` as shipped: the URL its README gives senders, the port the
//! config listens on, the unit that runs it and where TLS ends agree; and
//! its hooks — one per application — each reach their own service, with
//! the real binary, the real `deploy.sh` and a fake `docker`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use relay_signature::{SigningKey, standard};

use crate::binary::Binary;
use crate::deploy_sh::{FAKE_CURL, FAKE_DOCKER, deploy_sh};
use crate::harness::write_script;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/vm")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(example(name)).unwrap()
}

#[test]
fn the_url_the_config_the_unit_and_the_readme_agree() {
    let config = deploy_receiver::Config::load(&example("receiver.toml")).unwrap();
    // Timestamp and id signed, an id required, the secret as the unit's credential.
    assert_eq!(config.scheme, relay_signature::Scheme::StandardWebhooks);
    assert!(config.require_delivery_id);
    assert_eq!(config.max_body, 64 << 10);
    assert_eq!(
        config.secret,
        Some(deploy_receiver::SecretSource::File(
            "/run/credentials/deploy-receiver.service/secret".into()
        ))
    );
    let unit = read("deploy-receiver.service");
    assert!(
        unit.contains("LoadCredential=secret:"),
        "the unit passes the secret the config reads"
    );
    // TLS ends in the receiver, on a port the unit may bind without a capability.
    let port = config.listen.port();
    assert_eq!(port, 8443);
    assert!(config.tls.is_some(), "the receiver holds the certificate");
    assert!(
        unit.contains("CapabilityBoundingSet=\n") && !unit.contains("CAP_NET_BIND_SERVICE"),
        "no capability to bind a low port"
    );
    // Every URL the README gives senders names that port and a hook.
    let readme = read("README.md");
    let urls: Vec<&str> = readme
        .split(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '(' | ')'))
        .filter(|w| w.starts_with("https://vm.example.com"))
        .collect();
    assert!(!urls.is_empty(), "README names the URL");
    let paths: Vec<&str> = config.hooks.iter().map(|h| h.path.as_str()).collect();
    for url in urls {
        let rest = url
            .strip_prefix(&format!("https://vm.example.com:{port}"))
            .unwrap_or_else(|| panic!("`{url}` is not on port {port}"));
        assert!(
            paths
                .iter()
                .any(|p| rest == *p || rest.starts_with(&format!("{p}/")))
                || rest == "/deploy/<app>",
            "`{url}` reaches no hook of {paths:?}"
        );
    }
    assert!(readme.contains("TLS ends"), "README says where TLS ends");
    // One hook per application, each pinned to its own image and service.
    assert_eq!(paths, ["/deploy/api", "/deploy/web"]);
    for hook in &config.hooks {
        let app = hook.path.rsplit('/').next().unwrap();
        assert_eq!(hook.command, ["/opt/deploy/deploy.sh"]);
        let env = |k: &str| {
            hook.env
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(env("DEPLOY_SERVICE"), Some(app));
        assert_eq!(
            env("DEPLOY_IMAGE_REPOSITORY"),
            Some(format!("ghcr.io/my-org/{app}").as_str())
        );
        let (field, pattern) = &hook.args[0];
        assert_eq!(field, "image");
        let digest = "ab".repeat(32);
        assert!(pattern.is_match(&format!("ghcr.io/my-org/{app}@sha256:{digest}")));
        assert!(!pattern.is_match(&format!("ghcr.io/my-org/other@sha256:{digest}")));
        assert!(!pattern.is_match(&format!("ghcr.io/my-org/{app}:latest")));
    }
}

const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The example's receiver.toml with what only a VM has swapped for this
/// machine: loopback, no TLS, the secret in env, the real deploy.sh, and
/// per hook a fake docker logging to `calls-<app>` (plus `extra` env).
fn local_config(dir: &Path, extra: &[(&str, &str)]) -> String {
    let text = read("receiver.toml")
        .replace("listen = \"0.0.0.0:8443\"", "listen = \"127.0.0.1:0\"")
        .replace(
            "secret_file = \"/run/credentials/deploy-receiver.service/secret\"",
            "secret_env = \"DEPLOY_SECRET\"",
        )
        .replace("/opt/deploy/deploy.sh", &deploy_sh().display().to_string())
        .replace(
            "working_dir = \"/opt/deploy\"",
            &format!("working_dir = \"{}\"", dir.display()),
        );
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("tls_"))
        .map(|l| format!("{l}\n"))
        .collect();
    let bin = dir.join("bin");
    let mut parts = text.split("[hooks.env]");
    let mut out = parts.next().unwrap().to_owned();
    for (part, app) in parts.zip(["api", "web"]) {
        out.push_str("[hooks.env]\n");
        out.push_str(&format!(
            "PATH = \"{}:/usr/bin:/bin\"\nFAKE_LOG = \"{}\"\nDEPLOY_HEALTH_INTERVAL = \"0.3\"\n",
            bin.display(),
            dir.join(format!("calls-{app}")).display()
        ));
        for (k, v) in extra {
            if let Some(key) = k.strip_prefix(&format!("{app}:")) {
                out.push_str(&format!("{key} = \"{v}\"\n"));
            }
        }
        out.push_str(part);
    }
    out
}

fn calls(dir: &Path, app: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(format!("calls-{app}")))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn deploy(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    image: &str,
    id: &str,
) -> (u16, serde_json::Value) {
    let body = serde_json::to_vec(&serde_json::json!({ "image": image })).unwrap();
    let now = crate::harness::unix_now();
    let signature =
        standard::sign(&[SigningKey::from_whsec(KEY).unwrap()], id, now, &body).unwrap();
    let response = client
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    crate::harness::json(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_app_reaches_its_own_service_through_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    write_script(&dir.path().join("bin"), "docker", FAKE_DOCKER);
    write_script(&dir.path().join("bin"), "curl", FAKE_CURL);
    let digest = |c: char| c.to_string().repeat(64);
    let api_old = format!("ghcr.io/my-org/api@sha256:{}", digest('0'));
    let api_new = format!("ghcr.io/my-org/api@sha256:{}", digest('1'));
    let web_new = format!("ghcr.io/my-org/web@sha256:{}", digest('2'));
    let config = local_config(
        dir.path(),
        &[
            ("api:FAKE_RUNNING", &api_old),
            // The api's new release takes a few probes to get healthy.
            ("api:FAKE_CURL_FAILS", "4"),
        ],
    );
    let bin = Binary::launch_with_secret(dir.path(), &config, None, &[], None, KEY);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // The api deploys slowly; meanwhile the web deploys on its own hook.
    let api = {
        let (client, base, image) = (client.clone(), bin.base.clone(), api_new.clone());
        tokio::spawn(
            async move { deploy(&client, &base, "/deploy/api", &image, "msg_api_1").await },
        )
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !calls(dir.path(), "api").iter().any(|c| c.contains("up -d")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the api never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, answer) = deploy(&client, &bin.base, "/deploy/web", &web_new, "msg_web_1").await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = api.await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["output"]
            .as_str()
            .unwrap()
            .contains(&format!("previous image: {api_old}")),
        "{answer}"
    );
    // Each hook touched its own service, with exactly its own image.
    let api_calls = calls(dir.path(), "api");
    let web_calls = calls(dir.path(), "web");
    assert_eq!(
        api_calls[0],
        format!("{api_new} | compose -f /opt/deploy/api/docker-compose.yml pull api")
    );
    assert_eq!(
        web_calls[0],
        format!("{web_new} | compose -f /opt/deploy/web/docker-compose.yml pull web")
    );
    for (calls, other) in [(&api_calls, "web"), (&web_calls, "api")] {
        assert!(
            calls
                .iter()
                .filter(|c| c.contains("compose"))
                .all(|c| !c.contains(&format!(" {other}")) && !c.contains(&format!("/{other}/"))),
            "{calls:?}"
        );
    }
    // One app's image sent to another's hook, or a tag where a digest is
    // expected, runs nothing.
    let before = (api_calls.len(), web_calls.len());
    for (path, image) in [
        ("/deploy/web", api_new.as_str()),
        ("/deploy/api", "ghcr.io/my-org/api:latest"),
        ("/deploy/api", "ghcr.io/my-org/api@sha256:1111"),
    ] {
        let id = format!("msg_{}", uuid_like(path, image));
        let (status, answer) = deploy(&client, &bin.base, path, image, &id).await;
        assert_eq!(status, 422, "{path} {image}: {answer}");
        assert!(
            answer["status"].as_str().unwrap().contains("`image`"),
            "{answer}"
        );
    }
    assert_eq!(
        (
            calls(dir.path(), "api").len(),
            calls(dir.path(), "web").len()
        ),
        before
    );
}

/// A delivery id of path-safe characters from two strings.
fn uuid_like(a: &str, b: &str) -> String {
    format!("{a}{b}")
        .bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from(c)
            } else {
                '_'
            }
        })
        .take(100)
        .collect()
}
