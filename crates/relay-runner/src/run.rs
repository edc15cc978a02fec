//! Jobs and steps.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use relay_runtime::{env_name, parse_output_file};
use serde_json::{Map, Value, json};
use yaml_rust2::{Yaml, YamlLoader};

use super::expr::{self, Scope, Status};

/// How to start one of our actions by name (`verify-ci-status`; `""` for
/// the root action): the program and its leading arguments.
pub type Launcher = Box<dyn Fn(&str) -> Command + Send + Sync>;

/// What a step did.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub id: String,
    pub name: String,
    /// `uses:` of the step, or `run` for a script.
    pub uses: String,
    /// `success`, `failure` or `skipped`, before `continue-on-error`.
    pub outcome: String,
    /// The outcome after `continue-on-error`.
    pub conclusion: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
    pub log: String,
    pub elapsed: Duration,
    /// Why a step did not run as on GitHub (a third-party action).
    pub note: Option<String>,
}

/// What a job did.
#[derive(Debug, Clone)]
pub struct JobRecord {
    /// `workflow-file/job` for jobs of called workflows.
    pub id: String,
    pub result: String,
    pub environment: Option<String>,
    pub outputs: BTreeMap<String, String>,
    pub steps: Vec<StepRecord>,
    /// The jobs of a reusable workflow this job called.
    pub called: Option<Box<WorkflowRecord>>,
}

/// What a workflow did.
#[derive(Debug, Clone)]
pub struct WorkflowRecord {
    pub file: String,
    pub result: String,
    pub jobs: Vec<JobRecord>,
    pub outputs: BTreeMap<String, String>,
}

impl WorkflowRecord {
    /// Every step of every job, called workflows included, in order.
    pub fn steps(&self) -> Vec<(&str, &StepRecord)> {
        let mut out = Vec::new();
        for j in &self.jobs {
            for s in &j.steps {
                out.push((j.id.as_str(), s));
            }
            if let Some(c) = &j.called {
                out.extend(c.steps());
            }
        }
        out
    }

    /// The step with id `id` in job `job` (searched in called workflows too).
    pub fn step(&self, job: &str, id: &str) -> Option<&StepRecord> {
        self.steps()
            .into_iter()
            .find(|(j, s)| (*j == job || j.ends_with(&format!("/{job}"))) && s.id == id)
            .map(|(_, s)| s)
    }

    /// The job `job` (searched in called workflows too).
    pub fn job(&self, job: &str) -> Option<&JobRecord> {
        for j in &self.jobs {
            if j.id == job || j.id.ends_with(&format!("/{job}")) {
                return Some(j);
            }
            if let Some(found) = j.called.as_ref().and_then(|c| c.job(job)) {
                return Some(found);
            }
        }
        None
    }
}

/// What the runner reports as it goes, for a live timeline.
#[derive(Debug)]
pub enum Event<'a> {
    Job {
        id: &'a str,
        environment: Option<&'a str>,
    },
    StepStarted {
        job: &'a str,
        /// The step's `id:`, or `__<index>` for a step without one.
        id: &'a str,
        name: &'a str,
    },
    /// A step that ran, or was skipped (`outcome` says which).
    StepFinished { job: &'a str, step: &'a StepRecord },
    /// A job that ran, or was skipped (`result: "skipped"`, with no `Job` before it).
    JobFinished { id: &'a str, result: &'a str },
}

type Observer = Box<dyn FnMut(&Event<'_>) + Send>;

/// Plays workflows of the repository at `root`.
pub struct Runner {
    root: PathBuf,
    launcher: Launcher,
    env: BTreeMap<String, String>,
    github: Map<String, Value>,
    event_name: String,
    event: Value,
    work: PathBuf,
    observer: Option<Observer>,
    jobs_run: usize,
}

impl Runner {
    /// A runner for the repository at `root`, starting actions with
    /// `launcher`, working under `work` (workspaces, output files).
    pub fn new(root: impl Into<PathBuf>, launcher: Launcher, work: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            launcher,
            env: BTreeMap::new(),
            github: Map::new(),
            event_name: "push".into(),
            event: json!({}),
            work: work.into(),
            observer: None,
            jobs_run: 0,
        }
    }

    /// An env variable every step sees (`GITHUB_API_URL`, `GITHUB_REPOSITORY`…).
    /// `GITHUB_*` ones also fill the `github` context.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        if let Some(key) = name.strip_prefix("GITHUB_") {
            self.github
                .insert(key.to_ascii_lowercase(), Value::from(value));
        }
        self
    }

    /// The event that started the run.
    pub fn event(mut self, name: &str, payload: Value) -> Self {
        self.event_name = name.to_owned();
        self.event = payload;
        self
    }

    /// Called as jobs and steps start and finish.
    pub fn observe(mut self, observer: impl FnMut(&Event<'_>) + Send + 'static) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    fn tell(&mut self, e: Event<'_>) {
        if let Some(o) = self.observer.as_mut() {
            o(&e);
        }
    }

    /// Plays the workflow at `path` (relative to the repository, or
    /// absolute) with `inputs` and `secrets`, as a `workflow_call` or
    /// `workflow_dispatch` would give them.
    pub fn run(
        &mut self,
        path: &Path,
        inputs: &Map<String, Value>,
        secrets: &BTreeMap<String, String>,
    ) -> Result<WorkflowRecord, String> {
        let file = if path.is_absolute() {
            path.to_owned()
        } else {
            self.root.join(path)
        };
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let doc = YamlLoader::load_from_str(&text)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .into_iter()
            .next()
            .ok_or_else(|| format!("{}: empty", file.display()))?;
        let name = file
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        let inputs = with_defaults(&doc, inputs);
        let workflow_env = string_map(&doc["env"]);
        let mut jobs: Vec<JobRecord> = Vec::new();
        let mut needs_ctx = Map::new();
        for (id, job) in ordered_jobs(&doc)? {
            let needs: Vec<String> = match &job["needs"] {
                Yaml::Array(a) => a.iter().filter_map(scalar).collect(),
                other => scalar(other).into_iter().collect(),
            };
            let mut contexts = self.base_contexts(&inputs, secrets);
            contexts.insert(
                "needs".into(),
                Value::Object(
                    needs
                        .iter()
                        .filter_map(|n| needs_ctx.get(n).map(|v| (n.clone(), v.clone())))
                        .collect(),
                ),
            );
            let results: Vec<&str> = needs
                .iter()
                .map(|n| {
                    needs_ctx
                        .get(n)
                        .and_then(|v| v["result"].as_str())
                        .unwrap_or("skipped")
                })
                .collect();
            let status = if results.iter().all(|r| *r == "success") {
                Status::Success
            } else {
                Status::Failure
            };
            let scope = Scope {
                contexts: &contexts,
                status,
            };
            let condition = scalar(&job["if"]).unwrap_or_else(|| "success()".into());
            // A needed job that was skipped skips this one too, unless the
            // condition says otherwise (GitHub's rule).
            let any_failed = results.contains(&"failure");
            let run = if !any_failed && status == Status::Failure && !condition.contains('(') {
                false
            } else {
                expr::condition(&condition, &scope)?
            };
            let record_id = format!("{name}/{id}");
            let record = if !run {
                self.tell(Event::JobFinished {
                    id: &record_id,
                    result: "skipped",
                });
                JobRecord {
                    id: record_id,
                    result: "skipped".into(),
                    environment: None,
                    outputs: BTreeMap::new(),
                    steps: Vec::new(),
                    called: None,
                }
            } else if let Some(uses) = scalar(&job["uses"]) {
                self.call(&record_id, &uses, &job, &scope)?
            } else {
                self.job(&record_id, &job, &workflow_env, &contexts)?
            };
            needs_ctx.insert(
                id.clone(),
                json!({"result": record.result, "outputs": record.outputs}),
            );
            jobs.push(record);
        }
        // The workflow's own outputs (`on.workflow_call.outputs`).
        let mut contexts = self.base_contexts(&inputs, secrets);
        contexts.insert("jobs".into(), Value::Object(needs_ctx.clone()));
        let scope = Scope {
            contexts: &contexts,
            status: Status::Success,
        };
        let mut outputs = BTreeMap::new();
        if let Yaml::Hash(h) = &doc["on"]["workflow_call"]["outputs"] {
            for (k, v) in h {
                if let (Some(k), Some(value)) = (scalar(k), scalar(&v["value"])) {
                    outputs.insert(k, expr::interpolate(&value, &scope)?);
                }
            }
        }
        let result = if jobs.iter().any(|j| j.result == "failure") {
            "failure"
        } else {
            "success"
        };
        Ok(WorkflowRecord {
            file: name,
            result: result.into(),
            jobs,
            outputs,
        })
    }

    fn base_contexts(
        &self,
        inputs: &Map<String, Value>,
        secrets: &BTreeMap<String, String>,
    ) -> Map<String, Value> {
        let mut github = self.github.clone();
        github.insert("event_name".into(), Value::from(self.event_name.clone()));
        github.insert("event".into(), self.event.clone());
        github.insert(
            "token".into(),
            Value::from(self.env.get("GITHUB_TOKEN").cloned().unwrap_or_default()),
        );
        let mut c = Map::new();
        c.insert("github".into(), Value::Object(github));
        c.insert("inputs".into(), Value::Object(inputs.clone()));
        let mut s: Map<String, Value> = secrets
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect();
        if let Some(t) = self.env.get("GITHUB_TOKEN") {
            s.insert("GITHUB_TOKEN".into(), Value::from(t.clone()));
        }
        c.insert("secrets".into(), Value::Object(s));
        c.insert("vars".into(), json!({}));
        c.insert("runner".into(), json!({"os": "Linux", "arch": "X64"}));
        c
    }

    /// A job that calls a reusable workflow of ours.
    fn call(
        &mut self,
        id: &str,
        uses: &str,
        job: &Yaml,
        scope: &Scope<'_>,
    ) -> Result<JobRecord, String> {
        let path = uses.split('@').next().unwrap_or(uses);
        let rel = path
            .strip_prefix("./")
            .or_else(|| path.strip_prefix("deploy-relay/deploy-relay/"))
            .ok_or_else(|| format!("job `{id}`: `{uses}` is not a workflow of this repository"))?;
        let mut inputs = Map::new();
        if let Yaml::Hash(h) = &job["with"] {
            for (k, v) in h {
                if let (Some(k), Some(v)) = (scalar(k), scalar(v)) {
                    inputs.insert(k, Value::from(expr::interpolate(&v, scope)?));
                }
            }
        }
        let mut secrets = BTreeMap::new();
        match &job["secrets"] {
            Yaml::String(s) if s == "inherit" => {
                if let Some(Value::Object(all)) = scope.contexts.get("secrets") {
                    for (k, v) in all {
                        secrets.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
                    }
                }
            }
            Yaml::Hash(h) => {
                for (k, v) in h {
                    if let (Some(k), Some(v)) = (scalar(k), scalar(v)) {
                        secrets.insert(k, expr::interpolate(&v, scope)?);
                    }
                }
            }
            _ => {}
        }
        self.tell(Event::Job {
            id,
            environment: None,
        });
        let called = self.run(Path::new(rel), &inputs, &secrets)?;
        let result = called.result.clone();
        self.tell(Event::JobFinished {
            id,
            result: &result,
        });
        Ok(JobRecord {
            id: id.to_owned(),
            result,
            environment: None,
            outputs: called.outputs.clone(),
            steps: Vec::new(),
            called: Some(Box::new(called)),
        })
    }

    /// A job with steps.
    fn job(
        &mut self,
        id: &str,
        job: &Yaml,
        workflow_env: &BTreeMap<String, String>,
        contexts: &Map<String, Value>,
    ) -> Result<JobRecord, String> {
        self.jobs_run += 1;
        let dir = self.work.join(format!("job-{:02}", self.jobs_run));
        let workspace = dir.join("workspace");
        std::fs::create_dir_all(&workspace).map_err(|e| e.to_string())?;
        let event_path = dir.join("event.json");
        std::fs::write(&event_path, self.event.to_string()).map_err(|e| e.to_string())?;
        let mut contexts = contexts.clone();
        let environment = {
            let scope = Scope {
                contexts: &contexts,
                status: Status::Success,
            };
            match &job["environment"] {
                Yaml::Hash(_) => scalar(&job["environment"]["name"]),
                other => scalar(other),
            }
            .map(|e| expr::interpolate(&e, &scope))
            .transpose()?
        };
        self.tell(Event::Job {
            id,
            environment: environment.as_deref(),
        });
        let job_env = {
            let scope = Scope {
                contexts: &contexts,
                status: Status::Success,
            };
            let mut env = workflow_env.clone();
            for (k, v) in string_map(&job["env"]) {
                env.insert(k, expr::interpolate(&v, &scope)?);
            }
            env
        };
        let mut steps_ctx = Map::new();
        let mut records = Vec::new();
        let mut status = Status::Success;
        let steps = match &job["steps"] {
            Yaml::Array(a) => a.clone(),
            _ => Vec::new(),
        };
        for (n, step) in steps.iter().enumerate() {
            contexts.insert("steps".into(), Value::Object(steps_ctx.clone()));
            let mut env_ctx: Map<String, Value> = job_env
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                .collect();
            let scope = Scope {
                contexts: &contexts,
                status,
            };
            let mut step_env = job_env.clone();
            for (k, v) in string_map(&step["env"]) {
                let v = expr::interpolate(&v, &scope)?;
                env_ctx.insert(k.clone(), Value::from(v.clone()));
                step_env.insert(k, v);
            }
            contexts.insert("env".into(), Value::Object(env_ctx));
            let scope = Scope {
                contexts: &contexts,
                status,
            };
            let step_id = scalar(&step["id"]).unwrap_or_else(|| format!("__{n}"));
            let uses = scalar(&step["uses"]);
            let name = scalar(&step["name"])
                .map(|nm| expr::interpolate(&nm, &scope))
                .transpose()?
                .or_else(|| uses.clone())
                .unwrap_or_else(|| format!("run {}", n + 1));
            let condition = scalar(&step["if"]).unwrap_or_else(|| "success()".into());
            let record = if !expr::condition(&condition, &scope)? {
                let rec = StepRecord {
                    id: step_id.clone(),
                    name,
                    uses: uses.clone().unwrap_or_else(|| "run".into()),
                    outcome: "skipped".into(),
                    conclusion: "skipped".into(),
                    outputs: BTreeMap::new(),
                    summary: String::new(),
                    log: String::new(),
                    elapsed: Duration::ZERO,
                    note: None,
                };
                // Told too, so a timeline shows what did not run.
                self.tell(Event::StepFinished {
                    job: id,
                    step: &rec,
                });
                rec
            } else {
                self.tell(Event::StepStarted {
                    job: id,
                    id: &step_id,
                    name: &name,
                });
                let step_dir = dir.join(format!("step-{n:02}"));
                std::fs::create_dir_all(&step_dir).map_err(|e| e.to_string())?;
                let mut rec = self.step(
                    step,
                    &scope,
                    &step_env,
                    &Files {
                        workspace: &workspace,
                        dir: &step_dir,
                        event: &event_path,
                        job: id,
                    },
                )?;
                rec.id = step_id.clone();
                rec.name = name;
                if rec.outcome == "failure" && step_true(&step["continue-on-error"], &scope)? {
                    rec.conclusion = "success".into();
                }
                self.tell(Event::StepFinished {
                    job: id,
                    step: &rec,
                });
                rec
            };
            if record.conclusion == "failure" {
                status = Status::Failure;
            }
            steps_ctx.insert(
                step_id,
                json!({"outputs": record.outputs, "outcome": record.outcome, "conclusion": record.conclusion}),
            );
            records.push(record);
        }
        contexts.insert("steps".into(), Value::Object(steps_ctx));
        let scope = Scope {
            contexts: &contexts,
            status,
        };
        let mut outputs = BTreeMap::new();
        for (k, v) in string_map(&job["outputs"]) {
            outputs.insert(k, expr::interpolate(&v, &scope)?);
        }
        let result = if status == Status::Failure {
            "failure"
        } else {
            "success"
        };
        self.tell(Event::JobFinished { id, result });
        Ok(JobRecord {
            id: id.to_owned(),
            result: result.into(),
            environment,
            outputs,
            steps: records,
            called: None,
        })
    }

    fn step(
        &self,
        step: &Yaml,
        scope: &Scope<'_>,
        env: &BTreeMap<String, String>,
        files: &Files<'_>,
    ) -> Result<StepRecord, String> {
        let output = files.dir.join("output");
        let summary = files.dir.join("summary");
        std::fs::write(&output, "").map_err(|e| e.to_string())?;
        std::fs::write(&summary, "").map_err(|e| e.to_string())?;
        let uses = scalar(&step["uses"]);
        let mut inputs = BTreeMap::new();
        let mut cmd = match (&uses, scalar(&step["run"])) {
            (Some(uses), _) => match ours(uses) {
                Some(action) => {
                    inputs = self.inputs(&action, step, scope)?;
                    (self.launcher)(&action)
                }
                None => {
                    return Ok(StepRecord {
                        uses: uses.clone(),
                        outcome: "success".into(),
                        conclusion: "success".into(),
                        note: Some(format!("`{uses}` is not one of ours; a local run skips it")),
                        ..blank()
                    });
                }
            },
            (None, Some(script)) => {
                let script = expr::interpolate(&script, scope)?;
                let mut cmd = Command::new("bash");
                cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script]);
                cmd
            }
            (None, None) => return Err("a step with neither `uses` nor `run`".into()),
        };
        cmd.env_clear()
            .envs(&self.env)
            .envs(env)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", files.dir)
            .env("GITHUB_ACTIONS", "true")
            .env("CI", "true")
            .env(
                "GITHUB_JOB",
                files.job.rsplit('/').next().unwrap_or_default(),
            )
            .env("GITHUB_EVENT_NAME", &self.event_name)
            .env("GITHUB_EVENT_PATH", files.event)
            .env("GITHUB_WORKSPACE", files.workspace)
            .env("RUNNER_TEMP", files.dir)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .envs(inputs.iter().map(|(k, v)| (env_name(k), v)))
            .current_dir(files.workspace)
            .stdin(Stdio::null());
        let start = Instant::now();
        let out = cmd
            .output()
            .map_err(|e| format!("couldn't start a step: {e}"))?;
        let elapsed = start.elapsed();
        let outcome = if out.status.success() {
            "success"
        } else {
            "failure"
        };
        let mut log = String::from_utf8_lossy(&out.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(StepRecord {
            uses: uses.unwrap_or_else(|| "run".into()),
            outcome: outcome.into(),
            conclusion: outcome.into(),
            outputs: parse_output_file(&std::fs::read_to_string(&output).unwrap_or_default())
                .into_iter()
                .collect(),
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
            log,
            elapsed,
            ..blank()
        })
    }

    /// The inputs an action of ours gets: `with:` evaluated, then the
    /// defaults its `action.yml` declares, evaluated as the runner does.
    fn inputs(
        &self,
        action: &str,
        step: &Yaml,
        scope: &Scope<'_>,
    ) -> Result<BTreeMap<String, String>, String> {
        let mut values = BTreeMap::new();
        let mut given = BTreeSet::new();
        if let Yaml::Hash(h) = &step["with"] {
            for (k, v) in h {
                if let (Some(k), Some(v)) = (scalar(k), scalar(v)) {
                    values.insert(k.clone(), expr::interpolate(&v, scope)?);
                    given.insert(k);
                }
            }
        }
        let meta = if action.is_empty() {
            self.root.join("action.yml")
        } else {
            self.root.join("actions").join(action).join("action.yml")
        };
        let text =
            std::fs::read_to_string(&meta).map_err(|e| format!("{}: {e}", meta.display()))?;
        let doc = YamlLoader::load_from_str(&text)
            .map_err(|e| format!("{}: {e}", meta.display()))?
            .into_iter()
            .next()
            .unwrap_or(Yaml::Null);
        if let Yaml::Hash(h) = &doc["inputs"] {
            for (k, spec) in h {
                let Some(k) = scalar(k) else { continue };
                if given.contains(&k) {
                    continue;
                }
                if let Some(d) = scalar(&spec["default"]) {
                    values.insert(k, expr::interpolate(&d, scope)?);
                }
            }
        }
        Ok(values)
    }
}

struct Files<'a> {
    workspace: &'a Path,
    dir: &'a Path,
    event: &'a Path,
    job: &'a str,
}

fn blank() -> StepRecord {
    StepRecord {
        id: String::new(),
        name: String::new(),
        uses: String::new(),
        outcome: String::new(),
        conclusion: String::new(),
        outputs: BTreeMap::new(),
        summary: String::new(),
        log: String::new(),
        elapsed: Duration::ZERO,
        note: None,
    }
}

/// Our action a `uses:` names: `deploy-relay/deploy-relay/actions/x@ref`,
/// `./actions/x`, or the root action (`""`).
fn ours(uses: &str) -> Option<String> {
    let path = uses.split('@').next().unwrap_or(uses);
    if path == "deploy-relay/deploy-relay" || path == "./" || path == "." {
        return Some(String::new());
    }
    path.strip_prefix("deploy-relay/deploy-relay/actions/")
        .or_else(|| path.strip_prefix("./actions/"))
        .map(str::to_owned)
}

fn step_true(y: &Yaml, scope: &Scope<'_>) -> Result<bool, String> {
    match y {
        Yaml::Boolean(b) => Ok(*b),
        other => match scalar(other) {
            Some(s) => Ok(expr::interpolate(&s, scope)?.eq_ignore_ascii_case("true")),
            None => Ok(false),
        },
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

fn string_map(y: &Yaml) -> BTreeMap<String, String> {
    match y {
        Yaml::Hash(h) => h
            .iter()
            .filter_map(|(k, v)| Some((scalar(k)?, scalar(v).unwrap_or_default())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// `on.workflow_call.inputs` (and `workflow_dispatch`'s) defaults over the
/// given inputs, typed as declared (`boolean`, `number`, `string`).
fn with_defaults(doc: &Yaml, given: &Map<String, Value>) -> Map<String, Value> {
    let mut out = given.clone();
    for trigger in ["workflow_call", "workflow_dispatch"] {
        if let Yaml::Hash(h) = &doc["on"][trigger]["inputs"] {
            for (k, spec) in h {
                let Some(k) = scalar(k) else { continue };
                let kind = scalar(&spec["type"]).unwrap_or_else(|| "string".into());
                let raw = out
                    .get(&k)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .or_else(|| scalar(&spec["default"]));
                let Some(raw) = raw else { continue };
                let typed = match kind.as_str() {
                    "boolean" => Value::Bool(raw.eq_ignore_ascii_case("true")),
                    "number" => raw
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map_or(Value::from(raw.clone()), Value::Number),
                    _ => Value::from(raw),
                };
                out.insert(k, typed);
            }
        }
    }
    out
}

/// Jobs in an order that satisfies `needs` (stable: file order otherwise).
fn ordered_jobs(doc: &Yaml) -> Result<Vec<(String, Yaml)>, String> {
    let Yaml::Hash(h) = &doc["jobs"] else {
        return Err("the workflow has no jobs".into());
    };
    let jobs: Vec<(String, Yaml)> = h
        .iter()
        .filter_map(|(k, v)| Some((scalar(k)?, v.clone())))
        .collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while out.len() < jobs.len() {
        let before = out.len();
        for (id, job) in &jobs {
            if done.contains(id) {
                continue;
            }
            let needs: Vec<String> = match &job["needs"] {
                Yaml::Array(a) => a.iter().filter_map(scalar).collect(),
                other => scalar(other).into_iter().collect(),
            };
            if needs.iter().all(|n| done.contains(n)) {
                done.insert(id.clone());
                out.push((id.clone(), job.clone()));
            }
        }
        if out.len() == before {
            return Err("the jobs' `needs` form a cycle or name a missing job".into());
        }
    }
    Ok(out)
}
