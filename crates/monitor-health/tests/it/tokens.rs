//! Credentials: after a failed window, an App mints exactly README's row —
//! `issues: write` on the repository of the issue, `contents: write` on the
//! rollback target, one token each — and revokes both; with one fewer,
//! that alert is not sent and the error says which permission is missing.

use relay_testkit::app_keys::{TestApp, assert_minted_exactly, grants, one_fewer};
use relay_testkit::health::Behavior;
use serde_json::json;

use crate::{action, fake, service};

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";

#[test]
fn an_app_mints_exactly_the_row_and_one_permission_fewer_loses_that_alert() {
    let row = grants(&[
        ("octo/app", &[("issues", "write")]),
        ("octo/deploy", &[("contents", "write")]),
    ]);
    let s = service(&[("/h", Behavior::Json(503, json!({})))]);
    let setup = || {
        let gh = fake();
        gh.repo("octo/deploy", "main");
        let app = TestApp::register(&gh)?;
        let run = app
            .inputs(action(&[s.url("/h")]))
            .api(gh.url())
            .input("duration", "300ms")
            .input("create-issue", "true")
            .input("environment", "production")
            .input("sha", SHA)
            .input("rollback-repository", "octo/deploy");
        Some((gh, app, run))
    };
    let Some((gh, app, run)) = setup() else {
        return;
    };
    app.install_exactly(&gh, &row);
    let out = run.run();
    out.assert_failure();
    assert!(
        !out.error().contains("not sent") && !out.error().contains("no issue"),
        "{}",
        out.log()
    );
    assert_eq!(gh.issues("octo/app").len(), 1);
    assert_eq!(gh.dispatches("octo/deploy").len(), 1);
    for t in gh.issued_tokens() {
        out.assert_secret_hidden(&t.token);
    }
    assert_minted_exactly(&gh, &row);
    for (missing, fewer) in one_fewer(&row) {
        let (gh, app, run) = setup().unwrap();
        app.install_exactly(&gh, &fewer);
        let out = run.run();
        out.assert_failure();
        assert!(
            out.error().contains(&format!("`{missing}`")),
            "{}",
            out.log()
        );
        let (issues, dispatches) = (
            gh.issues("octo/app").len(),
            gh.dispatches("octo/deploy").len(),
        );
        if missing == "issues: write" {
            assert_eq!((issues, dispatches), (0, 1), "the rollback still went out");
        } else {
            assert_eq!((issues, dispatches), (1, 0), "the issue still opened");
        }
    }
}

#[test]
fn a_rollback_token_with_app_credentials_is_refused() {
    let gh = fake();
    let Some(app) = TestApp::register(&gh) else {
        return;
    };
    let out = app
        .inputs(action(&["http://127.0.0.1:9/h".to_owned()]))
        .api(gh.url())
        .input("rollback-token", "ghp_RollbackClassicToken000000000001")
        .run();
    out.assert_failure();
    assert!(
        out.error().contains("input `rollback-token`"),
        "{}",
        out.log()
    );
    assert!(gh.requests().is_empty());
}
