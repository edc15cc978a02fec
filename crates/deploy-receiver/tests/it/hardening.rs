//! Issue 22, the receiver's part, over real HTTP and with the real binary:
//! answers bounded by their encoded size, the bounded line per hook, the
//! delivery id's characters, hook paths in one form, the replay state file,
//! and `--check` that only checks.

use std::process::Command;
use std::time::{Duration, Instant};

use relay_signature::{SigningKey, standard};

use crate::binary::Binary;
use crate::harness::{
    SECRET, SECRET_ENV, body, json, poll, signed, start_with, unix_now, write_script,
};

/// A deploy command that waits for the file `go` beside it: what it is
/// given stays queued or running until the test says.
const HOLD: &str = r#"#!/bin/sh
dir=$(dirname "$0")
echo "start $1 $DEPLOY_DELIVERY_ID" >> "$dir/calls"
while [ ! -f "$dir/go" ]; do sleep 0.05; done
echo "end $1" >> "$dir/calls"
"#;

fn hold_config(script: &std::path::Path, extra_top: &str, hook: &str) -> String {
    format!(
        "listen = \"127.0.0.1:0\"\nsecret_env = \"{SECRET_ENV}\"\n{extra_top}\n\n[[hooks]]\ncommand = [\"{}\"]\nargs = [\"image_sha\"]\n{hook}\n",
        script.display()
    )
}

fn calls(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("calls"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn wait_for(dir: &std::path::Path, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !calls(dir).iter().any(|l| l.starts_with(line)) {
        assert!(Instant::now() < deadline, "never logged `{line}`");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// 24 KiB of ESC and BEL — each escaped to six bytes in JSON — then exit 3.
const NOISY: &str = "#!/bin/sh\nhead -c 12288 /dev/zero | tr '\\0' '\\033'\nhead -c 12288 /dev/zero | tr '\\0' '\\007'\nexit 3\n";

#[tokio::test]
async fn a_control_character_heavy_output_answers_within_32_kib_with_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "noisy.sh", NOISY);
    let config = format!(
        "listen = \"127.0.0.1:0\"\nsecret_env = \"{SECRET_ENV}\"\noutput_tail = \"24KiB\"\n\n[[hooks]]\npath = \"/sync\"\ncommand = [\"{0}\"]\n\n[[hooks]]\npath = \"/async\"\nmode = \"async\"\ncommand = [\"{0}\"]\n",
        script.display()
    );
    let r = start_with(dir, &config, SECRET).await;
    let client = reqwest::Client::new();
    let check = |status: u16, header: Option<&str>, text: &str| {
        assert_eq!(status, 503, "{}", &text[..200.min(text.len())]);
        assert_eq!(header, Some("3"), "the Deploy-Exit-Code header");
        assert!(text.len() <= 32 * 1024, "{} bytes", text.len());
        let answer: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(answer["exit_code"], 3);
        assert_eq!(answer["status"], "unhealthy, rolled back");
        assert_eq!(answer["output_truncated"], true);
        let output = answer["output"].as_str().unwrap();
        assert!(
            output.ends_with('\u{7}') && output.len() > 4000,
            "{}",
            output.len()
        );
    };
    let response = signed(&client, &r.url("/sync"), b"{}", SECRET)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let header = response
        .headers()
        .get("deploy-exit-code")
        .map(|v| v.to_str().unwrap().to_owned());
    check(status, header.as_deref(), &response.text().await.unwrap());
    let accepted = signed(&client, &r.url("/async"), b"{}", SECRET)
        .header("X-Deploy-Delivery", "noisy-1")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    assert!(accepted.headers().get("deploy-exit-code").is_none());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = poll(&client, &r.base, "/async", "noisy-1")
            .send()
            .await
            .unwrap();
        if response.status() != 202 {
            let status = response.status().as_u16();
            let header = response
                .headers()
                .get("deploy-exit-code")
                .map(|v| v.to_str().unwrap().to_owned());
            check(status, header.as_deref(), &response.text().await.unwrap());
            break;
        }
        assert!(Instant::now() < deadline, "the deploy never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    r.stop().await;
}

#[tokio::test]
async fn the_queue_is_bounded_and_a_replayed_body_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "hold.sh", HOLD);
    let state = dir.path().join("ids.json");
    let work = dir.path().to_owned();
    let config = hold_config(
        &script,
        &format!("replay_state = \"{}\"", state.display()),
        "path = \"/deploy\"\nmode = \"async\"\nqueue = true",
    );
    let r = start_with(dir, &config, SECRET).await;
    let client = reqwest::Client::new();
    let send = |sha: &str, id: &str| {
        signed(&client, &r.url("/deploy"), &body(sha), SECRET)
            .header("X-Deploy-Delivery", id)
            .send()
    };
    let ids_on_disk = || std::fs::read_to_string(&state).unwrap();
    assert_eq!(send("aaaaaaa", "a-1").await.unwrap().status(), 202);
    wait_for(&work, "start aaaaaaa").await;
    // Under the `github` scheme the delivery id is not signed: the same
    // captured body with fresh ids is refused while it is queued or running,
    // and none of those ids reaches the state file.
    for i in 2..6 {
        let id = format!("a-{i}");
        let (status, answer) = json(send("aaaaaaa", &id).await.unwrap()).await;
        assert_eq!(status, 409, "{answer}");
        assert!(
            answer["status"]
                .as_str()
                .unwrap()
                .contains("same signed body"),
            "{answer}"
        );
        assert!(answer.get("exit_code").is_none(), "{answer}");
        assert!(!ids_on_disk().contains(&id), "{}", ids_on_disk());
    }
    // Two may wait behind the running one (the default `queue_limit`).
    for (sha, id) in [("bbbbbbb", "b-1"), ("ccccccc", "c-1")] {
        let (status, answer) = json(send(sha, id).await.unwrap()).await;
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["status"], "queued");
    }
    let full = send("ddddddd", "d-1").await.unwrap();
    assert_eq!(full.status(), 429);
    assert_eq!(full.headers()["retry-after"], "30");
    let (_, answer) = json(full).await;
    assert!(answer.get("exit_code").is_none(), "nothing ran: {answer}");
    assert!(!ids_on_disk().contains("d-1"), "{}", ids_on_disk());
    assert_eq!(
        json(
            poll(&client, &r.base, "/deploy", "d-1")
                .send()
                .await
                .unwrap()
        )
        .await
        .0,
        404,
        "a delivery turned away has no status"
    );
    // Let them run: each body ran once, in order.
    std::fs::write(work.join("go"), "").unwrap();
    wait_for(&work, "end ccccccc").await;
    let started: Vec<String> = calls(&work)
        .into_iter()
        .filter(|l| l.starts_with("start"))
        .collect();
    assert_eq!(
        started,
        [
            "start aaaaaaa a-1",
            "start bbbbbbb b-1",
            "start ccccccc c-1"
        ]
    );
    // Once it ended, the same body may deploy again (a redeploy).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(send("aaaaaaa", "a-9").await.unwrap().status(), 202);
    wait_for(&work, "start aaaaaaa a-9").await;
    r.stop().await;
}

#[tokio::test]
async fn a_sync_hook_refuses_a_body_it_is_running_and_bounds_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "hold.sh", HOLD);
    let work = dir.path().to_owned();
    let config = hold_config(
        &script,
        "",
        "path = \"/deploy\"\nqueue = true\nqueue_limit = 1",
    );
    let r = start_with(dir, &config, SECRET).await;
    let client = reqwest::Client::new();
    let url = r.url("/deploy");
    let send = |sha: &str, id: &str| {
        signed(&client, &url, &body(sha), SECRET)
            .header("X-Deploy-Delivery", id)
            .send()
    };
    let first = tokio::spawn(send("aaaaaaa", "s-1"));
    wait_for(&work, "start aaaaaaa").await;
    assert_eq!(send("aaaaaaa", "s-2").await.unwrap().status(), 409);
    let second = tokio::spawn(send("bbbbbbb", "s-3"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(send("ccccccc", "s-4").await.unwrap().status(), 429);
    std::fs::write(work.join("go"), "").unwrap();
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
    assert_eq!(second.await.unwrap().unwrap().status(), 200);
    r.stop().await;
}

#[tokio::test]
async fn delivery_ids_are_path_safe_and_checked_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(
        dir.path(),
        "id.sh",
        "#!/bin/sh\nprintf 'id=%s\\n' \"$DEPLOY_DELIVERY_ID\" >> \"$(dirname \"$0\")/calls\"\n",
    );
    let work = dir.path().to_owned();
    let config = hold_config(&script, "", "path = \"/deploy\"");
    let r = start_with(dir, &config, SECRET).await;
    let client = reqwest::Client::new();
    let b = body("0123abc");
    let long = "a".repeat(129);
    for id in ["$(id)", "a`id`", "a;b", "a b", "a/b", "%2e", &long] {
        for header in ["X-Deploy-Delivery", "X-GitHub-Delivery", "webhook-id"] {
            // Signed or not: the id is refused before the signature is looked at.
            for request in [
                signed(&client, &r.url("/deploy"), &b, SECRET),
                client
                    .post(r.url("/deploy"))
                    .header("Content-Type", "application/json")
                    .body(b.clone()),
            ] {
                let (status, answer) = json(request.header(header, id).send().await.unwrap()).await;
                assert_eq!(status, 400, "{header}: {id:?}: {answer}");
                assert!(
                    answer["status"].as_str().unwrap().contains("1-128 of"),
                    "{answer}"
                );
            }
        }
    }
    let twice = signed(&client, &r.url("/deploy"), &b, SECRET)
        .header("X-Deploy-Delivery", "one")
        .header("X-Deploy-Delivery", "two")
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 400);
    assert!(calls(&work).is_empty(), "nothing ran: {:?}", calls(&work));
    let longest = "Az09-._~".repeat(16);
    let ok = signed(&client, &r.url("/deploy"), &b, SECRET)
        .header("X-Deploy-Delivery", &longest)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(calls(&work), [format!("id={longest}")]);
    r.stop().await;
}

#[tokio::test]
async fn under_standard_webhooks_the_signed_id_follows_the_same_rule() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "hold.sh", "#!/bin/sh\nexit 0\n");
    let key = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let config = hold_config(
        &script,
        "signature = \"standard-webhooks\"",
        "path = \"/deploy\"",
    );
    let r = start_with(dir, &config, key).await;
    let client = reqwest::Client::new();
    let b = body("0123abc");
    let send = |id: &str| {
        let now = unix_now();
        let signature =
            standard::sign(&[SigningKey::from_whsec(key).unwrap()], id, now, &b).unwrap();
        client
            .post(r.url("/deploy"))
            .header("Content-Type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(b.clone())
            .send()
    };
    assert_eq!(send("msg_$(id)").await.unwrap().status(), 400);
    assert_eq!(send("msg_2ZxL").await.unwrap().status(), 200);
    r.stop().await;
}

#[tokio::test]
async fn a_hook_path_with_a_trailing_slash_is_one_hook_with_working_status_paths() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "ok.sh", "#!/bin/sh\necho done\n");
    let config = hold_config(&script, "", "path = \"/d/\"\nmode = \"async\"");
    let r = start_with(dir, &config, SECRET).await;
    let client = reqwest::Client::new();
    for (url, id) in [(r.url("/d"), "slash-1"), (r.url("/d/"), "slash-2")] {
        let (status, answer) = json(
            signed(&client, &url, &body("0123abc"), SECRET)
                .header("X-Deploy-Delivery", id)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 202, "{url}: {answer}");
        assert_eq!(answer["status_path"], format!("/d/deliveries/{id}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, answer) =
                json(poll(&client, &r.base, "/d", id).send().await.unwrap()).await;
            assert_ne!(status, 404, "{answer}");
            if status == 200 {
                assert_eq!(answer["exit_code"], 0);
                break;
            }
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    r.stop().await;
}

fn receiver(config: &std::path::Path, flags: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_deploy-receiver"))
        .arg("--config")
        .arg(config)
        .args(flags)
        .env(SECRET_ENV, SECRET)
        .output()
        .unwrap()
}

#[test]
fn two_spellings_of_one_hook_path_are_refused_by_check_and_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receiver.toml");
    for (a, b, needle) in [
        ("/a", "/a/", "is the same hook as `hooks[0]`"),
        ("/a/", "/a", "is the same hook as `hooks[0]`"),
        ("/a", "/a//", "empty segment"),
        ("/a", "/:a", "may only hold"),
        ("/a", "/{a}", "may only hold"),
        ("/a", "/a/../b", "`..` segment"),
        ("/a", "/%61", "may only hold"),
        ("/a", "/", "names no hook"),
        ("/a", "/healthz/", "health path"),
    ] {
        std::fs::write(
            &path,
            format!(
                "listen = \"127.0.0.1:0\"\nsecret_env = \"{SECRET_ENV}\"\n[[hooks]]\npath = \"{a}\"\ncommand = [\"/bin/true\"]\n[[hooks]]\npath = \"{b}\"\ncommand = [\"/bin/true\"]\n"
            ),
        )
        .unwrap();
        for flags in [&["--check"][..], &[]] {
            let out = receiver(&path, flags);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{a} {b} {flags:?}: {err}");
            assert!(
                err.contains("hooks[1].path") && err.contains(needle),
                "{a} {b}: {err}"
            );
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The state directory as the test sees it: names, sizes and times.
fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_binds_nothing_and_writes_nothing_beside_the_running_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    std::fs::create_dir(&state_dir).unwrap();
    let script = write_script(dir.path(), "ok.sh", "#!/bin/sh\nexit 0\n");
    let config = hold_config(
        &script,
        &format!("replay_state = \"{}/ids.json\"", state_dir.display()),
        "path = \"/deploy\"",
    )
    .replace("127.0.0.1:0", &format!("127.0.0.1:{}", free_port()));
    let bin = Binary::with_config(dir.path(), &config, None);
    let client = reqwest::Client::new();
    let sent = signed(
        &client,
        &format!("{}/deploy", bin.base),
        &body("0123abc"),
        SECRET,
    )
    .header("X-Deploy-Delivery", "before-check")
    .send()
    .await
    .unwrap();
    assert_eq!(sent.status(), 200);
    let before = snapshot(&state_dir);
    // Later mtimes would show even within the same second.
    std::thread::sleep(Duration::from_millis(20));
    let out = receiver(&dir.path().join("receiver.toml"), &["--check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is valid"));
    assert_eq!(
        snapshot(&state_dir),
        before,
        "--check wrote to the state directory"
    );
    assert!(
        std::fs::read_to_string(state_dir.join("ids.json"))
            .unwrap()
            .contains("before-check"),
        "the running receiver's ids are intact"
    );
}

#[test]
fn a_corrupt_state_file_stops_the_start_and_reset_is_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("ids.json");
    std::fs::write(&state, "{\"ids\":[[\"d-1\",1").unwrap();
    let script = write_script(dir.path(), "ok.sh", "#!/bin/sh\nexit 0\n");
    let config = hold_config(
        &script,
        &format!("replay_state = \"{}\"", state.display()),
        "path = \"/deploy\"",
    );
    let path = dir.path().join("receiver.toml");
    std::fs::write(&path, &config).unwrap();
    for flags in [&["--check"][..], &[]] {
        let out = receiver(&path, flags);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flags:?}: {err}");
        assert!(
            err.contains("is corrupt") && err.contains("--reset-replay-state"),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        "{\"ids\":[[\"d-1\",1"
    );
    let check = receiver(&path, &["--check", "--reset-replay-state"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let mut bin = Binary::launch(dir.path(), &config, None, &["--reset-replay-state"], None);
    assert!(
        bin.whole_log()
            .iter()
            .any(|l| l.contains("--reset-replay-state: starting with no remembered delivery ids")),
        "the reset is logged"
    );
    let ids: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(ids["ids"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_file_is_0600_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("ids.json");
    let script = write_script(dir.path(), "ok.sh", "#!/bin/sh\nexit 0\n");
    let config = hold_config(
        &script,
        &format!("replay_state = \"{}\"", state.display()),
        "path = \"/deploy\"",
    );
    let bin = Binary::launch(dir.path(), &config, None, &[], Some("000"));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o600, "at start");
    let client = reqwest::Client::new();
    let sent = signed(
        &client,
        &format!("{}/deploy", bin.base),
        &body("0123abc"),
        SECRET,
    )
    .header("X-Deploy-Delivery", "umask-1")
    .send()
    .await
    .unwrap();
    assert_eq!(sent.status(), 200);
    assert_eq!(mode(&state), 0o600, "after a delivery");
    assert!(std::fs::read_to_string(&state).unwrap().contains("umask-1"));
}

#[test]
fn a_state_directory_others_may_write_stops_the_start() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let script = write_script(dir.path(), "ok.sh", "#!/bin/sh\nexit 0\n");
    let path = dir.path().join("receiver.toml");
    std::fs::write(
        &path,
        hold_config(
            &script,
            &format!("replay_state = \"{}/ids.json\"", open.display()),
            "path = \"/deploy\"",
        ),
    )
    .unwrap();
    for flags in [&["--check"][..], &[]] {
        let out = receiver(&path, flags);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("is writable by others"), "{err}");
    }
    assert_eq!(
        std::fs::read_dir(&open).unwrap().count(),
        0,
        "nothing written"
    );
}
