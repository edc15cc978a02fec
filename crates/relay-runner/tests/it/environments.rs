//! Environments: created on first use, unprotected
//! (<https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/manage-environments>);
//! required reviewers hold a job until one approves, and a rejection fails
//! the workflow
//! (<https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/review-deployments>).

use std::sync::{Arc, Mutex};

use relay_runner::{Protection, Review, Secrets};

use crate::fixture::{Repo, outcomes, pairs};

const DEPLOY: &str = r#"
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment:
      name: production
      url: ${{ steps.s.outputs.url }}
    steps:
      - id: s
        env:
          WEBHOOK: ${{ secrets.WEBHOOK }}
        run: |
          echo "url=https://app.example/$WEBHOOK" >> "$GITHUB_OUTPUT"
  again:
    needs: deploy
    runs-on: ubuntu-latest
    environment: PRODUCTION
    steps: []
  report:
    needs: deploy
    if: always()
    runs-on: ubuntu-latest
    steps:
      - id: r
        run: "true"
"#;

#[test]
fn an_unknown_environment_is_created_on_first_use_unprotected() {
    let repo = Repo::new();
    let path = repo.workflow("deploy.yml", DEPLOY);
    let rec = repo.play(&mut repo.runner(), &path).unwrap();
    let deploy = rec.job("deploy").unwrap();
    assert_eq!(deploy.result, "success");
    assert_eq!(deploy.environment.as_deref(), Some("production"));
    assert!(deploy.environment_created);
    // The url may read the job's steps: it is evaluated when the job ends.
    assert_eq!(
        deploy.environment_url.as_deref(),
        Some("https://app.example/")
    );
    // The second use finds it (names are matched without regard to case).
    assert!(!rec.job("again").unwrap().environment_created);
    // An environment that holds secrets exists already.
    let mut runner =
        repo.runner()
            .secrets(Secrets::new().environment("Production", "WEBHOOK", "hook"));
    let rec = repo.play(&mut runner, &path).unwrap();
    assert!(!rec.job("deploy").unwrap().environment_created);
}

#[test]
fn a_protected_environment_waits_for_a_reviewer() {
    let repo = Repo::new();
    let path = repo.workflow("deploy.yml", DEPLOY);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let mut runner = repo
        .runner()
        .secrets(Secrets::new().environment("production", "WEBHOOK", "hook"))
        .protect("production", Protection::RequiredReviewers)
        .reviewer(move |r| {
            seen.lock()
                .unwrap()
                .push(format!("{} {}", r.job, r.environment));
            Review::Approve
        });
    let rec = repo.play(&mut runner, &path).unwrap();
    assert_eq!(rec.result, "success");
    let deploy = rec.job("deploy").unwrap();
    assert!(!deploy.environment_created);
    assert_eq!(
        deploy.environment_url.as_deref(),
        Some("https://app.example/hook"),
        "approved, the job sees the environment's secrets"
    );
    assert_eq!(
        *asked.lock().unwrap(),
        [
            "deploy.yml/deploy production",
            "deploy.yml/again PRODUCTION"
        ]
    );
}

#[test]
fn a_rejected_review_fails_the_job_and_the_workflow() {
    let repo = Repo::new();
    let path = repo.workflow("deploy.yml", DEPLOY);
    let mut runner = repo
        .runner()
        .protect("production", Protection::RequiredReviewers)
        .reviewer(|_| Review::Reject);
    let rec = repo.play(&mut runner, &path).unwrap();
    let deploy = rec.job("deploy").unwrap();
    assert_eq!(deploy.result, "failure");
    assert!(deploy.steps.is_empty(), "no step runs");
    assert!(deploy.note.as_deref().unwrap().contains("rejected"));
    assert_eq!(rec.job("again").unwrap().result, "skipped");
    assert_eq!(outcomes(&rec, "report"), pairs(&[("r", "success")]));
    assert_eq!(rec.result, "failure");
}

#[test]
fn a_protected_environment_with_no_reviewer_is_an_error() {
    let repo = Repo::new();
    let path = repo.workflow("deploy.yml", DEPLOY);
    let mut runner = repo
        .runner()
        .protect("production", Protection::RequiredReviewers);
    let err = repo.play(&mut runner, &path).unwrap_err();
    assert!(err.contains("no reviewer"), "{err}");
    // Alone, a run whose reviewer keeps it waiting waits for ever.
    let mut runner = repo
        .runner()
        .protect("production", Protection::RequiredReviewers)
        .reviewer(|_| Review::Wait);
    let err = repo.play(&mut runner, &path).unwrap_err();
    assert!(err.contains("never comes"), "{err}");
}
