//! Credentials: an App minting exactly README's row for the relay —
//! `actions: read` on the build's repository (its artifacts) and
//! `contents: write` on the deploy repository (the dispatch), one token
//! each — and revoking both; one permission fewer fails the step.

use relay_testkit::ActionRun;
use relay_testkit::app_keys::{TestApp, assert_minted_exactly, grants, one_fewer};

use super::{APP, DEPLOY, World, build_run, world};

fn with_app(w: &World) -> Option<(TestApp, ActionRun)> {
    let app = TestApp::register(&w.gh)?;
    // The job's own token stays in `github-token` (the runner's default);
    // `dispatch-token` is not given: the App mints both.
    let run = app
        .inputs(w.action(build_run("success")))
        .without_env("INPUT_DISPATCH-TOKEN");
    Some((app, run))
}

#[test]
fn an_app_mints_exactly_the_row_and_one_permission_fewer_fails() {
    let row = grants(&[
        (APP, &[("actions", "read")]),
        (DEPLOY, &[("contents", "write")]),
    ]);
    let setup = || {
        let w = world();
        w.artifact("frontend-build");
        let (app, run) = with_app(&w)?;
        Some((w, app, run))
    };
    let Some((w, app, run)) = setup() else { return };
    app.install_exactly(&w.gh, &row);
    let out = run.run();
    out.assert_success();
    assert_eq!(w.gh.dispatches(DEPLOY).len(), 1);
    for t in w.gh.issued_tokens() {
        out.assert_secret_hidden(&t.token);
    }
    assert_minted_exactly(&w.gh, &row);
    for (missing, fewer) in one_fewer(&row) {
        let (w, app, run) = setup().unwrap();
        app.install_exactly(&w.gh, &fewer);
        let out = run.run();
        out.assert_failure();
        assert!(
            out.error().contains(&format!("`{missing}`")),
            "{}",
            out.log()
        );
        assert!(w.gh.dispatches(DEPLOY).is_empty());
    }
}

#[test]
fn a_dispatch_token_with_app_credentials_is_refused() {
    let w = world();
    let Some(app) = TestApp::register(&w.gh) else {
        return;
    };
    let out = app.inputs(w.action(build_run("success"))).run();
    out.assert_failure();
    assert!(
        out.error().contains("input `dispatch-token`"),
        "{}",
        out.log()
    );
    assert!(w.gh.requests().is_empty());
}
