//! `wait: true` for every way of learning the run: repository_dispatch
//! (discovery by dispatch id), workflow_dispatch with run details, and the
//! 204 and 400 fallbacks to discovery — each against a run that succeeds,
//! fails, and never ends.

use relay_fakes::{FakeGitHub, RunScript, WorkflowDispatchMode};
use relay_testkit::Outcome;

use super::{TARGET, action, fake, run};

#[derive(Clone, Copy, Debug)]
enum Via {
    RepositoryDispatch,
    WorkflowDetails,
    Workflow204,
    Workflow400,
}

fn wait_for(via: Via, script: RunScript) -> (FakeGitHub, Outcome) {
    let gh = fake();
    gh.on_dispatch(TARGET, script);
    let mut a = action(&gh)
        .input("wait", "true")
        .input("wait-interval", "50ms")
        .input("wait-timeout", "2s");
    if !matches!(via, Via::RepositoryDispatch) {
        gh.workflow(
            TARGET,
            "deploy.yml",
            "Deploy",
            Some(&[
                "repository",
                "ref",
                "sha",
                "workflow_run_id",
                "environment",
                "dispatch_id",
            ]),
        );
        a = a.input("workflow", "deploy.yml");
    }
    match via {
        Via::Workflow204 => {
            gh.workflow_dispatch_mode(TARGET, WorkflowDispatchMode::NoContent);
        }
        Via::Workflow400 => {
            gh.workflow_dispatch_mode(TARGET, WorkflowDispatchMode::OldServer);
        }
        _ => {}
    }
    let out = run(a);
    (gh, out)
}

fn discovered(gh: &FakeGitHub) -> bool {
    gh.requests()
        .iter()
        .any(|r| r.path.ends_with("/runs") && r.query.contains("created="))
}

fn succeeds(via: Via) {
    // The run shows up only after a couple of list calls, as on GitHub.
    let (gh, out) = wait_for(via, RunScript::succeeds_after(3).appears_after(2));
    out.assert_success();
    let runs = gh.runs(TARGET);
    assert_eq!(runs.len(), 1);
    assert_eq!(out.output("run-id"), runs[0].id.to_string());
    assert!(
        out.output("run-url")
            .ends_with(&format!("/actions/runs/{}", runs[0].id))
    );
    assert_eq!(out.output("conclusion"), "success");
    assert_eq!(
        discovered(&gh),
        !matches!(via, Via::WorkflowDetails),
        "{via:?}"
    );
    assert!(out.summary.contains("succeeded"), "{}", out.summary);
}

fn fails(via: Via) {
    let (_, out) = wait_for(via, RunScript::ends(2, "failure"));
    out.assert_failure();
    assert_eq!(out.output("conclusion"), "failure");
    assert!(
        out.error().contains("concluded `failure`"),
        "{}",
        out.error()
    );
}

fn times_out(via: Via) {
    let (_, out) = wait_for(via, RunScript::never_ends());
    out.assert_failure();
    assert_eq!(out.output("conclusion"), "timeout");
    assert!(
        out.error().contains("within wait-timeout (2s)"),
        "{}",
        out.error()
    );
    assert!(out.output("run-url").contains("/actions/runs/"));
}

#[test]
fn repository_dispatch_success() {
    succeeds(Via::RepositoryDispatch);
}
#[test]
fn repository_dispatch_failure() {
    fails(Via::RepositoryDispatch);
}
#[test]
fn repository_dispatch_timeout() {
    times_out(Via::RepositoryDispatch);
}
#[test]
fn workflow_dispatch_details_success() {
    succeeds(Via::WorkflowDetails);
}
#[test]
fn workflow_dispatch_details_failure() {
    fails(Via::WorkflowDetails);
}
#[test]
fn workflow_dispatch_details_timeout() {
    times_out(Via::WorkflowDetails);
}
#[test]
fn workflow_dispatch_204_success() {
    succeeds(Via::Workflow204);
}
#[test]
fn workflow_dispatch_204_failure() {
    fails(Via::Workflow204);
}
#[test]
fn workflow_dispatch_204_timeout() {
    times_out(Via::Workflow204);
}
#[test]
fn workflow_dispatch_400_success() {
    succeeds(Via::Workflow400);
}
#[test]
fn workflow_dispatch_400_failure() {
    fails(Via::Workflow400);
}
#[test]
fn workflow_dispatch_400_timeout() {
    times_out(Via::Workflow400);
}

#[test]
fn run_that_never_appears_times_out_with_a_run_name_hint() {
    let gh = fake();
    let out = run(action(&gh)
        .input("wait", "true")
        .input("wait-interval", "50ms")
        .input("wait-timeout", "500ms"));
    out.assert_failure();
    assert!(out.error().contains("run-name"), "{}", out.error());
    assert_eq!(out.output("conclusion"), "timeout");
}

#[test]
fn polling_uses_etags() {
    let (gh, out) = wait_for(Via::WorkflowDetails, RunScript::never_ends());
    out.assert_failure();
    // A never-ending run's answer changes only on its first polls; later
    // polls must come back 304 and cost no rate limit.
    let polls: Vec<_> = gh
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/actions/runs/"))
        .collect();
    assert!(
        polls.iter().filter(|r| r.status == 304).count() >= polls.len() / 2,
        "{polls:?}"
    );
    assert!(
        polls
            .iter()
            .skip(1)
            .all(|r| r.headers.contains_key("if-none-match"))
    );
}

#[test]
fn workflow_dispatch_sends_inputs_on_the_default_branch() {
    let (gh, out) = wait_for(Via::WorkflowDetails, RunScript::succeeds_after(1));
    out.assert_success();
    let sent = &gh.workflow_dispatches(TARGET)[0];
    assert_eq!(sent["ref"], "main");
    assert_eq!(sent["return_run_details"], true);
    assert_eq!(sent["inputs"]["dispatch_id"], out.output("dispatch-id"));
}
