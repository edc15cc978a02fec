//! sign-and-call-webhook run as the runner runs it, against a scripted
//! endpoint, a TLS endpoint and adnanh/webhook.

#![allow(clippy::unwrap_used)]

mod agreement;
mod tls;

use std::time::Duration;

use relay_signature::{Secret, github, standard};
use relay_testkit::webhook::{Reply, Sink};
use relay_testkit::{ActionRun, Outcome};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_sign-and-call-webhook");
pub const SECRET: &str = "It's a Secret to Everybody";

/// The action with GitHub's scheme and a plain shared secret: the scheme
/// GitHub's documented test vector and adnanh/webhook check. The default
/// scheme, `standard-webhooks`, has tests of its own.
pub fn action(url: &str) -> ActionRun {
    ActionRun::new(BIN)
        .input("url", url)
        .input("secret", SECRET)
        .input("signature-scheme", "github")
        .input("allow-http", "true")
        .env("RUNNER_DEBUG", "1")
}

/// Every run checks the secret stays hidden, debug mode included.
pub fn run(a: ActionRun) -> Outcome {
    let out = a.run();
    out.assert_secret_hidden(SECRET);
    out
}

fn deploy_url(sink: &Sink) -> String {
    format!("{}/deploy", sink.url())
}

#[test]
fn signs_the_exact_body_with_the_github_scheme() {
    let sink = Sink::start();
    // Odd spacing and key order must survive: the signature covers these bytes.
    let payload = "{ \"image_sha\" :\"0123abc\",\n  \"b\": [1, 2 ] }";
    let out = run(action(&deploy_url(&sink)).input("payload", payload));
    out.assert_success();
    let got = &sink.received()[0];
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/deploy");
    assert_eq!(got.body, payload.as_bytes(), "sent byte for byte");
    let secret = Secret::new(SECRET).unwrap();
    assert_eq!(
        got.headers["x-hub-signature-256"],
        github::sign(&secret, payload.as_bytes())
    );
    assert!(
        github::verify(
            &[secret],
            Some(&got.headers["x-hub-signature-256"]),
            &got.body
        )
        .is_ok()
    );
    assert_eq!(got.headers["content-type"], "application/json");
    assert!(got.headers["user-agent"].starts_with("deploy-relay/"));
    assert_eq!(got.headers["x-deploy-delivery"], out.output("delivery-id"));
    assert_eq!(out.output("status"), "200");
    assert_eq!(out.output("response"), r#"{"status":"ok"}"#);
    assert!(out.output("duration-ms").parse::<u64>().is_ok());
}

#[test]
fn githubs_documented_vector_goes_on_the_wire() {
    let sink = Sink::start();
    run(action(&deploy_url(&sink)).input("payload", "\"Hello, World!\"")).assert_success();
    let secret = Secret::new(SECRET).unwrap();
    assert_eq!(
        github::sign(&secret, b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
    let got = &sink.received()[0];
    assert_eq!(
        got.headers["x-hub-signature-256"],
        github::sign(&secret, b"\"Hello, World!\"")
    );
}

#[test]
fn payload_file_is_sent_byte_for_byte() {
    let sink = Sink::start();
    let a = action(&deploy_url(&sink)).input("payload-file", "deploy.json");
    std::fs::create_dir_all(a.workspace()).unwrap();
    let bytes = b"{\"image_sha\":\"abcdef1\"}\n\n";
    std::fs::write(a.workspace().join("deploy.json"), bytes).unwrap();
    run(a).assert_success();
    assert_eq!(sink.received()[0].body, bytes);
}

#[test]
fn computed_payload_carries_the_dispatched_sha_and_each_image() {
    let sink = Sink::start();
    let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let out = run(action(&deploy_url(&sink))
        .input("environment", "staging")
        .input(
            "images",
            &format!("api_image=ghcr.io/o/app/api@{digest}\napi_test_image=ghcr.io/o/app/api:t"),
        )
        .event(
            "repository_dispatch",
            relay_testkit::events::repository_dispatch(
                "deploy",
                json!({"repository": "o/app", "sha": sha, "ref": "develop"}),
            ),
        ));
    out.assert_success();
    let body: Value = serde_json::from_slice(&sink.received()[0].body).unwrap();
    assert_eq!(
        body.get("image_sha"),
        None,
        "what the VM pulls is an image reference"
    );
    assert_eq!(body["api_image"], format!("ghcr.io/o/app/api@{digest}"));
    assert_eq!(body["api_test_image"], "ghcr.io/o/app/api:t");
    assert_eq!(body["sha"], sha);
    assert_eq!(body["repository"], "o/app");
    assert_eq!(body["ref"], "develop");
    assert_eq!(body["environment"], "staging");
    assert_eq!(
        body["run_url"],
        "https://github.com/octo/app/actions/runs/4242"
    );
}

#[test]
fn a_bad_image_or_a_dry_run_sends_nothing() {
    let sink = Sink::start();
    for (images, needle) in [
        ("image=ghcr.io/o/app/api", "names no tag or digest"),
        ("image=ghcr.io/o/app/api@sha256:12", "64 hex"),
        ("sha=ghcr.io/o/app/api:1", "which the payload already has"),
        ("not a line", "is not `key=reference`"),
    ] {
        let out = run(action(&deploy_url(&sink)).input("images", images));
        out.assert_failure();
        assert!(
            out.error().contains("input `images`") && out.error().contains(needle),
            "{}",
            out.error()
        );
    }
    let out = run(action(&deploy_url(&sink))
        .input("images", "image=ghcr.io/o/app/api:1")
        .input("payload", "{}"));
    out.assert_failure();
    assert!(out.error().contains("replaces it"), "{}", out.error());
    let out = run(action(&deploy_url(&sink))
        .input("images", "image=ghcr.io/o/app/api:1")
        .input("dry-run", "true"));
    out.assert_success();
    assert!(
        out.log().contains("ghcr.io/o/app/api:1"),
        "the body is shown: {}",
        out.log()
    );
    assert!(out.summary.contains("nothing sent"), "{}", out.summary);
    assert!(sink.received().is_empty(), "nothing was sent");
}

#[test]
fn one_image_is_the_image_field_and_a_reference_is_checked_before_anything_is_sent() {
    let sink = Sink::start();
    let image = format!("ghcr.io/o/api@sha256:{}", "ab".repeat(32));
    let out = run(action(&deploy_url(&sink))
        .input("images", &format!("image={image}"))
        .input("sha", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"));
    out.assert_success();
    let body: Value = serde_json::from_slice(&sink.received()[0].body).unwrap();
    assert_eq!(
        body["image"],
        image.as_str(),
        "the field deploy-receiver passes on"
    );
    assert_eq!(body["sha"], "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b");
    let sink = Sink::start();
    for (reference, needle) in [
        ("abc1234", "names no tag or digest"),
        ("ghcr.io/o/api:$(id)", "has tag"),
        ("ghcr.io/o/API:1", "has path part"),
        (
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "is an image id",
        ),
    ] {
        let out = run(action(&deploy_url(&sink)).input("images", &format!("image={reference}")));
        out.assert_failure();
        assert!(
            out.error().contains("input `images`") && out.error().contains(needle),
            "{reference}: {}",
            out.error()
        );
    }
    assert!(sink.received().is_empty());
}

#[test]
fn the_default_scheme_is_standard_webhooks() {
    let sink = Sink::start();
    let key = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let bare = || {
        ActionRun::new(BIN)
            .input("url", &deploy_url(&sink))
            .input("allow-http", "true")
            .env("RUNNER_DEBUG", "1")
    };
    let out = bare().input("secret", key).run();
    out.assert_secret_hidden(key).assert_success();
    let got = &sink.received()[0];
    assert!(
        !got.headers.contains_key("x-hub-signature-256"),
        "no GitHub-scheme signature by default"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    standard::verify(
        &[Secret::from_whsec(key).unwrap()],
        standard::Headers {
            id: Some(&got.headers["webhook-id"]),
            timestamp: Some(&got.headers["webhook-timestamp"]),
            signature: Some(&got.headers["webhook-signature"]),
        },
        &got.body,
        now,
        standard::DEFAULT_TOLERANCE,
    )
    .unwrap();
    // A plain shared secret under the default says what to do, before any request.
    let out = bare().input("secret", SECRET).run();
    out.assert_secret_hidden(SECRET).assert_failure();
    assert!(
        out.error().contains("input `secret`")
            && out.error().contains("`signature-scheme: github`"),
        "{}",
        out.error()
    );
    assert_eq!(sink.received().len(), 1, "nothing more was sent");
}

#[test]
fn standard_webhooks_scheme_verifies() {
    let sink = Sink::start();
    let key = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let out = run(action(&deploy_url(&sink))
        .input("secret", key)
        .input("signature-scheme", "standard-webhooks"));
    out.assert_secret_hidden(key).assert_success();
    let got = &sink.received()[0];
    assert_eq!(got.headers["webhook-id"], out.output("delivery-id"));
    let headers = standard::Headers {
        id: Some(&got.headers["webhook-id"]),
        timestamp: Some(&got.headers["webhook-timestamp"]),
        signature: Some(&got.headers["webhook-signature"]),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    standard::verify(
        &[Secret::from_whsec(key).unwrap()],
        headers,
        &got.body,
        now,
        standard::DEFAULT_TOLERANCE,
    )
    .unwrap();
}

#[test]
fn retries_503_then_succeeds_with_one_delivery_id() {
    let sink = Sink::start();
    sink.script([Reply::status(503).body("starting up")]);
    let out = run(action(&deploy_url(&sink)).input("retries", "2"));
    out.assert_success();
    let got = sink.received();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].headers["x-deploy-delivery"],
        got[1].headers["x-deploy-delivery"]
    );
    assert_eq!(
        got[0].headers["x-deploy-delivery"],
        out.output("delivery-id")
    );
    assert_eq!(out.commands("warning").len(), 1, "{}", out.log());
}

#[test]
fn a_500_is_never_retried() {
    let sink = Sink::start();
    sink.script([Reply::status(500).body(r#"{"status":"failed","exit_code":1}"#)]);
    let out = run(action(&deploy_url(&sink)).input("retries", "3"));
    out.assert_failure();
    assert_eq!(
        sink.received().len(),
        1,
        "the deploy ran and failed: no second try"
    );
    assert!(
        out.error().contains("the deploy failed on") && out.error().contains("(500)"),
        "{}",
        out.error()
    );
    assert_eq!(out.output("status"), "500");
}

#[test]
fn retries_stop_at_the_limit() {
    let sink = Sink::start();
    sink.script([Reply::status(503), Reply::status(429), Reply::status(503)]);
    let out = run(action(&deploy_url(&sink)).input("retries", "1"));
    out.assert_failure();
    assert_eq!(sink.received().len(), 2);
    assert_eq!(out.output("status"), "429");
    assert!(
        out.error().contains("was busy (429)") && out.error().contains("nothing was deployed"),
        "{}",
        out.error()
    );
}

#[test]
fn retry_after_is_honoured_for_429() {
    let sink = Sink::start();
    sink.script([Reply::status(429).header("retry-after", "1")]);
    let out = run(action(&deploy_url(&sink)).input("retries", "1"));
    out.assert_success();
    let got = sink.received();
    assert!(got[1].at - got[0].at >= Duration::from_millis(950));
}

#[test]
fn a_server_slower_than_timeout_fails_in_about_timeout() {
    let sink = Sink::start();
    sink.script([Reply::status(200).delay(Duration::from_secs(8))]);
    let out = run(action(&deploy_url(&sink)).input("timeout", "1s"));
    out.assert_failure();
    assert!(
        out.error().contains("did not answer within `timeout` (1s)"),
        "{}",
        out.error()
    );
    assert!(
        out.elapsed >= Duration::from_secs(1) && out.elapsed < Duration::from_secs(6),
        "{:?}",
        out.elapsed
    );
}

#[test]
fn plain_http_is_refused_without_allow_http() {
    let sink = Sink::start();
    let out = run(action(&deploy_url(&sink)).input("allow-http", "false"));
    out.assert_failure();
    assert!(
        out.error().contains("input `url` uses plain http"),
        "{}",
        out.error()
    );
    assert!(sink.received().is_empty());
}

#[test]
fn rejected_signature_says_check_the_secret() {
    let sink = Sink::start();
    sink.script([Reply::status(401).body(r#"{"status":"unauthorized"}"#)]);
    let out = run(action(&deploy_url(&sink)));
    out.assert_failure();
    assert!(
        out.error().contains("refused the signature (401)") && out.error().contains("`secret`"),
        "{}",
        out.error()
    );
}

#[test]
fn a_4xx_says_nothing_was_deployed() {
    let sink = Sink::start();
    sink.script([Reply::status(422).body(r#"{"status":"invalid","error":"image_sha"}"#)]);
    let out = run(action(&deploy_url(&sink)));
    out.assert_failure();
    assert!(
        out.error().contains("refused the deploy (422)"),
        "{}",
        out.error()
    );
}

#[test]
fn connection_refused_is_named() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run(action(&format!("http://127.0.0.1:{port}/deploy")));
    out.assert_failure();
    assert!(
        out.error().starts_with(&format!(
            "couldn't connect to http://127.0.0.1:{port}/deploy"
        )),
        "{}",
        out.error()
    );
}

#[test]
fn response_body_cannot_issue_workflow_commands_or_leak_the_secret() {
    let sink = Sink::start();
    sink.script([Reply::status(200).body(&format!(
        "::error::pwned\n::add-mask::x\nsecret was {SECRET}"
    ))]);
    let out = run(action(&deploy_url(&sink)));
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("::stop-commands::"))
        .unwrap();
    let token = lines[start].trim_start_matches("::stop-commands::");
    assert_eq!(lines[start + 1], "::error::pwned");
    assert_eq!(lines[start + 3], "secret was ***");
    assert_eq!(lines[start + 4], format!("::{token}::"));
    assert_eq!(
        out.output("response"),
        "::error::pwned\n::add-mask::x\nsecret was ***"
    );
}

#[test]
fn custom_headers_and_method_are_sent() {
    let sink = Sink::start();
    let out = run(action(&deploy_url(&sink))
        .input("headers", "X-Env: prod\nAuthorization: Bearer abc")
        .input("method", "put")
        .input("signature-header", "X-Signature"));
    out.assert_success();
    let got = &sink.received()[0];
    assert_eq!(got.method, "PUT");
    assert_eq!(got.headers["x-env"], "prod");
    assert_eq!(got.headers["authorization"], "Bearer abc");
    assert!(got.headers["x-signature"].starts_with("sha256="));
}

#[test]
fn expected_status_is_respected() {
    let sink = Sink::start();
    sink.script([Reply::status(202)]);
    run(action(&deploy_url(&sink)).input("expected-status", "200")).assert_failure();
    sink.script([Reply::status(202)]);
    run(action(&deploy_url(&sink)).input("expected-status", "200,202")).assert_success();
}

#[test]
fn bad_inputs_fail_before_any_request() {
    let sink = Sink::start();
    let url = deploy_url(&sink);
    for (input, value, needle) in [
        ("payload", "{not json", "input `payload` is not valid JSON"),
        ("signature-scheme", "hmac", "input `signature-scheme`"),
        ("expected-status", "ok", "input `expected-status`"),
        ("retries", "11", "input `retries`"),
        ("method", "DELETE", "input `method`"),
        (
            "headers",
            "Authorization Bearer s3cr3t-header",
            "input `headers` line 1 is not `Name: value`",
        ),
        (
            "ca-cert",
            "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----",
            "input `ca-cert`",
        ),
        ("timeout", "soon", "input `timeout`"),
    ] {
        let out = run(action(&url).input(input, value));
        out.assert_failure();
        assert!(out.error().contains(needle), "{input}: {}", out.error());
        assert!(
            !out.error().contains("s3cr3t-header"),
            "a header value is never echoed"
        );
    }
    let out = run(action(&url)
        .input("secret", "whsec_***not-base64")
        .input("signature-scheme", "standard-webhooks"));
    out.assert_failure();
    assert!(out.error().contains("input `secret`"), "{}", out.error());
    assert!(sink.received().is_empty());
}

#[test]
fn adnanh_webhook_accepts_our_call_and_refuses_a_wrong_secret() {
    let Some(peer) = relay_testkit::adnanh::Webhook::start(SECRET) else {
        return;
    };
    let out = run(action(&peer.url())
        .input("payload", r#"{"image_sha":"0123abc"}"#)
        .input("secret", "wrong secret"));
    out.assert_secret_hidden("wrong secret").assert_failure();
    assert_eq!(
        peer.ran_with(),
        None,
        "the hook must not run on a wrong signature"
    );
    let out = run(action(&peer.url()).input("payload", r#"{"image_sha":"0123abc"}"#));
    out.assert_success();
    assert_eq!(peer.ran_with().as_deref(), Some("0123abc"));
}
