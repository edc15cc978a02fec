//! What actionlint and zizmor cannot see in release.yml and ci.yml, read
//! from the YAML: every job has a `timeout-minutes` (the default is 360
//! minutes); every podman call of a job runs on the one storage driver the
//! job sets (`STORAGE_DRIVER` job-wide: podman refuses a second driver once
//! its database has a first, a login included); no script pushes a git
//! ref that starts a workflow of ours (a push with a personal access token
//! starts the workflows it matches, unlike GITHUB_TOKEN's) nor forces one;
//! a secret other than GITHUB_TOKEN is read by one step's `env:`, in the
//! job of the environment `release` and in no other job, and that job
//! checks nothing out, builds nothing, runs no action but
//! download-artifact and runs git with hooks off; no script runs
//! `cargo test` with a filter except through scripts/cargo-test-filtered.sh.
//!
//! Each rule is shown to fail: on small workflows that break it, and on
//! copies of the real workflows with the defect put back.

use std::collections::BTreeMap;

use regex::Regex;
use yaml_rust2::{Yaml, YamlLoader};

use super::root;

/// The environment the release token lives in.
const ENVIRONMENT: &str = "release";

/// Problems of `checked` (file name, text), as `file: what` lines. The
/// triggers pushes are checked against are those of `checked` and `others`.
pub fn check(checked: &[(&str, &str)], others: &[(&str, &str)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut docs = Vec::new();
    for (name, text) in checked.iter().chain(others) {
        match YamlLoader::load_from_str(text) {
            Ok(mut d) if !d.is_empty() => docs.push((name.to_string(), d.remove(0))),
            _ => problems.push(format!("{name}: not YAML")),
        }
    }
    let triggers: Vec<Trigger> = docs.iter().flat_map(|(n, d)| triggers(n, d)).collect();
    let mut environment_jobs = Vec::new();
    for (name, doc) in docs.iter().take(checked.len()) {
        let mut say = |what: String| problems.push(format!("{name}: {what}"));
        let workflow_env = env_of(&doc["env"]);
        for (key, value) in hash(doc) {
            if key != "jobs" && !secrets(value).is_empty() {
                say(format!(
                    "`{key}:` reads {}: a secret belongs in the `env:` of the one step that needs it",
                    secrets(value).join(", ")
                ));
            }
        }
        for (id, job) in hash(&doc["jobs"]) {
            let j = Job::new(id.clone(), job, &workflow_env);
            j.timeout(&mut say);
            j.podman(&mut say);
            j.pushes(&triggers, &mut say);
            j.filtered_tests(&mut say);
            if j.token(&mut say) {
                environment_jobs.push(format!("{name}: job `{id}`"));
            }
        }
    }
    if environment_jobs.len() > 1 {
        problems.push(format!(
            "more than one job holds a secret in the environment `{ENVIRONMENT}`: {}",
            environment_jobs.join(", ")
        ));
    }
    problems
}

/// The problems of this repository's release.yml and ci.yml.
pub fn check_this_repository() -> Vec<String> {
    let dir = root().join(".github/workflows");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let (release, ci) = (read("release.yml"), read("ci.yml"));
    let others: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| {
            (f.ends_with(".yml") || f.ends_with(".yaml")) && f != "release.yml" && f != "ci.yml"
        })
        .map(|f| (f.clone(), read(&f)))
        .collect();
    let others: Vec<(&str, &str)> = others
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    check(&[("release.yml", &release), ("ci.yml", &ci)], &others)
}

fn hash(y: &Yaml) -> Vec<(String, &Yaml)> {
    match y {
        Yaml::Hash(h) => h
            .iter()
            .filter_map(|(k, v)| k.as_str().map(|k| (k.to_owned(), v)))
            .collect(),
        _ => Vec::new(),
    }
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn env_of(y: &Yaml) -> BTreeMap<String, String> {
    hash(y)
        .into_iter()
        .map(|(k, v)| (k, scalar(v).unwrap_or_default()))
        .collect()
}

/// Every string under `y`.
fn strings(y: &Yaml, out: &mut Vec<String>) {
    match y {
        Yaml::Hash(h) => h.iter().for_each(|(k, v)| {
            strings(k, out);
            strings(v, out);
        }),
        Yaml::Array(a) => a.iter().for_each(|v| strings(v, out)),
        other => out.extend(scalar(other)),
    }
}

/// The secrets other than GITHUB_TOKEN that `y` reads.
fn secrets(y: &Yaml) -> Vec<String> {
    let re = Regex::new(r"secrets\.([A-Za-z0-9_]+)").unwrap();
    let mut texts = Vec::new();
    strings(y, &mut texts);
    let mut found: Vec<String> = texts
        .iter()
        .flat_map(|t| {
            re.captures_iter(t)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|s| s != "GITHUB_TOKEN")
        .collect();
    found.sort();
    found.dedup();
    found
}

struct Step<'a> {
    yaml: &'a Yaml,
    run: Option<String>,
    uses: Option<String>,
    env: BTreeMap<String, String>,
}

struct Job<'a> {
    id: String,
    yaml: &'a Yaml,
    /// The workflow's `env:` and the job's, the job's winning.
    env: BTreeMap<String, String>,
    steps: Vec<Step<'a>>,
}

/// The commands a `run:` script starts that run podman.
fn runs_podman(line: &str) -> bool {
    let re = Regex::new(r#"(^|[\s;&|(`"'])(podman|scripts/image\.sh|scripts/release-dry-run\.sh|scripts/test\.sh|\.ci/run)(\s|$)"#).unwrap();
    re.is_match(line) && !line.contains("--context") && !line.contains("--entrypoints")
}

/// Whether `line` starts git.
fn runs_git(line: &str) -> bool {
    Regex::new(r#"(^|[\s;&|(`"'])git(\s|$|\))"#)
        .unwrap()
        .is_match(line)
}

impl<'a> Job<'a> {
    fn new(id: String, yaml: &'a Yaml, workflow_env: &BTreeMap<String, String>) -> Self {
        let mut env = workflow_env.clone();
        env.extend(env_of(&yaml["env"]));
        let steps = yaml["steps"]
            .as_vec()
            .map(|v| {
                v.iter()
                    .map(|s| Step {
                        yaml: s,
                        run: scalar(&s["run"]),
                        uses: scalar(&s["uses"]),
                        env: env_of(&s["env"]),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Job {
            id,
            yaml,
            env,
            steps,
        }
    }

    fn lines(&self) -> impl Iterator<Item = &str> {
        self.steps
            .iter()
            .filter_map(|s| s.run.as_deref())
            .flat_map(str::lines)
    }

    fn timeout(&self, say: &mut impl FnMut(String)) {
        if self.yaml["uses"] != Yaml::BadValue {
            return; // A reusable workflow's call: its jobs carry their own.
        }
        if scalar(&self.yaml["timeout-minutes"]).is_none() {
            say(format!(
                "job `{}` has no `timeout-minutes` (the default is 360 minutes)",
                self.id
            ));
        }
    }

    fn podman(&self, say: &mut impl FnMut(String)) {
        let calls: Vec<&str> = self.lines().filter(|l| runs_podman(l)).collect();
        if calls.is_empty() {
            return;
        }
        let Some(driver) = self.env.get("STORAGE_DRIVER") else {
            return say(format!(
                "job `{}` runs podman (`{}`) without `STORAGE_DRIVER` in the job's `env:`: each call may pick its own storage driver",
                self.id,
                calls[0].trim()
            ));
        };
        let flag = Regex::new(r"--storage-driver[= ]+([A-Za-z0-9_$\x22{}-]+)").unwrap();
        for line in &calls {
            for c in flag.captures_iter(line) {
                if c[1].trim_matches('"') != driver {
                    say(format!(
                        "job `{}` mixes storage drivers: `{}` in a job whose STORAGE_DRIVER is `{driver}`",
                        self.id,
                        line.trim()
                    ));
                }
            }
        }
        for step in &self.steps {
            if let Some(other) = step.env.get("STORAGE_DRIVER").filter(|d| *d != driver) {
                say(format!(
                    "job `{}` mixes storage drivers: a step sets STORAGE_DRIVER `{other}`, the job `{driver}`",
                    self.id
                ));
            }
        }
    }

    fn pushes(&self, triggers: &[Trigger], say: &mut impl FnMut(String)) {
        let push = Regex::new(r"\bpush\b").unwrap();
        let unnamed = Regex::new(r#"--(tags|all|mirror)\b"#).unwrap();
        let force = Regex::new(r#"(--force($|[\s"'])|\s-f(\s|$)|[\s"']\+refs/)"#).unwrap();
        let tag_force = Regex::new(r"\btag\s+(-\S+\s+)*-f\b").unwrap();
        // Every ref a pushing script names, with each variable set to what
        // a release's variables hold.
        let refs = Regex::new(r#"refs/(heads|tags)/[^\s"':)]+"#).unwrap();
        let var = Regex::new(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?").unwrap();
        for step in &self.steps {
            let Some(run) = &step.run else { continue };
            let push_lines: Vec<&str> = run
                .lines()
                .filter(|l| push.is_match(l) && (runs_git(l) || l.contains("${git[@]}")))
                .collect();
            if push_lines.is_empty() {
                continue;
            }
            for line in &push_lines {
                if unnamed.is_match(line) {
                    say(format!(
                        "job `{}` pushes refs it does not name: `{}`",
                        self.id,
                        line.trim()
                    ));
                }
                if force.is_match(line) {
                    say(format!("job `{}` force-pushes: `{}`", self.id, line.trim()));
                }
            }
            for line in run.lines() {
                if tag_force.is_match(line) {
                    say(format!(
                        "job `{}` moves a tag by force: `{}`",
                        self.id,
                        line.trim()
                    ));
                }
            }
            for m in refs.find_iter(run) {
                for sample in ["v1.2.3", "v1", "1.2.3", "main", "releases/v1.2.3"] {
                    let pushed = var.replace_all(m.as_str(), sample).into_owned();
                    if let Some(t) = triggers.iter().find(|t| t.starts_on(&pushed)) {
                        say(format!(
                            "job `{}` pushes `{}` (e.g. `{pushed}`), which starts {}",
                            self.id,
                            m.as_str(),
                            t.file
                        ));
                        break;
                    }
                }
            }
        }
    }

    fn filtered_tests(&self, say: &mut impl FnMut(String)) {
        let re = Regex::new(r"cargo\s+test\b.*\s[A-Za-z_][A-Za-z0-9_]*::").unwrap();
        for line in self.lines() {
            if re.is_match(line) {
                say(format!(
                    "job `{}` runs `cargo test` with a filter, which passes when the filter matches nothing: `{}`; use scripts/cargo-test-filtered.sh",
                    self.id,
                    line.trim()
                ));
            }
        }
    }

    /// The secret rules; whether this job is the one holding a secret.
    fn token(&self, say: &mut impl FnMut(String)) -> bool {
        let id = &self.id;
        let environment =
            scalar(&self.yaml["environment"]).or_else(|| scalar(&self.yaml["environment"]["name"]));
        for (key, value) in hash(self.yaml) {
            if key != "steps" && !secrets(value).is_empty() {
                say(format!(
                    "job `{id}` reads {} in `{key}:`, job-wide: a secret belongs in the `env:` of the one step that needs it",
                    secrets(value).join(", ")
                ));
            }
        }
        let mut holds = Vec::new();
        for (n, step) in self.steps.iter().enumerate() {
            for (key, value) in hash(step.yaml) {
                let found = secrets(value);
                if found.is_empty() {
                    continue;
                }
                if key == "env" {
                    holds.extend(found);
                } else {
                    say(format!(
                        "job `{id}` step {} hands {} to `{key}:`: a secret goes to a script through `env:` only",
                        n + 1,
                        found.join(", ")
                    ));
                }
            }
        }
        if holds.is_empty() {
            if environment.as_deref() == Some(ENVIRONMENT) {
                say(format!(
                    "job `{id}` uses the environment `{ENVIRONMENT}` but reads no secret of it: only the pushing job may"
                ));
            }
            return false;
        }
        let secret = holds.join(", ");
        if environment.as_deref() != Some(ENVIRONMENT) {
            say(format!(
                "job `{id}` reads {secret} outside the environment `{ENVIRONMENT}` (any branch's workflow could read a repository secret)"
            ));
        }
        let build = Regex::new(
            r#"(^|[\s;&|(`"'])(cargo|rustc|rustup|make|cmake|npm|npx|yarn|pnpm|pip3?|python3?|go|mvn|gradle|docker|podman|bash|sh|\./\S+|scripts/\S+|\.ci/\S+)(\s|$)"#,
        )
        .unwrap();
        for line in self.lines() {
            if let Some(m) = build.find(line) {
                say(format!(
                    "job `{id}` holds {secret} and runs a build step or a script of the repository (`{}`): build in another job and hand over a git bundle",
                    m.as_str().trim()
                ));
            }
            if runs_git(line) && !line.contains("core.hooksPath=/dev/null") {
                say(format!(
                    "job `{id}` holds {secret} and runs git with hooks on: `{}` (pass -c core.hooksPath=/dev/null)",
                    line.trim()
                ));
            }
        }
        for step in &self.steps {
            if let Some(uses) = &step.uses
                && !uses.starts_with("actions/download-artifact@")
            {
                say(format!(
                    "job `{id}` holds {secret} and runs `{uses}`: the pushing job runs no code but git (download-artifact aside)"
                ));
            }
        }
        true
    }
}

/// What of `on:` a git push can start: `push` (with its filters) and `create`.
struct Trigger {
    file: String,
    /// `None`: no filter of that kind.
    branches: Option<Filter>,
    tags: Option<Filter>,
    create: bool,
}

struct Filter {
    patterns: Vec<String>,
    ignore: bool,
}

fn triggers(file: &str, doc: &Yaml) -> Vec<Trigger> {
    let on = &doc["on"];
    let names: Vec<String> = match on {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Array(a) => a.iter().filter_map(scalar).collect(),
        Yaml::Hash(_) => hash(on).into_iter().map(|(k, _)| k).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    let list = |y: &Yaml| -> Vec<String> {
        match y {
            Yaml::Array(a) => a.iter().filter_map(scalar).collect(),
            other => scalar(other).into_iter().collect(),
        }
    };
    for name in names {
        let filter = |key: &str| -> Option<Filter> {
            let push = &on["push"];
            if push[key] != Yaml::BadValue {
                return Some(Filter {
                    patterns: list(&push[key]),
                    ignore: false,
                });
            }
            let ignore = format!("{key}-ignore");
            (push[ignore.as_str()] != Yaml::BadValue).then(|| Filter {
                patterns: list(&push[ignore.as_str()]),
                ignore: true,
            })
        };
        match name.as_str() {
            "push" => out.push(Trigger {
                file: format!("{file} (on: push)"),
                branches: filter("branches"),
                tags: filter("tags"),
                create: false,
            }),
            "create" => out.push(Trigger {
                file: format!("{file} (on: create)"),
                branches: None,
                tags: None,
                create: true,
            }),
            _ => {}
        }
    }
    out
}

impl Trigger {
    /// Whether pushing `git_ref` (`refs/heads/…`, `refs/tags/…`) starts it.
    fn starts_on(&self, git_ref: &str) -> bool {
        if self.create {
            return true;
        }
        let (name, mine, other) = if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
            (tag, &self.tags, &self.branches)
        } else if let Some(branch) = git_ref.strip_prefix("refs/heads/") {
            (branch, &self.branches, &self.tags)
        } else {
            return false;
        };
        match mine {
            // Filters only of the other kind: this kind never starts it.
            None => other.is_none(),
            Some(f) => f.admits(name),
        }
    }
}

impl Filter {
    fn admits(&self, name: &str) -> bool {
        let mut admitted = false;
        for p in &self.patterns {
            let (negated, p) = p
                .strip_prefix('!')
                .map_or((false, p.as_str()), |p| (true, p));
            if glob(p).is_match(name) {
                admitted = !negated;
            }
        }
        if self.ignore { !admitted } else { admitted }
    }
}

/// GitHub's filter pattern as a regex: `*` any but `/`, `**` anything, `?`
/// and `+` quantify the character before, `[…]` a class.
fn glob(pattern: &str) -> Regex {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                re.push_str(".*");
                i += 1;
            }
            '*' => re.push_str("[^/]*"),
            '?' | '+' => re.push(chars[i]),
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|c| *c == ']')
                    .map_or(chars.len(), |e| i + e);
                re.extend(&chars[i..=end.min(chars.len() - 1)]);
                i = end;
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    Regex::new(&re).unwrap_or_else(|_| Regex::new("^$").unwrap())
}

#[test]
fn the_release_workflows_keep_every_rule() {
    let problems = check_this_repository();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A well-behaved pushing workflow: each bad snippet below breaks one rule of it.
const GOOD: &str = r#"
on:
  workflow_dispatch:
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    env:
      STORAGE_DRIVER: vfs
    steps:
      - run: |
          printf '%s' "$T" | podman login ghcr.io -u me --password-stdin
          scripts/image.sh --publish ghcr.io/me/x v1
          scripts/cargo-test-filtered.sh -p x --test it -- container::
  push:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    environment: release
    steps:
      - uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c
      - env:
          RELEASE_TOKEN: ${{ secrets.RELEASE_TOKEN }}
        run: |
          git=(git -c core.hooksPath=/dev/null)
          "${git[@]}" push --atomic origin "refs/tags/$TAG" "--force-with-lease=refs/tags/$MAJOR:$WAS" "refs/tags/$MAJOR"
"#;

fn problems_of(release: &str) -> String {
    check(&[("release.yml", release)], &[]).join("\n")
}

#[test]
fn each_rule_fails_on_a_workflow_that_breaks_it() {
    assert_eq!(problems_of(GOOD), "");
    let cases: &[(&str, &str, &str)] = &[
        (
            "    timeout-minutes: 5\n",
            "",
            "job `push` has no `timeout-minutes`",
        ),
        (
            "    env:\n      STORAGE_DRIVER: vfs\n",
            "",
            "job `build` runs podman (`printf '%s' \"$T\" | podman login",
        ),
        (
            "scripts/image.sh --publish",
            "podman --storage-driver overlay images\n          scripts/image.sh --publish",
            "job `build` mixes storage drivers: `podman --storage-driver overlay images`",
        ),
        (
            "      - run: |\n          printf",
            "      - env:\n          STORAGE_DRIVER: overlay\n        run: |\n          printf",
            "a step sets STORAGE_DRIVER `overlay`, the job `vfs`",
        ),
        (
            "  workflow_dispatch:\n",
            "  push:\n    tags: [\"v[0-9]+.[0-9]+.[0-9]+\"]\n",
            "pushes `refs/tags/$TAG` (e.g. `refs/tags/v1.2.3`), which starts release.yml (on: push)",
        ),
        (
            "  workflow_dispatch:\n",
            "  push:\n",
            "pushes `refs/tags/$TAG`",
        ),
        (
            "  workflow_dispatch:\n",
            "  create:\n",
            "which starts release.yml (on: create)",
        ),
        (
            "--atomic origin",
            "--atomic --force origin",
            "job `push` force-pushes",
        ),
        (
            "\"refs/tags/$TAG\"",
            "\"+refs/tags/$TAG\"",
            "job `push` force-pushes",
        ),
        (
            "--atomic origin",
            "--tags origin",
            "pushes refs it does not name",
        ),
        (
            "    environment: release\n",
            "",
            "job `push` reads RELEASE_TOKEN outside the environment `release`",
        ),
        (
            "      - env:\n          RELEASE_TOKEN",
            "      - run: cargo build --release\n      - env:\n          RELEASE_TOKEN",
            "job `push` holds RELEASE_TOKEN and runs a build step or a script of the repository (`cargo`)",
        ),
        (
            "      - env:\n          RELEASE_TOKEN",
            "      - run: scripts/dist.sh x86_64-unknown-linux-gnu\n      - env:\n          RELEASE_TOKEN",
            "runs a build step or a script of the repository (`scripts/dist.sh`)",
        ),
        (
            "      - uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c\n",
            "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n",
            "holds RELEASE_TOKEN and runs `actions/checkout@",
        ),
        (
            "git=(git -c core.hooksPath=/dev/null)",
            "git=(git)",
            "runs git with hooks on: `git=(git)`",
        ),
        (
            "    environment: release\n",
            "    environment: release\n    env:\n      T: ${{ secrets.RELEASE_TOKEN }}\n",
            "job `push` reads RELEASE_TOKEN in `env:`, job-wide",
        ),
        (
            "permissions: {}\n",
            "permissions: {}\nenv:\n  T: ${{ secrets.RELEASE_TOKEN }}\n",
            "`env:` reads RELEASE_TOKEN",
        ),
        (
            "    env:\n      STORAGE_DRIVER: vfs\n",
            "    environment: release\n    env:\n      STORAGE_DRIVER: vfs\n",
            "job `build` uses the environment `release` but reads no secret of it",
        ),
        (
            "scripts/cargo-test-filtered.sh -p x --test it -- container::",
            "cargo test -p x --test it container::",
            "job `build` runs `cargo test` with a filter",
        ),
    ];
    for (from, to, problem) in cases {
        assert!(GOOD.contains(from), "the snippet has no `{from}`");
        let bad = GOOD.replacen(from, to, 1);
        let p = problems_of(&bad);
        assert!(
            p.contains(problem),
            "`{from}` → `{to}`: expected `{problem}`, got:\n{p}"
        );
    }
    // A trigger in another workflow counts as much as one in the pushing one.
    let other = "on:\n  push:\n    branches: ['releases/**']\njobs: {}\n";
    let p = check(
        &[(
            "release.yml",
            GOOD.replace("refs/tags/$TAG", "refs/heads/releases/$TAG")
                .as_str(),
        )],
        &[("other.yml", other)],
    )
    .join("\n");
    assert!(p.contains("which starts other.yml (on: push)"), "{p}");
    // Branch filters alone: a tag push starts nothing.
    let p = check(
        &[("release.yml", GOOD)],
        &[("ci.yml", "on:\n  push:\n    branches: [main]\njobs: {}\n")],
    )
    .join("\n");
    assert_eq!(p, "");
}

#[test]
fn each_rule_fails_on_the_real_workflows_with_the_defect_put_back() {
    let dir = root().join(".github/workflows");
    let release = std::fs::read_to_string(dir.join("release.yml")).unwrap();
    let ci = std::fs::read_to_string(dir.join("ci.yml")).unwrap();
    let run = |release: &str, ci: &str| {
        check(&[("release.yml", release), ("ci.yml", ci)], &[]).join("\n")
    };
    assert_eq!(run(&release, &ci), "");
    let release_cases: &[(&str, &str, &str)] = &[
        // The tag trigger of before: the push of the version tag would start a second release.
        (
            "  workflow_dispatch:\n",
            "  push:\n    tags: [\"v[0-9]+.[0-9]+.[0-9]+\"]\n  workflow_dispatch:\n",
            "job `push` pushes `refs/tags/$TAG` (e.g. `refs/tags/v1.2.3`), which starts release.yml (on: push)",
        ),
        (
            "    timeout-minutes: 10\n    # The only job",
            "    # The only job",
            "job `push` has no `timeout-minutes`",
        ),
        (
            "    environment:\n      name: release\n",
            "",
            "job `push` reads RELEASE_TOKEN outside the environment `release`",
        ),
        (
            "      - id: push\n        name: Push releases",
            "      - run: cargo test --locked\n      - id: push\n        name: Push releases",
            "job `push` holds RELEASE_TOKEN and runs a build step",
        ),
        (
            "    steps:\n      - uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1\n        with:\n          name: release-bundle\n          path: ${{ runner.temp }}/release-bundle\n      # No checkout",
            "    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n      # No checkout",
            "job `push` holds RELEASE_TOKEN and runs `actions/checkout@",
        ),
        (
            "git=(git -C \"$repo\" -c core.hooksPath=/dev/null",
            "git=(git -C \"$repo\"",
            "job `push` holds RELEASE_TOKEN and runs git with hooks on",
        ),
        (
            "\"${git[@]}\" push -q --atomic",
            "\"${git[@]}\" push -q --force --atomic",
            "job `push` force-pushes",
        ),
        (
            "    env:\n      # Every podman call of the job, the login included, on one storage\n      # driver: podman refuses a second one once its database has a first.\n      STORAGE_DRIVER: vfs\n",
            "",
            "job `image` runs podman (`printf '%s' \"$GITHUB_TOKEN\" | podman login ghcr.io",
        ),
        (
            "          scripts/cargo-test-filtered.sh --locked -p deploy-relay --test it -- metadata:: release::this_checkout\n",
            "          cargo test --locked -p deploy-relay --test it -- metadata:: release::this_checkout\n",
            "job `pin` runs `cargo test` with a filter",
        ),
    ];
    for (from, to, problem) in release_cases {
        assert!(release.contains(from), "release.yml has no `{from}`");
        let p = run(&release.replacen(from, to, 1), &ci);
        assert!(
            p.contains(problem),
            "release.yml `{from}` → `{to}`: expected `{problem}`, got:\n{p}"
        );
    }
    // The image job's environment, given to the build job too.
    let p = run(
        &release.replacen(
            "    timeout-minutes: 45\n",
            "    timeout-minutes: 45\n    environment: release\n",
            1,
        ),
        &ci,
    );
    assert!(
        p.contains("job `pin` uses the environment `release` but reads no secret of it"),
        "{p}"
    );
    let ci_cases: &[(&str, &str, &str)] = &[
        (
            "    timeout-minutes: 20\n",
            "",
            "job `publish-main` has no `timeout-minutes`",
        ),
        (
            "    env:\n      # Every podman call of the job, the login included, on one storage\n      # driver: podman refuses a second one once its database has a first.\n      STORAGE_DRIVER: vfs\n",
            "",
            "job `publish-main` runs podman",
        ),
        (
            "          scripts/image.sh --publish",
            "          podman --storage-driver overlay info\n          scripts/image.sh --publish",
            "job `publish-main` mixes storage drivers",
        ),
        (
            "      STORAGE_DRIVER: vfs\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          persist-credentials: false\n      - run: bash .ci/run",
            "    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          persist-credentials: false\n      - run: bash .ci/run",
            "job `test` runs podman (`bash .ci/run`)",
        ),
        (
            "scripts/cargo-test-filtered.sh --locked -p deploy-relay --test it -- container::",
            "cargo test --locked -p deploy-relay --test it container::",
            "job `container` runs `cargo test` with a filter",
        ),
    ];
    for (from, to, problem) in ci_cases {
        assert!(ci.contains(from), "ci.yml has no `{from}`");
        let p = run(&release, &ci.replacen(from, to, 1));
        assert!(
            p.contains(problem),
            "ci.yml `{from}` → `{to}`: expected `{problem}`, got:\n{p}"
        );
    }
}

#[test]
fn the_suite_runs_filtered_tests_only_through_the_checking_script() {
    let text = std::fs::read_to_string(root().join("scripts/test.sh")).unwrap();
    let re = Regex::new(r"cargo\s+test\b[^\n]*\s[A-Za-z_][A-Za-z0-9_]*::").unwrap();
    let direct: Vec<&str> = text
        .lines()
        .filter(|l| re.is_match(l) && !l.trim_start().starts_with('#'))
        .collect();
    assert!(
        direct.is_empty(),
        "scripts/test.sh runs filtered tests directly: {direct:?}"
    );
    assert!(
        text.contains("scripts/cargo-test-filtered.sh"),
        "scripts/test.sh runs no filtered test"
    );
    // image.sh runs podman on the job's storage driver, never a fixed one.
    let image = std::fs::read_to_string(root().join("scripts/image.sh")).unwrap();
    let podman: Vec<&str> = image
        .lines()
        .filter(|l| l.contains("command podman"))
        .collect();
    assert_eq!(
        podman,
        ["podman() { command podman --storage-driver \"$STORAGE_DRIVER\" \"$@\"; }"]
    );
}
