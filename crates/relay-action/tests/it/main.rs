//! The root `relay` action run as the runner runs it, against the fake
//! GitHub (artifact list, `/zip`, dispatches) and the fake results service
//! with its blob store: seed 000's flow in one step, its payload exactly,
//! the key limit before any download, forks and failed builds skipped.
#![allow(clippy::unwrap_used)]

mod tokens;

use std::io::{Cursor, Write as _};

use relay_fakes::FakeArtifacts;
use relay_fakes::{Access, ArtifactSeed};
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_testkit::{ActionRun, Outcome, events};
use serde_json::{Value, json};
use zip::write::SimpleFileOptions;

const BIN: &str = env!("CARGO_BIN_EXE_relay-action");
const APP: &str = "xtp-tour/xtp-tour";
const DEPLOY: &str = "xtp-tour/xtp-tour-deploy";
const RUN: u64 = 123456789;
const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
const DISPATCH_TOKEN: &str = "ghp_DispatchTokenForTheDeployRepo0001";
const SRC_RUN: &str = "src-run";
const CUR_RUN: &str = "cur-run";
const IMAGES: &str = "api_image=ghcr.io/{repository}/api:{short_sha}\napi_test_image=ghcr.io/{repository}/api:{sha}-test";

struct World {
    gh: FakeGitHub,
    art: FakeArtifacts,
}

fn world() -> World {
    let gh = FakeGitHub::start();
    gh.repo(APP, "main");
    gh.repo(DEPLOY, "main");
    // The job's token reads the app repository only; the dispatch token
    // reaches the deploy repository.
    gh.token(DEFAULT_TOKEN, Access::ReadOnly(vec![APP.into()]));
    gh.token(DISPATCH_TOKEN, Access::Repos(vec![DEPLOY.into()]));
    World {
        gh,
        art: FakeArtifacts::start(),
    }
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

impl World {
    fn artifact(&self, name: &str) -> u64 {
        self.artifact_of(name, &[("index.html", b"<h1>release</h1>")])
    }

    fn artifact_of(&self, name: &str, files: &[(&str, &[u8])]) -> u64 {
        let zip = zip_of(files);
        let size = zip.len() as u64;
        let (_, url, digest) = self.art.seed(SRC_RUN, name, zip);
        self.gh.add_artifact(
            APP,
            RUN,
            ArtifactSeed::new(name, &url, size).digest(&digest),
        )
    }

    fn action(&self, event: Value) -> ActionRun {
        ActionRun::new(BIN)
            .api(self.gh.url())
            .env("GITHUB_REPOSITORY", APP)
            .env("GITHUB_RUN_ID", "5550001")
            .input("github-token", DEFAULT_TOKEN)
            .input("dispatch-token", DISPATCH_TOKEN)
            .input("deploy-repository", DEPLOY)
            .input("images", IMAGES)
            .input("artifacts", "frontend-build=frontend_artifacts_available")
            .env("ACTIONS_RESULTS_URL", self.art.url())
            .env(
                "ACTIONS_RUNTIME_TOKEN",
                &FakeArtifacts::runtime_token(CUR_RUN, "cur-job"),
            )
            .env("RUNNER_DEBUG", "1")
            .event("workflow_run", event)
    }

    fn reuploaded(&self) -> Vec<String> {
        self.art
            .artifacts(CUR_RUN)
            .into_iter()
            .filter(|a| a.finalized)
            .map(|a| a.name)
            .collect()
    }
}

fn build_run(conclusion: &str) -> Value {
    events::workflow_run(APP, SHA, "main", RUN, conclusion)
}

fn run(a: ActionRun) -> Outcome {
    let out = a.run();
    out.assert_secret_hidden(DEFAULT_TOKEN);
    out.assert_secret_hidden(DISPATCH_TOKEN);
    out.assert_secret_hidden(&FakeArtifacts::runtime_token(CUR_RUN, "cur-job"));
    out
}

#[test]
fn seed_000_in_one_step_relays_and_dispatches_the_documented_payload() {
    let w = world();
    w.artifact("frontend-build");
    let out = run(w.action(build_run("success")));
    out.assert_success();
    assert_eq!(w.reuploaded(), ["deploy-frontend-build-9f86d08"]);
    let sent = w.gh.dispatches(DEPLOY);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["event_type"], "deploy");
    let p = sent[0]["client_payload"].as_object().unwrap();
    let keys: Vec<&str> = p.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "repository",
            "ref",
            "sha",
            "workflow_run_id",
            "environment",
            "dispatch_id",
            "artifacts_run_id",
            "api_image",
            "api_test_image",
            "frontend_artifacts_available",
        ],
        "seed 000's seven keys plus environment, dispatch_id, artifacts_run_id: exactly 10"
    );
    assert_eq!(p["repository"], APP);
    assert_eq!(p["ref"], "main");
    assert_eq!(p["sha"], SHA);
    assert_eq!(p["workflow_run_id"], RUN.to_string());
    assert_eq!(p["environment"], "production");
    assert_eq!(
        p["artifacts_run_id"], "5550001",
        "this run, where the re-uploads live"
    );
    assert_eq!(p["api_image"], "ghcr.io/xtp-tour/xtp-tour/api:9f86d08");
    assert_eq!(
        p["api_test_image"],
        format!("ghcr.io/xtp-tour/xtp-tour/api:{SHA}-test")
    );
    assert_eq!(p["frontend_artifacts_available"], "true");
    assert_eq!(p["dispatch_id"], out.output("dispatch-id"));
    assert_eq!(out.output("dispatched"), "true");
    assert_eq!(out.output("found"), "true");
    assert_eq!(out.output("artifacts-run-id"), "5550001");
    // The dispatch went out with the dispatch token, the list with the job's.
    let dispatch =
        w.gh.requests()
            .into_iter()
            .find(|r| r.path.ends_with("/dispatches"))
            .unwrap();
    assert_eq!(dispatch.headers["authorization"], "<redacted>");
    assert!(
        out.summary.contains("dispatched the deploy"),
        "{}",
        out.summary
    );
}

#[test]
fn a_missing_artifact_gives_false_and_the_deploy_still_goes() {
    let w = world();
    let out = run(w.action(build_run("success")));
    out.assert_success();
    let p = &w.gh.dispatches(DEPLOY)[0]["client_payload"];
    assert_eq!(p["frontend_artifacts_available"], "false");
    assert_eq!(out.output("found"), "false");
    assert!(
        out.commands("warning")
            .iter()
            .any(|w| w.contains("frontend-build")),
        "{}",
        out.log()
    );
}

#[test]
fn a_missing_artifact_under_error_dispatches_nothing() {
    let w = world();
    let out = run(w
        .action(build_run("success"))
        .input("if-no-artifact-found", "error"));
    out.assert_failure();
    assert!(w.gh.dispatches(DEPLOY).is_empty());
}

#[test]
fn more_flags_than_keys_left_fail_before_any_download_and_suggest_an_object() {
    let w = world();
    w.artifact("frontend-build");
    let out = run(w.action(build_run("success")).input(
        "artifacts",
        "frontend-build=frontend_artifacts_available\ndocs=docs_available",
    ));
    out.assert_failure();
    let e = out.error();
    assert!(
        e.contains("input `artifacts`") && e.contains("11 top-level keys"),
        "{e}"
    );
    assert!(e.contains("artifacts-object"), "{e}");
    assert!(
        w.gh.requests().is_empty(),
        "nothing was listed, downloaded or sent"
    );
    assert!(w.reuploaded().is_empty());

    let w = world();
    w.artifact("frontend-build");
    let out = run(w
        .action(build_run("success"))
        .input("artifacts", "frontend-build=frontend\ndocs=docs")
        .input("artifacts-object", "artifacts"));
    out.assert_success();
    let p = &w.gh.dispatches(DEPLOY)[0]["client_payload"];
    assert_eq!(p["artifacts"], json!({"frontend": "true", "docs": "false"}));
    assert_eq!(p.as_object().unwrap().len(), 10);
}

#[test]
fn a_forks_run_relays_and_dispatches_nothing_unless_allowed() {
    for event in [
        events::workflow_run_from_fork(APP, "evil/xtp-tour", SHA, "main", RUN),
        events::workflow_run_from_deleted_fork(APP, SHA, "main", RUN),
    ] {
        let w = world();
        w.artifact("frontend-build");
        let out = run(w.action(event.clone()));
        out.assert_success();
        assert_eq!(out.output("dispatched"), "false");
        assert_eq!(out.output("found"), "false");
        assert!(
            out.commands("notice")[0].contains("not trusted"),
            "{}",
            out.log()
        );
        assert!(w.gh.requests().is_empty(), "not even listed");
        assert!(
            w.reuploaded().is_empty(),
            "no fork artifact under a deploy-* name"
        );
        assert!(w.gh.dispatches(DEPLOY).is_empty());

        // A fork's pull request is also a `pull_request` event: both gates.
        let w = world();
        w.artifact("frontend-build");
        let out = run(w.action(event.clone()).input("allow-forks", "true"));
        out.assert_success();
        assert!(w.gh.dispatches(DEPLOY).is_empty(), "{}", out.log());
        let w = world();
        w.artifact("frontend-build");
        let out = run(w
            .action(event)
            .input("allow-forks", "true")
            .input("trigger-events", "pull_request"));
        out.assert_success();
        assert_eq!(w.reuploaded().len(), 1);
        assert_eq!(w.gh.dispatches(DEPLOY).len(), 1);
    }
}

#[test]
fn a_failed_build_is_not_relayed() {
    let w = world();
    w.artifact("frontend-build");
    let out = run(w.action(build_run("failure")));
    out.assert_success();
    assert_eq!(out.output("dispatched"), "false");
    assert!(
        out.commands("notice")[0].contains("concluded `failure`"),
        "{}",
        out.log()
    );
    assert!(w.gh.requests().is_empty());
}

#[test]
fn a_refused_dispatch_fails_and_says_the_artifacts_are_here() {
    let w = world();
    w.artifact("frontend-build");
    w.gh.fault(
        "POST",
        &format!("/repos/{DEPLOY}/dispatches"),
        [relay_fakes::Fault::status(404)],
    );
    let out = run(w.action(build_run("success")));
    out.assert_failure();
    let e = out.error();
    assert!(
        e.contains("relayed into this run, but the deploy was not dispatched"),
        "{e}"
    );
    assert!(e.contains("hint:"), "{e}");
    assert_eq!(out.output("dispatched"), "false");
    // A re-run replaces the re-uploads (overwrite: true by default).
    let out = run(w.action(build_run("success")));
    out.assert_success();
    assert_eq!(w.reuploaded(), ["deploy-frontend-build-9f86d08"]);
}

#[test]
fn bad_inputs_fail_before_any_request() {
    for (input, value, needle) in [
        ("artifacts", "a=not a key", "input `artifacts`"),
        ("reupload-name", "deploy-{nope}", "input `reupload-name`"),
        ("images", "no-equals", "input `images`"),
        ("client-payload", "[1]", "input `client-payload`"),
        (
            "deploy-repository",
            "not a repo",
            "input `deploy-repository`",
        ),
        ("images-artifact", "a/b", "input `images-artifact`"),
        ("trigger-events", "push; rm", "input `trigger-events`"),
        ("event-type", &"x".repeat(101), "input `event-type`"),
        ("verify-digest", "sometimes", "input `verify-digest`"),
        ("retention-days", "91", "input `retention-days`"),
    ] {
        let w = world();
        w.artifact("frontend-build");
        let out = run(w.action(build_run("success")).input(input, value));
        out.assert_failure();
        assert!(out.error().contains(needle), "{input}: {}", out.error());
        assert!(w.gh.requests().is_empty(), "{input}: a request was made");
    }
}

#[test]
fn outside_workflow_run_a_run_id_is_needed() {
    let w = world();
    let out = run(w
        .action(json!({}))
        .event("push", json!({"ref": "refs/heads/main", "after": SHA})));
    out.assert_failure();
    assert!(out.error().contains("input `run-id`"), "{}", out.error());
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The build's handover: what docker/build-push-action pushed, by digest.
fn images_file() -> String {
    format!(
        "api_image=ghcr.io/xtp-tour/xtp-tour/api@{DIGEST}\napi_test_image=ghcr.io/xtp-tour/xtp-tour/api-test@{DIGEST}\n"
    )
}

#[test]
fn the_builds_digests_become_payload_fields_and_are_not_relayed() {
    let w = world();
    w.artifact("frontend-build");
    let text = images_file();
    w.artifact_of("deploy-relay-images", &[("images.txt", text.as_bytes())]);
    let out = run(w.action(build_run("success")).input("images", ""));
    out.assert_success();
    assert_eq!(
        w.reuploaded(),
        ["deploy-frontend-build-9f86d08"],
        "the images artifact is read, not relayed"
    );
    let p = &w.gh.dispatches(DEPLOY)[0]["client_payload"];
    assert_eq!(
        p["api_image"],
        format!("ghcr.io/xtp-tour/xtp-tour/api@{DIGEST}")
    );
    assert_eq!(
        p["api_test_image"],
        format!("ghcr.io/xtp-tour/xtp-tour/api-test@{DIGEST}")
    );
    assert_eq!(
        p.as_object().unwrap().len(),
        10,
        "seed 000's payload, by digest"
    );
    assert!(out.commands("warning").is_empty(), "{}", out.log());
    // Also when `artifacts` lists only what to relay.
    let w = world();
    w.artifact("frontend-build");
    w.artifact_of("deploy-relay-images", &[("images.txt", text.as_bytes())]);
    let out = run(w
        .action(build_run("success"))
        .input("images", "")
        .input("artifacts", "frontend-build"));
    out.assert_success();
    assert_eq!(w.reuploaded(), ["deploy-frontend-build-9f86d08"]);
    assert_eq!(
        w.gh.dispatches(DEPLOY)[0]["client_payload"]["api_image"],
        format!("ghcr.io/xtp-tour/xtp-tour/api@{DIGEST}")
    );
    assert!(out.commands("warning").is_empty(), "{}", out.log());
}

#[test]
fn a_bad_images_artifact_relays_and_dispatches_nothing() {
    for (text, needle) in [
        (
            "api_image=ghcr.io/xtp-tour/xtp-tour/api".to_owned(),
            "names no tag or digest",
        ),
        ("api_image=ghcr.io/x/api@sha256:abc".to_owned(), "64 hex"),
        ("sha=ghcr.io/x/api:1".to_owned(), "the relay sets itself"),
        (
            format!("{}a=b/c:1\nb=c/d:1\nc=d/e:1", images_file()),
            "top-level keys",
        ),
    ] {
        let w = world();
        w.artifact("frontend-build");
        w.artifact_of("deploy-relay-images", &[("images.txt", text.as_bytes())]);
        let out = run(w.action(build_run("success")).input("images", ""));
        out.assert_failure();
        assert!(out.error().contains(needle), "{text}: {}", out.error());
        assert!(out.error().contains("hint:"), "{}", out.error());
        assert!(w.reuploaded().is_empty(), "{text}: nothing relayed");
        assert!(
            w.gh.dispatches(DEPLOY).is_empty(),
            "{text}: nothing dispatched"
        );
    }
    // A key given both ways is ambiguous.
    let w = world();
    w.artifact_of(
        "deploy-relay-images",
        &[("images.txt", images_file().as_bytes())],
    );
    let out = run(w.action(build_run("success")));
    out.assert_failure();
    assert!(
        out.error()
            .contains("names `api_image`, which the payload already has"),
        "{}",
        out.error()
    );
    assert!(w.gh.dispatches(DEPLOY).is_empty());
}

#[test]
fn no_image_at_all_is_warned_about() {
    let w = world();
    w.artifact("frontend-build");
    let out = run(w.action(build_run("success")).input("images", ""));
    out.assert_success();
    assert!(
        out.commands("warning")
            .iter()
            .any(|w| w.contains("no artifact `deploy-relay-images` and `images` is empty")),
        "{}",
        out.log()
    );
}

#[test]
fn a_pull_requests_build_is_not_relayed_unless_its_event_is_listed() {
    let mut event = build_run("success");
    event["workflow_run"]["event"] = json!("pull_request");
    let w = world();
    w.artifact("frontend-build");
    let out = run(w.action(event.clone()));
    out.assert_success();
    assert_eq!(out.output("dispatched"), "false");
    assert!(
        out.commands("notice")[0].contains("started by a `pull_request` event"),
        "{}",
        out.log()
    );
    assert!(w.gh.requests().is_empty(), "not even listed");
    let w = world();
    w.artifact("frontend-build");
    let out = run(w
        .action(event)
        .input("trigger-events", "push, workflow_dispatch, pull_request"));
    out.assert_success();
    assert_eq!(w.gh.dispatches(DEPLOY).len(), 1);
}
