//! Starts a receiver in-process on 127.0.0.1:0 with a recording deploy
//! script, and signs requests the way `sign-and-call-webhook` does.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deploy_receiver::{Config, Receiver};
use relay_runtime::Env;
use relay_signature::{SigningKey, github, status};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SECRET: &str = "correct horse battery staple";
pub const SECRET_ENV: &str = "DEPLOY_SECRET";

/// The deploy command of most tests. What it does depends on the sha it is
/// given, so one script covers every outcome; it logs `start`/`end` lines
/// so tests can see what ran and in which order.
pub const SCRIPT: &str = r#"#!/bin/sh
dir=$(dirname "$0")
echo "start $1 $DEPLOY_DELIVERY_ID" >> "$dir/calls"
echo "deploying $1"
echo "a warning on stderr" >&2
case "$1" in
  1111111) exit 1 ;;
  2222222) echo "pull failed"; exit 2 ;;
  3333333) echo "unhealthy"; exit 3 ;;
  5555555) sleep 1.5 ;;
  6666666) sleep 30 & echo $! > "$dir/grandchild"; sleep 30 ;;
  7777777) echo "secret is ${DEPLOY_SECRET:-unset}" ;;
  8888888) setsid sleep 30 & echo $! > "$dir/escaped"
           (sleep 30 & echo $! > "$dir/orphan"); sleep 30 ;;
  9999999) sleep 30 & echo $! > "$dir/leftover"
           setsid sleep 30 & echo $! > "$dir/escaped"
           (setsid sleep 30 & echo $! > "$dir/orphan") ;;
esac
echo "end $1" >> "$dir/calls"
exit 0
"#;

pub fn write_script(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The config every test starts from: hooks `/deploy`, `/queued` (queue =
/// true), `/slow` (a short timeout), `/keep` (keep_children = true),
/// `/async` and `/async-queued` (mode = "async"), all running [`SCRIPT`].
pub fn config_text(script: &Path, extra_top: &str) -> String {
    let script = script.display();
    format!(
        r#"listen = "127.0.0.1:0"
secret_env = "{SECRET_ENV}"
max_body = "1MiB"
{extra_top}

[[hooks]]
path = "/deploy"
command = ["{script}"]
args = ["image_sha"]
timeout = "20s"

[[hooks]]
path = "/queued"
command = ["{script}"]
args = ["image_sha"]
queue = true

[[hooks]]
path = "/slow"
command = ["{script}"]
args = ["image_sha"]
timeout = "2s"
kill_grace = "200ms"

[[hooks]]
path = "/keep"
command = ["{script}"]
args = ["image_sha"]
keep_children = true

[[hooks]]
path = "/async"
command = ["{script}"]
args = ["image_sha"]
mode = "async"

[[hooks]]
path = "/async-queued"
command = ["{script}"]
args = ["image_sha"]
mode = "async"
queue = true
"#
    )
}

pub struct Running {
    pub base: String,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The `start`/`end` lines the script wrote, in order.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Waits until the script has logged `line`.
    pub async fn wait_for_call(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.calls().iter().any(|l| l.starts_with(line)) {
            assert!(
                Instant::now() < deadline,
                "the script never logged `{line}`"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server the graceful way and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

pub async fn start(extra_top: &str) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "deploy.sh", SCRIPT);
    start_with(dir, &config_text(&script, extra_top), SECRET).await
}

/// A receiver on [`config_text`] whose secret is read from the file `secret`
/// (written as given, line endings and all) instead of [`SECRET_ENV`]; its
/// hooks run `script`, made from the secret file's path.
pub async fn start_with_secret_file(
    secret: &str,
    script: impl FnOnce(&Path) -> String,
    extra_top: &str,
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, secret).unwrap();
    let script = write_script(dir.path(), "deploy.sh", &script(&secret_file));
    let config = config_text(&script, extra_top).replace(
        &format!("secret_env = \"{SECRET_ENV}\""),
        &format!("secret_file = \"{}\"", secret_file.display()),
    );
    start_with(dir, &config, "unused").await
}

pub async fn start_with(dir: tempfile::TempDir, config: &str, secret: &str) -> Running {
    let config = Config::parse(config).unwrap();
    let env = Env::from_pairs([(SECRET_ENV, secret)]);
    let receiver = Receiver::bind(config, &env)
        .await
        .unwrap()
        .with_supervisor(env!("CARGO_BIN_EXE_deploy-receiver"));
    let addr = receiver.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(receiver.serve(async {
        let _ = stopped.await;
    }));
    Running {
        base: format!("http://{addr}"),
        dir,
        stop: Some(stop),
        task: Some(task),
    }
}

pub fn body(image_sha: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"image_sha": image_sha, "ref": "refs/heads/main"}))
        .unwrap()
}

/// A POST signed GitHub-style with `secret`.
pub fn signed(
    client: &reqwest::Client,
    url: &str,
    body: &[u8],
    secret: &str,
) -> reqwest::RequestBuilder {
    let signature = github::sign(&SigningKey::new(secret).unwrap(), body);
    client
        .post(url)
        .header("Content-Type", "application/json")
        .header(github::HEADER, signature)
        .body(body.to_vec())
}

pub async fn json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, value)
}

/// True once `pid` no longer runs (gone, or a zombie waiting for a reaper).
pub fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// Sends the request `make` builds until the hook is no longer busy (409
/// "already running"): a deploy's lock is released a moment after its
/// command logs its last line.
pub async fn send_when_free(make: impl Fn() -> reqwest::RequestBuilder) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = make().send().await.unwrap();
        if response.status() != 409 || Instant::now() > deadline {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client whose connections come from `ip` (any of 127.0.0.0/8 is this
/// machine), so tests can be "another address" than a flood.
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A raw TCP connection from `ip` to the receiver.
pub async fn tcp_from(ip: &str, base: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    let addr = base.trim_start_matches("http://").parse().unwrap();
    socket.connect(addr).await.unwrap()
}

pub fn unix_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// A status poll for delivery `id` of `hook`, signed GitHub-style, whose
/// body names `body_id` at `ts` (normally `id` and now).
pub fn poll_as(
    client: &reqwest::Client,
    base: &str,
    hook: &str,
    id: &str,
    body_id: &str,
    ts: i64,
    secret: &str,
) -> reqwest::RequestBuilder {
    let body = status::body(body_id, ts);
    let signature = github::sign(&SigningKey::new(secret).unwrap(), body.as_bytes());
    client
        .post(format!("{base}{}", status::path(hook, id)))
        .header("Content-Type", status::CONTENT_TYPE)
        .header(github::HEADER, signature)
        .body(body)
}

pub fn poll(client: &reqwest::Client, base: &str, hook: &str, id: &str) -> reqwest::RequestBuilder {
    poll_as(client, base, hook, id, id, unix_now(), SECRET)
}

/// Waits until `pid` has gone, failing after a few seconds.
pub async fn assert_gone(pid: i32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !process_gone(pid) {
        assert!(Instant::now() < deadline, "{what} ({pid}) survived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pid a script wrote to `name` in the test directory.
pub fn pid_in(dir: &Path, name: &str) -> i32 {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .trim()
        .parse()
        .unwrap()
}
