//! Credentials: an App minting exactly README's row; a fine-grained PAT,
//! which cannot read check runs, falling back to statuses and Actions jobs
//! with a warning (and `require-check-runs` refusing to); our own
//! `deploy/<environment>` statuses never counting.

use relay_fakes::{Access, CheckScript, FakeGitHub, Grant, RunScript};
use relay_testkit::app_keys::{TestApp, assert_minted_exactly, grants, one_fewer};
use relay_testkit::openapi::OpenApi;

use super::{SHA, SOURCE, action, checks_output, fake, run};

const PAT: &str = "github_pat_FineGrainedNoChecks000000001";

fn app_run(gh: &FakeGitHub) -> Option<(TestApp, relay_testkit::ActionRun)> {
    let app = TestApp::register(gh)?;
    let run = app.inputs(action(gh));
    Some((app, run))
}

#[test]
fn an_app_mints_exactly_the_row_and_one_permission_fewer_fails() {
    let row = grants(&[(
        SOURCE,
        &[
            ("checks", "read"),
            ("statuses", "read"),
            ("actions", "read"),
        ],
    )]);
    let setup = || {
        let gh = fake();
        gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
        gh.commit_status(SOURCE, SHA, CheckScript::done("ci/jenkins", "success"));
        gh.add_run(
            SOURCE,
            "push",
            "CI",
            RunScript::succeeds_after(0).head_sha(SHA),
        );
        let (app, run) = app_run(&gh)?;
        Some((gh, app, run.input("workflows", "Deploy")))
    };
    let Some((gh, app, run)) = setup() else {
        return;
    };
    app.install_exactly(&gh, &row);
    let out = run.run();
    out.assert_success();
    assert_minted_exactly(&gh, &row);
    for t in gh.issued_tokens() {
        out.assert_secret_hidden(&t.token);
    }
    for (missing, fewer) in one_fewer(&row) {
        let (gh, app, run) = setup().unwrap();
        app.install_exactly(&gh, &fewer);
        let out = run.run();
        out.assert_failure();
        assert!(
            out.error().contains(&format!("`{missing}`")),
            "without {missing}: {}",
            out.log()
        );
    }
}

#[test]
fn without_workflows_the_app_asks_no_actions_permission() {
    let row = grants(&[(SOURCE, &[("checks", "read"), ("statuses", "read")])]);
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    let Some((app, run)) = app_run(&gh) else {
        return;
    };
    app.install_exactly(&gh, &row);
    run.run().assert_success();
    assert_minted_exactly(&gh, &row);
}

/// `SOURCE@SHA` as a fine-grained PAT sees it: a CI run with a `build` job
/// (a check run of GitHub Actions), a third-party `codecov` check run it
/// cannot see, a Jenkins status, and a failed `deploy/production` status of
/// our own.
fn fine_grained_world(job_conclusion: &str) -> FakeGitHub {
    let gh = fake();
    let run_id = gh.add_run(
        SOURCE,
        "push",
        "CI",
        RunScript::succeeds_after(0).head_sha(SHA),
    );
    gh.check_run(
        SOURCE,
        SHA,
        CheckScript::done("build", job_conclusion).job_of(SOURCE, run_id, 77),
    );
    gh.check_run(SOURCE, SHA, CheckScript::done("codecov", "failure"));
    gh.commit_status(SOURCE, SHA, CheckScript::done("ci/jenkins", "success"));
    gh.commit_status(
        SOURCE,
        SHA,
        CheckScript::done("deploy/production", "failure"),
    );
    gh.token(
        PAT,
        Access::Grant(Grant::fine_grained(
            &[SOURCE],
            &[("statuses", "read"), ("actions", "read")],
        )),
    );
    gh
}

#[test]
fn a_fine_grained_pat_decides_from_statuses_and_jobs_and_says_what_it_could_not_see() {
    let gh = fine_grained_world("success");
    let out = action(&gh).input("github-token", PAT).run();
    out.assert_secret_hidden(PAT);
    out.assert_success();
    let warnings = out.commands("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("could not be seen") && w.contains("checks: read")),
        "{}",
        out.log()
    );
    assert!(out.summary.contains("could not be seen"), "{}", out.summary);
    let names: Vec<String> = checks_output(&out)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["build", "ci/jenkins"],
        "jobs and statuses; not codecov, not ours"
    );
    // The calls the fallback made are GitHub's, as documented.
    if let Some(api) = OpenApi::load() {
        for r in gh.requests().iter().filter(|r| r.status == 200) {
            api.validate(r).unwrap();
        }
    }
}

#[test]
fn a_failed_job_seen_through_the_fallback_fails_the_step() {
    let gh = fine_grained_world("failure");
    let out = action(&gh).input("github-token", PAT).run();
    out.assert_failure();
    assert!(
        out.error().contains("`build` concluded `failure`"),
        "{}",
        out.log()
    );
    assert!(out.error().contains("could not be seen"), "{}", out.log());
}

#[test]
fn a_named_check_the_token_cannot_see_fails() {
    let gh = fine_grained_world("success");
    let out = action(&gh)
        .input("github-token", PAT)
        .input("checks", "build\ncodecov")
        .input("discovery-timeout", "200ms")
        .run();
    out.assert_failure();
    let e = out.error();
    assert!(e.contains("codecov"), "{e}");
    assert!(
        e.contains("could not be seen") && e.contains("checks: read"),
        "{e}"
    );
}

#[test]
fn require_check_runs_turns_the_fallback_into_a_failure() {
    let gh = fine_grained_world("success");
    let out = action(&gh)
        .input("github-token", PAT)
        .input("require-check-runs", "true")
        .run();
    out.assert_failure();
    let e = out.error();
    assert!(
        e.contains("cannot read check runs") && e.contains("require-check-runs"),
        "{e}"
    );
    assert!(
        e.contains("Resource not accessible by personal access token"),
        "{e}"
    );
}

#[test]
fn a_fine_grained_pat_without_actions_read_cannot_fall_back() {
    let gh = fine_grained_world("success");
    gh.token(
        PAT,
        Access::Grant(Grant::fine_grained(&[SOURCE], &[("statuses", "read")])),
    );
    let out = action(&gh).input("github-token", PAT).run();
    out.assert_failure();
    assert!(out.error().contains("actions: read"), "{}", out.log());
}

#[test]
fn our_own_deploy_statuses_never_count() {
    let gh = fake();
    gh.check_run(SOURCE, SHA, CheckScript::done("build", "success"));
    gh.commit_status(
        SOURCE,
        SHA,
        CheckScript::done("deploy/production", "failure"),
    );
    gh.commit_status(SOURCE, SHA, CheckScript::pending("deploy/staging"));
    let out = run(action(&gh));
    out.assert_success();
    let checks = checks_output(&out);
    assert_eq!(checks.len(), 1, "{checks:?}");
}

#[test]
fn the_jobs_list_answers_as_github_documents() {
    let Some(api) = OpenApi::load() else { return };
    let gh = fine_grained_world("success");
    let out = action(&gh).input("github-token", PAT).run();
    out.assert_success();
    let jobs = gh
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/jobs"))
        .expect("the jobs were listed");
    api.validate(&jobs).unwrap();
    let body = reqwest_get(&gh, &format!("{}?{}", jobs.path, jobs.query));
    api.check_response("GET", &jobs.path, 200, &body).unwrap();
}

fn reqwest_get(gh: &FakeGitHub, path: &str) -> serde_json::Value {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            reqwest::Client::new()
                .get(format!("{}{path}", gh.url()))
                .header("user-agent", "test")
                .bearer_auth(PAT)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
}
