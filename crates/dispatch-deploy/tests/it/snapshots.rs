//! What users read: the step summary and the log, as snapshots. Dispatch
//! ids, run ids and ports are filtered.

use relay_fakes::RunScript;

use super::{SEED_000_IMAGES, action, fake, run, seed_000_event};

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[dispatch-id]",
    );
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    s.add_filter(r"runs/\d+", "runs/[id]");
    s.add_filter(r"\[\d{4}\]\(", "[[id]](");
    s.add_filter(r"::stop-commands::[0-9a-f]{32}", "::stop-commands::[token]");
    s.add_filter(r"(?m)^::[0-9a-f]{32}::$", "::[token]::");
    s
}

#[test]
fn summary_of_a_seed_000_dispatch_that_was_waited_for() {
    let gh = fake();
    gh.on_dispatch(super::TARGET, RunScript::succeeds_after(1));
    let out = run(action(&gh)
        .event("workflow_run", seed_000_event("main", "success"))
        .input("images", SEED_000_IMAGES)
        .input("wait", "true")
        .input("wait-interval", "50ms"));
    out.assert_success();
    settings().bind(|| insta::assert_snapshot!(out.summary));
}

#[test]
fn log_of_a_skipped_dispatch() {
    let gh = fake();
    let out = run(action(&gh)
        .event("workflow_run", seed_000_event("develop", "failure"))
        .env("RUNNER_DEBUG", "0"));
    out.assert_success();
    settings().bind(|| insta::assert_snapshot!(out.stdout));
}
