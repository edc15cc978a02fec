//! `deploy-relay status` and `deploy-relay approve` as an operator runs
//! them (outside a runner, token in `GH_TOKEN`), against the fake GitHub.

use relay_fakes::Fault;
use relay_fakes::{Access, DEFAULT_TOKEN, FakeGitHub, RunScript};
use relay_testkit::openapi::assert_requests_documented;
use relay_testkit::{ActionRun, Outcome};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deploy-relay");
const DEPLOY: &str = "octo/deploy";
const APP: &str = "octo/app";
const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "cccccccccccccccccccccccccccccccccccccccc";
const D: &str = "dddddddddddddddddddddddddddddddddddddddd";

fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo(DEPLOY, "main");
    gh
}

/// An operator's command line: no runner around it.
fn command(gh: &FakeGitHub, name: &str) -> ActionRun {
    ActionRun::new(BIN)
        .api(gh.url())
        .without_env("GITHUB_ACTIONS")
        .without_env("GITHUB_REPOSITORY")
        .env("GH_TOKEN", DEFAULT_TOKEN)
        .without_output_file()
        .arg(name)
        .arg("--repository")
        .arg(DEPLOY)
}

fn run(a: ActionRun) -> Outcome {
    let out = a.run();
    out.assert_secret_hidden(DEFAULT_TOKEN);
    assert!(
        !out.stdout.contains("::add-mask::"),
        "a terminal is no runner\n{}",
        out.log()
    );
    out
}

/// A waiting run as GitHub lists it: whose code, started how, by whom.
struct Listed<'a> {
    id: u64,
    title: &'a str,
    event: &'a str,
    /// `None`: the fork it came from was deleted.
    head: Option<&'a str>,
    actor: &'a str,
    sha: &'a str,
}

fn repository(full_name: &str, id: u64) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap();
    json!({"id": id, "full_name": full_name, "name": name, "owner": {"login": owner}})
}

/// Serves the next listing of waiting runs of DEPLOY as GitHub answers it,
/// with the fields the fake's own list leaves out (`repository`,
/// `head_repository`, `actor`, `triggering_actor`); the runs' pending
/// deployments and reviews stay the fake's.
fn serve_waiting(gh: &FakeGitHub, runs: &[Listed<'_>]) {
    let list: Vec<Value> = runs
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": "Deploy",
                "display_title": r.title,
                "event": r.event,
                "status": "waiting",
                "conclusion": null,
                "head_branch": "main",
                "head_sha": r.sha,
                "html_url": format!("https://github.com/{DEPLOY}/actions/runs/{}", r.id),
                "created_at": "2026-12-01T10:00:00Z",
                "repository": repository(DEPLOY, 1),
                "head_repository": r.head.map(|h| repository(h, if h == DEPLOY { 1 } else { 99 })),
                "actor": {"login": r.actor},
                "triggering_actor": {"login": r.actor},
            })
        })
        .collect();
    let body = json!({"total_count": list.len(), "workflow_runs": list}).to_string();
    gh.fault(
        "GET",
        &format!("/repos/{DEPLOY}/actions/runs"),
        [Fault::status(200).body(&body)],
    );
}

fn posted(gh: &FakeGitHub) -> usize {
    gh.requests().iter().filter(|r| r.method == "POST").count()
}

/// Records a deploy of `sha` to `env` with the record-deployment action
/// the binary carries; finishes it with each of `states`.
fn record(gh: &FakeGitHub, env: &str, sha: &str, states: &[&str], rollback: bool) -> String {
    let started = ActionRun::new(BIN)
        .api(gh.url())
        .env("GITHUB_REPOSITORY", DEPLOY)
        .arg("record-deployment")
        .input("github-token", DEFAULT_TOKEN)
        .input("mode", "start")
        .input("environment", env)
        .input("app-repository", APP)
        .input("sha", sha)
        .input("rollback", if rollback { "true" } else { "false" })
        .input("images", "api_image=ghcr.io/{repository}/api:{short_sha}")
        .run();
    started.assert_success();
    let id = started.output("deployment-id").to_owned();
    for state in states {
        ActionRun::new(BIN)
            .api(gh.url())
            .env("GITHUB_REPOSITORY", DEPLOY)
            .arg("record-deployment")
            .input("github-token", DEFAULT_TOKEN)
            .input("mode", "finish")
            .input("deployment-id", &id)
            .input("state", state)
            .run()
            .assert_success();
    }
    id
}

#[test]
fn status_shows_each_environment_with_its_previous_good_sha() {
    let gh = fake();
    record(&gh, "staging", A, &["success"], false);
    let b = record(&gh, "staging", B, &["success"], false);
    record(&gh, "staging", C, &["success", "failure"], false);
    gh.environment_job(DEPLOY, "staging", D, "success");
    record(&gh, "production", A, &["success"], false);
    record(&gh, "production", B, &["success"], true);
    let out = run(command(&gh, "status"));
    out.assert_success();
    let text = &out.stdout;
    let staging = text.find("octo/deploy · staging").expect(text);
    let production = text.find("octo/deploy · production").expect(text);
    assert!(production < staging, "environments in name order\n{text}");
    assert!(
        text.contains(&format!(
            "  now: ccccccc (failure) · previous good: {B} (deployment {b})"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("  now: bbbbbbb (success) · previous good: {A}")),
        "{text}"
    );
    assert!(
        text.contains("  DEPLOYMENT  SHA      STATE     WHEN"),
        "{text}"
    );
    assert!(
        text.contains("api_image=ghcr.io/octo/app/api:aaaaaaa"),
        "{text}"
    );
    assert!(
        text.contains("inactive"),
        "staging's older success, as GitHub marked it\n{text}"
    );
    assert!(text.contains("  rollback"), "{text}");
    assert!(
        !text.contains("ddddddd"),
        "GitHub's own deployment is no record\n{text}"
    );
    // One environment, one row.
    let one = run(command(&gh, "status")
        .arg("--environment")
        .arg("staging")
        .arg("--limit")
        .arg("1"));
    one.assert_success();
    assert!(
        !one.stdout.contains("production") && one.stdout.contains("ccccccc"),
        "{}",
        one.stdout
    );
    assert_eq!(
        one.stdout.matches("api_image=").count(),
        1,
        "only the newest row\n{}",
        one.stdout
    );
    assert!(
        !one.stdout.contains("::debug::"),
        "a terminal gets no debug lines\n{}",
        one.stdout
    );
    assert_requests_documented(&gh);
}

#[test]
fn status_shows_the_provenance_verified_and_a_fleets_waves() {
    let gh = fake();
    let report = |mode: &str, verified: bool| serde_json::json!({"mode": mode, "verified": verified, "images": []});
    let fleet = |kind: &str, wave: &str, position: u32, targets: &[&str]| {
        serde_json::json!({"run_id": "7", "run_attempt": 1, "kind": kind, "wave": wave,
            "position": position, "waves": 2, "targets": targets})
    };
    // A fleet rollout: its canary verified under `require`, the rest wave
    // of five targets, then the rollback of what it changed.
    gh.seed_record(
        DEPLOY,
        "production",
        serde_json::json!({"repository": APP, "sha": A, "provenance": report("require", true),
            "fleet": fleet("wave", "canary", 1, &["vm-1"])}),
        &["in_progress", "success"],
    );
    gh.seed_record(
        DEPLOY,
        "production",
        serde_json::json!({"repository": APP, "sha": A, "provenance": report("require", true),
            "fleet": fleet("wave", "rest", 2, &["vm-2", "vm-3", "vm-4", "vm-5", "vm-6"])}),
        &["in_progress", "failure"],
    );
    gh.seed_record(
        DEPLOY,
        "production",
        serde_json::json!({"repository": APP, "sha": B, "rollback": true,
            "reason": "health gate failed", "fleet": fleet("rollback", "rest", 0, &["vm-1", "vm-2"])}),
        &["in_progress", "success"],
    );
    // A single VM deployed under `warn` with nothing attested.
    gh.seed_record(
        DEPLOY,
        "staging",
        serde_json::json!({"repository": APP, "sha": C, "provenance": report("warn", false)}),
        &["in_progress", "success"],
    );
    let out = run(command(&gh, "status"));
    out.assert_success();
    let text = &out.stdout;
    let row = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no row with {needle}\n{text}"))
            .to_owned()
    };
    assert!(text.contains("PROVENANCE"), "{text}");
    let canary = row("wave 1/2 canary: vm-1");
    assert!(canary.contains("verified (require)"), "{canary}");
    let rest = row("wave 2/2 rest: 5 targets");
    assert!(rest.contains("verified (require)"), "{rest}");
    let rollback = row("rollback: health gate failed · vm-1, vm-2 after wave rest");
    assert!(
        rollback.contains(" — ") && rollback.contains("bbbbbbb"),
        "a fleet's rollback claims no provenance: {rollback}"
    );
    let staging = row("ccccccc  success");
    assert!(staging.contains("not verified (warn)"), "{staging}");
}

#[test]
fn status_of_a_repository_without_records_says_so() {
    let gh = fake();
    let out = run(command(&gh, "status").arg("--environment").arg("qa"));
    out.assert_success();
    assert!(
        out.stdout
            .contains("No deploy-relay records of `qa` in octo/deploy"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_token_comes_from_gh_token_then_github_token() {
    let gh = fake();
    let out = run(command(&gh, "status").without_env("GH_TOKEN"));
    out.assert_failure();
    assert!(
        out.error()
            .contains("input `GH_TOKEN` is not set, and neither is GITHUB_TOKEN"),
        "{}",
        out.error()
    );
    assert!(gh.requests().is_empty());
    run(command(&gh, "status")
        .without_env("GH_TOKEN")
        .env("GITHUB_TOKEN", DEFAULT_TOKEN))
    .assert_success();
    run(command(&gh, "status").env("GITHUB_TOKEN", "ghp_stale")).assert_success();
    // In a runner the token is masked before anything else is printed.
    let masked = command(&gh, "status").env("GITHUB_ACTIONS", "true").run();
    masked.assert_success().assert_secret_hidden(DEFAULT_TOKEN);
    assert!(
        masked.stdout.starts_with("::add-mask::"),
        "{}",
        masked.stdout
    );
}

#[test]
fn what_github_sent_is_shown_escaped() {
    let gh = fake();
    // Anyone who may write deployments can write a record-shaped payload
    // (record-deployment itself refuses to record such an image).
    gh.seed_record(
        DEPLOY,
        "staging",
        serde_json::json!({"repository": APP, "sha": A,
            "images": {"api": "\u{1b}[2J\u{1b}[31mred ##[error]forged"}}),
        &["in_progress"],
    );
    let out = run(command(&gh, "status"));
    out.assert_success();
    assert!(
        !out.stdout.contains('\u{1b}'),
        "no terminal escape reaches the screen\n{}",
        out.stdout
    );
    assert!(out.stdout.contains("\\u{1b}[2J"), "{}", out.stdout);
    assert!(
        out.errors().is_empty(),
        "no workflow command either\n{}",
        out.stdout
    );
}

#[test]
fn approve_acts_on_the_only_waiting_run() {
    let gh = fake();
    gh.environment(DEPLOY, "production", &["alice"]);
    let run_id = gh.waiting_run(
        DEPLOY,
        "production",
        "Deploy production",
        RunScript::succeeds_after(1).head_sha(B),
    );
    gh.add_run(DEPLOY, "push", "CI", RunScript::succeeds_after(1));
    serve_waiting(
        &gh,
        &[Listed {
            id: run_id,
            title: "Deploy production",
            event: "workflow_dispatch",
            head: Some(DEPLOY),
            actor: "alice-dev",
            sha: B,
        }],
    );
    let out = run(command(&gh, "approve")
        .arg("--environment")
        .arg("production")
        .arg("--comment")
        .arg("staging looks good"));
    out.assert_success();
    let text = &out.stdout;
    assert!(
        text.contains("Runs of octo/deploy waiting for review for `production`:"),
        "{text}"
    );
    assert!(
        text.contains("  RUN   WORKFLOW  TITLE              EVENT              HEAD REPOSITORY  BRANCH  SHA      ACTOR      ENVIRONMENT  REVIEWERS"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  {run_id}  Deploy    Deploy production  workflow_dispatch  octo/deploy      main    bbbbbbb  alice-dev  production   alice"
        )),
        "{text}"
    );
    assert!(!text.contains("not the repository's own"), "{text}");
    assert!(text.contains(&format!("Approved run {run_id} for production: https://github.com/octo/deploy/actions/runs/{run_id}")), "{text}");
    assert!(text.contains("GitHub goes on with deployment"), "{text}");
    let review = gh
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    let body = review.body.unwrap();
    assert_eq!(
        (body["state"].as_str(), body["comment"].as_str()),
        (Some("approved"), Some("staging looks good"))
    );
    assert_eq!(gh.runs(DEPLOY)[0].status(), "queued", "no longer waiting");
    assert_requests_documented(&gh);
}

#[test]
fn approve_asks_which_when_several_wait() {
    let gh = fake();
    let first = gh.waiting_run(
        DEPLOY,
        "production",
        "Deploy 1",
        RunScript::succeeds_after(1),
    );
    let second = gh.waiting_run(
        DEPLOY,
        "production",
        "Deploy 2",
        RunScript::succeeds_after(1),
    );
    let out = run(command(&gh, "approve"));
    out.assert_failure();
    let e = out.error();
    assert!(
        e.contains("2 runs of `octo/deploy` wait for review; name the one to approve"),
        "{e}"
    );
    assert!(
        e.contains(&format!("--run-id with one of: {second}, {first}")),
        "{e}"
    );
    assert!(
        out.stdout.contains("Deploy 1") && out.stdout.contains("Deploy 2"),
        "listed first\n{}",
        out.stdout
    );
    assert!(
        !gh.requests().iter().any(|r| r.method == "POST"),
        "nothing reviewed"
    );
    let rejected = run(command(&gh, "approve")
        .arg("--run-id")
        .arg(&first.to_string())
        .arg("--reject"));
    rejected.assert_success();
    assert!(
        rejected
            .stdout
            .contains(&format!("Rejected run {first} for production")),
        "{}",
        rejected.stdout
    );
    let runs = gh.runs(DEPLOY);
    let status = |id: u64| runs.iter().find(|r| r.id == id).unwrap().status();
    assert_eq!((status(first), status(second)), ("completed", "waiting"));
    let gone = run(command(&gh, "approve")
        .arg("--run-id")
        .arg(&first.to_string()));
    gone.assert_failure();
    assert!(
        gone.error().contains(&format!(
            "run {first} of `octo/deploy` is not waiting for review"
        )),
        "{}",
        gone.error()
    );
}

#[test]
fn approve_with_nothing_waiting_or_without_the_right_to_review() {
    let gh = fake();
    let id = gh.waiting_run(DEPLOY, "production", "Deploy", RunScript::succeeds_after(1));
    let own = Listed {
        id,
        title: "Deploy",
        event: "push",
        head: Some(DEPLOY),
        actor: "octocat",
        sha: A,
    };
    serve_waiting(&gh, std::slice::from_ref(&own));
    let other = run(command(&gh, "approve").arg("--environment").arg("staging"));
    other.assert_success();
    assert!(
        other
            .stdout
            .contains("No run of octo/deploy is waiting for review for `staging`"),
        "{}",
        other.stdout
    );
    gh.token("ghs_reader", Access::ReadOnly(vec![DEPLOY.into()]));
    serve_waiting(&gh, &[own]);
    let out = run(command(&gh, "approve").env("GH_TOKEN", "ghs_reader"));
    out.assert_failure().assert_secret_hidden("ghs_reader");
    assert!(
        out.error()
            .contains("is not one of its required reviewers (octocat)"),
        "{}",
        out.error()
    );
    assert!(!gh.requests().iter().any(|r| r.method == "POST"));
    let bad = run(command(&gh, "approve").arg("--run-id").arg("x1"));
    bad.assert_failure();
    assert!(
        bad.error()
            .contains("input `run-id` must be a whole number"),
        "{}",
        bad.error()
    );
}

#[test]
fn the_repository_defaults_to_the_checkouts_origin() {
    let gh = fake();
    record(&gh, "staging", A, &["success"], false);
    let a = ActionRun::new(BIN)
        .api(gh.url())
        .without_env("GITHUB_ACTIONS")
        .without_env("GITHUB_REPOSITORY")
        .env("GH_TOKEN", DEFAULT_TOKEN)
        .without_output_file()
        .arg("status");
    let dir = a.workspace();
    std::fs::create_dir_all(&dir).unwrap();
    for args in [
        &["init", "-q"][..],
        &["remote", "add", "origin", "git@github.com:octo/deploy.git"],
    ] {
        let ok = std::process::Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(args)
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let out = run(a);
    out.assert_success();
    assert!(
        out.stdout.contains("octo/deploy · staging"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_run_that_is_not_the_repositorys_own_is_approved_only_named_and_confirmed() {
    for (head, event, why) in [
        (
            Some("mallory/deploy"),
            "push",
            "comes from the fork `mallory/deploy`",
        ),
        (None, "workflow_run", "no head repository"),
        (
            Some(DEPLOY),
            "pull_request_target",
            "started by a `pull_request_target` event",
        ),
    ] {
        let gh = fake();
        let id = gh.waiting_run(DEPLOY, "production", "Deploy", RunScript::succeeds_after(1));
        let listed = || Listed {
            id,
            title: "Deploy",
            event,
            head,
            actor: "mallory",
            sha: C,
        };
        // Listed with what it is; never approved without its id.
        serve_waiting(&gh, &[listed()]);
        let out = run(command(&gh, "approve"));
        out.assert_failure();
        let e = out.error();
        assert!(
            e.contains(why) && e.contains(&format!("--run-id {id}")),
            "{e}"
        );
        assert!(
            out.stdout.contains(head.unwrap_or("(deleted fork)"))
                && out.stdout.contains(event)
                && out.stdout.contains("mallory")
                && out.stdout.contains("not the repository's own"),
            "{}",
            out.stdout
        );
        assert_eq!(posted(&gh), 0, "nothing approved");
        // Named, but not confirmed: no terminal to ask in, no --yes.
        serve_waiting(&gh, &[listed()]);
        let out = run(command(&gh, "approve").arg("--run-id").arg(&id.to_string()));
        out.assert_failure();
        assert!(
            out.error().contains("needs a confirmation") && out.error().contains("--yes"),
            "{}",
            out.error()
        );
        assert_eq!(posted(&gh), 0, "nothing approved");
        // --yes without --run-id is still refused.
        serve_waiting(&gh, &[listed()]);
        run(command(&gh, "approve").arg("--yes")).assert_failure();
        assert_eq!(posted(&gh), 0, "nothing approved");
        // Named and confirmed.
        serve_waiting(&gh, &[listed()]);
        let out = run(command(&gh, "approve")
            .arg("--run-id")
            .arg(&id.to_string())
            .arg("--yes"));
        out.assert_success();
        assert!(
            out.stdout.contains(&format!("Approved run {id}")),
            "{}",
            out.stdout
        );
        assert_eq!(out.commands("warning").len(), 1, "{}", out.stdout);
        assert_eq!(posted(&gh), 1);
    }
}

#[test]
fn rejecting_a_forks_run_needs_no_confirmation() {
    let gh = fake();
    let id = gh.waiting_run(DEPLOY, "production", "Deploy", RunScript::succeeds_after(1));
    serve_waiting(
        &gh,
        &[Listed {
            id,
            title: "Deploy",
            event: "pull_request_target",
            head: Some("mallory/deploy"),
            actor: "mallory",
            sha: C,
        }],
    );
    let out = run(command(&gh, "approve").arg("--reject"));
    out.assert_success();
    assert!(
        out.stdout.contains(&format!("Rejected run {id}")),
        "{}",
        out.stdout
    );
}

/// In a terminal the operator is asked, and only the run id typed back
/// approves (`script` gives the command a terminal, as a shell would).
#[test]
fn in_a_terminal_the_run_id_typed_back_approves() {
    if !relay_testkit::peers::require_program("script", "apt-get install -y bsdutils") {
        return;
    }
    for (typed, approved) in [("y", false), ("ID", true)] {
        let gh = fake();
        let id = gh.waiting_run(DEPLOY, "production", "Deploy", RunScript::succeeds_after(1));
        serve_waiting(
            &gh,
            &[Listed {
                id,
                title: "Deploy",
                event: "push",
                head: Some("mallory/deploy"),
                actor: "mallory",
                sha: C,
            }],
        );
        let typed = typed.replace("ID", &id.to_string());
        let line = format!("{BIN} approve --repository {DEPLOY} --run-id {id}");
        let mut child = std::process::Command::new("script")
            .args(["-q", "-e", "-c", &line, "/dev/null"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("GH_TOKEN", DEFAULT_TOKEN)
            .env("GITHUB_API_URL", gh.url())
            .env("TERM", "dumb")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().unwrap();
            // After the prompt is up: the terminal would drop what came first.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            writeln!(stdin, "{typed}").unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("Type the run id ({id}) to approve it")),
            "{text}"
        );
        assert!(!text.contains(DEFAULT_TOKEN), "{text}");
        assert_eq!(out.status.success(), approved, "{typed}: {text}");
        assert_eq!(posted(&gh), usize::from(approved), "{typed}: {text}");
        if !approved {
            assert!(text.contains("the confirmation did not match"), "{text}");
        }
    }
}

#[test]
fn server_text_in_an_error_reaches_the_terminal_escaped() {
    let gh = fake();
    gh.fault(
        "GET",
        &format!("/repos/{DEPLOY}/actions/runs"),
        [
            Fault::status(404)
                .body(r#"{"message":"Not Found \u001b]0;owned\u0007\u001b[2J gone"}"#),
        ],
    );
    let out = run(command(&gh, "approve"));
    out.assert_failure();
    for c in ['\u{1b}', '\u{7}'] {
        assert!(
            !out.stdout.contains(c),
            "{c:?} reached the terminal: {:?}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains("\\u{1b}]0;owned\\u{7}"),
        "{}",
        out.stdout
    );
}
