//! Schedule, verdict and conditions.

use std::time::Duration;

use relay_testkit::health::{Behavior, HealthService};
use relay_testkit::tls::TestCa;
use serde_json::json;

use crate::{action, report, run, service};

#[test]
fn all_healthy_on_a_fixed_schedule() {
    let s = service(&[
        ("/api/health", Behavior::Up),
        ("/api/docs", Behavior::Up),
        ("/api/auth/status", Behavior::Up),
    ]);
    let urls: Vec<String> = ["/api/health", "/api/docs", "/api/auth/status"]
        .iter()
        .map(|p| s.url(p))
        .collect();
    let out = run(action(&urls).input("interval", "200ms"));
    out.assert_success();
    assert_eq!(out.output("healthy"), "true");
    assert_eq!(out.output("checks"), "30");
    assert_eq!(out.output("failures"), "0");
    assert_eq!(out.output("success-rate"), "100");
    assert_eq!(out.output("max-consecutive-failures"), "0");
    assert!(out.output("p50-ms").parse::<u64>().unwrap() < 200);
    assert!(out.output("p95-ms").parse::<u64>().unwrap() < 500);
    for path in ["/api/health", "/api/docs", "/api/auth/status"] {
        let hits = s.hits(path);
        assert_eq!(hits.len(), 10, "{path}");
        // Slot 9 is due 1.8 s after slot 0: a grid, not a chain of sleeps.
        let span = hits[9] - hits[0];
        assert!(
            span > Duration::from_millis(1750) && span < Duration::from_millis(1900),
            "{span:?}"
        );
    }
    assert!(
        out.summary.contains("Health window passed"),
        "{}",
        out.summary
    );
    assert!(
        out.summary.contains("✅✅✅✅✅✅✅✅✅✅"),
        "{}",
        out.summary
    );
    assert!(out.summary.contains("| p50 ms |"));
    assert_eq!(report(&out).len(), 3);
}

#[test]
fn dies_fails_right_after_the_third_failure_with_fail_fast() {
    let s = service(&[("/h", Behavior::DiesAfter(3))]);
    // A threshold the streak reaches first: this is the consecutive rule.
    let out = run(action(&[s.url("/h")])
        .input("duration", "3s")
        .input("success-threshold", "50"));
    out.assert_failure();
    assert_eq!(out.output("healthy"), "false");
    assert_eq!(out.output("max-consecutive-failures"), "3");
    assert_eq!(out.output("checks"), "6");
    // Slots 3, 4, 5 fail, so it stops ~0.5 s in, far before the 3 s window.
    assert!(
        out.elapsed < Duration::from_millis(2000),
        "{:?}",
        out.elapsed
    );
    // Slot 6 may already be on its way when slot 5's failure lands.
    assert!((6..=7).contains(&s.hits("/h").len()));
    let err = out.error();
    assert!(err.contains("3 consecutive failures"), "{err}");
    assert!(err.contains(&s.url("/h")), "{err}");
    assert!(out.summary.contains("stopped early"), "{}", out.summary);
    assert!(out.summary.contains("✅✅✅❌❌❌"), "{}", out.summary);
}

#[test]
fn dies_fails_at_the_end_without_fail_fast() {
    let s = service(&[("/h", Behavior::DiesAfter(3))]);
    let out = run(action(&[s.url("/h")])
        .input("duration", "3s")
        .input("fail-fast", "false"));
    out.assert_failure();
    assert!(
        out.elapsed >= Duration::from_millis(2900),
        "{:?}",
        out.elapsed
    );
    assert_eq!(s.hits("/h").len(), 30);
    assert_eq!(out.output("checks"), "30");
    assert_eq!(out.output("failures"), "27");
    assert_eq!(out.output("max-consecutive-failures"), "27");
    assert_eq!(out.output("success-rate"), "10");
}

#[test]
fn flaky_at_80_percent_fails_95_and_passes_75() {
    for (threshold, passes) in [("95", false), ("75", true)] {
        let s = service(&[("/h", Behavior::FlakyEvery(5))]);
        let out = run(action(&[s.url("/h")])
            .input("success-threshold", threshold)
            .input("fail-fast", "false"));
        assert_eq!(
            out.code == 0,
            passes,
            "threshold {threshold}: {}",
            out.log()
        );
        assert_eq!(out.output("checks"), "20");
        assert_eq!(out.output("failures"), "4");
        assert_eq!(out.output("success-rate"), "80");
        assert_eq!(out.output("max-consecutive-failures"), "1");
        if !passes {
            assert!(
                out.error().contains("success rate 80 below 95%"),
                "{}",
                out.error()
            );
        }
    }
}

#[test]
fn slow_answers_fail_on_timeout_and_pass_within_it() {
    let s = service(&[("/slow", Behavior::Slow(Duration::from_millis(400)))]);
    let out = run(action(&[s.url("/slow")])
        .input("timeout", "150ms")
        .input("success-threshold", "50"));
    out.assert_failure();
    assert!(
        out.error().contains("3 consecutive failures"),
        "{}",
        out.error()
    );
    assert!(out.summary.contains("timed out"), "{}", out.summary);
    assert_eq!(out.output("p50-ms"), "", "timeouts have no response time");

    let s = service(&[("/slow", Behavior::Slow(Duration::from_millis(150)))]);
    let out = run(action(&[s.url("/slow")])
        .input("interval", "200ms")
        .input("timeout", "1s")
        .input("conditions", "[RESPONSE_TIME] < 1000"));
    out.assert_success();
    // Probes every 200 ms that each take 150 ms: none waits for another.
    assert_eq!(s.hits("/slow").len(), 10);
    assert!(out.output("p50-ms").parse::<u64>().unwrap() >= 150);
}

#[test]
fn a_slow_probe_does_not_push_the_next() {
    let s = service(&[("/slow", Behavior::Slow(Duration::from_millis(350)))]);
    let out = run(action(&[s.url("/slow")]).input("timeout", "2s"));
    out.assert_success();
    assert_eq!(out.output("failures"), "0", "{}", out.log());
    let hits = s.hits("/slow");
    assert_eq!(
        hits.len(),
        20,
        "one probe per 100 ms slot, though each takes 350 ms"
    );
    // Every probe starts within the 2 s window (slots 1.9 s apart);
    // probes pushed by the slow ones would start 19 × 350 ms = 6.65 s apart.
    let span = hits[19] - hits[0];
    assert!(span < Duration::from_millis(2000), "{span:?}");
}

#[test]
fn connection_refused_counts_as_a_failure() {
    let url = HealthService::refused_url("/api/health");
    let out = run(action(std::slice::from_ref(&url)).input("success-threshold", "50"));
    out.assert_failure();
    assert_eq!(out.output("max-consecutive-failures"), "3");
    assert!(
        out.summary.to_lowercase().contains("refused"),
        "{}",
        out.summary
    );
}

#[test]
fn conditions_on_a_json_body() {
    let s = service(&[
        (
            "/up",
            Behavior::Json(200, json!({"status": "UP", "checks": [{"ok": true}]})),
        ),
        (
            "/down",
            Behavior::Json(200, json!({"status": "DOWN", "checks": [{"ok": false}]})),
        ),
    ]);
    let conditions = "[STATUS] == 200\n[BODY].status == UP\n[BODY].checks[0].ok == true";
    let out = run(action(&[s.url("/up")]).input("conditions", conditions));
    out.assert_success();
    let out = run(action(&[s.url("/down")]).input("conditions", conditions));
    out.assert_failure();
    assert!(
        out.summary
            .contains(": [BODY].status == UP failed (`DOWN`)``"),
        "{}",
        out.summary
    );
}

#[test]
fn fail_fast_stops_once_the_success_threshold_is_out_of_reach() {
    // Every 5th probe fails: 20 slots at 95 % allow one failure, so the
    // second (slot 9, due at 0.9 s) decides the window, long before any
    // run of three in a row and before the 2 s window ends.
    let s = service(&[("/h", Behavior::FlakyEvery(5))]);
    let out = run(action(&[s.url("/h")]));
    out.assert_failure();
    assert_eq!(out.output("max-consecutive-failures"), "1");
    assert_eq!(out.output("failures"), "2");
    assert!(
        out.elapsed < Duration::from_millis(1600),
        "{:?}",
        out.elapsed
    );
    assert!(s.hits("/h").len() <= 12, "{}", s.hits("/h").len());
    let err = out.error();
    assert!(
        err.contains("2 of 20 probes failed, so the success rate can no longer reach 95%"),
        "{err}"
    );
    assert!(out.summary.contains("stopped early"), "{}", out.summary);
    assert_eq!(report(&out)[0]["healthy"], false);

    // With room for four failures (80 %), the same endpoint passes the
    // whole window.
    let s = service(&[("/h", Behavior::FlakyEvery(5))]);
    let out = run(action(&[s.url("/h")]).input("success-threshold", "80"));
    out.assert_success();
    assert_eq!(out.output("checks"), "20");
    assert_eq!(out.output("success-rate"), "80");
}

#[test]
fn a_fail_fast_stop_judges_the_others_by_what_they_could_still_reach() {
    // `/bad` fails three in a row at slots 0-2 and stops the window. By
    // then `/flaky` has failed slot 1: 50-67 % of its probes so far, below
    // 80 %, but with its 17 other slots it could still have ended at 95 %,
    // so it is not reported as failed (nor named in the rollback).
    let s = service(&[
        ("/bad", Behavior::Json(500, json!({}))),
        ("/flaky", Behavior::FlakyEvery(2)),
    ]);
    let out = run(action(&[s.url("/bad"), s.url("/flaky")]).input("success-threshold", "80"));
    out.assert_failure();
    let r = report(&out);
    assert_eq!(r[0]["healthy"], false, "{r:?}");
    assert_eq!(r[1]["healthy"], true, "{r:?}");
    assert!(r[1]["failures"].as_u64().unwrap() >= 1, "{r:?}");
    assert!(!out.error().contains("/flaky"), "{}", out.error());
}

#[test]
fn copied_gatus_conditions_with_functions_work() {
    let s = service(&[(
        "/h",
        Behavior::Json(
            200,
            json!({"status": "UP", "name": "john.doe", "data": [{"id": 1}], "version": "v1.4.2"}),
        ),
    )]);
    let conditions = "[STATUS] == any(200, 429)
        [BODY].name == pat(john*)
        [BODY].version == pat(v1.*)
        len([BODY].data) < 5
        len([BODY].name) == 8
        has([BODY].errors) == false
        has([BODY].data) == true
        [BODY].status == any(UP, DEGRADED)";
    let out = run(action(&[s.url("/h")])
        .input("duration", "300ms")
        .input("conditions", conditions));
    out.assert_success();

    let out = run(action(&[s.url("/h")])
        .input("duration", "300ms")
        .input("success-threshold", "50")
        .input("conditions", "[BODY].name == pat(bob*)"));
    out.assert_failure();
    assert!(
        out.summary
            .contains("[BODY].name == pat(bob*) failed (`john.doe`)"),
        "{}",
        out.summary
    );
}

#[test]
fn an_unsupported_gatus_function_is_an_input_error_naming_it() {
    let s = service(&[("/h", Behavior::Up)]);
    for (condition, named) in [
        ("[BODY].status == lower(UP)", "`lower()`"),
        ("[IP] == pat(192.168.*)", "`[IP]`"),
        ("[BODY].age == [BODY].id", "another placeholder"),
    ] {
        let out = run(action(&[s.url("/h")]).input("conditions", condition));
        out.assert_failure();
        let err = out.error();
        assert!(
            err.contains("input `conditions`") && err.contains(named),
            "{err}"
        );
    }
    assert_eq!(s.total_hits(), 0);
}

#[test]
fn expected_status_and_redirects() {
    let s = service(&[("/moved", Behavior::Json(301, json!({})))]);
    let out = run(action(&[s.url("/moved")]));
    out.assert_failure();
    assert!(
        out.summary.contains("status 301 is not an expected status"),
        "{}",
        out.summary
    );
    let s = service(&[("/moved", Behavior::Json(301, json!({})))]);
    run(action(&[s.url("/moved")]).input("expected-status", "200-299,301")).assert_success();
}

#[test]
fn two_urls_where_only_one_fails() {
    let s = service(&[
        ("/good", Behavior::Up),
        ("/bad", Behavior::Json(500, json!({}))),
    ]);
    let out = run(action(&[s.url("/good"), s.url("/bad")]).input("fail-fast", "false"));
    out.assert_failure();
    let r = report(&out);
    assert_eq!(r[0]["healthy"], true);
    assert_eq!(r[0]["failures"], 0);
    assert_eq!(r[1]["healthy"], false);
    assert_eq!(r[1]["failures"], 20);
    assert_eq!(out.output("success-rate"), "0", "the worst endpoint's rate");
    assert_eq!(out.output("checks"), "40");
    assert!(!out.error().contains("/good"), "{}", out.error());
}

#[test]
fn an_unparseable_condition_is_an_input_error_before_any_probe() {
    let s = service(&[("/h", Behavior::Up)]);
    let out = run(action(&[s.url("/h")]).input("conditions", "[STATUS] == 200\n[STATUS] = 200"));
    out.assert_failure();
    let err = out.error();
    assert!(err.contains("conditions"), "{err}");
    assert!(err.contains("[STATUS] = 200"), "{err}");
    assert_eq!(s.total_hits(), 0);
    assert!(out.elapsed < Duration::from_secs(1));
}

#[test]
fn certificate_expiration_on_self_signed_tls() {
    let Some(ca) = TestCa::generate() else { return };
    let s = HealthService::start_tls(ca.server_config());
    s.route("/h", Behavior::Up);
    // The test CA signs for two days.
    let out = run(action(&[s.url("/h")]).input("insecure", "true").input(
        "conditions",
        "[STATUS] == 200\n[CERTIFICATE_EXPIRATION] > 24h",
    ));
    out.assert_success();
    let out = run(action(&[s.url("/h")])
        .input("insecure", "true")
        .input("conditions", "[CERTIFICATE_EXPIRATION] > 48h"));
    out.assert_failure();
    assert!(out.summary.contains("47h left"), "{}", out.summary);
    // Without `insecure` the unknown CA is a connection failure.
    let out = run(action(&[s.url("/h")]));
    out.assert_failure();
    assert!(out.summary.contains("connection failed"), "{}", out.summary);
}

#[test]
fn header_values_are_sent_and_never_printed() {
    let s = service(&[("/h", Behavior::Up)]);
    let out = run(action(&[s.url("/h")])
        .input("duration", "300ms")
        .input("headers", "X-Probe-Key: hunter2-not-printed"));
    out.assert_success();
    assert!(!out.log().contains("hunter2"), "{}", out.log());
    assert!(!out.summary.contains("hunter2"));
}

#[test]
fn check_mode_probes_nothing_and_refuses_a_typo_by_name() {
    let s = service(&[("/up", Behavior::Up)]);
    let out = run(action(&[s.url("/up")]).input("mode", "check"));
    out.assert_success();
    assert!(s.hits("/up").is_empty(), "nothing was probed");
    assert!(
        out.summary.contains("Health inputs checked"),
        "{}",
        out.summary
    );
    for (input, value) in [
        ("urls", "htp://typo.example/health"),
        ("conditions", "[STATUS] === 200"),
        ("expected-status", "2xx,abc"),
        ("duration", "5 minutes"),
        ("mode", "probe"),
    ] {
        let out = run(action(&[s.url("/up")])
            .input("mode", "check")
            .input(input, value));
        out.assert_failure();
        assert!(
            out.error().contains(&format!("input `{input}`")),
            "{input}: {}",
            out.error()
        );
    }
    assert!(s.hits("/up").is_empty());
}

#[test]
fn baseline_reports_what_is_down_already_and_never_fails_for_it() {
    let s = service(&[
        ("/up", Behavior::Up),
        (
            "/auth",
            Behavior::Json(401, serde_json::json!({"error": "login"})),
        ),
    ]);
    let urls = [s.url("/up"), s.url("/auth")];
    let out = run(action(&urls).input("mode", "baseline"));
    out.assert_success();
    assert_eq!(out.output("down"), s.url("/auth"));
    assert_eq!(out.output("healthy"), "false");
    assert_eq!(
        (s.hits("/up").len(), s.hits("/auth").len()),
        (1, 1),
        "one probe each"
    );
    let warnings = out.commands("warning");
    assert_eq!(warnings.len(), 1, "{}", out.log());
    assert!(
        warnings[0].contains("already down before the deploy"),
        "{warnings:?}"
    );
    // Seed 004's anonymous probe of /api/auth/status: 401 is its healthy answer.
    let out = run(action(&urls)
        .input("mode", "baseline")
        .input("expected-status", "200,401"));
    assert_eq!(out.output("down"), "");
    assert_eq!(out.output("healthy"), "true");
}

#[test]
fn an_endpoint_down_before_the_deploy_never_fails_the_window() {
    let s = service(&[
        ("/up", Behavior::Up),
        (
            "/broken",
            Behavior::Json(503, serde_json::json!({"status": "DOWN"})),
        ),
    ]);
    let urls = [s.url("/up"), s.url("/broken")];
    let out = run(action(&urls).input("known-down", &s.url("/broken")));
    out.assert_success();
    assert_eq!(out.output("healthy"), "true");
    assert!(
        out.commands("warning")
            .iter()
            .any(|w| w.contains("was down before the deploy and still is")),
        "{}",
        out.log()
    );
    let r = report(&out);
    assert_eq!(r[1]["down_before_deploy"], true);
    assert_eq!(r[1]["healthy"], false, "reported as it is");
    assert!(
        out.summary.contains("down before the deploy, still"),
        "{}",
        out.summary
    );
    // The other endpoint still decides: a release that breaks it fails.
    let s2 = service(&[
        ("/dies", Behavior::DiesAfter(1)),
        (
            "/broken",
            Behavior::Json(503, serde_json::json!({"status": "DOWN"})),
        ),
    ]);
    let out =
        run(action(&[s2.url("/dies"), s2.url("/broken")]).input("known-down", &s2.url("/broken")));
    out.assert_failure();
    assert!(out.error().contains("/dies"), "{}", out.error());
    assert!(!out.error().contains("/broken"), "{}", out.error());
    // A URL that is not one of `urls` is a typo.
    let out = run(action(&urls).input("known-down", "https://elsewhere.example/x"));
    out.assert_failure();
    assert!(
        out.error().contains("input `known-down`"),
        "{}",
        out.error()
    );
}
