//! A workflow run: the runner's settings, workflows and their jobs in
//! `needs` order, and reusable workflow calls.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use yaml_rust2::{Yaml, YamlLoader};

use crate::at::At;
use crate::concurrency::{self, Acquired, Concurrency, Control};
use crate::environment::{Environments, Protection, Review, ReviewRequest, Reviewer};
use crate::expr::{self, Scope, Status};
use crate::record::{Event, JobRecord, WorkflowRecord};
use crate::secrets::{Secrets, Source};

/// How to start one of our actions by name (`verify-ci-status`; `""` for
/// the root action): the program and its leading arguments.
pub type Launcher = Box<dyn Fn(&str) -> Command + Send + Sync>;

type Observer = Box<dyn FnMut(&Event<'_>) + Send>;

/// A run's place among the runs of a [`crate::Scheduler`].
pub(crate) struct Link {
    pub ctl: Arc<Control>,
    pub id: usize,
    pub label: String,
}

/// Plays workflows of the repository at `root`.
pub struct Runner {
    pub(crate) root: PathBuf,
    pub(crate) launcher: Launcher,
    pub(crate) env: BTreeMap<String, String>,
    github: Map<String, Value>,
    pub(crate) event_name: String,
    pub(crate) event: Value,
    pub(crate) work: PathBuf,
    observer: Option<Observer>,
    pub(crate) jobs_run: usize,
    pub(crate) store: Secrets,
    pub(crate) environments: Environments,
    pub(crate) reviewer: Option<Reviewer>,
    pub(crate) cancel_at: Vec<At>,
    cancelled: Option<String>,
    cancel_told: bool,
    pub(crate) link: Option<Link>,
    /// Concurrency groups this run holds now.
    held: Vec<String>,
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
            store: Secrets::default(),
            environments: Environments::default(),
            reviewer: None,
            cancel_at: Vec::new(),
            cancelled: None,
            cancel_told: false,
            link: None,
            held: Vec::new(),
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
        name.clone_into(&mut self.event_name);
        self.event = payload;
        self
    }

    /// The repository's secrets by scope (organisation, repository,
    /// environment). [`Runner::run`]'s `secrets` are laid over the
    /// repository ones.
    pub fn secrets(mut self, secrets: Secrets) -> Self {
        // An environment that holds secrets exists.
        for name in secrets.environments.keys() {
            self.environments.exists(name);
        }
        self.store = secrets;
        self
    }

    /// Declares environment `name` with its protection rules. An
    /// environment not declared here (nor holding secrets) is created on
    /// first use, unprotected, as GitHub does.
    pub fn protect(mut self, name: &str, protection: Protection) -> Self {
        self.environments.set(name, protection);
        self
    }

    /// Who reviews jobs that reference an environment with required
    /// reviewers. Without one, such a job is an error (nobody would ever
    /// approve it).
    pub fn reviewer(
        mut self,
        reviewer: impl FnMut(&ReviewRequest) -> Review + Send + 'static,
    ) -> Self {
        self.reviewer = Some(Box::new(reviewer));
        self
    }

    /// Cancels the run at `at`, as a user (or a newer run's
    /// `cancel-in-progress`) would. With [`At::StepRunning`] the step is
    /// interrupted as the runner interrupts it.
    pub fn cancel_at(mut self, at: At) -> Self {
        self.cancel_at.push(at);
        self
    }

    /// Called as jobs and steps start and finish.
    pub fn observe(mut self, observer: impl FnMut(&Event<'_>) + Send + 'static) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    pub(crate) fn tell(&mut self, e: &Event<'_>) {
        if let Some(o) = self.observer.as_mut() {
            o(e);
        }
    }

    /// Plays the workflow at `path` (relative to the repository, or
    /// absolute) as a run started by the runner's event, with `inputs` (as
    /// `workflow_dispatch` or a caller would give them) and `secrets` laid
    /// over the repository's secrets.
    pub fn run(
        &mut self,
        path: &Path,
        inputs: &Map<String, Value>,
        secrets: &BTreeMap<String, String>,
    ) -> Result<WorkflowRecord, String> {
        let saved = self.store.clone();
        self.store.repository.extend(secrets.clone());
        self.cancelled = None;
        self.cancel_told = false;
        self.held.clear();
        let out = self.workflow(path, inputs, &Source::Root);
        self.store = saved;
        out
    }

    /// Why the run was cancelled, once it was (told to the observer the
    /// first time it is known).
    pub fn cancelled(&mut self) -> Option<String> {
        if self.cancelled.is_none()
            && let Some(l) = &self.link
        {
            self.cancelled = l.ctl.cancelled(l.id);
        }
        if let Some(reason) = self.cancelled.clone()
            && !self.cancel_told
        {
            self.cancel_told = true;
            self.tell(&Event::RunCancelled { reason: &reason });
        }
        self.cancelled.clone()
    }

    /// Cancels the run (once: the first reason stays).
    pub(crate) fn cancel(&mut self, reason: &str) {
        if self.cancelled().is_some() {
            return;
        }
        self.cancelled = Some(reason.to_owned());
        if let Some(l) = &self.link {
            l.ctl.cancel(l.id, reason);
        }
        self.cancelled();
    }

    fn label(&self) -> String {
        self.link
            .as_ref()
            .map_or_else(|| "this run".to_owned(), |l| l.label.clone())
    }

    /// Takes group `c.group` for `what` (a job, `file/job`, or a workflow
    /// file), waiting while another run holds it.
    pub(crate) fn acquire(&mut self, what: &str, c: &Concurrency) -> Acquired {
        if self.link.as_ref().is_some_and(|l| l.ctl.busy(&c.group)) {
            self.tell(&Event::Pending {
                id: what,
                group: &c.group,
            });
        }
        let got = if self.held.iter().any(|g| g.eq_ignore_ascii_case(&c.group)) {
            concurrency::held_by_itself(c, &self.label())
        } else if let Some(l) = &self.link {
            l.ctl.acquire(l.id, c)
        } else {
            Acquired::Granted
        };
        match &got {
            Acquired::Granted => self.held.push(c.group.clone()),
            Acquired::Cancelled(why) => {
                let why = why.clone();
                self.cancel(&why);
            }
            Acquired::Deadlock(_) => {}
        }
        got
    }

    pub(crate) fn release(&mut self, group: &str) {
        self.held.retain(|g| g != group);
        if let Some(l) = &self.link {
            l.ctl.release(l.id, group);
        }
    }

    /// The run reached `at`: runs waiting for it arrive (and take their
    /// turn first).
    pub(crate) fn reached(&mut self, at: &At) {
        if let Some(l) = &self.link {
            l.ctl.reached(l.id, at);
        }
    }

    /// How long after `at` (a step starting) a run queued to arrive then
    /// arrives, if one is.
    pub(crate) fn arrival_delay(&self, at: &At) -> Option<std::time::Duration> {
        self.link
            .as_ref()
            .and_then(|l| l.ctl.arrival_delay(l.id, at))
    }

    /// Lets other runs take a turn; false when none can.
    pub(crate) fn wait_a_turn(&mut self) -> bool {
        self.link.as_ref().is_some_and(|l| l.ctl.yield_turn(l.id))
    }

    /// Waits for the review of `environment` if it is protected; `Err` with
    /// why the job must not run (rejected, or the run was cancelled while it
    /// waited).
    pub(crate) fn review(
        &mut self,
        job: &str,
        environment: &str,
    ) -> Result<Result<(), String>, String> {
        let (protection, _) = self.environments.use_environment(environment);
        if protection == Protection::None {
            return Ok(Ok(()));
        }
        self.tell(&Event::Review { job, environment });
        let request = ReviewRequest {
            job: job.to_owned(),
            environment: environment.to_owned(),
        };
        loop {
            let Some(reviewer) = self.reviewer.as_mut() else {
                return Err(format!(
                    "job `{job}` waits for a review of environment `{environment}` (required reviewers), and this runner has no reviewer"
                ));
            };
            match reviewer(&request) {
                Review::Approve => return Ok(Ok(())),
                Review::Reject => {
                    return Ok(Err(format!(
                        "a reviewer rejected the job's deployment to environment `{environment}`"
                    )));
                }
                Review::Wait => {
                    if !self.wait_a_turn() {
                        return Err(format!(
                            "job `{job}` waits for a review of environment `{environment}` that never comes"
                        ));
                    }
                    if let Some(why) = self.cancelled() {
                        return Ok(Err(format!("cancelled while waiting for a review: {why}")));
                    }
                }
            }
        }
    }

    /// The contexts every expression of a job may read, but `secrets`.
    pub(crate) fn base_contexts(&self, inputs: &Map<String, Value>) -> Map<String, Value> {
        let mut github = self.github.clone();
        github.insert("event_name".into(), Value::from(self.event_name.clone()));
        github.insert("event".into(), self.event.clone());
        github.insert("token".into(), Value::from(self.token()));
        let mut c = Map::new();
        c.insert("github".into(), Value::Object(github));
        c.insert("inputs".into(), Value::Object(inputs.clone()));
        c.insert("vars".into(), json!({}));
        c.insert("runner".into(), json!({"os": "Linux", "arch": "X64"}));
        c
    }

    fn token(&self) -> String {
        self.env.get("GITHUB_TOKEN").cloned().unwrap_or_default()
    }

    /// A job's `secrets`: what reached its workflow, its environment's
    /// where that applies, and `GITHUB_TOKEN`, which every workflow (a
    /// called one too) gets.
    /// <https://docs.github.com/en/actions/reference/workflows-and-actions/reusable-workflows#github-context>
    pub(crate) fn job_secrets(
        &self,
        source: &Source,
        environment: Option<&str>,
    ) -> BTreeMap<String, String> {
        let mut s = source.for_job(&self.store, environment);
        let token = self.token();
        if !token.is_empty() {
            s.insert("GITHUB_TOKEN".into(), token);
        }
        s
    }

    /// Plays one workflow file that got its secrets from `source`.
    pub(crate) fn workflow(
        &mut self,
        path: &Path,
        inputs: &Map<String, Value>,
        source: &Source,
    ) -> Result<WorkflowRecord, String> {
        let file = if path.is_absolute() {
            path.to_owned()
        } else {
            self.root.join(path)
        };
        let doc = load(&file)?;
        let name = file
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        let inputs = with_defaults(&doc, inputs);
        let cancelled_before = self.cancelled().is_some();
        let contexts = self.base_contexts(&inputs);
        let scope = Scope {
            contexts: &contexts,
            status: Status::Success,
        };
        // Workflow-level `concurrency`: the whole run waits for its group.
        let group =
            Concurrency::parse(&doc["concurrency"], &scope).map_err(|e| format!("{name}: {e}"))?;
        if let Some(c) = &group {
            match self.acquire(&name, c) {
                Acquired::Granted => {}
                Acquired::Cancelled(why) => {
                    // A pending run that is cancelled runs no job at all.
                    return Ok(WorkflowRecord {
                        file: name,
                        result: "cancelled".into(),
                        concurrency: Some(c.group.clone()),
                        cancelled: Some(why),
                        ..WorkflowRecord::default()
                    });
                }
                Acquired::Deadlock(why) => return Err(format!("{name}: {why}")),
            }
        }
        let played = self.jobs(&name, &doc, &inputs, source);
        if let Some(c) = &group {
            self.release(&c.group);
        }
        let (jobs, needs_ctx) = played?;
        // The workflow's own outputs (`on.workflow_call.outputs`).
        let mut contexts = self.base_contexts(&inputs);
        contexts.insert("jobs".into(), Value::Object(needs_ctx));
        let scope = Scope {
            contexts: &contexts,
            status: Status::Success,
        };
        let mut outputs = BTreeMap::new();
        if let Yaml::Hash(h) = &workflow_call(&doc)["outputs"] {
            for (k, v) in h {
                if let (Some(k), Some(value)) = (scalar(k), scalar(&v["value"])) {
                    outputs.insert(k, expr::interpolate(&value, &scope)?);
                }
            }
        }
        let cancelled = if cancelled_before {
            None
        } else {
            self.cancelled()
        };
        let result = if cancelled.is_some() {
            "cancelled"
        } else if jobs.iter().any(|j| j.result == "failure") {
            "failure"
        } else {
            "success"
        };
        Ok(WorkflowRecord {
            file: name,
            result: result.into(),
            jobs,
            outputs,
            concurrency: group.map(|c| c.group),
            cancelled,
        })
    }

    /// The jobs of a workflow, in `needs` order, and the `jobs` context.
    fn jobs(
        &mut self,
        name: &str,
        doc: &Yaml,
        inputs: &Map<String, Value>,
        source: &Source,
    ) -> Result<(Vec<JobRecord>, Map<String, Value>), String> {
        let workflow_env = string_map(&doc["env"]);
        let order = ordered_jobs(doc)?;
        let needs_of: BTreeMap<String, Vec<String>> = order
            .iter()
            .map(|(id, job)| (id.clone(), needs(job)))
            .collect();
        let mut results: BTreeMap<String, String> = BTreeMap::new();
        let mut jobs: Vec<JobRecord> = Vec::new();
        let mut needs_ctx = Map::new();
        for (id, job) in order {
            let direct = &needs_of[&id];
            let mut contexts = self.base_contexts(inputs);
            contexts.insert(
                "needs".into(),
                Value::Object(
                    direct
                        .iter()
                        .filter_map(|n| needs_ctx.get(n).map(|v| (n.clone(), v.clone())))
                        .collect(),
                ),
            );
            contexts.insert("secrets".into(), to_object(&self.job_secrets(source, None)));
            // For a job's `if`: success() when every job it needs
            // succeeded, failure() when any ancestor failed, cancelled()
            // when the run was.
            // <https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions>,
            // <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds>
            let status = if self.cancelled().is_some() {
                Status::Cancelled
            } else if ancestors(&id, &needs_of)
                .iter()
                .any(|a| results.get(a).map(String::as_str) == Some("failure"))
            {
                Status::Failure
            } else if direct
                .iter()
                .all(|n| results.get(n).map(String::as_str) == Some("success"))
            {
                Status::Success
            } else {
                Status::Incomplete
            };
            let scope = Scope {
                contexts: &contexts,
                status,
            };
            let condition = scalar(&job["if"]).unwrap_or_else(|| "success()".into());
            let run = expr::condition(&condition, &scope)
                .map_err(|e| format!("{name}: job `{id}`: `if`: {e}"))?;
            let record_id = format!("{name}/{id}");
            let record = if !run {
                self.tell(&Event::JobFinished {
                    id: &record_id,
                    result: "skipped",
                });
                JobRecord {
                    id: record_id,
                    result: "skipped".into(),
                    ..JobRecord::default()
                }
            } else if let Some(uses) = scalar(&job["uses"]) {
                self.call(&record_id, &uses, &job, &contexts, source)?
            } else {
                self.job(&record_id, &job, &workflow_env, &contexts, source)?
            };
            results.insert(id.clone(), record.result.clone());
            needs_ctx.insert(
                id.clone(),
                json!({"result": record.result, "outputs": record.outputs}),
            );
            jobs.push(record);
        }
        Ok((jobs, needs_ctx))
    }

    /// A job that calls a reusable workflow of ours.
    fn call(
        &mut self,
        id: &str,
        uses: &str,
        job: &Yaml,
        contexts: &Map<String, Value>,
        source: &Source,
    ) -> Result<JobRecord, String> {
        // Only these keywords may be used in a job that calls a reusable
        // workflow
        // (<https://docs.github.com/en/actions/reference/workflows-and-actions/reusable-workflows#supported-keywords-for-jobs-that-call-a-reusable-workflow>),
        // and `cache-mode`, which "carries through reusable workflows"
        // (<https://github.blog/changelog/2026-09-10-control-github-actions-cache-access-with-cache-mode>).
        // Not `environment`: the calling job cannot set one.
        const ALLOWED: [&str; 10] = [
            "name",
            "uses",
            "with",
            "secrets",
            "strategy",
            "needs",
            "if",
            "concurrency",
            "permissions",
            "cache-mode",
        ];
        if let Yaml::Hash(h) = job {
            for k in h.keys().filter_map(scalar) {
                if !ALLOWED.contains(&k.as_str()) {
                    return Err(format!(
                        "job `{id}` calls `{uses}` and sets `{k}`, which a job that calls a reusable workflow cannot use"
                    ));
                }
            }
        }
        let path = uses.split('@').next().unwrap_or(uses);
        let rel = path
            .strip_prefix("./")
            .or_else(|| path.strip_prefix("deploy-relay/deploy-relay/"))
            .ok_or_else(|| format!("job `{id}`: `{uses}` is not a workflow of this repository"))?;
        let callee = load(&self.root.join(rel))?;
        let declared = workflow_call(&callee);
        if matches!(declared, Yaml::BadValue) {
            return Err(format!(
                "job `{id}` calls `{rel}`, which has no `on.workflow_call`"
            ));
        }
        let scope = Scope {
            contexts,
            status: Status::Success,
        };
        let mut inputs = Map::new();
        if let Yaml::Hash(h) = &job["with"] {
            for (k, v) in h {
                if let (Some(k), Some(v)) = (scalar(k), scalar(v)) {
                    inputs.insert(k, Value::from(expr::interpolate(&v, &scope)?));
                }
            }
        }
        check_inputs(id, rel, declared, &inputs)?;
        let caller_secrets = self.job_secrets(source, None);
        let passed = match &job["secrets"] {
            Yaml::String(s) if s == "inherit" => Source::Inherit(caller_secrets),
            Yaml::Hash(h) => {
                let mut map = BTreeMap::new();
                for (k, v) in h {
                    if let (Some(k), Some(v)) = (scalar(k), scalar(v)) {
                        map.insert(k, expr::interpolate(&v, &scope)?);
                    }
                }
                Source::Explicit(map)
            }
            Yaml::BadValue | Yaml::Null => Source::Explicit(BTreeMap::new()),
            other => {
                return Err(format!(
                    "job `{id}`: `secrets: {other:?}` is neither `inherit` nor a map"
                ));
            }
        };
        if let Source::Explicit(map) = &passed {
            check_secrets(id, rel, declared, map)?;
        }
        let group = Concurrency::parse(&job["concurrency"], &scope)
            .map_err(|e| format!("job `{id}`: {e}"))?;
        if let Some(c) = &group {
            match self.acquire(id, c) {
                Acquired::Granted => {}
                Acquired::Cancelled(why) => {
                    self.tell(&Event::JobFinished {
                        id,
                        result: "cancelled",
                    });
                    return Ok(cancelled_job(id, c, why));
                }
                Acquired::Deadlock(why) => return Err(format!("job `{id}`: {why}")),
            }
        }
        self.tell(&Event::Job {
            id,
            environment: None,
        });
        let called = self.workflow(Path::new(rel), &inputs, &passed);
        if let Some(c) = &group {
            self.release(&c.group);
        }
        let called = called?;
        let result = called.result.clone();
        self.tell(&Event::JobFinished {
            id,
            result: &result,
        });
        Ok(JobRecord {
            id: id.to_owned(),
            result,
            outputs: called.outputs.clone(),
            concurrency: group.map(|c| c.group),
            called: Some(Box::new(called)),
            ..JobRecord::default()
        })
    }
}

/// A job cancelled while it waited for its concurrency group.
pub(crate) fn cancelled_job(id: &str, c: &Concurrency, why: String) -> JobRecord {
    JobRecord {
        id: id.to_owned(),
        result: "cancelled".into(),
        concurrency: Some(c.group.clone()),
        note: Some(why),
        ..JobRecord::default()
    }
}

/// "Any inputs that you pass must match the input specifications defined
/// in the called workflow", and a required input must be given.
/// <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idwith>
fn check_inputs(
    id: &str,
    rel: &str,
    declared: &Yaml,
    given: &Map<String, Value>,
) -> Result<(), String> {
    let specs = &declared["inputs"];
    for k in given.keys() {
        if matches!(specs[k.as_str()], Yaml::BadValue) {
            return Err(format!(
                "job `{id}` passes input `{k}`, which `{rel}` does not declare in `on.workflow_call.inputs`"
            ));
        }
    }
    if let Yaml::Hash(h) = specs {
        for (k, spec) in h {
            let Some(k) = scalar(k) else { continue };
            let required = matches!(spec["required"], Yaml::Boolean(true));
            if required && !given.contains_key(&k) && matches!(spec["default"], Yaml::BadValue) {
                return Err(format!(
                    "job `{id}` calls `{rel}` without its required input `{k}`"
                ));
            }
        }
    }
    Ok(())
}

/// "Any secrets that you pass must match the names defined in the called
/// workflow"
/// (<https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idsecrets>);
/// a `required` secret must be passed — by name: `required` "only checks
/// whether the caller workflow passes the secret", not its value
/// (<https://docs.github.com/en/actions/how-tos/reuse-automations/reuse-workflows#using-inputs-and-secrets-in-a-reusable-workflow>).
/// With `secrets: inherit` nothing is checked.
fn check_secrets(
    id: &str,
    rel: &str,
    declared: &Yaml,
    passed: &BTreeMap<String, String>,
) -> Result<(), String> {
    let specs = &declared["secrets"];
    for k in passed.keys() {
        if matches!(specs[k.as_str()], Yaml::BadValue) {
            return Err(format!(
                "job `{id}` passes secret `{k}`, which `{rel}` does not declare in `on.workflow_call.secrets`"
            ));
        }
    }
    if let Yaml::Hash(h) = specs {
        for (k, spec) in h {
            let Some(k) = scalar(k) else { continue };
            if matches!(spec["required"], Yaml::Boolean(true)) && !passed.contains_key(&k) {
                return Err(format!(
                    "job `{id}` calls `{rel}` without its required secret `{k}` (GitHub: \"Secret {k} is required, but not provided while calling\")"
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn load(file: &Path) -> Result<Yaml, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    YamlLoader::load_from_str(&text)
        .map_err(|e| format!("{}: {e}", file.display()))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: empty", file.display()))
}

/// `on.workflow_call` (`Yaml::Null` when declared bare, `BadValue` when
/// the workflow cannot be called).
fn workflow_call(doc: &Yaml) -> &Yaml {
    static NULL: Yaml = Yaml::Null;
    match &doc["on"] {
        Yaml::String(s) if s == "workflow_call" => &NULL,
        Yaml::Array(a) if a.iter().any(|t| t.as_str() == Some("workflow_call")) => &NULL,
        on => &on["workflow_call"],
    }
}

pub(crate) fn to_object(m: &BTreeMap<String, String>) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect(),
    )
}

pub(crate) fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn string_map(y: &Yaml) -> BTreeMap<String, String> {
    match y {
        Yaml::Hash(h) => h
            .iter()
            .filter_map(|(k, v)| Some((scalar(k)?, scalar(v).unwrap_or_default())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn needs(job: &Yaml) -> Vec<String> {
    match &job["needs"] {
        Yaml::Array(a) => a.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

/// Every job `id` needs, directly or through others.
fn ancestors(id: &str, needs_of: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<&str> = vec![id];
    while let Some(j) = todo.pop() {
        for n in needs_of.get(j).into_iter().flatten() {
            if out.insert(n.clone()) {
                todo.push(n);
            }
        }
    }
    out
}

/// `on.workflow_call` (and `workflow_dispatch`'s) input defaults over the
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
            if needs(job).iter().all(|n| done.contains(n)) {
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
