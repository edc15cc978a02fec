//! The demo's VM, in a folder: the real `deploy-receiver` (in this process,
//! each deploy under its supervisor re-executed from this binary), the
//! deploy script it runs, a registry of pushed releases, and the demo
//! service under the demo's supervisor.

use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;

use crate::service::Release;
use crate::supervisor::Supervisor;

const DEPLOY_SH: &str = include_str!("../vm/deploy.sh");
/// The api's hook, as examples/vm/receiver.toml names it (one hook per app).
const HOOK: &str = "/deploy/api";
/// The app's image, as the build pushes it (lower-cased repository).
pub const IMAGE: &str = "ghcr.io/xtp-tour/xtp-tour/api";
/// The second app's image, as its repository's build pushes it.
pub const WEB_IMAGE: &str = "ghcr.io/xtp-tour/xtp-tour-web/web";
const RECEIVER_TOML: &str = include_str!("../vm/receiver.toml");

/// A running VM.
pub struct Vm {
    pub registry: PathBuf,
    pub config: PathBuf,
    /// The api's service (the hook `/deploy/api`).
    pub supervisor: Supervisor,
    /// The second app's service, beside it on the same VM (`/deploy/web`).
    pub web: Supervisor,
    /// The api hook's URL, `http://127.0.0.1:<port>/deploy/api`.
    pub webhook_url: String,
    /// The receiver's `whsec_` key.
    pub secret: String,
    stop_receiver: Option<tokio::sync::oneshot::Sender<()>>,
    receiver: Option<tokio::task::JoinHandle<()>>,
}

/// `n` random bytes from the kernel.
pub fn random_bytes(n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// `value` as a TOML string.
fn toml_str(value: &Path) -> String {
    toml::Value::String(value.to_string_lossy().into_owned()).to_string()
}

impl Vm {
    /// Lays out `dir`, starts the supervisor (no release yet) and the receiver.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        dir: &Path,
        program: &Path,
    ) -> anyhow::Result<Self> {
        let registry = dir.join("registry");
        let releases = dir.join("releases");
        let current = dir.join("current");
        for d in [&registry, &releases, &dir.join("state")] {
            std::fs::create_dir_all(d)
                .with_context(|| format!("couldn't create `{}`", d.display()))?;
        }
        let deploy_sh = dir.join("deploy.sh");
        std::fs::write(&deploy_sh, DEPLOY_SH)?;
        std::fs::set_permissions(&deploy_sh, std::fs::Permissions::from_mode(0o755))?;

        // A supervisor per app, as docker runs a container per service:
        // its log and the file that holds its control token.
        let service = |current: &Path, log: &str, auth: &str| {
            let supervisor = Supervisor::start(
                runtime.handle(),
                program.to_owned(),
                current.to_owned(),
                dir.join(log),
                hex(&random_bytes(24)?),
            )?;
            let header = dir.join(auth);
            write_private(
                &header,
                &format!("Authorization: Bearer {}\n", supervisor.token()),
            )?;
            anyhow::Ok((supervisor, header))
        };
        let (supervisor, header) = service(&current, "service.log", "supervisor-auth")?;
        let web_dir = dir.join("web");
        std::fs::create_dir_all(web_dir.join("releases"))?;
        let (web, web_header) = service(
            &web_dir.join("current"),
            "web-service.log",
            "web-supervisor-auth",
        )?;

        let secret = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(random_bytes(32)?)
        );
        let secret_file = dir.join("secret");
        write_private(&secret_file, &format!("{secret}\n"))?;

        let text = render_config(&[
            ("SECRET_FILE", toml_str(&secret_file)),
            (
                "REPLAY_STATE",
                toml_str(&dir.join("state/delivery-ids.json")),
            ),
            ("DEPLOY_SH", toml_str(&deploy_sh)),
            ("VM", toml_str(dir)),
            ("REGISTRY", toml_str(&registry)),
            ("RELEASES", toml_str(&releases)),
            ("CURRENT", toml_str(&current)),
            (
                "SUPERVISOR_URL",
                toml_str(Path::new(supervisor.control_url())),
            ),
            ("SUPERVISOR_HEADER", toml_str(&header)),
            (
                "HEALTH_URL",
                toml_str(Path::new(&format!(
                    "{}/api/health",
                    supervisor.service_url()
                ))),
            ),
            ("WEB_RELEASES", toml_str(&web_dir.join("releases"))),
            ("WEB_CURRENT", toml_str(&web_dir.join("current"))),
            ("WEB_SUPERVISOR_URL", toml_str(Path::new(web.control_url()))),
            ("WEB_SUPERVISOR_HEADER", toml_str(&web_header)),
            (
                "WEB_HEALTH_URL",
                toml_str(Path::new(&format!("{}/", web.service_url()))),
            ),
        ])?;
        let config_path = dir.join("receiver.toml");
        std::fs::write(&config_path, &text)?;
        let config = deploy_receiver::Config::parse(&text)
            .with_context(|| format!("`{}`", config_path.display()))?;
        let env = relay_runtime::Env::from_process();
        let receiver = runtime
            .block_on(deploy_receiver::Receiver::bind(config, &env))
            .context("couldn't start deploy-receiver")?;
        let addr = receiver.local_addr()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(async move {
            let _ = receiver
                .serve(async {
                    let _ = stop_rx.await;
                })
                .await;
        });
        Ok(Self {
            registry,
            config: config_path,
            supervisor,
            web,
            webhook_url: format!("http://{addr}{HOOK}"),
            secret,
            stop_receiver: Some(stop_tx),
            receiver: Some(task),
        })
    }

    /// "Pushes the images" of a release, as the build would: the API image
    /// (the release's directory in the registry, under its digest) and its
    /// test image. Returns what was pushed, as the build hands it over:
    /// `key=reference` lines by digest.
    pub fn push(
        &self,
        release: &Release,
        index_html: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let digest = self.store(release, index_html)?;
        let test = hex(&crate::github::sha256(
            format!("test image of {}", release.sha).as_bytes(),
        ));
        std::fs::create_dir_all(self.registry.join(&test))?;
        Ok(vec![
            ("api_image".into(), format!("{IMAGE}@sha256:{digest}")),
            (
                "api_test_image".into(),
                format!("{IMAGE}-test@sha256:{test}"),
            ),
        ])
    }

    /// "Pushes" the second app's image, as its repository's build would:
    /// `web_image=<reference by digest>`.
    pub fn push_web(
        &self,
        release: &Release,
        index_html: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let digest = self.store(release, index_html)?;
        Ok(vec![(
            "web_image".into(),
            format!("{WEB_IMAGE}@sha256:{digest}"),
        )])
    }

    /// Writes a release into the registry under its digest; returns the digest.
    fn store(&self, release: &Release, index_html: &str) -> anyhow::Result<String> {
        let json = serde_json::to_string_pretty(&release.json())?;
        let digest = hex(&crate::github::sha256(
            format!("{json}\n{index_html}").as_bytes(),
        ));
        let dir = self.registry.join(&digest);
        std::fs::create_dir_all(dir.join("frontend"))?;
        std::fs::write(dir.join("release.json"), &json)?;
        std::fs::write(dir.join("frontend/index.html"), index_html)?;
        Ok(digest)
    }

    /// Whether the VM ever pulled `reference` (`name@sha256:<hex>`): the
    /// deploy script keeps each pulled image under `releases/<hex>`.
    pub fn pulled(&self, reference: &str) -> bool {
        let Some((_, digest)) = reference.split_once("@sha256:") else {
            return false;
        };
        self.registry
            .parent()
            .is_some_and(|vm| vm.join("releases").join(digest).exists())
    }

    /// The demo's network beneath the examples' hosts (`network`): the
    /// VM's receiver, and the services the VM runs (the api's, the web's).
    pub fn network(&self) -> String {
        format!(
            "https://vm.example.com:8443={}\nhttps://app.example.com={}\nhttps://www.example.com={}",
            self.webhook_url.trim_end_matches(HOOK),
            self.supervisor.service_url(),
            self.web.service_url()
        )
    }

    /// Stops the receiver (a running deploy finishes) and the service.
    pub fn stop(&mut self, runtime: &tokio::runtime::Runtime) {
        if let Some(stop) = self.stop_receiver.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.receiver.take() {
            let _ = runtime.block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(30), task).await
            });
        }
        self.supervisor.stop();
        self.web.stop();
    }
}

/// The demo's `receiver.toml` with each `@NAME@` replaced.
pub fn render_config(values: &[(&str, String)]) -> anyhow::Result<String> {
    let mut text = RECEIVER_TOML.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("@{name}@"), value);
    }
    let mut rest = text.as_str();
    while let Some(at) = rest.find('@') {
        let after = &rest[at + 1..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        if !name.is_empty() && after[name.len()..].starts_with('@') {
            anyhow::bail!("the demo's receiver.toml has no value for `@{name}@`");
        }
        rest = after;
    }
    Ok(text)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(prefix: &str, v: &toml::Value, out: &mut std::collections::BTreeSet<String>) {
        if let toml::Value::Table(t) = v {
            for (k, v) in t {
                let path = format!("{prefix}{k}");
                out.insert(path.clone());
                keys(&format!("{path}."), v, out);
            }
        }
        if let toml::Value::Array(a) = v {
            for item in a {
                keys(prefix, item, out);
            }
        }
    }

    /// The demo's receiver has the example's shape: every key the example
    /// sets (TLS aside: loopback), and only keys the example knows, bar the
    /// demo's own hook env and the state file it names.
    #[test]
    fn the_receiver_config_has_the_examples_shape() {
        let example: toml::Value =
            toml::from_str(include_str!("../../../examples/vm/receiver.toml")).unwrap();
        let values: Vec<(&str, String)> = [
            "SECRET_FILE",
            "REPLAY_STATE",
            "DEPLOY_SH",
            "VM",
            "REGISTRY",
            "RELEASES",
            "CURRENT",
            "SUPERVISOR_URL",
            "SUPERVISOR_HEADER",
            "HEALTH_URL",
            "WEB_RELEASES",
            "WEB_CURRENT",
            "WEB_SUPERVISOR_URL",
            "WEB_SUPERVISOR_HEADER",
            "WEB_HEALTH_URL",
        ]
        .into_iter()
        .map(|k| (k, toml_str(Path::new(&format!("/tmp/x/{k}")))))
        .collect();
        let text = render_config(&values).unwrap();
        let demo: toml::Value = toml::from_str(&text).unwrap();
        deploy_receiver::Config::parse(&text).unwrap();
        let (mut a, mut b) = Default::default();
        keys("", &example, &mut a);
        keys("", &demo, &mut b);
        // The payload field a hook validates is named after what it passes
        // (the demo's image reference field).
        let only_example: Vec<_> = a
            .difference(&b)
            .filter(|k| {
                !k.starts_with("tls_")
                    && !k.starts_with("hooks.env.")
                    && !k.starts_with("hooks.validate.")
            })
            .collect();
        let only_demo: Vec<_> = b
            .difference(&a)
            .filter(|k| {
                !k.starts_with("hooks.env.")
                    && !k.starts_with("hooks.validate.")
                    && *k != "replay_state"
            })
            .collect();
        assert!(
            only_example.is_empty(),
            "the demo's receiver.toml lacks {only_example:?}"
        );
        assert!(
            only_demo.is_empty(),
            "the demo's receiver.toml adds {only_demo:?}"
        );
        assert_eq!(demo["signature"].as_str(), Some("standard-webhooks"));
        assert_eq!(demo["require_delivery_id"].as_bool(), Some(true));
    }

    #[test]
    fn a_missing_value_is_an_error() {
        assert!(render_config(&[]).is_err());
    }
}
