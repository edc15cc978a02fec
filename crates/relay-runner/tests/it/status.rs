//! The status check functions, for steps and for jobs, as
//! <https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions>
//! defines them, and `continue-on-error`'s `outcome` and `conclusion`.

use crate::fixture::{Repo, outcomes, pairs, steps};

const STEPS: &str = r#"
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - id: soft
        continue-on-error: true
        run: exit 3
      - id: after-soft
        run: echo "soft=${{ steps.soft.outcome }}/${{ steps.soft.conclusion }}" >> "$GITHUB_OUTPUT"
      - id: success-after-soft
        if: success()
        run: "true"
      - id: hard
        run: exit 1
      - id: implicit
        if: steps.hard.outcome == 'failure'
        run: "true"
      - id: failure
        if: failure() && steps.hard.conclusion == 'failure'
        run: "true"
      - id: always
        if: always()
        env:
          STATUS: ${{ job.status }}
        run: echo "job=$STATUS" >> "$GITHUB_OUTPUT"
      - id: not-cancelled
        if: ${{ !cancelled() }}
        run: "true"
      - id: cancelled
        if: cancelled()
        run: "true"
      - id: literal
        if: "'always()' == 'x'"
        run: "true"
"#;

#[test]
fn step_conditions_follow_the_status_of_the_job_so_far() {
    let repo = Repo::new();
    let path = repo.workflow("steps.yml", STEPS);
    let rec = repo.play(&mut repo.runner(), &path).unwrap();
    let got = steps(&rec, "j");
    // `continue-on-error`: the outcome is the failure, the conclusion a
    // success, and the job goes on as if it had succeeded.
    assert_eq!(got[0], ("soft".into(), "failure".into(), "success".into()));
    assert_eq!(
        rec.step("j", "after-soft").unwrap().outputs["soft"],
        "failure/success"
    );
    assert_eq!(
        outcomes(&rec, "j")[2..],
        pairs(&[
            ("success-after-soft", "success"),
            ("hard", "failure"),
            // No status function: `success() &&` is implied.
            ("implicit", "skipped"),
            ("failure", "success"),
            ("always", "success"),
            ("not-cancelled", "success"),
            ("cancelled", "skipped"),
            // A string that reads `always()` is not a status function.
            ("literal", "skipped"),
        ])[..]
    );
    assert_eq!(rec.step("j", "always").unwrap().outputs["job"], "failure");
    assert_eq!(rec.job("j").unwrap().result, "failure");
    assert_eq!(rec.result, "failure");
}

const JOBS: &str = r#"
on: push
jobs:
  fails:
    runs-on: ubuntu-latest
    steps:
      - run: exit 1
  skipped:
    needs: fails
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  ancestor-failed:
    needs: skipped
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  always:
    needs: skipped
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  after-always:
    needs: always
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  ok:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  off:
    needs: ok
    if: github.event_name == 'nothing'
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  after-off:
    needs: off
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  after-off-failure:
    needs: off
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  after-off-always:
    needs: [ok, off]
    if: always() && contains(needs.*.result, 'skipped') && !contains(needs.*.result, 'failure')
    runs-on: ubuntu-latest
    steps:
      - run: "true"
"#;

#[test]
fn job_conditions_follow_the_jobs_they_need_and_their_ancestors() {
    let repo = Repo::new();
    let path = repo.workflow("jobs.yml", JOBS);
    let rec = repo.play(&mut repo.runner(), &path).unwrap();
    let result = |j: &str| rec.job(j).unwrap().result.clone();
    assert_eq!(result("fails"), "failure");
    // A failed need skips the jobs after it.
    assert_eq!(result("skipped"), "skipped");
    // failure() holds for any ancestor's failure, not only a direct need's.
    assert_eq!(result("ancestor-failed"), "success");
    assert_eq!(result("always"), "success");
    // The failure applies to the whole chain from the point of failure.
    assert_eq!(result("after-always"), "skipped");
    assert_eq!(result("off"), "skipped");
    // A need skipped by its own `if`: neither success() nor failure().
    assert_eq!(result("after-off"), "skipped");
    assert_eq!(result("after-off-failure"), "skipped");
    // Object filters over `needs`.
    assert_eq!(result("after-off-always"), "success");
    assert_eq!(rec.result, "failure");
}
