//! Runs an action binary exactly as the runner runs a container action:
//! `INPUT_*` env with hyphens kept, a fresh workspace as the working
//! directory, temp `GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY` files, the event
//! JSON at `GITHUB_EVENT_PATH`, and nothing else from the test's env.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use relay_runtime::{env_name, parse_output_file};
use serde_json::Value;

/// A run to make. Defaults look like a push to `main` of `octo/app`.
pub struct ActionRun {
    bin: PathBuf,
    env: BTreeMap<String, String>,
    args: Vec<String>,
    event: Option<(String, Value)>,
    output_file: bool,
    timeout: Duration,
    dir: tempfile::TempDir,
    cancel_when: Option<Box<dyn Fn() -> bool>>,
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code (-1 when a signal ended it).
    pub code: i32,
    /// Everything it printed to stdout: the log, workflow commands included.
    pub stdout: String,
    /// Everything it printed to stderr.
    pub stderr: String,
    /// The outputs it wrote to `GITHUB_OUTPUT`.
    pub outputs: BTreeMap<String, String>,
    /// What it wrote to `GITHUB_STEP_SUMMARY`.
    pub summary: String,
    /// How long it ran.
    pub elapsed: Duration,
    /// The workspace the action ran in (kept until the outcome is dropped).
    pub workspace: PathBuf,
    _dir: tempfile::TempDir,
}

impl ActionRun {
    /// A run of `bin` with the environment a runner gives a push build of
    /// `octo/app` (and GitHub's API nowhere, until [`ActionRun::api`]).
    pub fn new(bin: impl AsRef<Path>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("GITHUB_ACTIONS", "true"),
            ("CI", "true"),
            ("GITHUB_REPOSITORY", "octo/app"),
            ("GITHUB_REPOSITORY_OWNER", "octo"),
            ("GITHUB_SHA", "1111111111111111111111111111111111111111"),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_RUN_ID", "4242"),
            ("GITHUB_RUN_NUMBER", "17"),
            ("GITHUB_RUN_ATTEMPT", "1"),
            ("GITHUB_JOB", "deploy"),
            ("GITHUB_WORKFLOW", "Deploy"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_API_URL", "http://127.0.0.1:9"),
            ("RUNNER_OS", "Linux"),
            // Retried 5xx cost milliseconds, not seconds, in tests.
            ("DEPLOY_RELAY_BACKOFF_SCALE", "0.01"),
        ] {
            env.insert(k.to_owned(), v.to_owned());
        }
        Self {
            bin: bin.as_ref().to_owned(),
            env,
            args: Vec::new(),
            event: None,
            output_file: true,
            timeout: Duration::from_mins(2),
            dir,
            cancel_when: None,
        }
    }

    /// Sets input `name` as the runner does (`INPUT_<NAME>`).
    pub fn input(mut self, name: &str, value: &str) -> Self {
        self.env.insert(env_name(name), value.to_owned());
        self
    }

    /// Sets environment variable `name`.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Leaves environment variable `name` unset.
    pub fn without_env(mut self, name: &str) -> Self {
        self.env.remove(name);
        self
    }

    /// Points the action at a fake GitHub.
    pub fn api(self, url: &str) -> Self {
        self.env("GITHUB_API_URL", url)
    }

    /// The event that started the run: `GITHUB_EVENT_NAME` and the payload
    /// at `GITHUB_EVENT_PATH`.
    pub fn event(mut self, name: &str, payload: Value) -> Self {
        self.event = Some((name.to_owned(), payload));
        self
    }

    /// Adds a command-line argument.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Local use: no `GITHUB_OUTPUT`, outputs go to stdout.
    pub fn without_output_file(mut self) -> Self {
        self.output_file = false;
        self
    }

    /// How long the run may take before it is killed and the test fails.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Cancels the run as the runner cancels a step (SIGTERM) the first
    /// time `when` says so; it is asked every few milliseconds.
    pub fn cancel_when(mut self, when: impl Fn() -> bool + 'static) -> Self {
        self.cancel_when = Some(Box::new(when));
        self
    }

    /// The workspace directory the action will run in.
    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// Runs the action to its end.
    pub fn run(self) -> Outcome {
        let root = self.dir.path();
        let workspace = root.join("workspace");
        let temp = root.join("runner-temp");
        std::fs::create_dir_all(&workspace).expect("workspace");
        std::fs::create_dir_all(&temp).expect("runner temp");
        let output = root.join("github_output");
        let summary = root.join("step_summary");
        std::fs::write(&output, "").expect("output file");
        std::fs::write(&summary, "").expect("summary file");
        let mut cmd = Command::new(&self.bin);
        cmd.env_clear()
            .envs(&self.env)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", root)
            .env("GITHUB_WORKSPACE", &workspace)
            .env("RUNNER_TEMP", &temp)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(&self.args)
            .current_dir(&workspace)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.output_file {
            cmd.env("GITHUB_OUTPUT", &output);
        }
        if let Some((name, payload)) = &self.event {
            let path = root.join("event.json");
            std::fs::write(
                &path,
                serde_json::to_vec_pretty(payload).expect("event json"),
            )
            .expect("event file");
            cmd.env("GITHUB_EVENT_NAME", name)
                .env("GITHUB_EVENT_PATH", &path);
        }
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("couldn't start {}: {e}", self.bin.display()));
        let out_pipe = child.stdout.take().expect("stdout");
        let err_pipe = child.stderr.take().expect("stderr");
        let read = |mut p: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = p.read_to_string(&mut s);
                s
            })
        };
        let out_thread = read(Box::new(out_pipe));
        let err_thread = read(Box::new(err_pipe));
        let mut cancelled = false;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if !cancelled && self.cancel_when.as_ref().is_some_and(|when| when()) {
                cancelled = true;
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                panic!("{} ran longer than {:?}", self.bin.display(), self.timeout);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = start.elapsed();
        let outputs = parse_output_file(&std::fs::read_to_string(&output).unwrap_or_default())
            .into_iter()
            .collect();
        Outcome {
            code: status.code().unwrap_or(-1),
            stdout: out_thread.join().unwrap_or_default(),
            stderr: err_thread.join().unwrap_or_default(),
            outputs,
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
            elapsed,
            workspace,
            _dir: self.dir,
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

impl Outcome {
    /// An output's value; panics with the run's log when it is missing.
    pub fn output(&self, name: &str) -> &str {
        self.outputs.get(name).unwrap_or_else(|| {
            panic!(
                "no output `{name}`; outputs {:?}\n{}",
                self.outputs,
                self.log()
            )
        })
    }

    /// The messages of `<command>` workflow commands, unescaped, read as
    /// the runner reads them ([`relay_runner::runner_commands`]): after
    /// leading whitespace, the v1 `##[name]` form too, and nothing between
    /// `::stop-commands::TOKEN` and `::TOKEN::`.
    pub fn commands(&self, command: &str) -> Vec<String> {
        relay_runner::runner_commands(&self.stdout)
            .into_iter()
            .filter(|(name, _)| name == command)
            .map(|(_, msg)| unescape(&msg))
            .collect()
    }

    /// The messages of its `::error::` lines.
    pub fn errors(&self) -> Vec<String> {
        self.commands("error")
    }

    /// The single `::error::` line of a failed run.
    pub fn error(&self) -> String {
        let errors = self.errors();
        assert_eq!(
            errors.len(),
            1,
            "expected one ::error:: line\n{}",
            self.log()
        );
        errors[0].clone()
    }

    /// Exit code, stdout and stderr, for a failed assertion's message.
    pub fn log(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Exit code 0 and no `::error::` line.
    pub fn assert_success(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success\n{}", self.log());
        assert!(
            self.errors().is_empty(),
            "success with an ::error::\n{}",
            self.log()
        );
        self
    }

    /// Exit code 1 and exactly one `::error::` line.
    pub fn assert_failure(&self) -> &Self {
        assert_eq!(self.code, 1, "expected failure (exit 1)\n{}", self.log());
        self.error();
        self
    }

    /// The secret appears only in `::add-mask::` lines: not in any other log
    /// line, stderr, an output, or the summary.
    pub fn assert_secret_hidden(&self, secret: &str) -> &Self {
        let masked_first = self
            .stdout
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("::add-mask::"));
        for line in self
            .stdout
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
        {
            assert!(!line.contains(secret), "secret in log line: {line}");
        }
        assert!(!self.stderr.contains(secret), "secret in stderr");
        assert!(!self.summary.contains(secret), "secret in summary");
        for (k, v) in &self.outputs {
            assert!(!v.contains(secret), "secret in output {k}");
        }
        if self.stdout.contains(&format!("::add-mask::{secret}")) {
            assert!(
                masked_first,
                "::add-mask:: must come before anything else\n{}",
                self.stdout
            );
        }
        self
    }
}
