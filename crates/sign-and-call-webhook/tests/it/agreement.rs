//! The sender's half of the agreement with deploy-receiver: an answer with
//! `exit_code` is final, only what did not run is retried, a proxy's
//! 502/504 is an unknown outcome, a retry meeting "duplicate delivery"
//! reports the first try, and an async `202` is followed to its end.

use std::time::Duration;

use relay_signature::{Secret, github, standard, status};
use relay_testkit::webhook::{DELIVERY_ID, Reply, Sink};

use super::{SECRET, action, run};

fn deploy_url(sink: &Sink) -> String {
    format!("{}/deploy", sink.url())
}

fn accepted() -> Reply {
    Reply::status(202)
        .header("retry-after", "1")
        .header("location", &format!("/deploy/deliveries/{DELIVERY_ID}"))
        .body(&format!(
            r#"{{"status":"accepted","delivery_id":"{DELIVERY_ID}","status_path":"/deploy/deliveries/{DELIVERY_ID}"}}"#
        ))
}

fn running() -> Reply {
    Reply::status(202).body(&format!(
        r#"{{"status":"running","delivery_id":"{DELIVERY_ID}"}}"#
    ))
}

#[test]
fn the_default_timeout_outlasts_the_receivers_hook_timeout() {
    let timeout = sign_and_call_webhook::SPEC
        .inputs
        .iter()
        .find(|i| i.name == "timeout")
        .unwrap();
    assert!(matches!(
        timeout.default,
        relay_runtime::Default::Value("15m")
    ));
}

#[test]
fn an_answer_with_exit_code_is_never_retried_whatever_its_status() {
    for (status, body) in [
        (503, r#"{"status":"unhealthy, rolled back","exit_code":3}"#),
        (
            504,
            r#"{"status":"deploy timed out after 10m","exit_code":null}"#,
        ),
        (
            500,
            r#"{"status":"deploy failed with exit code 1","exit_code":1}"#,
        ),
    ] {
        let sink = Sink::start();
        sink.script([Reply::status(status).body(body)]);
        let out = run(action(&deploy_url(&sink)).input("retries", "3"));
        out.assert_failure();
        assert_eq!(
            sink.received().len(),
            1,
            "{status}: the deploy ran, no second try"
        );
        assert_eq!(out.output("status"), status.to_string());
        assert!(
            out.error().contains("the deploy failed on"),
            "{status}: {}",
            out.error()
        );
    }
}

#[test]
fn a_proxys_502_or_504_is_an_unknown_outcome_and_not_retried() {
    for status in [502, 504] {
        let sink = Sink::start();
        sink.script([Reply::status(status).body("<html>Bad Gateway</html>")]);
        let out = run(action(&deploy_url(&sink)).input("retries", "3"));
        out.assert_failure();
        assert_eq!(sink.received().len(), 1, "{status} was retried");
        let error = out.error();
        assert!(
            error.contains("is unknown") && error.contains("not retried"),
            "{status}: {error}"
        );
        assert!(error.contains(out.output("delivery-id")), "{error}");
        assert_eq!(out.output("status"), status.to_string());
        assert!(out.summary.contains("outcome unknown"), "{}", out.summary);
    }
}

#[test]
fn a_connection_that_breaks_after_sending_is_not_retried() {
    let sink = Sink::start();
    sink.script([Reply::dropped()]);
    let out = run(action(&deploy_url(&sink)).input("retries", "3"));
    out.assert_failure();
    assert_eq!(sink.received().len(), 1);
    assert!(out.error().contains("is unknown"), "{}", out.error());
}

#[test]
fn a_retry_that_meets_duplicate_delivery_reports_what_the_first_try_got() {
    let sink = Sink::start();
    sink.script([
        Reply::status(503).body("upstream unavailable"),
        Reply::status(409).body(&format!(
            r#"{{"status":"duplicate delivery: this delivery id was already received","delivery_id":"{DELIVERY_ID}","duplicate":true}}"#
        )),
    ]);
    let out = run(action(&deploy_url(&sink)).input("retries", "2"));
    out.assert_failure();
    assert_eq!(sink.received().len(), 2);
    assert_eq!(out.output("status"), "503", "the first try's answer");
    assert_eq!(out.output("response"), "upstream unavailable");
    let error = out.error();
    assert!(
        error.contains("is unknown") && error.contains("already received"),
        "{error}"
    );
    assert!(
        !error.contains("nothing was deployed"),
        "a duplicate is never reported as nothing deployed: {error}"
    );
}

#[test]
fn an_async_deploy_is_followed_to_its_end() {
    let sink = Sink::start();
    sink.script([
        accepted(),
        running(),
        Reply::status(200).body(r#"{"status":"deployed","exit_code":0,"output":"ok"}"#),
    ]);
    let out = run(action(&deploy_url(&sink)));
    out.assert_success();
    assert_eq!(out.output("status"), "200");
    assert_eq!(
        out.output("response"),
        r#"{"status":"deployed","exit_code":0,"output":"ok"}"#
    );
    let got = sink.received();
    assert_eq!(got.len(), 3);
    let id = out.output("delivery-id");
    for poll in &got[1..] {
        assert_eq!(poll.method, "POST");
        assert_eq!(poll.path, format!("/deploy/deliveries/{id}"));
        assert_eq!(poll.headers["content-type"], status::CONTENT_TYPE);
        let body = String::from_utf8(poll.body.clone()).unwrap();
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap();
        status::check(body.as_bytes(), id, now, 60).unwrap();
        assert_eq!(
            poll.headers["x-hub-signature-256"],
            github::sign(&Secret::new(SECRET).unwrap(), body.as_bytes())
        );
    }
    assert!(
        out.summary.contains("then 2 status polls"),
        "{}",
        out.summary
    );
}

#[test]
fn an_async_deploy_that_fails_fails_the_step() {
    let sink = Sink::start();
    sink.script([
        accepted(),
        Reply::status(502).body("proxy hiccup"),
        Reply::status(503).body(r#"{"status":"unhealthy, rolled back","exit_code":3}"#),
    ]);
    let out = run(action(&deploy_url(&sink)));
    out.assert_failure();
    assert_eq!(out.output("status"), "503");
    assert!(
        out.error().contains("the deploy failed on"),
        "{}",
        out.error()
    );
    assert_eq!(sink.received().len(), 3, "a poll's 502 is polled through");
}

#[test]
fn an_async_deploy_still_running_at_timeout_is_an_unknown_outcome() {
    let sink = Sink::start();
    sink.script(std::iter::once(accepted()).chain(std::iter::repeat_n(running(), 400)));
    let out = run(action(&deploy_url(&sink)).input("timeout", "1s"));
    out.assert_failure();
    assert!(
        out.error()
            .contains("still running when `timeout` (1s) ran out"),
        "{}",
        out.error()
    );
    assert!(out.elapsed < Duration::from_secs(6), "{:?}", out.elapsed);
}

#[test]
fn an_async_delivery_the_receiver_forgot_is_an_unknown_outcome() {
    let sink = Sink::start();
    sink.script([
        accepted(),
        Reply::status(404).body(r#"{"status":"no such delivery"}"#),
    ]);
    let out = run(action(&deploy_url(&sink)));
    out.assert_failure();
    assert!(
        out.error().contains("is unknown") && out.error().contains("restarted"),
        "{}",
        out.error()
    );
}

#[test]
fn async_polls_are_signed_under_standard_webhooks_too() {
    let sink = Sink::start();
    let key = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    sink.script([
        accepted(),
        Reply::status(200).body(r#"{"status":"deployed","exit_code":0}"#),
    ]);
    let out = run(action(&deploy_url(&sink))
        .input("secret", key)
        .input("signature-scheme", "standard-webhooks"));
    out.assert_success();
    let got = sink.received();
    let poll = &got[1];
    assert_ne!(
        poll.headers["webhook-id"], got[0].headers["webhook-id"],
        "each poll has its own webhook-id"
    );
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    standard::verify(
        &[Secret::from_whsec(key).unwrap()],
        standard::Headers {
            id: Some(&poll.headers["webhook-id"]),
            timestamp: Some(&poll.headers["webhook-timestamp"]),
            signature: Some(&poll.headers["webhook-signature"]),
        },
        &poll.body,
        now,
        standard::DEFAULT_TOLERANCE,
    )
    .unwrap();
}

#[test]
fn the_bare_key_of_a_whsec_secret_never_shows() {
    let sink = Sink::start();
    let key = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let bare = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    sink.script([Reply::status(500).body(&format!("key was {bare}"))]);
    let out = run(action(&deploy_url(&sink))
        .input("secret", key)
        .input("signature-scheme", "standard-webhooks"));
    out.assert_failure();
    out.assert_secret_hidden(bare);
    assert!(out.error().contains("key was ***"), "{}", out.error());
}

#[test]
fn secrets_with_escaped_characters_never_show_escaped_either() {
    for secret in [
        "pa%ss:w,rd-long-enough-to-be-real",
        "two\r\nlines of secret",
    ] {
        let sink = Sink::start();
        sink.script([Reply::status(500).body(&format!("echo: {secret}"))]);
        let out = action(&deploy_url(&sink)).input("secret", secret).run();
        out.assert_failure();
        out.assert_secret_hidden(secret);
        let escaped = relay_runtime::escape_data(secret);
        let logged: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect();
        for text in [&logged.join("\n"), &out.stderr, &out.summary] {
            assert!(!text.contains(&escaped), "escaped secret in:\n{text}");
        }
        for part in secret.split("\r\n") {
            assert!(!out.error().contains(part), "{}", out.error());
        }
        assert!(out.error().contains("echo: ***"), "{}", out.error());
    }
}

#[test]
fn the_response_is_masked_before_it_is_cut() {
    let sink = Sink::start();
    let mut body = "x".repeat(64 * 1024 - 5);
    body.push_str(SECRET);
    sink.script([Reply::status(200).body(&body)]);
    let out = run(action(&deploy_url(&sink)));
    out.assert_success();
    let response = out.output("response");
    assert!(
        response.ends_with("***"),
        "{}",
        &response[response.len() - 20..]
    );
    assert!(
        !response.contains(&SECRET[..5]),
        "the start of the secret survived the cut"
    );
}

/// What deploy-receiver answered before its answers were bounded: a deploy
/// whose output was control characters, each escaped to six bytes, so the
/// JSON outgrew what the action reads.
fn long_rolled_back_body() -> String {
    let body = format!(
        r#"{{"status":"unhealthy, rolled back","exit_code":3,"duration_ms":4100,"output":"{}","output_truncated":false}}"#,
        "\\u001b".repeat(16 * 1024)
    );
    assert!(body.len() > 64 * 1024 + 1024);
    body
}

#[test]
fn a_long_answer_keeps_its_verdict_through_the_header() {
    // Sync: the 503 is "rolled back", not "busy": final, never retried.
    let sink = Sink::start();
    sink.script([Reply::status(503)
        .header("deploy-exit-code", "3")
        .body(&long_rolled_back_body())]);
    let out = run(action(&deploy_url(&sink)).input("retries", "3"));
    out.assert_failure();
    assert_eq!(sink.received().len(), 1, "the deploy ran: no second try");
    assert!(
        out.error().contains("the deploy failed on") && out.error().contains("(503)"),
        "{}",
        out.error()
    );
    assert!(!out.error().contains("busy"), "{}", out.error());
    assert!(
        out.stdout.contains("(cut at 65536 bytes)"),
        "the cut is shown\n{}",
        out.stdout
    );
    // Async: the poll's long 503 ends the follow at once.
    let sink = Sink::start();
    sink.script([
        accepted(),
        Reply::status(503)
            .header("deploy-exit-code", "3")
            .body(&long_rolled_back_body()),
    ]);
    let out = run(action(&deploy_url(&sink)).input("timeout", "20s"));
    out.assert_failure();
    assert_eq!(sink.received().len(), 2, "polled once, not until timeout");
    assert_eq!(out.output("status"), "503");
    assert!(
        out.error().contains("the deploy failed on"),
        "{}",
        out.error()
    );
}

#[test]
fn a_long_answer_without_the_header_is_shown_cut_and_never_read_as_busy() {
    let sink = Sink::start();
    sink.script([Reply::status(503).body(&long_rolled_back_body())]);
    let out = run(action(&deploy_url(&sink)).input("retries", "3"));
    out.assert_failure();
    assert_eq!(
        sink.received().len(),
        1,
        "a 503 whose body was cut may have run: never retried"
    );
    let error = out.error();
    assert!(
        error.contains("is unknown") && error.contains("cut before its verdict could be read"),
        "{error}"
    );
    assert!(!error.contains("was busy"), "{error}");
    assert!(
        out.stdout.contains("(cut at 65536 bytes)"),
        "{}",
        out.stdout
    );
    // Async: a cut poll answer ends the follow as unknown, at once.
    let sink = Sink::start();
    sink.script([
        accepted(),
        Reply::status(503).body(&long_rolled_back_body()),
    ]);
    let out = run(action(&deploy_url(&sink)).input("timeout", "20s"));
    out.assert_failure();
    assert_eq!(sink.received().len(), 2, "polled once, not until timeout");
    assert!(
        out.error().contains("is unknown") && out.error().contains("cut before its verdict"),
        "{}",
        out.error()
    );
}

#[test]
fn retry_after_zero_waits_a_second_between_polls() {
    let sink = Sink::start();
    let running_now = || running().header("retry-after", "0");
    sink.script(
        std::iter::once(accepted().header("retry-after", "0"))
            .chain(std::iter::repeat_with(running_now).take(400)),
    );
    // Unscaled waits: the floor is what is being measured.
    let out = run(action(&deploy_url(&sink))
        .input("timeout", "3500ms")
        .env("DEPLOY_RELAY_BACKOFF_SCALE", "1"));
    out.assert_failure();
    assert!(
        out.error().contains("still running when `timeout`"),
        "{}",
        out.error()
    );
    let polls = sink.received().len() - 1;
    assert!(
        (2..=3).contains(&polls),
        "{polls} polls in 3.5 s (Retry-After: 0 must wait 1 s)"
    );
    // A busy receiver's Retry-After: 0 waits a second before the retry too.
    let sink = Sink::start();
    sink.script([Reply::status(429).header("retry-after", "0")]);
    let out = run(action(&deploy_url(&sink)).input("retries", "1"));
    out.assert_success();
    let got = sink.received();
    assert_eq!(got.len(), 2);
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(950),
        "{:?}",
        got[1].at - got[0].at
    );
}

#[test]
fn a_secret_echoed_json_escaped_or_url_encoded_never_shows() {
    let secret = r#"quote"and\backslash/slash é&more"#;
    let json_form = serde_json::to_string(secret).unwrap();
    let json_form = json_form.trim_matches('"');
    assert_eq!(json_form, r#"quote\"and\\backslash/slash é&more"#);
    let url_form = "quote%22and%5Cbackslash%2Fslash%20%C3%A9%26more";
    let sink = Sink::start();
    sink.script([Reply::status(500).body(&format!(
        r#"{{"status":"failed","exit_code":1,"output":"echo {json_form} and {url_form}"}}"#
    ))]);
    let out = action(&deploy_url(&sink)).input("secret", secret).run();
    out.assert_failure();
    out.assert_secret_hidden(secret);
    let logged: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    let response = out.output("response");
    for text in [&logged.join("\n"), &out.stderr, &out.summary, response] {
        for form in [json_form, url_form] {
            assert!(!text.contains(form), "{form} in:\n{text}");
        }
    }
    assert!(
        response.contains(r#""output":"echo *** and ***""#),
        "{response}"
    );
}
