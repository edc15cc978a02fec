//! Every acceptance case of issue 5 against an in-process receiver.

use std::path::Path;
use std::time::{Duration, Instant};

use relay_signature::{SigningKey, standard};

use crate::harness::{
    SCRIPT, SECRET, body, config_text, json, process_gone, send_when_free, signed, start,
    start_with, start_with_secret_file, unix_now, write_script,
};

#[tokio::test]
async fn valid_delivery_runs_the_command_with_the_validated_sha() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let response = signed(&client, &r.url("/deploy"), &body("0123abc"), SECRET)
        .header("X-Deploy-Delivery", "delivery-1")
        .send()
        .await
        .unwrap();
    let (status, answer) = json(response).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "deployed");
    assert_eq!(answer["exit_code"], 0);
    assert!(answer["duration_ms"].as_u64().is_some());
    let output = answer["output"].as_str().unwrap();
    assert!(
        output.contains("deploying 0123abc") && output.contains("a warning on stderr"),
        "{output}"
    );
    assert_eq!(answer["delivery_id"], "delivery-1");
    assert_eq!(r.calls(), ["start 0123abc delivery-1", "end 0123abc"]);
    r.stop().await;
}

#[tokio::test]
async fn bad_signatures_are_401_and_nothing_runs() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let url = r.url("/deploy");
    let good = body("0123abc");

    let missing = client
        .post(&url)
        .header("Content-Type", "application/json")
        .body(good.clone())
        .send()
        .await
        .unwrap();
    let wrong = signed(&client, &url, &good, "not the secret")
        .send()
        .await
        .unwrap();
    let garbage = client
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-Hub-Signature-256", "sha256=nothex")
        .body(good.clone())
        .send()
        .await
        .unwrap();
    // Signed, then altered on the way: one byte of the sha changed.
    let signature = relay_signature::github::sign(&SigningKey::new(SECRET).unwrap(), &good);
    let altered = client
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-Hub-Signature-256", signature)
        .body(body("0123abd"))
        .send()
        .await
        .unwrap();
    for response in [missing, wrong, garbage, altered] {
        let (status, answer) = json(response).await;
        assert_eq!(status, 401);
        // No hint of what was expected or which part was wrong.
        assert_eq!(answer, serde_json::json!({"status": "unauthorized"}));
    }
    assert!(r.calls().is_empty(), "{:?}", r.calls());
    r.stop().await;
}

#[tokio::test]
async fn injection_attempts_are_422_and_nothing_runs() {
    let r = start("").await;
    let client = reqwest::Client::new();
    for sha in [
        "abc;rm -rf /",
        "$(id)",
        "0123abc\n",
        "0123ABC",
        "`id`",
        "-rf",
        "0123ab",
    ] {
        let (status, answer) = json(
            signed(&client, &r.url("/deploy"), &body(sha), SECRET)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 422, "{sha:?}: {answer}");
        assert!(
            answer["status"].as_str().unwrap().contains("`image_sha`"),
            "{answer}"
        );
    }
    assert!(r.calls().is_empty(), "{:?}", r.calls());
    r.stop().await;
}

#[tokio::test]
async fn exit_codes_map_to_statuses() {
    let r = start("").await;
    let client = reqwest::Client::new();
    for (sha, expect, text) in [
        ("2222222", 422, "image could not be pulled, nothing changed"),
        ("3333333", 503, "unhealthy, rolled back"),
        ("1111111", 500, "deploy failed with exit code 1"),
    ] {
        let (status, answer) = json(
            signed(&client, &r.url("/deploy"), &body(sha), SECRET)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, expect, "{answer}");
        assert_eq!(answer["status"], text);
        assert_eq!(answer["exit_code"], sha[..1].parse::<i32>().unwrap());
    }
    r.stop().await;
}

#[tokio::test]
async fn configured_exit_codes_win() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "deploy.sh", SCRIPT);
    let config = config_text(&script, "").replacen(
        "timeout = \"20s\"",
        "timeout = \"20s\"\n[hooks.exit_codes]\n1 = 502\n3 = 500",
        1,
    );
    let r = start_with(dir, &config, SECRET).await;
    let client = reqwest::Client::new();
    for (sha, expect) in [
        ("1111111", 502),
        ("3333333", 500),
        ("2222222", 422),
        ("0123abc", 200),
    ] {
        let response = signed(&client, &r.url("/deploy"), &body(sha), SECRET)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expect, "{sha}");
    }
    r.stop().await;
}

#[tokio::test]
async fn a_second_deploy_while_one_runs_is_409() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let first = tokio::spawn(signed(&client, &r.url("/deploy"), &body("5555555"), SECRET).send());
    r.wait_for_call("start 5555555").await;
    let (status, answer) = json(
        signed(&client, &r.url("/deploy"), &body("0123abc"), SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["status"]
            .as_str()
            .unwrap()
            .contains("already running")
    );
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
    assert!(
        !r.calls().iter().any(|l| l.contains("0123abc")),
        "{:?}",
        r.calls()
    );
    r.stop().await;
}

#[tokio::test]
async fn with_queue_both_deploy_one_after_the_other() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let first = tokio::spawn(signed(&client, &r.url("/queued"), &body("5555555"), SECRET).send());
    r.wait_for_call("start 5555555").await;
    let second = signed(&client, &r.url("/queued"), &body("0123abc"), SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
    let calls: Vec<String> = r
        .calls()
        .iter()
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        calls,
        [
            "start 5555555",
            "end 5555555",
            "start 0123abc",
            "end 0123abc"
        ]
    );
    r.stop().await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let mut big = br#"{"image_sha":"0123abc","pad":""#.to_vec();
    big.resize(2 * 1024 * 1024, b'x');
    big.extend_from_slice(b"\"}");
    let response = signed(&client, &r.url("/deploy"), &big, SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // Streamed without a length the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let stream = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let response = client
        .post(r.url("/deploy"))
        .header("Content-Type", "application/json")
        .body(stream)
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
    assert!(r.calls().is_empty());
    r.stop().await;
}

#[tokio::test]
async fn timeout_kills_the_process_group() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let (status, answer) = json(
        signed(&client, &r.url("/slow"), &body("6666666"), SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 504, "{answer}");
    assert!(
        answer["status"].as_str().unwrap().contains("timed out"),
        "{answer}"
    );
    assert_eq!(answer["exit_code"], serde_json::Value::Null);
    assert!(started.elapsed() < Duration::from_secs(10));
    let pid: i32 = std::fs::read_to_string(r.dir.path().join("grandchild"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !process_gone(pid) {
        assert!(
            Instant::now() < deadline,
            "grandchild {pid} survived the timeout"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !r.calls().iter().any(|l| l.starts_with("end")),
        "{:?}",
        r.calls()
    );
    r.stop().await;
}

#[tokio::test]
async fn wrong_method_type_and_path() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let get = client.get(r.url("/deploy")).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let b = body("0123abc");
    let signature = relay_signature::github::sign(&SigningKey::new(SECRET).unwrap(), &b);
    let typed = |content_type: &'static str| {
        client
            .post(r.url("/deploy"))
            .header("Content-Type", content_type)
            .header("X-Hub-Signature-256", &signature)
            .body(b.clone())
            .send()
    };
    assert_eq!(typed("text/plain").await.unwrap().status(), 415);
    assert_eq!(
        typed("application/x-www-form-urlencoded")
            .await
            .unwrap()
            .status(),
        415
    );
    assert_eq!(
        typed("application/json; charset=utf-8")
            .await
            .unwrap()
            .status(),
        200
    );
    // Two content types are one too many.
    let both = signed(&client, &r.url("/deploy"), &b, SECRET)
        .header("Content-Type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 415);
    // An unsigned request with the wrong type learns only that it is unsigned.
    let unsigned = client
        .post(r.url("/deploy"))
        .header("Content-Type", "text/plain")
        .body(b.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let nowhere = signed(&client, &r.url("/nowhere"), &b, SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(nowhere.status(), 404);
    let not_json = signed(&client, &r.url("/deploy"), b"[1,2]", SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(
        r.calls(),
        ["start 0123abc ", "end 0123abc"],
        "only the JSON-typed request ran"
    );
    r.stop().await;
}

#[tokio::test]
async fn replayed_delivery_id_is_refused() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let b = body("0123abc");
    for header in ["X-Deploy-Delivery", "X-GitHub-Delivery"] {
        let id = format!("{header}-42");
        let first = signed(&client, &r.url("/deploy"), &b, SECRET)
            .header(header, &id)
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), 200);
        let (status, answer) = json(
            signed(&client, &r.url("/deploy"), &b, SECRET)
                .header(header, &id)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 409, "{answer}");
        assert!(
            answer["status"]
                .as_str()
                .unwrap()
                .contains("duplicate delivery")
        );
    }
    assert_eq!(r.calls().len(), 4, "{:?}", r.calls());
    r.stop().await;
}

#[tokio::test]
async fn a_delivery_turned_away_as_busy_may_be_sent_again() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let first = tokio::spawn(signed(&client, &r.url("/deploy"), &body("5555555"), SECRET).send());
    r.wait_for_call("start 5555555").await;
    let busy = signed(&client, &r.url("/deploy"), &body("0123abc"), SECRET)
        .header("X-Deploy-Delivery", "retry-me")
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), 409);
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
    let again = signed(&client, &r.url("/deploy"), &body("0123abc"), SECRET)
        .header("X-Deploy-Delivery", "retry-me")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    r.stop().await;
}

#[tokio::test]
async fn healthz() {
    let r = start("").await;
    let (status, answer) = json(reqwest::get(r.url("/healthz")).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(answer["status"], "ok");
    r.stop().await;
}

#[tokio::test]
async fn standard_webhooks_fresh_accepted_stale_and_replayed_refused() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "deploy.sh", SCRIPT);
    let key = SigningKey::new(*b"0123456789abcdef0123456789abcdef").unwrap();
    let config = config_text(
        &script,
        "signature = \"standard-webhooks\"\ntimestamp_tolerance = \"5m\"",
    );
    let r = start_with(dir, &config, &key.to_whsec()).await;
    let client = reqwest::Client::new();
    let b = body("0123abc");
    let post = |id: &str, ts: i64| {
        let signature = standard::sign(std::slice::from_ref(&key), id, ts, &b).unwrap();
        client
            .post(r.url("/deploy"))
            .header("Content-Type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(b.clone())
            .send()
    };
    assert_eq!(post("msg_fresh", unix_now()).await.unwrap().status(), 200);
    assert_eq!(
        post("msg_stale", unix_now() - 600).await.unwrap().status(),
        401
    );
    assert_eq!(
        post("msg_future", unix_now() + 600).await.unwrap().status(),
        401
    );
    // The same signed id again, even re-signed with a new timestamp.
    assert_eq!(post("msg_fresh", unix_now()).await.unwrap().status(), 409);
    // A GitHub-style signature means nothing under this scheme.
    let github = signed(&client, &r.url("/deploy"), &b, SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(github.status(), 401);
    assert_eq!(r.calls().len(), 2, "{:?}", r.calls());
    r.stop().await;
}

#[tokio::test]
async fn a_rotated_secret_file_accepts_both_keys() {
    let r = start_with_secret_file("new-secret\nold-secret\n", |_| SCRIPT.to_owned(), "").await;
    let client = reqwest::Client::new();
    for (secret, expect) in [("new-secret", 200), ("old-secret", 200), ("unused", 401)] {
        let response = signed(&client, &r.url("/deploy"), &body("0123abc"), secret)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expect, "{secret}");
    }
    r.stop().await;
}

#[tokio::test]
async fn load_of_bad_signatures_does_not_disturb_a_running_deploy() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let deploy = tokio::spawn(signed(&client, &r.url("/deploy"), &body("5555555"), SECRET).send());
    r.wait_for_call("start 5555555").await;
    let mut refused = 0;
    for _ in 0..200 {
        let response = signed(&client, &r.url("/deploy"), &body("0123abc"), "guess")
            .send()
            .await
            .unwrap();
        refused += usize::from(response.status() == 401);
    }
    assert_eq!(refused, 200);
    let (status, answer) = json(deploy.await.unwrap().unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    r.stop().await;
}

#[tokio::test]
async fn at_the_cap_an_idle_connection_gives_way_and_a_running_deploy_does_not() {
    use tokio::io::AsyncReadExt as _;
    let r = start("max_connections = 1").await;
    let addr = r.base.trim_start_matches("http://").to_owned();
    let mut hog = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Let the server accept the idle connection and take the only slot.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    assert_eq!(
        client.get(r.url("/healthz")).send().await.unwrap().status(),
        200,
        "the idle connection should have given way"
    );
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), hog.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the idle connection was closed: {read:?}"
    );
    // An authenticated deploy in the only slot is never evicted: a newcomer
    // is answered 503 (retryable) at once instead.
    let deploy = tokio::spawn(signed(&client, &r.url("/deploy"), &body("5555555"), SECRET).send());
    r.wait_for_call("start 5555555").await;
    let (status, answer) = json(client.get(r.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer.get("exit_code"), None);
    assert_eq!(deploy.await.unwrap().unwrap().status(), 200);
    r.stop().await;
}

#[tokio::test]
async fn a_script_that_prints_the_secret_has_it_masked() {
    let leaky = |secret: &Path| format!("#!/bin/sh\necho \"oops: $(cat {})\"\n", secret.display());
    let r = start_with_secret_file(&format!("{SECRET}\n"), leaky, "").await;
    let client = reqwest::Client::new();
    let response = signed(&client, &r.url("/deploy"), &body("0123abc"), SECRET)
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("oops: ***"), "{text}");
    r.stop().await;
}

#[tokio::test]
async fn a_missing_program_is_500_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_text(&dir.path().join("not-there.sh"), "");
    let r = start_with(dir, &config, SECRET).await;
    let client = reqwest::Client::new();
    let (status, answer) = json(
        signed(&client, &r.url("/deploy"), &body("0123abc"), SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 500, "{answer}");
    assert!(
        answer["status"].as_str().unwrap().contains("not-there.sh"),
        "{answer}"
    );
    assert_eq!(answer["exit_code"], serde_json::Value::Null);
    r.stop().await;
}

#[tokio::test]
async fn a_client_that_hangs_up_does_not_cancel_the_deploy() {
    let r = start("").await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let gone = signed(&impatient, &r.url("/deploy"), &body("5555555"), SECRET)
        .send()
        .await;
    assert!(gone.is_err(), "the client should have given up first");
    r.wait_for_call("end 5555555").await;
    // And the hook is free again once the deploy's answer is made.
    let client = reqwest::Client::new();
    let next =
        send_when_free(|| signed(&client, &r.url("/deploy"), &body("0123abc"), SECRET)).await;
    assert_eq!(next.status(), 200);
    r.stop().await;
}

#[tokio::test]
async fn a_client_that_hangs_up_while_queued_does_not_burn_its_delivery_id() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let first = tokio::spawn(signed(&client, &r.url("/queued"), &body("5555555"), SECRET).send());
    r.wait_for_call("start 5555555").await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let gone = signed(&impatient, &r.url("/queued"), &body("0123abc"), SECRET)
        .header("X-Deploy-Delivery", "queued-then-gone")
        .send()
        .await;
    assert!(
        gone.is_err(),
        "the client should have given up while queued"
    );
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
    // The redelivery runs, once: the abandoned request never did.
    let again = signed(&client, &r.url("/queued"), &body("0123abc"), SECRET)
        .header("X-Deploy-Delivery", "queued-then-gone")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let ran = r
        .calls()
        .iter()
        .filter(|l| l.starts_with("start 0123abc"))
        .count();
    assert_eq!(ran, 1, "{:?}", r.calls());
    r.stop().await;
}

#[tokio::test]
async fn a_request_signed_for_one_hook_cannot_run_another() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "deploy.sh", SCRIPT);
    let (staging, production) = (dir.path().join("staging"), dir.path().join("production"));
    std::fs::write(&staging, "staging secret, long and random enough\n").unwrap();
    std::fs::write(&production, "production secret, long and random too\n").unwrap();
    let config = format!(
        "listen = \"127.0.0.1:0\"\n\n[[hooks]]\npath = \"/staging\"\nsecret_file = \"{}\"\ncommand = [\"{}\"]\nargs = [\"image_sha\"]\n\n[[hooks]]\npath = \"/production\"\nsecret_file = \"{}\"\ncommand = [\"{}\"]\nargs = [\"image_sha\"]\n",
        staging.display(),
        script.display(),
        production.display(),
        script.display()
    );
    let r = start_with(dir, &config, "unused").await;
    let client = reqwest::Client::new();
    let b = body("0123abc");
    let s = "staging secret, long and random enough";
    let p = "production secret, long and random too";
    for (path, secret, expect) in [
        ("/production", s, 401),
        ("/staging", p, 401),
        ("/staging", s, 200),
        ("/production", p, 200),
    ] {
        let response = signed(&client, &r.url(path), &b, secret)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            expect,
            "{path} signed with the {secret:?} key"
        );
    }
    assert_eq!(r.calls().len(), 4, "{:?}", r.calls());
    r.stop().await;
}

#[tokio::test]
async fn delivery_ids_survive_a_restart_with_a_state_file() {
    // Outlives both receivers (each `Running` owns and removes its own dir).
    let kept = tempfile::tempdir().unwrap();
    let state = kept.path().join("ids.json");
    let script = write_script(kept.path(), "deploy.sh", SCRIPT);
    let config = config_text(&script, &format!("replay_state = \"{}\"", state.display()));
    let client = reqwest::Client::new();
    let r = start_with(tempfile::tempdir().unwrap(), &config, SECRET).await;
    let first = signed(&client, &r.url("/deploy"), &body("0123abc"), SECRET)
        .header("X-Deploy-Delivery", "before-restart")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    r.stop().await;
    let again = start_with(tempfile::tempdir().unwrap(), &config, SECRET).await;
    let (status, answer) = json(
        signed(&client, &again.url("/deploy"), &body("0123abc"), SECRET)
            .header("X-Deploy-Delivery", "before-restart")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    again.stop().await;
}

/// A secret with the characters that workflow-command escaping and line
/// handling touch, in a file with CRLF line endings.
const ODD_SECRET: &str = "pa%ss:w,rd-with 100% of the odd characters";

#[tokio::test]
async fn output_is_masked_before_it_is_cut_whatever_the_secret_holds() {
    // The secret, then 40 bytes: the 64-byte tail cuts through the secret.
    let leaky = |secret: &Path| {
        format!(
            "#!/bin/sh\ncat {}\nprintf 'y%.0s' $(seq 1 40)\n",
            secret.display()
        )
    };
    let r =
        start_with_secret_file(&format!("{ODD_SECRET}\r\n"), leaky, "output_tail = \"64\"").await;
    let client = reqwest::Client::new();
    let (status, answer) = json(
        signed(&client, &r.url("/deploy"), &body("0123abc"), ODD_SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let output = answer["output"].as_str().unwrap();
    assert!(output.ends_with(&"y".repeat(40)), "{output:?}");
    assert!(output.starts_with("***"), "{output:?}");
    for part in ["odd characters", "characters", "acters", "%", ":"] {
        assert!(
            !output.contains(part),
            "`{part}` of the secret survived the cut: {output:?}"
        );
    }
    assert_eq!(answer["output_truncated"], true);
    r.stop().await;
}

#[tokio::test]
async fn the_bare_key_of_a_whsec_secret_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::new(*b"0123456789abcdef0123456789abcdef").unwrap();
    let whsec = key.to_whsec();
    let bare = whsec.trim_start_matches("whsec_").to_owned();
    let leaky = format!("#!/bin/sh\necho \"key {bare} and {whsec}\"\n");
    let script = write_script(dir.path(), "deploy.sh", &leaky);
    let config = config_text(&script, "signature = \"standard-webhooks\"");
    let r = start_with(dir, &config, &whsec).await;
    let client = reqwest::Client::new();
    let b = body("0123abc");
    let now = unix_now();
    let signature = standard::sign(std::slice::from_ref(&key), "msg_1", now, &b).unwrap();
    let text = client
        .post(r.url("/deploy"))
        .header("Content-Type", "application/json")
        .header("webhook-id", "msg_1")
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", signature)
        .body(b)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("key *** and ***"), "{text}");
    assert!(!text.contains(&bare), "{text}");
    r.stop().await;
}
