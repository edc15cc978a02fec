//! A hostile health endpoint and credential-bearing URLs: what a probe
//! brings back reaches the log only escaped or fenced, markdown only as
//! code, outputs as data, and no URL credential or header value shows.

use relay_fakes::DEFAULT_TOKEN;
use relay_testkit::Outcome;
use relay_testkit::health::Behavior;
use serde_json::{Value, json};

use crate::{action, fake, report, run, service};

/// The issue's body, and worse: each answers 200 with this `status`.
pub const FORGERIES: [(&str, &str); 3] = [
    (
        "/forge",
        "DOWN\n::error title=Forged::x\n::add-mask::healthy",
    ),
    (
        "/html",
        "x` </details><img src=x onerror=alert(1)> @org/team `` ` |x| ##[add-mask]healthy",
    ),
    (
        "/echo",
        "  ::warning::Forged indented\r\n##[error]Forged v1 key-0123456789abcdef tok-SECRET-123",
    ),
];

/// What must not show anywhere: URL user info, a query value, a header value.
pub const CREDENTIALS: [&str; 4] = [
    "probe-user",
    "hunter2pw",
    "tok-SECRET-123",
    "key-0123456789abcdef",
];

/// `url` with user info and a token in the query.
pub fn with_credentials(url: &str) -> String {
    format!(
        "{}?token=tok-SECRET-123&verbose",
        url.replacen("http://", "http://probe-user:hunter2pw@", 1)
    )
}

pub use relay_runner::runner_commands;

/// No raw HTML and no live `@mention`, and the summary table keeps its
/// nine columns.
pub fn assert_inert_markdown(md: &str) {
    relay_testkit::oracle::assert_inert_markdown(md, 9);
}

fn assert_runner_sees_nothing_forged(out: &Outcome) {
    let commands = runner_commands(&out.stdout);
    for (name, msg) in &commands {
        assert!(
            matches!(name.as_str(), "add-mask" | "debug" | "error"),
            "the runner would run `{name}`: {msg}\n{}",
            out.stdout
        );
        assert!(!msg.contains("Forged"), "forged `{name}`: {msg}");
        if name == "add-mask" {
            assert_eq!(msg, DEFAULT_TOKEN, "forged mask\n{}", out.stdout);
        }
    }
    assert_eq!(
        commands.iter().filter(|(n, _)| n == "error").count(),
        1,
        "{}",
        out.stdout
    );
}

fn assert_no_credentials(what: &str, text: &str) {
    for c in CREDENTIALS {
        assert!(!text.contains(c), "`{c}` in {what}:\n{text}");
    }
}

#[test]
fn a_hostile_endpoint_issues_no_command_and_injects_no_markdown() {
    let gh = fake();
    gh.repo("octo/deploy", "main");
    let routes: Vec<(&str, Behavior)> = FORGERIES
        .iter()
        .map(|(path, status)| (*path, Behavior::Json(200, json!({ "status": status }))))
        .collect();
    let s = service(&routes);
    let urls: Vec<String> = FORGERIES
        .iter()
        .map(|(path, _)| with_credentials(&s.url(path)))
        .collect();
    let out = run(action(&urls)
        .api(gh.url())
        .input("duration", "300ms")
        .input("fail-fast", "false")
        .input("conditions", "[BODY].status == UP")
        .input("headers", "X-Api-Key: key-0123456789abcdef")
        .input("environment", "production")
        .input("sha", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b")
        .input("create-issue", "true")
        .input("rollback-repository", "octo/deploy"));
    out.assert_failure();
    assert_eq!(s.hits("/forge").len(), 3, "every probe was sent");

    // The log: the runner acts on nothing the endpoints sent.
    assert_runner_sees_nothing_forged(&out);
    assert!(
        out.stdout
            .contains("%0A::error title=Forged::x%0A::add-mask::healthy"),
        "escaped, one line\n{}",
        out.stdout
    );
    assert_no_credentials("the log", &out.stdout);
    assert_no_credentials("stderr", &out.stderr);

    // Markdown: the summary and the issue body show it as code only.
    assert_inert_markdown(&out.summary);
    assert!(out.summary.contains("onerror"), "{}", out.summary);
    assert_no_credentials("the summary", &out.summary);
    let issues = gh.issues("octo/app");
    let body = issues[0]["body"].as_str().unwrap();
    let (marker, rest) = body.split_once('\n').unwrap();
    assert!(
        marker.starts_with("<!-- monitor-health: ") && marker.ends_with(" -->"),
        "{marker}"
    );
    assert_inert_markdown(rest);
    assert_no_credentials("the issue body", body);

    // Outputs carry the text as data, URLs redacted.
    let r = report(&out);
    let shown = format!(
        "{}?token=***&***",
        s.url("/forge").replacen("http://", "http://***:***@", 1)
    );
    assert_eq!(r[0]["url"], shown.as_str());
    let last = r[0]["last_failure"].as_str().unwrap();
    assert!(
        last.contains("DOWN\n::error title=Forged::x\n::add-mask::healthy"),
        "{last}"
    );
    for (k, v) in &out.outputs {
        assert_no_credentials(&format!("output `{k}`"), v);
    }
    // The echoed header value and query token were redacted before the cut.
    let echoed = r[2]["last_failure"].as_str().unwrap();
    assert!(echoed.contains("##[error]Forged v1 *** ***"), "{echoed}");

    // The rollback payload names the endpoints by their redacted URLs.
    let sent = gh.dispatches("octo/deploy");
    let payload = &sent[0]["client_payload"];
    assert_eq!(payload["failed_endpoints"][0], shown.as_str());
    assert_no_credentials("the rollback payload", &payload.to_string());
    assert_no_credentials("the error", &out.error());
}

#[test]
fn an_unparsable_url_is_named_without_its_credentials() {
    let out = run(action(&[
        "ftp://probe-user:hunter2pw@host/x?token=tok-SECRET-123".into(),
    ]));
    out.assert_failure();
    let err = out.error();
    assert!(
        err.contains("input `urls`") && err.contains("ftp://"),
        "{err}"
    );
    assert_no_credentials("the error", &err);
}

#[test]
fn the_marker_cannot_close_its_html_comment() {
    let gh = fake();
    let s = service(&[("/h", Behavior::Json(500, json!({})))]);
    let env = "prod --> <img src=x onerror=alert(1)> <!--";
    run(action(&[s.url("/h")])
        .api(gh.url())
        .input("duration", "300ms")
        .input("environment", env)
        .input("create-issue", "true"))
    .assert_failure();
    let issues: Vec<Value> = gh.issues("octo/app");
    let body = issues[0]["body"].as_str().unwrap();
    let (marker, rest) = body.split_once('\n').unwrap();
    assert_eq!(marker.matches('>').count(), 1, "{marker}");
    assert!(marker.ends_with(" -->"), "{marker}");
    assert_inert_markdown(rest);
    // A re-run finds the same issue by the same (encoded) marker.
    run(action(&[s.url("/h")])
        .api(gh.url())
        .input("duration", "300ms")
        .input("environment", env)
        .input("create-issue", "true"))
    .assert_failure();
    assert_eq!(gh.issues("octo/app").len(), 1);
}
