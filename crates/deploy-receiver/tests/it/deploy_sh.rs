//! `examples/vm/deploy.sh` against a fake `docker` (and `curl`) first on PATH
//! that records every call and plays a scripted part: pull failure, a
//! container that never gets healthy, success. The call sequences are the
//! contract: what is touched, in which order, with which image reference —
//! exactly the one given, and on rollback exactly the one it replaced.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{SECRET, json, signed, start_with, write_script};

/// Logs `<IMAGE or -> | <args>` and answers as the FAKE_* env says.
pub const FAKE_DOCKER: &str = r#"#!/bin/sh
echo "${IMAGE:--} | $*" >> "$FAKE_LOG"
# The nth answer from a space-separated list; the last one repeats.
nth() {
  count_file="$FAKE_LOG.$1"
  n=$(cat "$count_file" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$count_file"
  i=1; pick=""
  for s in $2; do if [ "$i" -le "$n" ]; then pick=$s; fi; i=$((i + 1)); done
  echo "$pick"
}
case "$*" in
  *" pull "*)
    if [ "${FAKE_PULL:-ok}" != ok ]; then echo "pull access denied" >&2; exit 1; fi
    if [ -n "${FAKE_PULL_FAILS_AFTER:-}" ] && [ "$(nth pulls "1 2 3 4 5 6")" -gt "$FAKE_PULL_FAILS_AFTER" ]; then
      echo "registry unreachable" >&2; exit 1
    fi ;;
  *" ps -q "*)
    if [ -n "${FAKE_RUNNING:-}" ] || grep -q " up -d" "$FAKE_LOG"; then echo cid1; fi ;;
  "inspect --format {{.Config.Image}} "*)
    echo "$FAKE_RUNNING" ;;
  "inspect --format {{if"*)
    nth health "${FAKE_HEALTH:-healthy}" ;;
esac
exit 0
"#;

pub const FAKE_CURL: &str = r#"#!/bin/sh
echo "curl | $*" >> "$FAKE_LOG"
[ "$(cat "$FAKE_LOG.curl" 2>/dev/null || echo 0)" -ge "${FAKE_CURL_FAILS:-0}" ] && exit 0
n=$(cat "$FAKE_LOG.curl" 2>/dev/null || echo 0); echo $((n + 1)) > "$FAKE_LOG.curl"
exit 7
"#;

/// The release being deployed and the one running before it, by digest.
const NEW: &str =
    "ghcr.io/o/web@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const OLD: &str =
    "ghcr.io/o/web@sha256:0000000000000000000000000000000000000000000000000000000000000000";

const HEALTH_FORMAT: &str =
    "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}";

pub fn deploy_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/vm/deploy.sh")
        .canonicalize()
        .unwrap()
}

pub struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        write_script(&dir.path().join("bin"), "docker", FAKE_DOCKER);
        write_script(&dir.path().join("bin"), "curl", FAKE_CURL);
        Self { dir }
    }

    pub fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "PATH".to_owned(),
                format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display()),
            ),
            ("FAKE_LOG".to_owned(), self.log_path().display().to_string()),
            ("DEPLOY_SERVICE".to_owned(), "web".to_owned()),
            ("DEPLOY_COMPOSE_FILE".to_owned(), "dc.yml".to_owned()),
            ("DEPLOY_HEALTH_INTERVAL".to_owned(), "0.05".to_owned()),
            ("DEPLOY_HEALTH_DEADLINE".to_owned(), "5".to_owned()),
        ];
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        env
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("calls")
    }

    fn run(&self, tag: &str, extra: &[(&str, &str)]) -> (i32, Vec<String>, String) {
        let out = Command::new("bash")
            .arg(deploy_sh())
            .arg(tag)
            .env_clear()
            .envs(self.env(extra))
            .output()
            .unwrap();
        let calls = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (
            out.status.code().unwrap(),
            calls.lines().map(str::to_owned).collect(),
            text,
        )
    }
}

fn compose(tag: &str, args: &str) -> String {
    format!("{tag} | compose -f dc.yml {args}")
}

fn health_check() -> [String; 2] {
    [
        compose(NEW, "ps -q web"),
        format!("- | inspect --format {HEALTH_FORMAT} cid1"),
    ]
}

/// What every swap begins with: pull, find what runs, stop, start.
fn swap_calls(new: &str) -> Vec<String> {
    vec![
        compose(new, "pull web"),
        compose(new, "ps -q web"),
        "- | inspect --format {{.Config.Image}} cid1".to_owned(),
        compose(new, "stop web"),
        compose(new, "up -d --no-deps web"),
    ]
}

#[test]
fn pull_failure_exits_2_and_touches_nothing() {
    let fake = Fake::new();
    let (code, calls, text) = fake.run(NEW, &[("FAKE_PULL", "fail"), ("FAKE_RUNNING", OLD)]);
    assert_eq!(code, 2, "{text}");
    assert_eq!(calls, [compose(NEW, "pull web")]);
    assert!(text.contains("nothing was changed"), "{text}");
}

#[test]
fn healthy_swap_exits_0_and_cleans_up() {
    let fake = Fake::new();
    let (code, calls, text) = fake.run(
        NEW,
        &[
            ("FAKE_RUNNING", OLD),
            ("FAKE_HEALTH", "starting starting healthy"),
        ],
    );
    assert_eq!(code, 0, "{text}");
    let mut expected = swap_calls(NEW);
    for _ in 0..3 {
        expected.extend(health_check());
    }
    expected.push("- | image prune -f".to_owned());
    assert_eq!(calls, expected);
    assert!(text.contains(&format!("previous image: {OLD}")), "{text}");
    assert!(text.contains(&format!("web is healthy at {NEW}")), "{text}");
}

#[test]
fn unhealthy_start_rolls_back_to_exactly_the_previous_reference_and_exits_3() {
    for previous in [
        OLD,
        "registry.local:5000/o/web@sha256:2222222222222222222222222222222222222222222222222222222222222222",
        "registry.local:5000/o/web:0ld0ld0",
    ] {
        let fake = Fake::new();
        let (code, calls, text) = fake.run(
            NEW,
            &[
                ("FAKE_RUNNING", previous),
                ("FAKE_HEALTH", "starting unhealthy"),
            ],
        );
        assert_eq!(code, 3, "{text}");
        let mut expected = swap_calls(NEW);
        expected.extend(health_check());
        expected.extend(health_check());
        expected.push(compose(NEW, "stop web"));
        expected.push(compose(previous, "pull web"));
        expected.push(compose(previous, "up -d --no-deps web"));
        assert_eq!(calls, expected, "{previous}");
        assert!(
            text.contains(&format!("rolling back web to {previous}")),
            "{text}"
        );
    }
}

#[test]
fn a_tag_is_deployed_and_rolled_back_as_given() {
    let fake = Fake::new();
    let tag = "ghcr.io/o/web:1.4.2";
    let (code, calls, text) = fake.run(
        tag,
        &[
            ("FAKE_RUNNING", "ghcr.io/o/web:1.4.1"),
            ("FAKE_HEALTH", "unhealthy"),
        ],
    );
    assert_eq!(code, 3, "{text}");
    assert_eq!(calls[0], compose(tag, "pull web"));
    assert_eq!(
        calls[calls.len() - 2..],
        [
            compose("ghcr.io/o/web:1.4.1", "pull web"),
            compose("ghcr.io/o/web:1.4.1", "up -d --no-deps web")
        ]
    );
}

#[test]
fn a_rollback_whose_pull_fails_starts_the_local_copy() {
    let fake = Fake::new();
    // The fake's pulls all fail once FAKE_PULL says so; the first pull is
    // the new image's, so this makes only the rollback's fail.
    let (code, calls, text) = fake.run(
        NEW,
        &[
            ("FAKE_RUNNING", OLD),
            ("FAKE_HEALTH", "unhealthy"),
            ("FAKE_PULL_FAILS_AFTER", "1"),
        ],
    );
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("starting the local copy"), "{text}");
    assert_eq!(calls.last().unwrap(), &compose(OLD, "up -d --no-deps web"));
}

#[test]
fn health_deadline_rolls_back() {
    let fake = Fake::new();
    let (code, calls, text) = fake.run(
        NEW,
        &[
            ("FAKE_RUNNING", OLD),
            ("FAKE_HEALTH", "starting"),
            ("DEPLOY_HEALTH_DEADLINE", "1"),
        ],
    );
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("not healthy after 1s"), "{text}");
    assert_eq!(
        calls[calls.len() - 3..],
        [
            compose(NEW, "stop web"),
            compose(OLD, "pull web"),
            compose(OLD, "up -d --no-deps web")
        ]
    );
}

#[test]
fn first_deploy_that_fails_leaves_the_service_stopped() {
    let fake = Fake::new();
    let (code, calls, text) = fake.run(NEW, &[("FAKE_HEALTH", "unhealthy")]);
    assert_eq!(code, 3, "{text}");
    assert_eq!(
        calls,
        [
            compose(NEW, "pull web"),
            compose(NEW, "ps -q web"),
            compose(NEW, "stop web"),
            compose(NEW, "up -d --no-deps web"),
            health_check()[0].clone(),
            health_check()[1].clone(),
            compose(NEW, "stop web"),
        ]
    );
    assert!(text.contains("no previous image"), "{text}");
}

#[test]
fn a_container_started_from_no_reference_has_nothing_to_roll_back_to() {
    let fake = Fake::new();
    let (code, calls, text) = fake.run(
        NEW,
        &[
            (
                "FAKE_RUNNING",
                "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            ("FAKE_HEALTH", "unhealthy"),
        ],
    );
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("was not started from a reference"), "{text}");
    assert_eq!(calls.last().unwrap(), &compose(NEW, "stop web"));
}

#[test]
fn http_probe_instead_of_docker_health() {
    let fake = Fake::new();
    let url = "http://127.0.0.1:9/healthz";
    let (code, calls, text) = fake.run(
        NEW,
        &[
            ("FAKE_RUNNING", OLD),
            ("DEPLOY_HEALTH_URL", url),
            ("FAKE_CURL_FAILS", "2"),
        ],
    );
    assert_eq!(code, 0, "{text}");
    let probes: Vec<&String> = calls.iter().filter(|c| c.starts_with("curl")).collect();
    assert_eq!(probes.len(), 3, "{calls:?}");
    assert!(probes[0].ends_with(url));
    assert!(
        !calls.iter().any(|c| c.contains("State.Health")),
        "{calls:?}"
    );
}

#[test]
fn a_bad_reference_is_refused_before_any_call() {
    let fake = Fake::new();
    let digest = "0123456789abcdef".repeat(4);
    for image in [
        "$(id)".to_owned(),
        "abc;rm -rf /".to_owned(),
        String::new(),
        "-rf".to_owned(),
        "-rf:latest".to_owned(),
        "abc1234".to_owned(),
        format!("sha256:{digest}"),
        format!("ghcr.io/o/web@sha256:{}", &digest[..63]),
        format!("ghcr.io/o/WEB@sha256:{digest}"),
        format!("ghcr.io//web@sha256:{digest}"),
        format!("ghcr.io/o/web@sha256:{digest} --help"),
        "ghcr.io/o/web:".to_owned(),
        "ghcr.io/o/web:-x".to_owned(),
    ] {
        let (code, calls, text) = fake.run(&image, &[]);
        assert_eq!(code, 2, "{image}: {text}");
        assert!(calls.is_empty(), "{image}: {calls:?}");
    }
}

#[test]
fn an_image_of_another_repository_is_refused_before_any_call() {
    let fake = Fake::new();
    let api = NEW.replace("/web@", "/api@");
    let (code, calls, text) = fake.run(&api, &[("DEPLOY_IMAGE_REPOSITORY", "ghcr.io/o/web")]);
    assert_eq!(code, 2, "{text}");
    assert!(calls.is_empty(), "{calls:?}");
    assert!(text.contains("not an image of ghcr.io/o/web"), "{text}");
    let (code, _, text) = fake.run(NEW, &[("DEPLOY_IMAGE_REPOSITORY", "ghcr.io/o/web")]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn shellcheck_is_clean() {
    if !relay_testkit::peers::require_program("shellcheck", "apt-get install -y shellcheck") {
        return;
    }
    let out = Command::new("shellcheck")
        .arg(deploy_sh())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The whole chain: a signed request, the receiver, deploy.sh, the fake
/// docker; an unhealthy release comes back as 503 after the rollback.
#[tokio::test]
async fn through_the_receiver_an_unhealthy_release_is_503() {
    let fake = Fake::new();
    let env: Vec<String> = fake
        .env(&[("FAKE_RUNNING", OLD), ("FAKE_HEALTH", "starting unhealthy")])
        .into_iter()
        .map(|(k, v)| format!("{k} = \"{v}\""))
        .collect();
    let config = format!(
        "listen = \"127.0.0.1:0\"\nsecret_env = \"DEPLOY_SECRET\"\n\n[[hooks]]\npath = \"/deploy\"\ncommand = [\"{}\"]\nargs = [\"image\"]\n[hooks.env]\n{}\n",
        deploy_sh().display(),
        env.join("\n")
    );
    let dir = tempfile::tempdir().unwrap();
    let r = start_with(dir, &config, SECRET).await;
    let client = reqwest::Client::new();
    let body = serde_json::to_vec(&serde_json::json!({ "image": NEW })).unwrap();
    let (status, answer) = json(
        signed(&client, &r.url("/deploy"), &body, SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["status"], "unhealthy, rolled back");
    assert!(
        answer["output"]
            .as_str()
            .unwrap()
            .contains(&format!("rolling back web to {OLD}")),
        "{answer}"
    );
    let calls = std::fs::read_to_string(fake.log_path()).unwrap();
    assert!(
        calls.ends_with(&format!("{}\n", compose(OLD, "up -d --no-deps web"))),
        "{calls}"
    );
    r.stop().await;
}

/// deploy-receiver's timeout sends SIGTERM to the whole group: a swap in
/// progress is put back before the SIGKILL that follows the grace period.
#[test]
fn sigterm_during_the_health_wait_rolls_back() {
    use std::os::unix::process::CommandExt;
    let fake = Fake::new();
    let mut child = Command::new("bash")
        .arg(deploy_sh())
        .arg(NEW)
        .env_clear()
        .envs(fake.env(&[
            ("FAKE_RUNNING", OLD),
            ("FAKE_HEALTH", "starting"),
            ("DEPLOY_HEALTH_DEADLINE", "60"),
            ("DEPLOY_HEALTH_INTERVAL", "0.2"),
        ]))
        .stdout(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !std::fs::read_to_string(fake.log_path())
        .unwrap_or_default()
        .contains("State.Health")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "deploy.sh never reached the health wait"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pgid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    let calls = std::fs::read_to_string(fake.log_path()).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(
        calls[calls.len() - 3..],
        [
            compose(NEW, "stop web"),
            compose(OLD, "pull web"),
            compose(OLD, "up -d --no-deps web")
        ]
    );
}
