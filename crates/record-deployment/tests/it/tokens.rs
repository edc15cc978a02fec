//! Credentials: an App minting exactly README's row — `deployments` on the
//! deploy repository and `statuses: write` on the app repository, one token
//! each — and revoking both; one permission fewer fails the record, or, for
//! the optional commit status, warns.

use relay_fakes::{Access, FakeGitHub, Grant};
use relay_testkit::app_keys::{TestApp, assert_minted_exactly, grants, one_fewer};

use super::{A, APP, DEPLOY, action, dispatched, fake};

fn start_with_app(gh: &FakeGitHub) -> Option<(TestApp, relay_testkit::ActionRun)> {
    let app = TestApp::register(gh)?;
    let run = app
        .inputs(action(gh, "start"))
        .event("repository_dispatch", dispatched(A))
        .input("environment", "staging");
    Some((app, run))
}

#[test]
fn an_app_mints_exactly_the_row_and_one_permission_fewer_fails_or_warns() {
    let row = grants(&[
        (DEPLOY, &[("deployments", "write")]),
        (APP, &[("statuses", "write")]),
    ]);
    let gh = fake();
    let Some((app, run)) = start_with_app(&gh) else {
        return;
    };
    app.install_exactly(&gh, &row);
    let out = run.run();
    out.assert_success();
    for t in gh.issued_tokens() {
        out.assert_secret_hidden(&t.token);
    }
    assert_minted_exactly(&gh, &row);
    assert_eq!(gh.deployments(DEPLOY).len(), 1);
    assert_eq!(
        gh.created_statuses(APP, A).len(),
        1,
        "the app commit's status"
    );
    for (missing, fewer) in one_fewer(&row) {
        let gh = fake();
        let (app, run) = start_with_app(&gh).unwrap();
        app.install_exactly(&gh, &fewer);
        let out = run.run();
        if missing == "statuses: write" {
            // The record is what matters: a refused status only warns.
            out.assert_success();
            assert!(
                out.commands("warning")
                    .iter()
                    .any(|w| w.contains("`statuses: write`")),
                "{}",
                out.log()
            );
            assert!(gh.created_statuses(APP, A).is_empty());
        } else {
            out.assert_failure();
            assert!(
                out.error().contains(&format!("`{missing}`")),
                "{}",
                out.log()
            );
            assert!(gh.deployments(DEPLOY).is_empty());
        }
    }
}

#[test]
fn previous_needs_deployments_read_only() {
    let row = grants(&[(DEPLOY, &[("deployments", "read")])]);
    let gh = fake();
    let Some(app) = TestApp::register(&gh) else {
        return;
    };
    app.install_exactly(&gh, &row);
    let out = app
        .inputs(action(&gh, "previous"))
        .input("environment", "staging")
        .run();
    // No earlier good deploy: exit 1 with the documented error, after the
    // read the row allows.
    out.assert_failure();
    assert!(out.error().contains("staging"), "{}", out.log());
    assert!(!out.error().contains("was not granted"), "{}", out.log());
    assert_minted_exactly(&gh, &row);
}

#[test]
fn a_fine_grained_pat_with_the_row_records_and_without_it_is_refused() {
    const PAT: &str = "github_pat_DeployRepoDeployments000001";
    for (perm, ok) in [("write", true), ("read", false)] {
        let gh = fake();
        gh.token(
            PAT,
            Access::Grant(Grant::fine_grained(&[DEPLOY], &[("deployments", perm)])),
        );
        let out = action(&gh, "start")
            .input("github-token", PAT)
            .event("repository_dispatch", dispatched(A))
            .input("environment", "staging")
            .run();
        out.assert_secret_hidden(PAT);
        assert_eq!(out.code == 0, ok, "{}", out.log());
        if !ok {
            assert!(out.error().contains("deployments: write"), "{}", out.log());
        }
    }
}

#[test]
fn an_app_token_input_with_app_credentials_is_refused() {
    let gh = fake();
    let Some((_, run)) = start_with_app(&gh) else {
        return;
    };
    let out = run.input("app-token", super::APP_TOKEN).run();
    out.assert_failure();
    assert!(out.error().contains("input `app-token`"), "{}", out.log());
    assert!(gh.requests().is_empty());
}
