//! A GitHub App instead of a token: `secrets` is the receivers' keys, not
//! a token, so it stands beside App credentials; the App mints exactly
//! README's row for the step.

use relay_testkit::app_keys::{TestApp, assert_minted_exactly, grants};

use super::{DEPLOY, SHA_A, World, image};

#[test]
fn an_app_deploys_the_fleet_with_exactly_deployments_and_issues_write() {
    let w = World::new();
    let Some(app) = TestApp::register(&w.gh) else {
        return;
    };
    let row = grants(&[(DEPLOY, &[("deployments", "write"), ("issues", "write")])]);
    app.install_exactly(&w.gh, &row);
    let out = w.run(app.inputs(w.action(SHA_A, 1, &w.fleet_file(""))));
    out.assert_success();
    for line in app.keys.pkcs1.lines().filter(|l| !l.starts_with("-----")) {
        out.assert_secret_hidden(line);
    }
    for t in w.gh.issued_tokens() {
        out.assert_secret_hidden(&t.token);
    }
    for vm in &w.vms {
        assert_eq!(vm.current(), Some(image(SHA_A)), "{}", vm.name);
    }
    assert_eq!(w.records().len(), 2, "one record per wave");
    assert_minted_exactly(&w.gh, &row);
}
