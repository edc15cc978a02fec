//! Cancelling a run, as
//! <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-cancellation>
//! describes it: the running job's steps whose `if` holds for a cancelled
//! run (`always()`, `cancelled()`) still run and the others are skipped;
//! a running step is interrupted; jobs after it run only if their `if`
//! holds for a cancelled run.

use std::time::{Duration, Instant};

use relay_runner::At;

use crate::fixture::{Repo, outcomes, pairs};

const DEPLOY: &str = r#"
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - id: start
        run: "true"
      - id: webhook
        run: sleep 30
      - id: monitor
        run: "true"
      - id: finish
        if: always()
        env:
          CANCELLED: ${{ cancelled() }}
          JOB: ${{ job.status }}
          WEBHOOK: ${{ steps.webhook.outcome }}
        run: echo "state=$CANCELLED/$JOB/$WEBHOOK" >> "$GITHUB_OUTPUT"
      - id: on-cancel
        if: cancelled()
        run: "true"
      - id: on-failure
        if: failure()
        run: "true"
  cleanup:
    needs: deploy
    if: always()
    runs-on: ubuntu-latest
    steps:
      - id: plain
        run: "true"
  next:
    needs: deploy
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  only-if-cancelled:
    needs: deploy
    if: cancelled()
    runs-on: ubuntu-latest
    steps:
      - run: "true"
"#;

/// What a cancelled run looks like, wherever in the job it was cancelled.
fn assert_cancelled_shape(rec: &relay_runner::WorkflowRecord) {
    assert_eq!(rec.result, "cancelled");
    assert!(rec.cancelled.as_deref().unwrap().contains("webhook"));
    assert_eq!(rec.job("deploy").unwrap().result, "cancelled");
    // A job that starts after the cancellation with `always()` runs its
    // steps as usual; one with the implied `success()` does not start.
    assert_eq!(rec.job("cleanup").unwrap().result, "success");
    assert_eq!(outcomes(rec, "cleanup"), pairs(&[("plain", "success")]));
    assert_eq!(rec.job("next").unwrap().result, "skipped");
    assert_eq!(rec.job("only-if-cancelled").unwrap().result, "success");
}

#[test]
fn a_run_cancelled_after_a_step_runs_only_always_and_cancelled_steps() {
    let repo = Repo::new();
    let path = repo.workflow(
        "deploy.yml",
        &DEPLOY.replace("run: sleep 30", "run: \"true\""),
    );
    let mut runner = repo
        .runner()
        .cancel_at(At::step_finished("deploy", "webhook"));
    let rec = repo.play(&mut runner, &path).unwrap();
    assert_eq!(
        outcomes(&rec, "deploy"),
        pairs(&[
            ("start", "success"),
            ("webhook", "success"),
            ("monitor", "skipped"),
            ("finish", "success"),
            ("on-cancel", "success"),
            ("on-failure", "skipped"),
        ])
    );
    assert_eq!(
        rec.step("deploy", "finish").unwrap().outputs["state"],
        "true/cancelled/success"
    );
    assert_cancelled_shape(&rec);
}

#[test]
fn a_step_running_when_the_run_is_cancelled_is_interrupted() {
    let repo = Repo::new();
    let path = repo.workflow("deploy.yml", DEPLOY);
    let mut runner = repo.runner().cancel_at(At::step_running_for(
        "deploy",
        "webhook",
        Duration::from_millis(200),
    ));
    let started = Instant::now();
    let rec = repo.play(&mut runner, &path).unwrap();
    // SIGINT ends `sleep` at once; it is not waited for.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let webhook = rec.step("deploy", "webhook").unwrap();
    assert_eq!(
        (webhook.outcome.as_str(), webhook.conclusion.as_str()),
        ("cancelled", "cancelled")
    );
    assert_eq!(
        rec.step("deploy", "finish").unwrap().outputs["state"],
        "true/cancelled/cancelled"
    );
    assert_eq!(
        outcomes(&rec, "deploy")[2..],
        pairs(&[
            ("monitor", "skipped"),
            ("finish", "success"),
            ("on-cancel", "success"),
            ("on-failure", "skipped"),
        ])[..]
    );
    assert_cancelled_shape(&rec);
}

#[test]
fn a_step_that_ignores_sigint_gets_sigterm_then_is_killed() {
    let repo = Repo::new();
    let path = repo.workflow(
        "stubborn.yml",
        r#"
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - id: stubborn
        run: |
          trap '' INT
          trap 'echo got-term; exit 7' TERM
          sleep 60 & wait
"#,
    );
    let mut runner = repo.runner().cancel_at(At::step_running_for(
        "j",
        "stubborn",
        Duration::from_millis(200),
    ));
    let started = Instant::now();
    let rec = repo.play(&mut runner, &path).unwrap();
    let elapsed = started.elapsed();
    // 7.5 s after SIGINT comes SIGTERM, as the runner sends them.
    assert!(elapsed >= Duration::from_millis(7500), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    let s = rec.step("j", "stubborn").unwrap();
    assert_eq!(s.outcome, "cancelled");
    assert!(s.log.contains("got-term"), "{}", s.log);
}

#[test]
fn a_cancelled_run_in_a_called_workflow_cancels_the_caller_too() {
    let repo = Repo::new();
    repo.workflow(
        "deploy.yml",
        &DEPLOY
            .replace("on: push", "on:\n  workflow_call:")
            .replace("run: sleep 30", "run: \"true\""),
    );
    let caller = repo.workflow(
        "caller.yml",
        r#"
on: push
jobs:
  call:
    uses: ./.github/workflows/deploy.yml
  report:
    needs: call
    if: always()
    runs-on: ubuntu-latest
    steps:
      - id: r
        env:
          RESULT: ${{ needs.call.result }}
        run: echo "result=$RESULT" >> "$GITHUB_OUTPUT"
"#,
    );
    let mut runner = repo
        .runner()
        .cancel_at(At::step_finished("deploy.yml/deploy", "webhook"));
    let rec = repo.play(&mut runner, &caller).unwrap();
    assert_eq!(rec.result, "cancelled");
    assert_eq!(rec.job("call").unwrap().result, "cancelled");
    assert_eq!(
        rec.step("report", "r").unwrap().outputs["result"],
        "cancelled"
    );
    assert_eq!(
        rec.step("deploy.yml/deploy", "on-cancel").unwrap().outcome,
        "success"
    );
}
