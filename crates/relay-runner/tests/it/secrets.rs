//! Secrets by scope, and how they reach a called workflow: "Reuse
//! workflows" → "Using inputs and secrets in a reusable workflow"
//! (<https://docs.github.com/en/actions/how-tos/reuse-automations/reuse-workflows#using-inputs-and-secrets-in-a-reusable-workflow>)
//! and `jobs.<job_id>.secrets.inherit`
//! (<https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idsecretsinherit>).

use std::collections::BTreeMap;

use relay_runner::{Secrets, WorkflowRecord};
use serde_json::Map;

use crate::fixture::Repo;

/// Each job of it reports the secrets it sees as step outputs (step
/// outputs are not redacted within a job).
const SEE: &str = r#"
    steps:
      - id: see
        env:
          WEBHOOK: ${{ secrets.WEBHOOK }}
          SHARED: ${{ secrets.SHARED }}
          ORG_ONLY: ${{ secrets.ORG_ONLY }}
          TOKEN: ${{ secrets.GITHUB_TOKEN }}
        run: |
          {
            echo "webhook=$WEBHOOK"
            echo "shared=$SHARED"
            echo "org=$ORG_ONLY"
            echo "token=$TOKEN"
          } >> "$GITHUB_OUTPUT"
"#;

fn store() -> Secrets {
    Secrets::new()
        .organization("ORG_ONLY", "o")
        .organization("SHARED", "org")
        .repository("SHARED", "repo")
        .environment("production", "SHARED", "prod")
        .environment("production", "WEBHOOK", "whsec-prod")
}

fn repo() -> Repo {
    let repo = Repo::new();
    repo.workflow(
        "callee.yml",
        &format!(
            r#"
on:
  workflow_call:
    inputs:
      environment: {{ type: string, required: true }}
    secrets:
      WEBHOOK: {{ required: false }}
      SHARED: {{ required: false }}
      ORG_ONLY: {{ required: false }}
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: ${{{{ inputs.environment }}}}
{SEE}
  plain:
    runs-on: ubuntu-latest
{SEE}
"#
        ),
    );
    repo
}

/// (webhook, shared, org) as job `job` saw them.
fn seen(rec: &WorkflowRecord, job: &str) -> (String, String, String) {
    let o = &rec.step(job, "see").unwrap().outputs;
    (o["webhook"].clone(), o["shared"].clone(), o["org"].clone())
}

fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.into(), b.into(), c.into())
}

fn call(repo: &Repo, secrets: &str) -> Result<WorkflowRecord, String> {
    let path = repo.workflow(
        "caller.yml",
        &format!(
            r#"
on: push
jobs:
  call:
    uses: ./.github/workflows/callee.yml
    with:
      environment: production
{secrets}
"#
        ),
    );
    repo.play(&mut repo.runner().secrets(store()), &path)
}

#[test]
fn a_job_sees_its_environment_secrets_only_when_it_runs_in_it() {
    let repo = repo();
    let path = repo.workflow(
        "root.yml",
        &format!(
            r#"
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: Production
{SEE}
  plain:
    runs-on: ubuntu-latest
{SEE}
"#
        ),
    );
    let rec = repo
        .play(&mut repo.runner().secrets(store()), &path)
        .unwrap();
    // The lowest level wins: environment over repository over organisation.
    assert_eq!(seen(&rec, "deploy"), t("whsec-prod", "prod", "o"));
    assert_eq!(seen(&rec, "plain"), t("", "repo", "o"));
}

#[test]
fn secrets_inherit_passes_everything_and_the_environment_of_the_called_job() {
    let rec = call(&repo(), "    secrets: inherit").unwrap();
    assert_eq!(
        seen(&rec, "callee.yml/deploy"),
        t("whsec-prod", "prod", "o")
    );
    assert_eq!(seen(&rec, "callee.yml/plain"), t("", "repo", "o"));
    assert_eq!(
        rec.step("callee.yml/plain", "see").unwrap().outputs["token"],
        "ghs_token_of_the_run",
        "a called workflow always gets GITHUB_TOKEN"
    );
}

#[test]
fn a_secret_passed_by_name_takes_the_called_jobs_environment_value() {
    // The caller's own `secrets.WEBHOOK` is empty (its job has no
    // environment); passed by name, the called job in `production` gets
    // the environment's value. What is not passed is not there.
    let rec = call(
        &repo(),
        "    secrets:\n      WEBHOOK: ${{ secrets.WEBHOOK }}\n      SHARED: ${{ secrets.SHARED }}",
    )
    .unwrap();
    assert_eq!(seen(&rec, "callee.yml/deploy"), t("whsec-prod", "prod", ""));
    assert_eq!(seen(&rec, "callee.yml/plain"), t("", "repo", ""));
}

#[test]
fn an_environment_secret_the_caller_does_not_pass_is_empty() {
    let rec = call(&repo(), "").unwrap();
    assert_eq!(rec.result, "success", "no error, only empty values");
    assert_eq!(seen(&rec, "callee.yml/deploy"), t("", "", ""));
}

#[test]
fn a_call_must_pass_only_declared_secrets_and_every_required_one() {
    let repo = repo();
    let err = call(&repo, "    secrets:\n      OTHER: x").unwrap_err();
    assert!(
        err.contains("`OTHER`") && err.contains("does not declare"),
        "{err}"
    );
    repo.workflow(
        "strict.yml",
        r#"
on:
  workflow_call:
    secrets:
      KEY: { required: true }
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
"#,
    );
    let caller = |secrets: &str| {
        repo.workflow(
            "strict-caller.yml",
            &format!(
                "on: push\njobs:\n  call:\n    uses: ./.github/workflows/strict.yml\n{secrets}\n"
            ),
        )
    };
    let path = caller("");
    let err = repo.play(&mut repo.runner(), &path).unwrap_err();
    assert!(err.contains("required secret `KEY`"), "{err}");
    // `required` checks that the caller passes it, not that it has a value.
    let path = caller("    secrets:\n      KEY: ${{ secrets.NOT_SET }}");
    assert_eq!(
        repo.play(&mut repo.runner(), &path).unwrap().result,
        "success"
    );
    // With `inherit`, nothing to check.
    let path = caller("    secrets: inherit");
    assert_eq!(
        repo.play(&mut repo.runner(), &path).unwrap().result,
        "success"
    );
}

#[test]
fn a_job_that_calls_a_workflow_cannot_set_an_environment() {
    let repo = repo();
    let path = repo.workflow(
        "caller.yml",
        r#"
on: push
jobs:
  call:
    environment: production
    uses: ./.github/workflows/callee.yml
    with:
      environment: production
    secrets: inherit
"#,
    );
    let err = repo.play(&mut repo.runner(), &path).unwrap_err();
    assert!(err.contains("`environment`"), "{err}");
}

#[test]
fn the_secrets_given_to_run_are_repository_secrets() {
    let repo = repo();
    let path = repo.workflow(
        "root.yml",
        &format!("on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    environment: production\n{SEE}"),
    );
    let given: BTreeMap<String, String> = [
        ("SHARED".to_owned(), "given".to_owned()),
        ("ORG_ONLY".to_owned(), "given-too".to_owned()),
    ]
    .into();
    let mut runner = repo.runner().secrets(store());
    let rec = runner.run(&path, &Map::new(), &given).unwrap();
    // Over the repository's, under the environment's.
    assert_eq!(seen(&rec, "deploy"), t("whsec-prod", "prod", "given-too"));
}
