//! What users read, as snapshots: the step summary, the issue body and the
//! log. Ports, latencies, elapsed times and stop-commands tokens are
//! filtered; schedule offsets are not (the grid makes them exact).

use relay_testkit::health::Behavior;
use serde_json::json;

use crate::hostile::{FORGERIES, with_credentials};
use crate::{action, fake, run, service};

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    // The latency columns (p50, p95, max) of the summary table.
    s.add_filter(
        r"\| (\d+|–) \| (\d+|–) \| (\d+|–) \|\n",
        "| [ms] | [ms] | [ms] |\n",
    );
    s.add_filter(r"after \d+\.\ds", "after [t]s");
    s.add_filter(r"probes in \d+\.\ds", "probes in [t]s");
    s.add_filter(r"::stop-commands::[0-9a-f]{32}", "::stop-commands::[token]");
    s.add_filter(r"(?m)^::[0-9a-f]{32}::$", "::[token]::");
    s
}

#[test]
fn summary_of_a_passed_window() {
    let s = service(&[("/api/health", Behavior::Up), ("/api/docs", Behavior::Up)]);
    let out = run(action(&[s.url("/api/health"), s.url("/api/docs")])
        .input("duration", "1s")
        .input("interval", "200ms")
        .input("environment", "staging")
        .input("conditions", "[STATUS] == 200\n[BODY].status == UP"));
    out.assert_success();
    settings().bind(|| insta::assert_snapshot!(out.summary));
}

#[test]
fn summary_of_a_failed_window_without_fail_fast() {
    let s = service(&[
        ("/good", Behavior::Up),
        ("/bad", Behavior::Json(503, json!({"status": "DOWN"}))),
    ]);
    let out = run(action(&[s.url("/good"), s.url("/bad")])
        .input("duration", "1s")
        .input("interval", "200ms")
        .input("fail-fast", "false")
        .input("environment", "production")
        .input("sha", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"));
    out.assert_failure();
    settings().bind(|| insta::assert_snapshot!(out.summary));
}

/// One hostile endpoint behind a URL with credentials: the summary, the
/// issue body and the log, exactly as GitHub and the runner get them.
#[test]
fn summary_issue_and_log_of_a_hostile_endpoint() {
    let gh = fake();
    let (path, status) = FORGERIES[0];
    let (_, html) = FORGERIES[1];
    let s = service(&[(
        path,
        Behavior::Json(200, json!({ "status": format!("{status}\n{html}") })),
    )]);
    let out = run(action(&[with_credentials(&s.url(path))])
        .api(gh.url())
        .env("RUNNER_DEBUG", "0")
        .input("duration", "300ms")
        .input("fail-fast", "false")
        .input("conditions", "[BODY].status == UP")
        .input("environment", "production `@org/team`")
        .input("sha", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b")
        .input("create-issue", "true"));
    out.assert_failure();
    let issue = gh.issues("octo/app")[0]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    settings().bind(|| {
        insta::assert_snapshot!("hostile_summary", out.summary);
        insta::assert_snapshot!("hostile_issue_body", issue);
        insta::assert_snapshot!("hostile_log", out.stdout);
    });
}
