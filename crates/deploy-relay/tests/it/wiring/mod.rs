//! Workflows are code too: every reusable workflow of ours, every example
//! workflow and our own CI are checked for their wiring (see
//! `wiring/checks.rs`), and the check is itself checked — on fixtures that
//! break each rule, and on copies of the real workflows with a misspelled input.

mod checks;
mod drift;
mod model;

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn every_workflow_and_example_is_wired() {
    let problems = checks::check(root());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_knob_of_what_a_reusable_workflow_wraps_is_reachable() {
    let problems = drift::problems(root());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn an_input_left_behind_or_a_stale_omission_is_caught() {
    let callee = "on:\n  workflow_call:\n    inputs:\n      sha: { type: string, required: true }\n      color: { type: string, default: red }\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions: {}\n    steps:\n      - run: echo\n";
    let caller = "on:\n  workflow_call:\n    inputs:\n      sha: { type: string, required: true }\n      checks: { type: string, default: '' }\npermissions: {}\njobs:\n  v:\n    runs-on: ubuntu-latest\n    permissions: {}\n    steps:\n      - uses: deploy-relay/deploy-relay/actions/verify-ci-status@main\n        with:\n          sha: ${{ inputs.sha }}\n          checks: ${{ inputs.checks }}\n          wait: false\n  c:\n    uses: deploy-relay/deploy-relay/.github/workflows/callee.yml@main\n    permissions: {}\n    with:\n      sha: ${{ inputs.sha }}\n";
    let dir = fixture(&[
        (".github/workflows/callee.yml", callee),
        (".github/workflows/wrapper.yml", caller),
    ]);
    let p = drift::problems_with(dir.path(), &[("*", "*", "token", "alias")]);
    for want in [
        "wrapper.yml: input `wait` of verify-ci-status cannot be set",
        "wrapper.yml: input `timeout` of verify-ci-status cannot be set",
        "wrapper.yml: input `color` of call:callee.yml cannot be set",
    ] {
        assert!(
            p.iter().any(|l| l.contains(want)),
            "want `{want}` in {p:#?}"
        );
    }
    assert!(
        !p.iter().any(|l| l.contains("`checks` of verify-ci-status")),
        "forwarded: {p:#?}"
    );
    let p = drift::problems_with(
        dir.path(),
        &[
            ("*", "*", "token", "alias"),
            ("wrapper.yml", "verify-ci-status", "checks", "stale"),
            ("nope.yml", "verify-ci-status", "wait", "unused"),
        ],
    );
    assert!(
        p.iter().any(|l| l.contains(
            "`checks` of verify-ci-status is listed as omitted, but the workflow passes it"
        )),
        "{p:#?}"
    );
    assert!(
        p.iter()
            .any(|l| l.contains("OMITTED lists `wait` of `verify-ci-status` in `nope.yml`")),
        "{p:#?}"
    );
}

/// A repository with our real action metadata and the given workflow files.
fn fixture(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("actions"), &dir.path().join("actions"));
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

const CHECKOUT: &str = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683";

fn problems_of(files: &[(&str, &str)]) -> Vec<String> {
    let dir = fixture(files);
    checks::check(dir.path())
}

#[test]
fn a_well_wired_fixture_passes() {
    let callee = r#"
on:
  workflow_call:
    inputs:
      sha: { type: string, required: true }
      environment: { type: string, default: staging }
    secrets:
      token: { required: true }
    outputs:
      state: { value: "${{ jobs.verify.outputs.state }}" }
permissions: {}
jobs:
  verify:
    runs-on: ubuntu-latest
    permissions: { checks: read, statuses: read }
    outputs:
      state: ${{ steps.ci.outputs.state }}
    steps:
      - id: ci
        uses: deploy-relay/deploy-relay/actions/verify-ci-status@main
        with:
          sha: ${{ inputs.sha }}
"#;
    let caller = r#"
on: push
permissions: {}
jobs:
  deploy:
    permissions: { checks: read, statuses: read }
    uses: deploy-relay/deploy-relay/.github/workflows/callee.yml@main
    with:
      sha: ${{ github.sha }}
    secrets:
      token: ${{ secrets.T }}
  after:
    needs: deploy
    runs-on: ubuntu-latest
    permissions: { contents: read }
    steps:
      - uses: CHECKOUT
      - env:
          STATE: ${{ needs.deploy.outputs.state }}
        run: echo "$STATE"
"#
    .replace("CHECKOUT", CHECKOUT);
    let p = problems_of(&[
        (".github/workflows/callee.yml", callee),
        ("examples/app/.github/workflows/caller.yml", &caller),
    ]);
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn each_rule_is_enforced() {
    let cases: &[(&str, &str)] = &[
        (
            "steps:\n      - uses: deploy-relay/deploy-relay/actions/verify-ci-status@main\n        with:\n          shaa: x",
            "passes `shaa`, which `verify-ci-status` does not declare",
        ),
        (
            "steps:\n      - uses: deploy-relay/deploy-relay/actions/sign-and-call-webhook@main\n        with:\n          url: https://x",
            "does not pass `secret`, which `sign-and-call-webhook` requires",
        ),
        (
            "steps:\n      - id: v\n        uses: deploy-relay/deploy-relay/actions/verify-ci-status@main\n      - env:\n          X: ${{ steps.v.outputs.nope }}\n        run: echo",
            "reads `steps.v.outputs.nope`, which that action does not output",
        ),
        (
            "steps:\n      - env:\n          X: ${{ steps.later.outputs.a }}\n        run: echo\n      - id: later\n        run: echo",
            "reads `steps.later`, which is no earlier step",
        ),
        (
            "steps:\n      - run: echo ${{ github.event.head_commit.message }}",
            "expression inside `run:`",
        ),
        (
            "steps:\n      - uses: actions/checkout@v4",
            "not pinned by a commit SHA",
        ),
    ];
    for (steps, want) in cases {
        let w = format!(
            "on: push\npermissions: {{}}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    permissions: {{ checks: read, statuses: read, contents: read }}\n    {steps}\n"
        );
        let p = problems_of(&[(".github/workflows/w.yml", &w)]);
        assert!(
            p.iter().any(|l| l.contains(want)),
            "want `{want}` in {p:#?}"
        );
    }
    // Permissions: missing, too little, too much.
    let perms = |granted: &str| {
        format!(
            "on: push\npermissions: {{}}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    {granted}\n    steps:\n      - uses: deploy-relay/deploy-relay/actions/monitor-health@main\n        with:\n          urls: https://x\n          create-issue: true\n"
        )
    };
    let p = problems_of(&[(
        ".github/workflows/w.yml",
        &perms("permissions: { issues: read }"),
    )]);
    assert!(
        p.iter().any(|l| l.contains("needs `issues: write`")),
        "{p:#?}"
    );
    let p = problems_of(&[(
        ".github/workflows/w.yml",
        &perms("permissions: { issues: write, contents: write }"),
    )]);
    assert!(
        p.iter()
            .any(|l| l.contains("grants `contents: write`, more than")),
        "{p:#?}"
    );
    let p = problems_of(&[(".github/workflows/w.yml", &perms("permissions: write-all"))]);
    assert!(p.iter().any(|l| l.contains("blanket")), "{p:#?}");
    let p = problems_of(&[(
        ".github/workflows/w.yml",
        "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n",
    )]);
    assert!(
        p.iter().any(|l| l.contains("no top-level `permissions:`")),
        "{p:#?}"
    );
}

#[test]
fn verify_provenance_needs_attestations_read_unless_off_or_another_token() {
    let step = |granted: &str, with: &str| {
        format!(
            "on: push\npermissions: {{}}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    {granted}\n    steps:\n      - uses: deploy-relay/deploy-relay/actions/verify-provenance@main\n        with:\n          images: x=y\n{with}"
        )
    };
    let p = problems_of(&[(".github/workflows/w.yml", &step("permissions: {}", ""))]);
    assert!(
        p.iter().any(|l| l.contains("needs `attestations: read`")),
        "{p:#?}"
    );
    for (granted, with) in [
        ("permissions: { attestations: read }", ""),
        ("permissions: {}", "          provenance: off\n"),
        (
            "permissions: {}",
            "          github-token: ${{ secrets.APP }}\n",
        ),
    ] {
        let p = problems_of(&[(".github/workflows/w.yml", &step(granted, with))]);
        assert!(p.is_empty(), "{granted} {with}: {p:#?}");
    }
}

#[test]
fn fleet_deploy_needs_deployments_and_issues_write_unless_an_app() {
    let step = |granted: &str, with: &str| {
        format!(
            "on: push\npermissions: {{}}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    {granted}\n    steps:\n      - uses: deploy-relay/deploy-relay/actions/fleet-deploy@main\n        with:\n          environment: production\n          secrets: ${{{{ toJSON(secrets) }}}}\n{with}"
        )
    };
    let p = problems_of(&[(".github/workflows/w.yml", &step("permissions: {}", ""))]);
    for want in ["needs `deployments: write`", "needs `issues: write`"] {
        assert!(
            p.iter().any(|l| l.contains(want)),
            "want `{want}` in {p:#?}"
        );
    }
    for (granted, with) in [
        ("permissions: { deployments: write, issues: write }", ""),
        (
            "permissions: { deployments: write }",
            "          create-issue: false\n",
        ),
        (
            "permissions: {}",
            "          github-app-id: ${{ secrets.APP_ID }}\n          github-app-private-key: ${{ secrets.APP_KEY }}\n",
        ),
    ] {
        let p = problems_of(&[(".github/workflows/w.yml", &step(granted, with))]);
        assert!(p.is_empty(), "{granted} {with}: {p:#?}");
    }
}

#[test]
fn calls_of_reusable_workflows_are_checked() {
    let callee = "on:\n  workflow_call:\n    inputs:\n      sha: { type: string, required: true }\n    secrets:\n      token: { required: true }\n    outputs:\n      state: { value: \"${{ jobs.nope.outputs.state }}\" }\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions: { deployments: write }\n    steps:\n      - run: echo ${{ secrets.undeclared }}\n";
    let caller = "on: push\npermissions: {}\njobs:\n  c:\n    permissions: {}\n    uses: deploy-relay/deploy-relay/.github/workflows/callee.yml@main\n    with:\n      shaa: x\n  d:\n    needs: c\n    runs-on: ubuntu-latest\n    permissions: {}\n    steps:\n      - env:\n          X: ${{ needs.c.outputs.other }}\n        run: echo\n";
    let p = problems_of(&[
        (".github/workflows/callee.yml", callee),
        (".github/workflows/caller.yml", caller),
    ]);
    for want in [
        "passes `shaa` to `callee.yml`, which does not declare it",
        "does not pass `sha`, which `callee.yml` requires",
        "does not pass secret `token`",
        "needs `deployments: write`",
        "`needs.c.outputs.other`, which job `c` does not declare",
        "reads `jobs.nope.outputs.state`, which does not exist",
        "reads `secrets.undeclared`",
    ] {
        assert!(
            p.iter().any(|l| l.contains(want)),
            "want `{want}` in {p:#?}"
        );
    }
}

/// Every workflow file of the repository that passes inputs to one of our
/// actions or reusable workflows.
fn wired_files() -> Vec<PathBuf> {
    model::workflow_files(root())
        .into_iter()
        .filter(|f| first_our_with(&std::fs::read_to_string(f).unwrap()).is_some())
        .collect()
}

/// The line index of the first key under a `with:` that follows a `uses:`
/// of ours.
fn first_our_with(text: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start().trim_start_matches("- ");
        if t.starts_with("uses:")
            && (t.contains("deploy-relay/deploy-relay") || t.contains("./actions/"))
        {
            for (k, next) in lines.iter().enumerate().skip(i + 1) {
                let n = next.trim();
                if n == "with:" {
                    return lines
                        .get(k + 1)
                        .filter(|kv| kv.trim().contains(':'))
                        .map(|_| k + 1);
                }
                if n.starts_with("- ") || n.starts_with("uses:") {
                    break;
                }
            }
        }
    }
    None
}

/// Non-blank, non-comment lines of a workflow file.
fn yaml_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

/// The app side of each seed's example: at most 20 lines.
const APP_SIDE: &[&str] = &[
    "examples/app-repo/.github/workflows/deploy-dispatch.yaml",
    "examples/app-repo-notify/.github/workflows/trigger-central-cicd.yml",
    "examples/web-repo/.github/workflows/deploy-dispatch.yaml",
];
/// The platform side (and a repository that builds and deploys itself): at
/// most 40 lines.
const PLATFORM_SIDE: &[&str] = &[
    "examples/platform-repo/.github/workflows/deploy.yml",
    "examples/platform-repo/.github/workflows/rollback.yml",
    "examples/platform-repo/.github/workflows/deploy-web.yml",
    "examples/central-repo/.github/workflows/central-cicd.yml",
    "examples/multi-tenant-platform/.github/workflows/deploy-project.yml",
    "examples/on-prem-app/.github/workflows/deploy.yml",
    "examples/fleet/.github/workflows/deploy.yml",
];
/// The team's own build, shown for the handover, not counted.
const BUILDS: &[&str] = &["examples/app-repo/.github/workflows/main.yaml"];

#[test]
fn every_example_is_as_short_as_the_readme_says() {
    // README "Get started": app side within 20 lines, platform side within
    // 40; README names each example with its count, and shows the Get
    // started pair as they are.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut classified: Vec<&str> = Vec::new();
    for (files, limit) in [(APP_SIDE, 20), (PLATFORM_SIDE, 40)] {
        for name in files {
            let file = root().join(name);
            let n = yaml_lines(&file);
            assert!(n <= limit, "{name} has {n} lines, over {limit}");
            assert!(
                readme.contains(&format!("]({name}) ({n} lines")),
                "README should link `{name}` with its count ({n} lines)"
            );
            classified.push(name);
        }
    }
    classified.extend(BUILDS);
    for f in model::workflow_files(root()) {
        let rel = f.strip_prefix(root()).unwrap().display().to_string();
        if rel.starts_with("examples/") {
            assert!(
                classified.contains(&rel.as_str()),
                "{rel} is an example of no side: list it in APP_SIDE, PLATFORM_SIDE or BUILDS"
            );
        }
    }
    for name in [APP_SIDE[0], PLATFORM_SIDE[0]] {
        let file = root().join(name);
        let n = yaml_lines(&file);
        assert!(
            readme.contains(&format!("`{name}` ({n} lines)")),
            "README's Get started should name `{name}` ({n} lines)"
        );
        assert!(
            readme.contains(&std::fs::read_to_string(&file).unwrap()),
            "README's Get started shows `{name}` as it is in examples/"
        );
    }
}

#[test]
fn a_misspelled_input_in_any_real_workflow_is_caught() {
    let files = wired_files();
    assert!(
        files.len() >= 8,
        "the reusable workflows and the examples: {files:?}"
    );
    for file in files {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&root().join("actions"), &dir.path().join("actions"));
        std::fs::copy(root().join("action.yml"), dir.path().join("action.yml")).ok();
        copy_dir(&root().join(".github"), &dir.path().join(".github"));
        if root().join("examples").exists() {
            copy_dir(&root().join("examples"), &dir.path().join("examples"));
        }
        let rel = file.strip_prefix(root()).unwrap();
        let copy = dir.path().join(rel);
        let text = std::fs::read_to_string(&copy).unwrap();
        let line = first_our_with(&text).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let (key, rest) = lines[line].split_once(':').unwrap();
        let (key, rest) = (key.to_owned(), rest.to_owned());
        lines[line] = format!("{key}-misspelled:{rest}");
        std::fs::write(&copy, lines.join("\n")).unwrap();
        let p = checks::check(dir.path());
        assert!(
            p.iter()
                .any(|l| l.contains("-misspelled") && l.contains(&rel.display().to_string())),
            "misspelling `{}` in {} went unnoticed: {p:#?}",
            key.trim(),
            rel.display()
        );
    }
}
