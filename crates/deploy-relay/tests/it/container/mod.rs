//! The image, run the way the runner runs a container action
//! (actions/runner `ContainerActionHandler` and `DockerCommandManager.DockerRun`):
//! `--entrypoint` from action.yml, `--workdir /github/workspace`, the
//! workspace, home, workflow (event) and file-command directories mounted at
//! /github/*, every variable passed as `-e NAME` with its value in the
//! engine's environment (so multi-line inputs arrive whole), paths
//! translated to their /github/* names, and `RUNNER_TEMP` left as the host
//! path the container cannot see. The actions talk to the fake GitHub of
//! the test kit; sign-and-call-webhook calls `deploy-receiver` started from
//! the same image, whose `/healthz` monitor-health then probes.
//!
//! One difference from the runner: `--network host`, so the container
//! reaches the fakes on 127.0.0.1 (the runner uses a bridge network).
//!
//! Runs when `DEPLOY_RELAY_IMAGE` names an image (scripts/test.sh sets it
//! to the one scripts/image.sh built; ci.yml to the one docker built).
//! `DEPLOY_RELAY_CONTAINER_ENGINE` is the engine's command line (default
//! `docker`), `DEPLOY_RELAY_CONTAINER_RUN_FLAGS` extra `run` flags.

mod runner;

use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use relay_fakes::FakeArtifacts;
use relay_fakes::{ArtifactSeed, CheckScript};
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_testkit::events;
use runner::Engine;
use serde_json::json;

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The entry points the action.yml files name (root action included).
fn entrypoints() -> Vec<String> {
    let root = relay_testkit::peers::workspace_root();
    let mut files = vec![root.join("action.yml")];
    for e in std::fs::read_dir(root.join("actions")).unwrap().flatten() {
        files.push(e.path().join("action.yml"));
    }
    let mut names: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .filter_map(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("  entrypoint: \"/usr/local/bin/"))
                .and_then(|rest| rest.strip_suffix('"'))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_entry_point_of_every_action_yml_is_in_the_image() {
    let Some(engine) = Engine::from_env() else {
        return;
    };
    let names = entrypoints();
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        let ran = engine.action(&name).arg("--help").run();
        assert_eq!(ran.code, 0, "{name}: {}", ran.log());
        assert!(
            ran.stdout.contains(&format!("Usage: {name}")),
            "{name}: {}",
            ran.log()
        );
    }
    let ran = engine.action("deploy-receiver").arg("--version").run();
    assert_eq!(ran.code, 0, "{}", ran.log());
    assert!(ran.stdout.starts_with("deploy-receiver "), "{}", ran.log());
}

#[test]
fn dispatch_then_verify_then_record_against_the_fake() {
    let Some(engine) = Engine::from_env() else {
        return;
    };
    let gh = FakeGitHub::start();
    gh.repo("octo/app", "main");
    gh.repo("octo/app-deploy", "main");
    gh.check_run("octo/app", SHA, CheckScript::done("build", "success"));

    let ran = engine
        .action("verify-ci-status")
        .env("GITHUB_API_URL", gh.url())
        .input("github-token", DEFAULT_TOKEN)
        .input("sha", SHA)
        .input("interval", "100ms")
        .input("timeout", "20s")
        .run();
    ran.success_hiding(DEFAULT_TOKEN);
    assert_eq!(ran.output("state"), "success", "{}", ran.log());
    assert!(ran.summary.contains("`build`"), "{}", ran.summary);

    let ran = engine
        .action("dispatch-deploy")
        .env("GITHUB_API_URL", gh.url())
        .env("GITHUB_SHA", SHA)
        .input("token", DEFAULT_TOKEN)
        .input("deploy-repository", "octo/app-deploy")
        // Multi-line, as a workflow's `|` block passes it.
        .input("images", "api_image=ghcr.io/{repository}/api:{short_sha}\nweb_image=ghcr.io/{repository}/web:{short_sha}")
        .run();
    ran.success_hiding(DEFAULT_TOKEN);
    let sent = gh.dispatches("octo/app-deploy");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["client_payload"]["sha"], SHA);
    assert_eq!(
        sent[0]["client_payload"]["web_image"], "ghcr.io/octo/app/web:9f86d08",
        "{}",
        sent[0]
    );
    assert_eq!(
        sent[0]["client_payload"]["dispatch_id"],
        ran.output("dispatch-id")
    );

    let payload = sent[0]["client_payload"].clone();
    let ran = engine
        .action("record-deployment")
        .env("GITHUB_API_URL", gh.url())
        .env("GITHUB_REPOSITORY", "octo/app-deploy")
        .event(
            "repository_dispatch",
            events::repository_dispatch("deploy", payload),
        )
        .input("github-token", DEFAULT_TOKEN)
        .input("mode", "start")
        .input("environment", "staging")
        .run();
    ran.success_hiding(DEFAULT_TOKEN);
    let id: u64 = ran.output("deployment-id").parse().unwrap();
    assert_eq!(gh.deployment_states(id), ["in_progress"]);
    assert_eq!(gh.deployments("octo/app-deploy")[0]["payload"]["sha"], SHA);
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn artifacts_are_relayed_into_the_workspace_and_reuploaded() {
    let Some(engine) = Engine::from_env() else {
        return;
    };
    let gh = FakeGitHub::start();
    gh.repo("octo/build", "main");
    gh.repo("octo/app", "main");
    let art = FakeArtifacts::start();
    let zip = zip_of(&[
        ("web/index.html", b"<h1>hello</h1>"),
        ("VERSION", b"1.2.3\n"),
    ]);
    let size = zip.len() as u64;
    let (_, url, digest) = art.seed("src-run", "web", zip);
    gh.add_artifact(
        "octo/build",
        9001,
        ArtifactSeed::new("web", &url, size).digest(&digest),
    );
    let runtime_token = FakeArtifacts::runtime_token("cur-run", "cur-job");
    let ran = engine
        .action("download-and-reupload-artifacts")
        .env("GITHUB_API_URL", gh.url())
        .env("ACTIONS_RESULTS_URL", art.url())
        .env("ACTIONS_RUNTIME_TOKEN", &runtime_token)
        .event(
            "workflow_run",
            events::workflow_run("octo/build", SHA, "main", 9001, "success"),
        )
        .input("github-token", DEFAULT_TOKEN)
        .run();
    ran.success_hiding(DEFAULT_TOKEN)
        .success_hiding(&runtime_token);
    assert_eq!(ran.output("count"), "1", "{}", ran.log());
    let extracted = ran.workspace.join("artifacts");
    assert_eq!(
        std::fs::read_to_string(find(&extracted, "index.html").expect("index.html extracted"))
            .unwrap(),
        "<h1>hello</h1>"
    );
    let reuploaded: Vec<String> = art
        .artifacts("cur-run")
        .into_iter()
        .filter(|a| a.finalized)
        .map(|a| a.name)
        .collect();
    assert_eq!(reuploaded, ["deploy-web-9f86d08"]);

    // Again, nothing kept locally, replacing the re-upload: the zip is
    // spooled to the temp dir, which a `scratch` image must still have.
    let ran = engine
        .action("download-and-reupload-artifacts")
        .env("GITHUB_API_URL", gh.url())
        .env("ACTIONS_RESULTS_URL", art.url())
        .env("ACTIONS_RUNTIME_TOKEN", &runtime_token)
        .event(
            "workflow_run",
            events::workflow_run("octo/build", SHA, "main", 9001, "success"),
        )
        .input("github-token", DEFAULT_TOKEN)
        .input("extract", "false")
        .input("overwrite", "true")
        .run();
    ran.success_hiding(DEFAULT_TOKEN)
        .success_hiding(&runtime_token);
    assert_eq!(ran.output("count"), "1", "{}", ran.log());
}

/// The file called `name` under `dir`, at any depth.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(found) = find(&p, name) {
                return Some(found);
            }
        } else if p.file_name().is_some_and(|f| f == name) {
            return Some(p);
        }
    }
    None
}

/// `deploy-receiver` from the image, detached; removed on drop.
struct Receiver<'a> {
    engine: &'a Engine,
    name: String,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Receiver<'_> {
    fn drop(&mut self) {
        let _ = self
            .engine
            .command()
            .args(["rm", "-f", &self.name])
            .output();
    }
}

fn start_receiver(engine: &Engine) -> Receiver<'_> {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(dir.path().join("secret"), format!("{WHSEC}\n")).unwrap();
    // The hook runs a program the image holds: the image has no shell.
    std::fs::write(
        dir.path().join("receiver.toml"),
        format!(
            "listen = \"127.0.0.1:{port}\"\nsecret_file = \"/etc/deploy-receiver/secret\"\nsignature = \"standard-webhooks\"\nlog_format = \"text\"\n\
             [[hooks]]\npath = \"/deploy\"\ncommand = [\"/usr/local/bin/deploy-receiver\", \"--version\"]\n"
        ),
    )
    .unwrap();
    let name = format!("deploy-relay-test-receiver-{}-{port}", std::process::id());
    let out = engine
        .command()
        .args(["run", "-d", "--name", &name, "--network", "host"])
        .args(&engine.run_flags)
        .arg("-v")
        .arg(format!("{}:/etc/deploy-receiver:ro", dir.path().display()))
        .args([
            "--entrypoint",
            "/usr/local/bin/deploy-receiver",
            &engine.image,
        ])
        .args(["--config", "/etc/deploy-receiver/receiver.toml"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let receiver = Receiver {
        engine,
        name,
        port,
        _dir: dir,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return receiver;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let logs = engine
        .command()
        .args(["logs", &receiver.name])
        .output()
        .unwrap();
    panic!(
        "deploy-receiver did not listen on {port}: {}{}",
        String::from_utf8_lossy(&logs.stdout),
        String::from_utf8_lossy(&logs.stderr)
    );
}

#[test]
fn a_signed_webhook_reaches_the_receiver_from_the_image_and_its_health_is_watched() {
    let Some(engine) = Engine::from_env() else {
        return;
    };
    let receiver = start_receiver(&engine);
    let base = format!("http://127.0.0.1:{}", receiver.port);

    let ran = engine
        .action("sign-and-call-webhook")
        .env("GITHUB_SHA", SHA)
        .input("url", &format!("{base}/deploy"))
        .input("secret", WHSEC)
        .input("signature-scheme", "standard-webhooks")
        .input("allow-http", "true")
        .input(
            "payload",
            &json!({"sha": SHA, "image_sha": SHA}).to_string(),
        )
        .run();
    ran.success_hiding(WHSEC)
        .success_hiding(&WHSEC["whsec_".len()..]);
    assert_eq!(ran.output("status"), "200", "{}", ran.log());
    assert!(
        ran.output("response").contains("deploy-receiver "),
        "{}",
        ran.log()
    );

    let ran = engine
        .action("monitor-health")
        .input("urls", &format!("{base}/healthz"))
        .input("duration", "2s")
        .input("interval", "500ms")
        .run();
    assert_eq!(ran.code, 0, "{}", ran.log());
    assert_eq!(ran.output("healthy"), "true", "{}", ran.log());
}
