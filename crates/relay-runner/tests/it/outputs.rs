//! Job outputs that hold a secret or a masked value are not passed on:
//! "Outputs containing secrets are redacted on the runner and not sent to
//! GitHub Actions"
//! (<https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idoutputs>),
//! and a masked value "is treated as a secret [...] after you mask a value,
//! you won't be able to set that value as an output"
//! (<https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#masking-a-value-in-a-log>).

use relay_runner::Secrets;

use crate::fixture::Repo;

const WORKFLOW: &str = r#"
on:
  workflow_call:
    outputs:
      masked: { value: "${{ jobs.make.outputs.masked }}" }
      plain: { value: "${{ jobs.make.outputs.plain }}" }
jobs:
  make:
    runs-on: ubuntu-latest
    outputs:
      masked: ${{ steps.gen.outputs.value }}
      around: prefix-${{ steps.gen.outputs.value }}-suffix
      escaped: ${{ steps.gen.outputs.escaped }}
      secret: ${{ secrets.API_KEY }}
      plain: ${{ steps.gen.outputs.plain }}
    steps:
      - id: gen
        run: |
          value="generated-Value-42"
          echo "::add-mask::$value"
          echo "::add-mask::50%25 off"
          {
            echo "value=$value"
            echo "escaped=50% off"
            echo "plain=just-a-sha-0123abc"
          } >> "$GITHUB_OUTPUT"
      - id: same-job
        env:
          GOT: ${{ steps.gen.outputs.value }}
        run: echo "got=$GOT" >> "$GITHUB_OUTPUT"
  use:
    needs: make
    runs-on: ubuntu-latest
    steps:
      - id: read
        env:
          MASKED: ${{ needs.make.outputs.masked }}
          PLAIN: ${{ needs.make.outputs.plain }}
        run: echo "seen=[$MASKED][$PLAIN]" >> "$GITHUB_OUTPUT"
"#;

#[test]
fn a_job_output_holding_a_masked_value_or_a_secret_is_dropped() {
    let repo = Repo::new();
    repo.workflow("make.yml", WORKFLOW);
    let path = repo.workflow(
        "caller.yml",
        r#"
on: push
jobs:
  call:
    uses: ./.github/workflows/make.yml
    secrets: inherit
"#,
    );
    let mut runner = repo
        .runner()
        .secrets(Secrets::new().repository("API_KEY", "key-that-is-secret"));
    let rec = repo.play(&mut runner, &path).unwrap();
    let make = rec.job("make").unwrap();
    assert_eq!(
        make.dropped_outputs,
        ["around", "escaped", "masked", "secret"],
        "{make:#?}"
    );
    assert_eq!(make.outputs.keys().collect::<Vec<_>>(), ["plain"]);
    // Within the job, step outputs still carry the value.
    assert_eq!(
        rec.step("make", "same-job").unwrap().outputs["got"],
        "generated-Value-42"
    );
    // A job that needs it sees an empty value, and so does the caller.
    assert_eq!(
        rec.step("use", "read").unwrap().outputs["seen"],
        "[][just-a-sha-0123abc]"
    );
    let call = rec.job("call").unwrap();
    assert_eq!(call.outputs["masked"], "");
    assert_eq!(call.outputs["plain"], "just-a-sha-0123abc");
}
