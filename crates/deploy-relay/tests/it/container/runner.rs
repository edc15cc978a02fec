//! A container run of one action, the way the runner makes it: see the
//! module above for what is and is not the runner's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use relay_runtime::Env;

/// The engine and the image under test.
pub struct Engine {
    argv: Vec<String>,
    pub run_flags: Vec<String>,
    pub image: String,
}

impl Engine {
    pub fn from_env() -> Option<Self> {
        let env = Env::from_process();
        let Some(image) = env.get("DEPLOY_RELAY_IMAGE") else {
            eprintln!(
                "skipped: DEPLOY_RELAY_IMAGE is not set (scripts/test.sh sets it after scripts/image.sh)"
            );
            return None;
        };
        let words = |name: &str, default: &str| -> Vec<String> {
            env.get(name)
                .unwrap_or(default)
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        Some(Self {
            argv: words("DEPLOY_RELAY_CONTAINER_ENGINE", "docker"),
            run_flags: words("DEPLOY_RELAY_CONTAINER_RUN_FLAGS", ""),
            image: image.to_owned(),
        })
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..]);
        cmd
    }

    pub fn action(&self, name: &str) -> Step<'_> {
        Step {
            engine: self,
            entrypoint: format!("/usr/local/bin/{name}"),
            env: runner_env(),
            args: Vec::new(),
            event: None,
            dir: tempfile::tempdir().unwrap(),
        }
    }
}

/// What the runner sets for every step (the harness's defaults, as in relay-testkit).
fn runner_env() -> BTreeMap<String, String> {
    [
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
        ("RUNNER_OS", "Linux"),
        ("RUNNER_DEBUG", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// One step of a job: a container run of one entry point.
pub struct Step<'a> {
    engine: &'a Engine,
    entrypoint: String,
    env: BTreeMap<String, String>,
    args: Vec<String>,
    event: Option<serde_json::Value>,
    dir: tempfile::TempDir,
}

/// What a step did.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
    pub workspace: PathBuf,
    _dir: tempfile::TempDir,
}

impl Step<'_> {
    pub fn input(mut self, name: &str, value: &str) -> Self {
        self.env
            .insert(relay_runtime::env_name(name), value.to_owned());
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    pub fn event(mut self, name: &str, payload: serde_json::Value) -> Self {
        self.env.insert("GITHUB_EVENT_NAME".into(), name.into());
        self.event = Some(payload);
        self
    }

    pub fn run(self) -> Ran {
        let temp = self.dir.path().join("_temp");
        let workspace = self.dir.path().join("workspace");
        // Host directory → where the container sees it.
        let mounts = [
            (temp.join("_github_home"), "/github/home"),
            (temp.join("_github_workflow"), "/github/workflow"),
            (temp.join("_runner_file_commands"), "/github/file_commands"),
            (workspace.clone(), "/github/workspace"),
        ];
        for (host, _) in &mounts {
            std::fs::create_dir_all(host).unwrap();
        }
        let commands = temp.join("_runner_file_commands");
        let mut env = self.env;
        for (var, file) in [
            ("GITHUB_OUTPUT", "set_output_1"),
            ("GITHUB_STEP_SUMMARY", "step_summary_1"),
            ("GITHUB_ENV", "set_env_1"),
            ("GITHUB_PATH", "add_path_1"),
            ("GITHUB_STATE", "save_state_1"),
        ] {
            std::fs::write(commands.join(file), "").unwrap();
            env.insert(var.into(), format!("/github/file_commands/{file}"));
        }
        if let Some(payload) = &self.event {
            std::fs::write(
                temp.join("_github_workflow/event.json"),
                serde_json::to_vec(payload).unwrap(),
            )
            .unwrap();
            env.insert(
                "GITHUB_EVENT_PATH".into(),
                "/github/workflow/event.json".into(),
            );
        }
        env.insert("HOME".into(), "/github/home".into());
        env.insert("GITHUB_WORKSPACE".into(), "/github/workspace".into());
        // Not translated by the runner: a path the container cannot see.
        env.insert("RUNNER_TEMP".into(), temp.display().to_string());

        let mut cmd = self.engine.command();
        cmd.args([
            "run",
            "--rm",
            "--workdir",
            "/github/workspace",
            "--network",
            "host",
        ])
        .args(&self.engine.run_flags);
        for (name, value) in &env {
            cmd.arg("-e").arg(name).env(name, value);
        }
        cmd.args(["-e", "GITHUB_ACTIONS=true", "-e", "CI=true"]);
        cmd.arg("--entrypoint").arg(&self.entrypoint);
        for (host, inside) in &mounts {
            cmd.arg("-v").arg(format!("{}:{inside}", host.display()));
        }
        let out = cmd
            .arg(&self.engine.image)
            .args(&self.args)
            .output()
            .expect("run the container engine");
        let read = |file: &str| std::fs::read_to_string(commands.join(file)).unwrap_or_default();
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: relay_runtime::parse_output_file(&read("set_output_1"))
                .into_iter()
                .collect(),
            summary: read("step_summary_1"),
            workspace,
            _dir: self.dir,
        }
    }
}

impl Ran {
    pub fn log(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output `{name}` in {:?}\n{}", self.outputs, self.log()))
    }

    /// Exit 0, and `secret` nowhere but in `::add-mask::` lines.
    pub fn success_hiding(&self, secret: &str) -> &Self {
        assert_eq!(self.code, 0, "{}", self.log());
        for line in self
            .stdout
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
        {
            assert!(!line.contains(secret), "secret in log line: {line}");
        }
        assert!(!self.stderr.contains(secret), "secret in stderr");
        assert!(!self.summary.contains(secret), "secret in the summary");
        assert!(
            self.outputs.values().all(|v| !v.contains(secret)),
            "secret in an output"
        );
        self
    }
}
