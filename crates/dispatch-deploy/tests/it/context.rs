//! Names a user meets (`github-token` with its `token` alias, the default
//! `repository`), the trust rule for forks' runs, and the command line
//! outside a runner (context from the git checkout, or an input error).

use std::process::Command;

use relay_fakes::DEFAULT_TOKEN;
use relay_testkit::{ActionRun, events};

use super::*;

#[test]
fn github_token_is_the_input_and_token_an_alias_that_wins() {
    let gh = fake();
    let out = run(ActionRun::new(BIN)
        .api(gh.url())
        .input("github-token", DEFAULT_TOKEN)
        .input("deploy-repository", TARGET));
    out.assert_success();
    assert_eq!(gh.dispatches(TARGET).len(), 1);

    let gh = fake();
    let out = run(ActionRun::new(BIN)
        .api(gh.url())
        .input("github-token", "ghs_wrong")
        .input("token", DEFAULT_TOKEN)
        .input("deploy-repository", TARGET));
    out.assert_success();
    assert_eq!(gh.dispatches(TARGET).len(), 1, "the alias won");
}

#[test]
fn repository_defaults_to_the_current_repository() {
    let gh = fake();
    gh.repo("octo/app", "main");
    let out = run(ActionRun::new(BIN)
        .api(gh.url())
        .input("github-token", DEFAULT_TOKEN));
    out.assert_success();
    assert_eq!(gh.dispatches("octo/app").len(), 1);
}

#[test]
fn a_forks_workflow_run_is_not_dispatched_unless_allowed() {
    for event in [
        events::workflow_run_from_fork("xtp-tour/xtp-tour", "evil/xtp-tour", SHA, "main", 99),
        events::workflow_run_from_deleted_fork("xtp-tour/xtp-tour", SHA, "main", 99),
    ] {
        let gh = fake();
        let out = run(action(&gh).event("workflow_run", event.clone()));
        out.assert_success();
        assert_eq!(out.output("dispatched"), "false");
        let notices = out.commands("notice");
        assert_eq!(notices.len(), 1, "{}", out.log());
        assert!(notices[0].contains("not deployed"), "{}", notices[0]);
        assert!(notices[0].contains("allow-forks"), "{}", notices[0]);
        assert!(gh.requests().is_empty(), "nothing may be sent for a fork");

        // A fork's pull request is a `pull_request` run too: both gates.
        let gh = fake();
        let out = run(action(&gh)
            .event("workflow_run", event)
            .input("allow-forks", "true")
            .input("trigger-events", "push\npull_request"));
        out.assert_success();
        assert_eq!(gh.dispatches(TARGET).len(), 1);
    }
}

#[test]
fn a_same_repository_pull_requests_run_is_not_dispatched_unless_listed() {
    let mut event = events::workflow_run("xtp-tour/xtp-tour", SHA, "feature/x", 99, "success");
    event["workflow_run"]["event"] = serde_json::json!("pull_request");
    let gh = fake();
    let out = run(action(&gh).event("workflow_run", event.clone()));
    out.assert_success();
    assert_eq!(out.output("dispatched"), "false");
    let notices = out.commands("notice");
    assert!(
        notices[0].contains("started by a `pull_request` event")
            && notices[0].contains("trigger-events"),
        "{}",
        out.log()
    );
    assert!(gh.requests().is_empty());
    let gh = fake();
    let out = run(action(&gh)
        .event("workflow_run", event)
        .input("trigger-events", "pull_request"));
    out.assert_success();
    assert_eq!(gh.dispatches(TARGET).len(), 1);
}

#[test]
fn the_repositorys_own_workflow_run_is_dispatched() {
    let gh = fake();
    let event = events::workflow_run("xtp-tour/xtp-tour", SHA, "main", 99, "success");
    run(action(&gh).event("workflow_run", event)).assert_success();
    assert_eq!(gh.dispatches(TARGET).len(), 1);
}

/// A run by hand: no runner variables at all.
fn by_hand(gh: &FakeGitHub) -> ActionRun {
    ActionRun::new(BIN)
        .api(gh.url())
        .without_env("GITHUB_ACTIONS")
        .without_env("GITHUB_REPOSITORY")
        .without_env("GITHUB_SHA")
        .without_env("GITHUB_REF")
        .without_env("GITHUB_REF_NAME")
        .env("GITHUB_TOKEN", DEFAULT_TOKEN)
        .arg("--deploy-repository")
        .arg(TARGET)
        .arg("--images")
        .arg("api=ghcr.io/{repository}/api:{short_sha}")
        .arg("--dry-run")
        .arg("true")
}

#[test]
fn outside_a_runner_the_git_checkout_gives_repository_sha_and_branch() {
    let gh = fake();
    let a = by_hand(&gh);
    let dir = a.workspace();
    std::fs::create_dir_all(&dir).unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@e")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@e")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "develop"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/Xtp-Tour/App.git",
    ]);
    git(&["commit", "-q", "--allow-empty", "-m", "c"]);
    let head = String::from_utf8(
        Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let out = run(a.without_output_file());
    out.assert_success();
    let payload = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("payload="))
        .expect("payload output");
    let p: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(p["repository"], "Xtp-Tour/App");
    assert_eq!(p["sha"], head);
    assert_eq!(p["ref"], "develop");
    assert_eq!(p["environment"], "staging");
    assert_eq!(p["api"], format!("ghcr.io/xtp-tour/app/api:{}", &head[..7]));
}

#[test]
fn outside_a_runner_without_a_checkout_the_missing_value_names_its_flag() {
    let gh = fake();
    let out = run(by_hand(&gh));
    assert_eq!(out.code, 1, "{}", out.log());
    let errors = out.commands("error");
    assert_eq!(errors.len(), 1, "{}", out.log());
    assert!(errors[0].contains("--app-repository"), "{}", errors[0]);

    let out = run(by_hand(&gh).arg("--app-repository").arg("o/app"));
    let errors = out.commands("error");
    assert!(
        errors[0].contains("`sha`") && errors[0].contains("--sha"),
        "{}",
        errors[0]
    );

    let out = run(by_hand(&gh)
        .arg("--app-repository")
        .arg("o/app")
        .arg("--sha")
        .arg("0123456789abcdef0123456789abcdef01234567"));
    out.assert_success();
    assert!(gh.requests().is_empty(), "a dry run sends nothing");
}
