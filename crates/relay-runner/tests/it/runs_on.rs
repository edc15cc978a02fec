//! `runs-on`: a label, a list, or an expression that gives either
//! (<https://docs.github.com/en/actions/how-tos/write-workflows/choose-where-workflows-run/choose-the-runner-for-a-job>);
//! the runner is Linux, and container actions run only on Linux.

use relay_runner::WorkflowRecord;

use crate::fixture::{Repo, inputs};

/// The reusable workflows' form: a label, or a JSON list of labels.
const CALLED: &str = r#"
on:
  workflow_call:
    inputs:
      runs-on: { type: string, default: ubuntu-latest }
jobs:
  deploy:
    runs-on: ${{ startsWith(inputs.runs-on, '[') && fromJSON(inputs.runs-on) || inputs.runs-on }}
    steps:
      - id: s
        run: echo "ran=yes" >> "$GITHUB_OUTPUT"
"#;

fn deploy_on(runs_on: Option<&str>) -> WorkflowRecord {
    let repo = Repo::new();
    let path = repo.workflow("deploy.yml", CALLED);
    let given = runs_on.map_or_else(serde_json::Map::new, |r| inputs(&[("runs-on", r)]));
    repo.runner()
        .run(&path, &given, &Default::default())
        .unwrap()
}

#[test]
fn a_label_or_a_json_list_chooses_the_runner() {
    let rec = deploy_on(None);
    assert_eq!(rec.job("deploy").unwrap().runs_on, ["ubuntu-latest"]);
    let rec = deploy_on(Some("ubuntu-24.04"));
    assert_eq!(rec.job("deploy").unwrap().runs_on, ["ubuntu-24.04"]);
    let rec = deploy_on(Some(r#"["self-hosted", "linux", "deploy-net"]"#));
    let job = rec.job("deploy").unwrap();
    assert_eq!(job.runs_on, ["self-hosted", "linux", "deploy-net"]);
    assert_eq!(rec.step("deploy", "s").unwrap().outputs["ran"], "yes");
}

#[test]
fn a_runner_that_is_not_linux_is_refused() {
    for labels in ["windows-latest", r#"["self-hosted", "macOS"]"#, "macos-14"] {
        let rec = deploy_on(Some(labels));
        let job = rec.job("deploy").unwrap();
        assert_eq!(job.result, "failure", "{labels}");
        assert!(job.steps.is_empty(), "{labels}: no step runs");
        let note = job.note.as_deref().unwrap();
        assert!(
            note.contains("Linux") && note.contains("container actions"),
            "{note}"
        );
        assert_eq!(rec.result, "failure");
    }
}

#[test]
fn lists_groups_and_a_missing_runs_on() {
    let repo = Repo::new();
    let path = repo.workflow(
        "w.yml",
        r#"
on: push
jobs:
  list:
    runs-on: [self-hosted, linux]
    steps: []
  group:
    runs-on:
      group: deployers
      labels: [linux]
    steps: []
"#,
    );
    let rec = repo.play(&mut repo.runner(), &path).unwrap();
    assert_eq!(rec.job("list").unwrap().runs_on, ["self-hosted", "linux"]);
    assert_eq!(
        rec.job("group").unwrap().runs_on,
        ["group:deployers", "linux"]
    );
    let path = repo.workflow("none.yml", "on: push\njobs:\n  j:\n    steps: []\n");
    let err = repo.play(&mut repo.runner(), &path).unwrap_err();
    assert!(err.contains("`runs-on` is missing"), "{err}");
}
