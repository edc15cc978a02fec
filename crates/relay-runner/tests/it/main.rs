//! The local workflow runner on a fixture repository whose "action" is a
//! script that echoes its inputs: jobs in `needs` order, conditions with the
//! status functions, `continue-on-error`, reusable calls with typed input
//! defaults and secrets, outputs all the way up, and third-party actions
//! noted as skipped.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use relay_runner::Runner;
use serde_json::{Map, json};

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const ACTION: &str = r#"
name: echo
inputs:
  word: { required: true }
  fail: { default: "false" }
  token: { default: "${{ github.token }}" }
outputs:
  said: { description: x }
runs: { using: docker, image: docker://x }
"#;

const CALLEE: &str = r#"
on:
  workflow_call:
    inputs:
      word: { type: string, required: true }
      loud: { type: boolean, default: true }
    secrets:
      key: { required: true }
    outputs:
      said: { value: "${{ jobs.speak.outputs.said }}" }
      loud: { value: "${{ jobs.speak.outputs.loud }}" }
permissions: {}
jobs:
  speak:
    runs-on: ubuntu-latest
    environment: ${{ inputs.word }}-env
    outputs:
      said: ${{ steps.echo.outputs.said }}
      loud: ${{ inputs.loud }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - id: echo
        uses: deploy-relay/deploy-relay/actions/echo@main
        with:
          word: ${{ inputs.word }}-${{ inputs.loud }}-${{ secrets.key }}
"#;

const CALLER: &str = r#"
on: push
permissions: {}
jobs:
  later:
    needs: [first]
    runs-on: ubuntu-latest
    steps:
      - id: broken
        uses: ./actions/echo
        continue-on-error: true
        with:
          word: x
          fail: "true"
      - id: after
        if: steps.broken.outcome == 'failure'
        env:
          GOT: ${{ needs.first.outputs.loud }}/${{ needs.first.outputs.said }}
        run: echo "said=got $GOT" >> "$GITHUB_OUTPUT"
      - id: hard
        uses: ./actions/echo
        with:
          word: y
          fail: "true"
      - id: skipped
        run: echo never
      - id: cleanup
        if: failure()
        run: echo "said=cleaned" >> "$GITHUB_OUTPUT"
  first:
    uses: ./.github/workflows/callee.yml
    with:
      word: hello
    secrets:
      key: ${{ secrets.KEY }}
  never:
    needs: later
    runs-on: ubuntu-latest
    steps:
      - run: echo never
"#;

#[test]
fn plays_a_workflow_as_the_runner_does() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    write(&root, "actions/echo/action.yml", ACTION);
    write(&root, ".github/workflows/callee.yml", CALLEE);
    write(&root, ".github/workflows/caller.yml", CALLER);
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    let mut runner = Runner::new(
        &root,
        Box::new(|action: &str| {
            assert_eq!(action, "echo");
            let mut c = Command::new("bash");
            c.args([
                "-c",
                r#"echo "said=$INPUT_WORD/$INPUT_TOKEN" >> "$GITHUB_OUTPUT"; echo "summary $INPUT_WORD" >> "$GITHUB_STEP_SUMMARY"; [ "$INPUT_FAIL" != true ]"#,
            ]);
            c
        }),
        dir.path().join("work"),
    )
    .env("GITHUB_TOKEN", "tok")
    .env("GITHUB_REPOSITORY", "o/r")
    .observe(move |e| seen.lock().unwrap().push(format!("{e:?}")));
    let secrets: BTreeMap<String, String> = [("KEY".to_owned(), "k3y".to_owned())].into();
    let rec = runner
        .run(
            Path::new(".github/workflows/caller.yml"),
            &Map::new(),
            &secrets,
        )
        .unwrap();

    // `first` ran before `later` although written after it.
    assert_eq!(rec.jobs[0].id, "caller.yml/first");
    let first = rec.job("first").unwrap();
    assert_eq!(first.result, "success");
    let speak = rec.job("speak").unwrap();
    assert_eq!(
        speak.steps[1].outputs["said"], "hello-true-k3y/tok",
        "defaults typed, secrets and github.token passed"
    );
    // A job output holding a secret is not passed on; the others are.
    assert_eq!(speak.dropped_outputs, ["said"]);
    assert_eq!(first.outputs["said"], "");
    assert_eq!(first.outputs["loud"], "true");
    assert_eq!(speak.environment.as_deref(), Some("hello-env"));
    assert!(
        speak.environment_created,
        "an unknown environment is created"
    );
    assert!(
        speak.steps[0]
            .note
            .as_ref()
            .unwrap()
            .contains("not one of ours")
    );
    assert_eq!(speak.steps[1].summary, "summary hello-true-k3y\n");

    let later = rec.job("later").unwrap();
    let by_id = |id: &str| later.steps.iter().find(|s| s.id == id).unwrap();
    assert_eq!(
        (
            by_id("broken").outcome.as_str(),
            by_id("broken").conclusion.as_str()
        ),
        ("failure", "success")
    );
    assert_eq!(by_id("after").outputs["said"], "got true/");
    assert_eq!(by_id("hard").conclusion, "failure");
    assert_eq!(by_id("skipped").outcome, "skipped");
    assert_eq!(by_id("cleanup").outputs["said"], "cleaned");
    assert_eq!(later.result, "failure");
    assert_eq!(rec.job("never").unwrap().result, "skipped");
    assert_eq!(rec.result, "failure");
    assert!(rec.step("later", "after").is_some());
    let events = events.lock().unwrap();
    assert!(
        events.iter().any(|e| e.contains("StepFinished")),
        "{events:?}"
    );
    // What did not run is told as well, for a timeline.
    assert!(
        events.iter().any(|e| e.contains("StepFinished")
            && e.contains("id: \"skipped\"")
            && e.contains("outcome: \"skipped\"")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.contains("JobFinished")
            && e.contains("caller.yml/never")
            && e.contains("\"skipped\"")),
        "{events:?}"
    );
}

#[test]
fn the_workflow_runs_with_the_event_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    write(
        &root,
        ".github/workflows/w.yml",
        "on: repository_dispatch\npermissions: {}\njobs:\n  j:\n    if: github.event.client_payload.sha != ''\n    runs-on: ubuntu-latest\n    steps:\n      - id: s\n        env:\n          SHA: ${{ github.event.client_payload.sha }}\n        run: |\n          test \"$GITHUB_EVENT_NAME\" = repository_dispatch\n          grep -q abc \"$GITHUB_EVENT_PATH\"\n          echo \"sha=$SHA\" >> \"$GITHUB_OUTPUT\"\n",
    );
    let mut runner = Runner::new(
        &root,
        Box::new(|_: &str| Command::new("false")),
        dir.path().join("w"),
    )
    .event(
        "repository_dispatch",
        json!({"client_payload": {"sha": "abc"}}),
    );
    let rec = runner
        .run(
            Path::new(".github/workflows/w.yml"),
            &Map::new(),
            &BTreeMap::new(),
        )
        .unwrap();
    assert_eq!(rec.step("j", "s").unwrap().outputs["sha"], "abc");
}

mod cancel;
mod concurrency;
mod environments;
mod fixture;
mod outputs;
mod runs_on;
mod secrets;
mod status;
