//! A throwaway repository of workflows, and runners over it whose one
//! action (`./actions/echo`) is a shell script.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use relay_runner::{Runner, WorkflowRecord};
use serde_json::{Map, Value};

pub struct Repo {
    dir: tempfile::TempDir,
    runners: AtomicUsize,
}

const ECHO: &str = r#"
name: echo
inputs:
  word: { required: true }
  fail: { default: "false" }
runs: { using: docker, image: docker://x }
"#;

impl Repo {
    pub fn new() -> Self {
        let repo = Self {
            dir: tempfile::tempdir().unwrap(),
            runners: AtomicUsize::new(0),
        };
        repo.write("actions/echo/action.yml", ECHO);
        repo
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// A file of the repository.
    pub fn write(&self, path: &str, text: &str) {
        let p = self.root().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// `.github/workflows/<name>`.
    pub fn workflow(&self, name: &str, text: &str) -> PathBuf {
        let path = format!(".github/workflows/{name}");
        self.write(&path, text);
        PathBuf::from(path)
    }

    /// A file outside the repository that steps may append to.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    /// The lines steps appended to [`Repo::log`].
    pub fn logged(&self) -> Vec<String> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// A runner with its own work directory; `LOG` names [`Repo::log`].
    pub fn runner(&self) -> Runner {
        let n = self.runners.fetch_add(1, Ordering::SeqCst);
        Runner::new(
            self.root(),
            Box::new(|_: &str| {
                let mut c = Command::new("bash");
                c.args([
                    "-c",
                    r#"echo "said=$INPUT_WORD" >> "$GITHUB_OUTPUT"; [ "$INPUT_FAIL" != true ]"#,
                ]);
                c
            }),
            self.dir.path().join(format!("work-{n}")),
        )
        .env("GITHUB_TOKEN", "ghs_token_of_the_run")
        .env("GITHUB_REPOSITORY", "octo/repo")
        .env("LOG", &self.log().display().to_string())
    }

    /// Plays `path` with no inputs and no extra secrets.
    pub fn play(&self, runner: &mut Runner, path: &Path) -> Result<WorkflowRecord, String> {
        runner.run(path, &Map::new(), &BTreeMap::new())
    }
}

/// Inputs from pairs.
pub fn inputs(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect()
}

/// (step id, outcome, conclusion) of every step of `job`.
pub fn steps(rec: &WorkflowRecord, job: &str) -> Vec<(String, String, String)> {
    rec.job(job)
        .unwrap_or_else(|| panic!("no job `{job}` in {rec:#?}"))
        .steps
        .iter()
        .map(|s| (s.id.clone(), s.outcome.clone(), s.conclusion.clone()))
        .collect()
}

/// (step id, outcome) of every step of `job`.
pub fn outcomes(rec: &WorkflowRecord, job: &str) -> Vec<(String, String)> {
    steps(rec, job)
        .into_iter()
        .map(|(id, outcome, _)| (id, outcome))
        .collect()
}

/// Owned pairs, for comparing with [`outcomes`].
pub fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}
