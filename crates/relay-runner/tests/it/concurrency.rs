//! Runs that contend for a concurrency group, as
//! <https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency>
//! documents them: one running, by default one pending (a newer run
//! cancels it), `queue: max` keeping up to 100 in order,
//! `cancel-in-progress` cancelling the running one.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use relay_runner::{At, Event, Protection, Review, Run, RunOutcome, Runner, Scheduler};
use serde_json::json;

use crate::fixture::{Repo, inputs};

/// `deploy.yml` and `rollback.yml`, whose job `deploy` / `rollback` takes
/// group `deploy-relay-<environment>` with `settings`, and the platform's
/// `platform.yml` that calls them on a dispatch.
fn platform(repo: &Repo, settings: &str) -> PathBuf {
    let job = |what: &str| {
        format!(
            r#"
on:
  workflow_call:
    inputs:
      app: {{ type: string, required: true }}
      environment: {{ type: string, required: true }}
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  {what}:
    needs: check
    runs-on: ubuntu-latest
    concurrency:
      group: deploy-relay-${{{{ inputs.environment }}}}
{settings}
    steps:
      - id: webhook
        env:
          APP: ${{{{ inputs.app }}}}
        run: echo "{what} $APP" >> "$LOG"
"#
        )
    };
    repo.workflow("deploy.yml", &job("deploy"));
    repo.workflow("rollback.yml", &job("rollback"));
    repo.workflow(
        "platform.yml",
        r#"
on: repository_dispatch
jobs:
  deploy:
    if: github.event.action == 'deploy'
    uses: ./.github/workflows/deploy.yml
    with:
      app: ${{ github.event.client_payload.app }}
      environment: ${{ github.event.client_payload.environment }}
  rollback:
    if: github.event.action == 'rollback'
    uses: ./.github/workflows/rollback.yml
    with:
      app: ${{ github.event.client_payload.app }}
      environment: ${{ github.event.client_payload.environment }}
"#,
    )
}

/// A dispatch of `action` (`deploy`, `rollback`) for `app` to production.
fn dispatch(repo: &Repo, path: &PathBuf, action: &str, app: &str) -> Run {
    let runner = repo.runner().event(
        "repository_dispatch",
        json!({"action": action, "client_payload": {"app": app, "environment": "production"}}),
    );
    Run::new(&format!("{action} {app}"), runner, path)
}

fn conclusions(outcomes: &[RunOutcome]) -> Vec<(String, String)> {
    outcomes
        .iter()
        .map(|o| (o.label.clone(), o.conclusion().to_owned()))
        .collect()
}

fn labelled(p: &[(&str, &str)]) -> Vec<(String, String)> {
    crate::fixture::pairs(p)
}

#[test]
fn by_default_a_newer_run_cancels_the_pending_one() {
    let repo = Repo::new();
    let path = platform(&repo, "");
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut s = Scheduler::new();
    for app in ["a", "b", "c"] {
        let seen = events.clone();
        let runner = repo
            .runner()
            .event(
                "repository_dispatch",
                json!({"action": "deploy", "client_payload": {"app": app, "environment": "production"}}),
            )
            .observe(move |e| match e {
                Event::Pending { id, group } => {
                    seen.lock().unwrap().push(format!("{app}: {id} waits for {group}"));
                }
                Event::RunCancelled { .. } => {
                    seen.lock().unwrap().push(format!("{app}: cancelled"));
                }
                _ => {}
            });
        s.queue(Run::new(&format!("deploy {app}"), runner, &path));
    }
    let out = s.play();
    assert_eq!(
        conclusions(&out),
        labelled(&[
            ("deploy a", "success"),
            ("deploy b", "cancelled"),
            ("deploy c", "success"),
        ])
    );
    // What a timeline is told, in the order it happens.
    assert_eq!(
        *events.lock().unwrap(),
        [
            "b: deploy.yml/deploy waits for deploy-relay-production",
            "c: deploy.yml/deploy waits for deploy-relay-production",
            "b: cancelled",
        ]
    );
    // The deploy of app B is dropped: it never reached its webhook.
    assert_eq!(repo.logged(), ["deploy a", "deploy c"]);
    let b = out[1].record.as_ref().unwrap();
    let why = out[1].cancelled().unwrap();
    assert!(
        why.contains("deploy c") && why.contains("deploy-relay-production"),
        "{why}"
    );
    assert_eq!(b.job("check").unwrap().result, "success");
    let pending = b.job("deploy.yml/deploy").unwrap();
    assert_eq!(pending.result, "cancelled");
    assert!(pending.steps.is_empty());
    assert_eq!(
        pending.concurrency.as_deref(),
        Some("deploy-relay-production")
    );
}

#[test]
fn by_default_a_pending_rollback_is_cancelled_by_a_deploy() {
    let repo = Repo::new();
    let path = platform(&repo, "");
    let mut s = Scheduler::new();
    s.queue(dispatch(&repo, &path, "deploy", "a"));
    s.queue(dispatch(&repo, &path, "rollback", "a"));
    s.queue(dispatch(&repo, &path, "deploy", "b"));
    let out = s.play();
    assert_eq!(
        conclusions(&out),
        labelled(&[
            ("deploy a", "success"),
            ("rollback a", "cancelled"),
            ("deploy b", "success"),
        ])
    );
    assert_eq!(repo.logged(), ["deploy a", "deploy b"]);
}

#[test]
fn with_queue_max_two_apps_and_a_rollback_on_one_environment_all_run_in_order() {
    let repo = Repo::new();
    let path = platform(&repo, "      queue: max");
    let mut s = Scheduler::new();
    s.queue(dispatch(&repo, &path, "deploy", "a"));
    s.queue(dispatch(&repo, &path, "deploy", "b"));
    s.queue(dispatch(&repo, &path, "rollback", "a"));
    s.queue(dispatch(&repo, &path, "deploy", "c"));
    let out = s.play();
    assert_eq!(
        conclusions(&out),
        labelled(&[
            ("deploy a", "success"),
            ("deploy b", "success"),
            ("rollback a", "success"),
            ("deploy c", "success"),
        ])
    );
    // None dropped, first in first out.
    assert_eq!(
        repo.logged(),
        ["deploy a", "deploy b", "rollback a", "deploy c"]
    );
}

#[test]
fn cancel_in_progress_of_the_newcomer_cancels_the_running_one() {
    let repo = Repo::new();
    let path = platform(&repo, "");
    // The deploy of app A is slow; the newcomer's group cancels in progress.
    repo.workflow(
        "deploy.yml",
        &std::fs::read_to_string(repo.root().join(".github/workflows/deploy.yml"))
            .unwrap()
            .replace(
                r#"run: echo "deploy $APP" >> "$LOG""#,
                r#"run: echo "deploy $APP" >> "$LOG"; [ "$APP" != a ] || sleep 30"#,
            ),
    );
    repo.workflow(
        "rollback.yml",
        &std::fs::read_to_string(repo.root().join(".github/workflows/rollback.yml"))
            .unwrap()
            .replace(
                "deploy-relay-${{ inputs.environment }}",
                "deploy-relay-${{ inputs.environment }}\n      cancel-in-progress: true",
            ),
    );
    let mut s = Scheduler::new();
    let a = s.queue(dispatch(&repo, &path, "deploy", "a"));
    s.queue_when(
        a,
        At::step_running_for("deploy", "webhook", std::time::Duration::from_millis(300)),
        dispatch(&repo, &path, "rollback", "a"),
    );
    let started = std::time::Instant::now();
    let out = s.play();
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(
        conclusions(&out),
        labelled(&[("deploy a", "cancelled"), ("rollback a", "success")])
    );
    let a = out[0].record.as_ref().unwrap();
    assert_eq!(a.step("deploy", "webhook").unwrap().outcome, "cancelled");
    assert!(out[0].cancelled().unwrap().contains("cancel-in-progress"));
    assert_eq!(repo.logged(), ["deploy a", "rollback a"]);
}

#[test]
fn queue_max_with_cancel_in_progress_is_a_workflow_error() {
    let repo = Repo::new();
    let path = platform(&repo, "      queue: max\n      cancel-in-progress: true");
    let mut s = Scheduler::new();
    s.queue(dispatch(&repo, &path, "deploy", "a"));
    let out = s.play();
    let err = out[0].record.as_ref().unwrap_err();
    assert!(
        err.contains("queue: max") && err.contains("cancel-in-progress"),
        "{err}"
    );
    assert!(repo.logged().is_empty());
}

#[test]
fn group_names_are_compared_without_regard_to_case() {
    let repo = Repo::new();
    let path = repo.workflow(
        "w.yml",
        r#"
on: workflow_dispatch
concurrency: ${{ inputs.group }}
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - env:
          GROUP: ${{ inputs.group }}
        run: echo "$GROUP" >> "$LOG"
"#,
    );
    let mut s = Scheduler::new();
    for g in ["Prod", "prod", "PROD"] {
        s.queue(Run::new(g, repo.runner(), &path).inputs(inputs(&[("group", g)])));
    }
    let out = s.play();
    assert_eq!(
        conclusions(&out),
        labelled(&[
            ("Prod", "success"),
            ("prod", "cancelled"),
            ("PROD", "success")
        ])
    );
    // A run cancelled while pending at the workflow level runs no job.
    let pending = out[1].record.as_ref().unwrap();
    assert!(pending.jobs.is_empty());
    assert_eq!(pending.concurrency.as_deref(), Some("prod"));
    assert_eq!(repo.logged(), ["Prod", "PROD"]);
}

#[test]
fn queue_max_keeps_a_hundred_pending_and_cancels_the_next() {
    let repo = Repo::new();
    let path = repo.workflow(
        "w.yml",
        r#"
on: workflow_dispatch
concurrency:
  group: one
  queue: max
jobs:
  j:
    runs-on: ubuntu-latest
    steps: []
"#,
    );
    let mut s = Scheduler::new();
    for n in 0..=relay_runner::MAX_PENDING + 1 {
        s.queue(Run::new(&n.to_string(), repo.runner(), &path));
    }
    let out = s.play();
    let cancelled: Vec<&str> = out
        .iter()
        .filter(|o| o.conclusion() == "cancelled")
        .map(|o| o.label.as_str())
        .collect();
    assert_eq!(cancelled, ["101"]);
    assert!(out[101].cancelled().unwrap().contains("100 pending"));
    assert!(out[..101].iter().all(|o| o.conclusion() == "success"));
}

#[test]
fn a_job_waiting_for_its_review_holds_its_group() {
    let repo = Repo::new();
    let path = platform(&repo, "");
    repo.workflow(
        "deploy.yml",
        &std::fs::read_to_string(repo.root().join(".github/workflows/deploy.yml"))
            .unwrap()
            .replace(
                "    needs: check\n",
                "    needs: check\n    environment: production\n",
            ),
    );
    let reviewed = |r: Runner, waits: usize| {
        let mut asked = 0;
        r.protect("production", Protection::RequiredReviewers)
            .reviewer(move |_| {
                asked += 1;
                if asked > waits {
                    Review::Approve
                } else {
                    Review::Wait
                }
            })
    };
    let mut s = Scheduler::new();
    let run = |app: &str, waits: usize| {
        let runner = reviewed(
            repo.runner().event(
                "repository_dispatch",
                json!({"action": "deploy", "client_payload": {"app": app, "environment": "production"}}),
            ),
            waits,
        );
        Run::new(&format!("deploy {app}"), runner, &path)
    };
    // A waits for its review while B and C queue behind it.
    s.queue(run("a", 1));
    s.queue(run("b", 0));
    s.queue(run("c", 0));
    let out = s.play();
    assert_eq!(
        conclusions(&out),
        labelled(&[
            ("deploy a", "success"),
            ("deploy b", "cancelled"),
            ("deploy c", "success"),
        ])
    );
    assert_eq!(repo.logged(), ["deploy a", "deploy c"]);
}

#[test]
fn a_caller_and_its_callee_in_one_group_wait_for_each_other() {
    let repo = Repo::new();
    let workflows = |cancel: bool| {
        repo.workflow(
            "inner.yml",
            &format!(
                r#"
on: workflow_call
jobs:
  j:
    runs-on: ubuntu-latest
    concurrency:
      group: shared
      cancel-in-progress: {cancel}
    steps:
      - run: "true"
"#
            ),
        );
        repo.workflow(
            "outer.yml",
            &format!(
                r#"
on: push
jobs:
  call:
    concurrency:
      group: shared
      cancel-in-progress: {cancel}
    uses: ./.github/workflows/inner.yml
"#
            ),
        )
    };
    let path = workflows(false);
    let err = repo.play(&mut repo.runner(), &path).unwrap_err();
    assert!(err.contains("deadlock"), "{err}");
    // With cancel-in-progress the run cancels itself, as the docs warn.
    let path = workflows(true);
    let rec = repo.play(&mut repo.runner(), &path).unwrap();
    assert_eq!(rec.result, "cancelled");
    assert_eq!(rec.job("inner.yml/j").unwrap().result, "cancelled");
}

#[test]
fn an_arrival_that_never_comes_is_an_error() {
    let repo = Repo::new();
    let path = platform(&repo, "");
    let mut s = Scheduler::new();
    let a = s.queue(dispatch(&repo, &path, "deploy", "a"));
    s.queue_when(
        a,
        At::step_finished("deploy", "no-such-step"),
        dispatch(&repo, &path, "deploy", "b"),
    );
    let out = s.play();
    assert_eq!(out[0].conclusion(), "success");
    assert!(
        out[1]
            .record
            .as_ref()
            .unwrap_err()
            .contains("never arrived")
    );
}
