//! The step's own workflow run: its finished jobs count, its unfinished ones
//! (the step's own job among them) are left out unless `checks` names them,
//! whatever the jobs are called. The topology is a deploy workflow called
//! with `workflow_call` at the end of CI, so CI's jobs and the called
//! workflow's (`deploy / verify`) share one run.

use relay_fakes::CheckScript;

use super::*;

/// Verifies the runner's own commit.
fn own(gh: &FakeGitHub) -> ActionRun {
    action(gh).input("repository", OWN).input("sha", OWN_SHA)
}

#[test]
fn own_matrix_jobs_and_custom_named_jobs_are_left_out() {
    let gh = fake();
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::after("build", 1, "success").job_of(OWN, 1, 11),
    );
    // This run's jobs: a matrix and one with a custom `name:`, all still
    // running because this very step is one of them.
    for (job, name) in [
        (21, "deploy (staging)"),
        (22, "deploy (production)"),
        (23, "Verify CI 🚦"),
    ] {
        gh.check_run(
            OWN,
            OWN_SHA,
            CheckScript::pending(name).job_of(OWN, OWN_RUN, job),
        );
    }
    let out = run(own(&gh));
    out.assert_success();
    let checks = checks_output(&out);
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0]["name"], "build");
}

#[test]
fn a_job_of_another_run_with_the_same_name_is_still_waited_for() {
    let gh = fake();
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::pending("deploy (staging)").job_of(OWN, 999, 31),
    );
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::pending("deploy (staging)")
            .job_of(OWN, OWN_RUN, 32)
            .suite(2),
    );
    let out = run(own(&gh).input("timeout", "300ms"));
    out.assert_failure();
    assert_eq!(out.output("state"), "timeout");
}

#[test]
fn another_commit_is_not_filtered() {
    // The same run id in another repository's details_url means nothing.
    let gh = fake();
    gh.check_run(
        SOURCE,
        SHA,
        CheckScript::done("deploy", "failure").job_of(SOURCE, OWN_RUN, 41),
    );
    let out = run(action(&gh));
    out.assert_failure();
    assert_eq!(out.output("failed"), "deploy");
}

/// CI's jobs finished before the called deploy workflow started; its
/// `verify` job (this step's) is still running.
fn ci_run(gh: &FakeGitHub) {
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::done("build", "success").job_of(OWN, OWN_RUN, 51),
    );
    for (job, name) in [(52, "test (ubuntu-latest)"), (53, "test (macos-latest)")] {
        gh.check_run(
            OWN,
            OWN_SHA,
            CheckScript::done(name, "success").job_of(OWN, OWN_RUN, job),
        );
    }
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::pending("deploy / verify").job_of(OWN, OWN_RUN, 54),
    );
}

#[test]
fn inside_its_own_ci_run_the_finished_jobs_count() {
    let gh = fake();
    ci_run(&gh);
    let out = run(own(&gh).input("checks", "build\ntest (*)"));
    out.assert_success();
    let names: Vec<Value> = checks_output(&out)
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("build"),
            json!("test (macos-latest)"),
            json!("test (ubuntu-latest)")
        ],
        "the running `deploy / verify` is left out"
    );

    // With no `checks`, every finished job of the run counts too.
    let gh = fake();
    ci_run(&gh);
    let out = run(own(&gh));
    out.assert_success();
    assert_eq!(checks_output(&out).len(), 3);
}

#[test]
fn a_failed_job_of_its_own_run_fails() {
    let gh = fake();
    ci_run(&gh);
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::done("lint", "failure").job_of(OWN, OWN_RUN, 55),
    );
    let out = run(own(&gh));
    out.assert_failure();
    assert_eq!(out.output("failed"), "lint");
    assert!(
        out.error().contains("`lint` concluded `failure`"),
        "{}",
        out.error()
    );
}

#[test]
fn an_unfinished_job_of_its_own_run_named_in_checks_is_waited_for() {
    let gh = fake();
    ci_run(&gh);
    // `e2e` runs beside the deploy (not in its `needs:`) and finishes later.
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::after("e2e", 3, "success").job_of(OWN, OWN_RUN, 56),
    );
    let out = run(own(&gh).input("checks", "build\ne2e"));
    out.assert_success();
    assert!(gh.check_run_polls(OWN, OWN_SHA) >= 4, "it waited");
    assert!(
        checks_output(&out)
            .iter()
            .any(|c| c["name"] == "e2e" && c["conclusion"] == "success")
    );

    // Not named, it is left out while running: one look decides.
    let gh = fake();
    ci_run(&gh);
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::after("e2e", 3, "failure").job_of(OWN, OWN_RUN, 56),
    );
    let out = run(own(&gh).input("checks", "build"));
    out.assert_success();
    assert_eq!(gh.check_run_polls(OWN, OWN_SHA), 1);
}

#[test]
fn naming_its_own_job_times_out_with_a_hint() {
    let gh = fake();
    ci_run(&gh);
    let out = run(own(&gh)
        .input("checks", "build\ndeploy / *")
        .input("timeout", "300ms"));
    out.assert_failure();
    assert_eq!(out.output("state"), "timeout");
    assert_eq!(out.output("failed"), "deploy / verify");
    let err = out.error();
    assert!(
        err.contains("`deploy / verify` is a job of this workflow run named by `checks`")
            && err.contains("take it out of `checks`"),
        "{err}"
    );
}

#[test]
fn a_rerun_attempt_replaces_the_failed_attempt_of_its_own_run() {
    // Attempt 1 of this run failed `verify` (job 61); on "re-run failed
    // jobs" attempt 2's `verify` (job 62, this step) is running. The old
    // failure must not decide.
    let gh = fake();
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::done("build", "success").job_of(OWN, OWN_RUN, 60),
    );
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::done("deploy / verify", "failure").job_of(OWN, OWN_RUN, 61),
    );
    gh.check_run(
        OWN,
        OWN_SHA,
        CheckScript::pending("deploy / verify")
            .job_of(OWN, OWN_RUN, 62)
            .suite(2),
    );
    let out = run(own(&gh));
    out.assert_success();
    assert_eq!(checks_output(&out).len(), 1, "{:?}", checks_output(&out));
}
