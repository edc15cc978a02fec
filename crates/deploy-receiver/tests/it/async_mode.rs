//! `mode = "async"`: 202 with a status path at once, and a status endpoint
//! signed like the deploy that answers the deploy's own answer at the end.

use std::time::{Duration, Instant};

use crate::harness::{SECRET, body, json, poll, poll_as, signed, start, unix_now};

async fn until_final(
    client: &reqwest::Client,
    base: &str,
    hook: &str,
    id: &str,
) -> (u16, serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, answer) = json(poll(client, base, hook, id).send().await.unwrap()).await;
        if status != 202 || Instant::now() > deadline {
            return (status, answer);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn async_answers_202_at_once_and_the_status_path_answers_the_result() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let response = signed(&client, &r.url("/async"), &body("5555555"), SECRET)
        .header("X-Deploy-Delivery", "async-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["location"], "/async/deliveries/async-1");
    let (_, accepted) = json(response).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered before the 1.5 s deploy ended"
    );
    assert_eq!(accepted["status_path"], "/async/deliveries/async-1");
    assert_eq!(accepted["delivery_id"], "async-1");
    assert_eq!(accepted.get("exit_code"), None, "not final: no exit_code");

    let (status, running) = json(
        poll(&client, &r.base, "/async", "async-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{running}");
    assert_eq!(running["status"], "running");

    let (status, done) = until_final(&client, &r.base, "/async", "async-1").await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "deployed");
    assert_eq!(done["exit_code"], 0);
    assert!(
        done["output"]
            .as_str()
            .unwrap()
            .contains("deploying 5555555"),
        "{done}"
    );
    // Polls are read-only: asking again gives the same answer.
    let (again, _) = json(
        poll(&client, &r.base, "/async", "async-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again, 200);
    assert_eq!(r.calls().len(), 2, "{:?}", r.calls());
    r.stop().await;
}

#[tokio::test]
async fn a_failed_async_deploy_answers_its_status_and_exit_code() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let response = signed(&client, &r.url("/async-queued"), &body("3333333"), SECRET)
        .header("X-Deploy-Delivery", "async-3")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let (status, done) = until_final(&client, &r.base, "/async-queued", "async-3").await;
    assert_eq!(status, 503, "{done}");
    assert_eq!(done["exit_code"], 3);
    assert_eq!(done["status"], "unhealthy, rolled back");
    r.stop().await;
}

#[tokio::test]
async fn status_polls_must_be_signed_for_that_hook_delivery_and_moment() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let response = signed(&client, &r.url("/async"), &body("0123abc"), SECRET)
        .header("X-Deploy-Delivery", "async-2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let base = &r.base;
    let now = unix_now();
    let unsigned = client
        .post(format!("{base}/async/deliveries/async-2"))
        .body(relay_signature::status::body("async-2", now))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    for (request, expect) in [
        (
            poll_as(
                &client,
                base,
                "/async",
                "async-2",
                "async-2",
                now,
                "wrong secret",
            ),
            401,
        ),
        (
            poll_as(
                &client,
                base,
                "/async",
                "async-2",
                "async-2",
                now - 600,
                SECRET,
            ),
            401,
        ),
        (
            poll_as(&client, base, "/async", "async-2", "other-id", now, SECRET),
            400,
        ),
        (
            poll_as(&client, base, "/async", "nobody", "nobody", now, SECRET),
            404,
        ),
        // Another hook's path does not know this hook's delivery.
        (
            poll_as(&client, base, "/deploy", "async-2", "async-2", now, SECRET),
            404,
        ),
    ] {
        let (status, answer) = json(request.send().await.unwrap()).await;
        assert_eq!(status, expect, "{answer}");
        assert_eq!(answer.get("output"), None, "nothing leaks: {answer}");
    }
    assert_eq!(
        client
            .get(format!("{base}/async/deliveries/async-2"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    // A signed poll is not a deploy: sent to the deploy path it runs nothing.
    let body = relay_signature::status::body("async-9", now);
    let signature = relay_signature::github::sign(
        &relay_signature::SigningKey::new(SECRET).unwrap(),
        body.as_bytes(),
    );
    let as_deploy = client
        .post(r.url("/async"))
        .header("Content-Type", "application/json")
        .header("X-Hub-Signature-256", signature)
        .header("X-Deploy-Delivery", "async-9")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(as_deploy.status(), 400);
    r.stop().await;
}

#[tokio::test]
async fn async_needs_a_delivery_id_and_keeps_one_deploy_at_a_time() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let (status, answer) = json(
        signed(&client, &r.url("/async"), &body("0123abc"), SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["status"].as_str().unwrap().contains("delivery id"),
        "{answer}"
    );
    let first = signed(&client, &r.url("/async"), &body("5555555"), SECRET)
        .header("X-Deploy-Delivery", "one")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 202);
    let busy = signed(&client, &r.url("/async"), &body("0123abc"), SECRET)
        .header("X-Deploy-Delivery", "two")
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), 409);
    let (status, _) = until_final(&client, &r.base, "/async", "one").await;
    assert_eq!(status, 200);
    assert_eq!(
        json(
            poll(&client, &r.base, "/async", "two")
                .send()
                .await
                .unwrap()
        )
        .await
        .0,
        404,
        "a delivery turned away as busy has no status"
    );
    r.stop().await;
}

#[tokio::test]
async fn a_sync_deliverys_answer_is_at_its_status_path_too() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let response = signed(&client, &r.url("/deploy"), &body("2222222"), SECRET)
        .header("X-Deploy-Delivery", "sync-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let (status, answer) = json(
        poll(&client, &r.base, "/deploy", "sync-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["exit_code"], 2);
    // And a duplicate says so, and where the first one's answer is.
    let (status, dup) = json(
        signed(&client, &r.url("/deploy"), &body("2222222"), SECRET)
            .header("X-Deploy-Delivery", "sync-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(dup["duplicate"], true);
    assert_eq!(dup["status_path"], "/deploy/deliveries/sync-1");
    r.stop().await;
}
