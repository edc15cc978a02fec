//! The step never waits on its own workflow run, whatever its jobs are called.

use relay_testkit::github::CheckScript;

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
