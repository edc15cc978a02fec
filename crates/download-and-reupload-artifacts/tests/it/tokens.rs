//! Credentials: an App minting exactly README's row — `actions: read` on
//! the repository whose run made the artifacts — and revoking it; without
//! it the step fails naming the permission. Re-uploading needs none: it
//! goes through the runner's `ACTIONS_RUNTIME_TOKEN`.

use relay_testkit::app_keys::{TestApp, assert_minted_exactly, grants, one_fewer};

use super::{E, SOURCE, world, zip_of};

#[test]
fn an_app_mints_exactly_the_row_and_one_permission_fewer_fails() {
    let row = grants(&[(SOURCE, &[("actions", "read")])]);
    let setup = || {
        let w = world();
        w.artifact("site", zip_of(&[E::File("index.html", b"<h1>ok</h1>")]));
        let app = TestApp::register(&w.gh)?;
        let run = app.inputs(w.action());
        Some((w, app, run))
    };
    let Some((w, app, run)) = setup() else { return };
    app.install_exactly(&w.gh, &row);
    let out = run.run();
    out.assert_success();
    assert_eq!(w.reuploaded().len(), 1);
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
        assert!(w.reuploaded().is_empty());
    }
}
