//! Credentials: a GitHub App minting exactly README's row (and failing with
//! one permission fewer), fine-grained and classic PATs, the App inputs'
//! every bad form refused before any request, and a token re-minted when
//! the wait outlives it.

use std::time::Duration;

use relay_fakes::{FakeGitHub, Grant, RunScript};
use relay_testkit::ActionRun;
use relay_testkit::app_keys::{TestApp, assert_minted_exactly, grants, one_fewer};

use super::{BIN, SHA, TARGET, fake};

/// The action with no token input at all (the runner still passes
/// `github-token`'s default, a `ghs_` job token, which the App overrides).
fn bare(gh: &FakeGitHub) -> ActionRun {
    ActionRun::new(BIN)
        .api(gh.url())
        .input("deploy-repository", TARGET)
        .input("sha", SHA)
        .input("github-token", "ghs_TheJobsOwnTokenWhichAppsOverride00")
        .env("RUNNER_DEBUG", "1")
}

fn with_app(gh: &FakeGitHub) -> Option<(TestApp, ActionRun)> {
    let app = TestApp::register(gh)?;
    let run = app.inputs(bare(gh));
    Some((app, run))
}

/// The key never shows: not whole, not a line of it; nor any token minted.
fn assert_hidden(out: &relay_testkit::Outcome, app: &TestApp, gh: &FakeGitHub) {
    for line in app.keys.pkcs1.lines().filter(|l| !l.starts_with("-----")) {
        out.assert_secret_hidden(line);
    }
    for t in gh.issued_tokens() {
        out.assert_secret_hidden(&t.token);
    }
}

#[test]
fn an_app_mints_exactly_the_row_and_one_permission_fewer_fails() {
    // README: dispatch-deploy, repository_dispatch with `wait: true`.
    let row = grants(&[(TARGET, &[("contents", "write"), ("actions", "read")])]);
    let setup = || {
        let gh = fake();
        gh.on_dispatch(TARGET, RunScript::succeeds_after(1));
        let (app, run) = with_app(&gh)?;
        let run = run
            .input("wait", "true")
            .input("wait-interval", "50ms")
            .input("wait-timeout", "10s");
        Some((gh, app, run))
    };
    let Some((gh, app, run)) = setup() else {
        return;
    };
    app.install_exactly(&gh, &row);
    let out = run.run();
    out.assert_success();
    assert_hidden(&out, &app, &gh);
    assert_eq!(gh.dispatches(TARGET).len(), 1);
    assert_minted_exactly(&gh, &row);
    for (missing, fewer) in one_fewer(&row) {
        let (gh, app, run) = setup().unwrap();
        app.install_exactly(&gh, &fewer);
        let out = run.run();
        out.assert_failure();
        assert!(
            out.error()
                .contains(&format!("was not granted `{missing}`")),
            "without `{missing}`: {}",
            out.log()
        );
        assert!(
            gh.dispatches(TARGET).is_empty(),
            "nothing sent without `{missing}`"
        );
    }
}

#[test]
fn workflow_dispatch_needs_actions_write_only() {
    let row = grants(&[(TARGET, &[("actions", "write")])]);
    let gh = fake();
    gh.workflow(TARGET, "deploy.yml", "Deploy", None);
    let Some((app, run)) = with_app(&gh) else {
        return;
    };
    app.install_exactly(&gh, &row);
    run.input("workflow", "deploy.yml").run().assert_success();
    assert_eq!(gh.workflow_dispatches(TARGET).len(), 1);
    assert_minted_exactly(&gh, &row);
}

#[test]
fn a_fine_grained_pat_with_the_row_works_and_without_it_is_refused() {
    for (grant, ok) in [
        (
            Grant::fine_grained(&[TARGET], &[("contents", "write")]),
            true,
        ),
        (
            Grant::fine_grained(&[TARGET], &[("contents", "read")]),
            false,
        ),
        (
            Grant::fine_grained(&["xtp-tour/other"], &[("contents", "write")]),
            false,
        ),
        (Grant::classic(&["repo"]), true),
        (Grant::classic(&["repo:status", "workflow"]), false),
    ] {
        let gh = fake();
        gh.token(
            "github_pat_FineGrainedOrClassicToken01",
            relay_fakes::Access::Grant(grant.clone()),
        );
        let out = bare(&gh)
            .input("github-token", "github_pat_FineGrainedOrClassicToken01")
            .run();
        out.assert_secret_hidden("github_pat_FineGrainedOrClassicToken01");
        assert_eq!(out.code == 0, ok, "{grant:?}\n{}", out.log());
        assert_eq!(gh.dispatches(TARGET).len(), usize::from(ok));
        if !ok {
            assert!(out.error().contains("contents: write"), "{}", out.log());
        }
    }
}

#[test]
fn a_wait_that_outlives_the_token_gets_a_fresh_one() {
    let row = grants(&[(TARGET, &[("contents", "write"), ("actions", "read")])]);
    let gh = fake();
    gh.token_lifetime(Duration::from_secs(2));
    gh.on_dispatch(TARGET, RunScript::succeeds_after(12));
    let Some((app, run)) = with_app(&gh) else {
        return;
    };
    app.install_exactly(&gh, &row);
    let out = run
        .input("wait", "true")
        .input("wait-interval", "300ms")
        .input("wait-timeout", "30s")
        .run();
    out.assert_success();
    let issued = gh.issued_tokens();
    assert!(issued.len() >= 2, "re-minted: {issued:?}");
    assert!(
        gh.requests()
            .iter()
            .filter(|r| r.path != "/installation/token")
            .all(|r| r.status != 401),
        "no request went out with an expired token (revoking one may)"
    );
    let now = std::time::SystemTime::now();
    for t in &issued {
        assert_eq!(t.repos, [TARGET]);
        assert!(t.revoked || t.expires_at <= now, "{t:?}");
    }
}

// --- Bad App inputs: an input error naming the input, before any request ---

fn refused_before_any_request(run: ActionRun, gh: &FakeGitHub, input: &str, says: &str) {
    let out = run.run();
    out.assert_failure();
    let e = out.error();
    assert!(e.contains(&format!("input `{input}`")), "{e}");
    assert!(e.contains(says), "{e}");
    assert!(
        gh.requests().is_empty(),
        "a request went out: {:?}",
        gh.requests()
    );
}

#[test]
fn a_public_key_is_refused() {
    let gh = fake();
    let Some(app) = TestApp::register(&gh) else {
        return;
    };
    let run = bare(&gh)
        .input("github-app-id", &app.client_id)
        .input("github-app-private-key", &app.keys.public);
    refused_before_any_request(run, &gh, "github-app-private-key", "is a public key");
}

#[test]
fn a_truncated_key_is_refused_without_being_quoted() {
    let gh = fake();
    let Some(app) = TestApp::register(&gh) else {
        return;
    };
    let lines: Vec<&str> = app.keys.pkcs1.lines().collect();
    // The END line kept, half the body gone: what a clipped paste looks like.
    let cut = [&lines[..lines.len() / 2], &lines[lines.len() - 1..]]
        .concat()
        .join("\n");
    let out = bare(&gh)
        .input("github-app-id", &app.client_id)
        .input("github-app-private-key", &cut)
        .run();
    out.assert_failure();
    assert!(
        out.error()
            .contains("input `github-app-private-key` is truncated"),
        "{}",
        out.log()
    );
    for line in &lines[1..lines.len() / 2] {
        out.assert_secret_hidden(line);
    }
    assert!(gh.requests().is_empty());
    let no_end = lines[..lines.len() - 1].join("\n");
    let run = bare(&gh)
        .input("github-app-id", &app.client_id)
        .input("github-app-private-key", &no_end);
    refused_before_any_request(run, &gh, "github-app-private-key", "is truncated");
}

#[test]
fn an_id_that_is_neither_a_number_nor_a_client_id_is_refused() {
    let gh = fake();
    let Some(app) = TestApp::register(&gh) else {
        return;
    };
    let run = bare(&gh)
        .input("github-app-id", "my-deploy-app")
        .input("github-app-private-key", &app.keys.pkcs1);
    refused_before_any_request(
        run,
        &gh,
        "github-app-id",
        "neither a numeric App id nor a client id",
    );
}

#[test]
fn a_token_with_app_credentials_is_refused() {
    let gh = fake();
    let Some((_, run)) = with_app(&gh) else {
        return;
    };
    refused_before_any_request(
        run.input("token", "ghp_AnExplicitClassicToken000000001"),
        &gh,
        "token",
        "together with GitHub App credentials",
    );
    let Some((_, run)) = with_app(&gh) else {
        return;
    };
    refused_before_any_request(
        run.input("github-token", "github_pat_AnExplicitFineGrained01"),
        &gh,
        "github-token",
        "personal access token",
    );
}

#[test]
fn half_of_the_app_credentials_is_refused() {
    let gh = fake();
    let Some(app) = TestApp::register(&gh) else {
        return;
    };
    let run = bare(&gh).input("github-app-id", &app.client_id);
    refused_before_any_request(
        run,
        &gh,
        "github-app-private-key",
        "is not set, but `github-app-id` is",
    );
    let run = bare(&gh).input("github-app-private-key", &app.keys.pkcs1);
    refused_before_any_request(run, &gh, "github-app-id", "is not set");
}

#[test]
fn keys_as_people_paste_them_are_accepted() {
    let row = grants(&[(TARGET, &[("contents", "write")])]);
    let gh0 = fake();
    let Some(app) = TestApp::register(&gh0) else {
        return;
    };
    let k = &app.keys;
    for (what, key) in [
        ("PKCS#1 with its newline", k.pkcs1.clone()),
        (
            "PKCS#1 without a trailing newline",
            k.pkcs1.trim_end().to_owned(),
        ),
        ("PKCS#8", k.pkcs8.clone()),
        ("`\\n` escapes", k.pkcs1.trim_end().replace('\n', "\\n")),
        ("CRLF", k.pkcs8.replace('\n', "\r\n")),
    ] {
        let gh = fake();
        let app = TestApp::register(&gh).unwrap();
        app.install_exactly(&gh, &row);
        let out = bare(&gh)
            .input("github-app-id", &app.id.to_string())
            .input("github-app-private-key", &key)
            .run();
        assert_eq!(out.code, 0, "{what}\n{}", out.log());
        assert_minted_exactly(&gh, &row);
        for line in k.pkcs1.lines().filter(|l| !l.starts_with("-----")) {
            out.assert_secret_hidden(line);
        }
    }
}

#[test]
fn a_cancelled_step_still_revokes_what_it_minted() {
    let row = grants(&[(TARGET, &[("contents", "write"), ("actions", "read")])]);
    let gh = fake();
    gh.on_dispatch(TARGET, RunScript::never_ends());
    let Some(app) = TestApp::register(&gh) else {
        return;
    };
    app.install_exactly(&gh, &row);
    // As the runner starts the container: env only (the harness waits for
    // the end, and this step is to be cancelled before it).
    let child = std::process::Command::new(BIN)
        .env_clear()
        .envs([
            ("PATH", "/usr/bin:/bin"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_API_URL", gh.url()),
            ("GITHUB_REPOSITORY", "octo/app"),
            ("GITHUB_SHA", SHA),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_RUN_ID", "4242"),
            ("GITHUB_EVENT_NAME", "push"),
            ("INPUT_DEPLOY-REPOSITORY", TARGET),
            ("INPUT_WAIT", "true"),
            ("INPUT_WAIT-INTERVAL", "100ms"),
            ("INPUT_WAIT-TIMEOUT", "60s"),
            ("INPUT_GITHUB-APP-ID", app.client_id.as_str()),
            ("INPUT_GITHUB-APP-PRIVATE-KEY", app.keys.pkcs1.as_str()),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let waited = std::time::Instant::now();
    while gh.dispatches(TARGET).is_empty() {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "never dispatched"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("::error::the step was cancelled"),
        "{stdout}"
    );
    assert!(stdout.contains("Revoked 1 installation token"), "{stdout}");
    assert_minted_exactly(&gh, &row);
}
