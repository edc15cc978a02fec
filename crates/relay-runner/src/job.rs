//! A job with steps: its runner, group, environment, steps and outputs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use relay_runtime::{env_name, parse_output_file};
use serde_json::{Map, Value, json};
use yaml_rust2::{Yaml, YamlLoader};

use crate::at::At;
use crate::commands::runner_commands;
use crate::concurrency::{Acquired, Concurrency};
use crate::expr::{self, Scope, Status};
use crate::process;
use crate::record::{Event, JobRecord, StepRecord};
use crate::run::{Runner, cancelled_job, scalar, string_map, to_object};
use crate::secrets::Source;

enum Prepared {
    Done(StepRecord),
    Run(Command, Ready),
}

/// Where a started step's results are read from.
struct Ready {
    uses: String,
    output: PathBuf,
    summary: PathBuf,
}

impl Ready {
    /// The step's record once its process ended.
    fn record(self, out: process::Finished, elapsed: Duration) -> StepRecord {
        let outcome = if out.interrupted {
            "cancelled"
        } else if out.status.success() {
            "success"
        } else {
            "failure"
        };
        let mut log = out.stdout;
        log.push_str(&out.stderr);
        StepRecord {
            uses: self.uses,
            outcome: outcome.into(),
            conclusion: outcome.into(),
            outputs: parse_output_file(&std::fs::read_to_string(&self.output).unwrap_or_default())
                .into_iter()
                .collect(),
            summary: std::fs::read_to_string(&self.summary).unwrap_or_default(),
            log,
            elapsed,
            ..StepRecord::default()
        }
    }
}

struct Files<'a> {
    workspace: &'a Path,
    dir: &'a Path,
    event: &'a Path,
    job: &'a str,
}

impl Runner {
    /// A job with steps.
    pub(crate) fn job(
        &mut self,
        id: &str,
        job: &Yaml,
        workflow_env: &BTreeMap<String, String>,
        contexts: &Map<String, Value>,
        source: &Source,
    ) -> Result<JobRecord, String> {
        let mut contexts = contexts.clone();
        let scope = Scope {
            contexts: &contexts,
            status: Status::Success,
        };
        let runs_on = runs_on(&job["runs-on"], &scope).map_err(|e| format!("job `{id}`: {e}"))?;
        let group = Concurrency::parse(&job["concurrency"], &scope)
            .map_err(|e| format!("job `{id}`: {e}"))?;
        let (environment, url) = match &job["environment"] {
            Yaml::Hash(_) => (
                scalar(&job["environment"]["name"]),
                scalar(&job["environment"]["url"]),
            ),
            other => (scalar(other), None),
        };
        let environment = environment
            .map(|e| expr::interpolate(&e, &scope))
            .transpose()?;
        let mut record = JobRecord {
            id: id.to_owned(),
            runs_on: runs_on.clone(),
            environment: environment.clone(),
            concurrency: group.as_ref().map(|c| c.group.clone()),
            ..JobRecord::default()
        };
        // Our actions are container actions: "Docker container actions can
        // only execute on runners with a Linux operating system."
        // <https://docs.github.com/en/actions/concepts/workflows-and-actions/custom-actions#docker-container-actions>
        if let Some(os) = runs_on.iter().find(|l| not_linux(l)) {
            record.result = "failure".into();
            record.note = Some(format!(
                "`runs-on` chose `{os}`: this runner is Linux, and container actions run only on Linux runners"
            ));
            self.tell(&Event::JobFinished {
                id,
                result: "failure",
            });
            return Ok(record);
        }
        // The group first, then the environment's review: a job waiting
        // for approval holds its group (observed, not documented).
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
        let played = self.job_in_group(id, job, workflow_env, &mut contexts, source, record, url);
        if let Some(c) = &group {
            self.release(&c.group);
        }
        played
    }

    #[allow(clippy::too_many_arguments)]
    fn job_in_group(
        &mut self,
        id: &str,
        job: &Yaml,
        workflow_env: &BTreeMap<String, String>,
        contexts: &mut Map<String, Value>,
        source: &Source,
        mut record: JobRecord,
        url: Option<String>,
    ) -> Result<JobRecord, String> {
        let environment = record.environment.clone();
        if let Some(env) = &environment {
            let (_, created) = self.environments.use_environment(env);
            record.environment_created = created;
            if let Err(why) = self.review(id, env)? {
                record.result = if self.cancelled().is_some() {
                    "cancelled"
                } else {
                    "failure"
                }
                .into();
                record.note = Some(why);
                self.tell(&Event::JobFinished {
                    id,
                    result: &record.result,
                });
                return Ok(record);
            }
        }
        let secrets = self.job_secrets(source, environment.as_deref());
        contexts.insert("secrets".into(), to_object(&secrets));
        self.jobs_run += 1;
        let dir = self.work.join(format!("job-{:02}", self.jobs_run));
        let workspace = dir.join("workspace");
        std::fs::create_dir_all(&workspace).map_err(|e| e.to_string())?;
        let event_path = dir.join("event.json");
        std::fs::write(&event_path, self.event.to_string()).map_err(|e| e.to_string())?;
        self.tell(&Event::Job {
            id,
            environment: environment.as_deref(),
        });
        let job_env = {
            let scope = Scope {
                contexts,
                status: Status::Success,
            };
            let mut env = workflow_env.clone();
            for (k, v) in string_map(&job["env"]) {
                env.insert(k, expr::interpolate(&v, &scope)?);
            }
            env
        };
        // A job that starts after the run was cancelled (`if: always()`)
        // runs its steps as usual; one running when it is cancelled runs
        // only the steps whose `if` holds for a cancelled run.
        // <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-cancellation>
        let started_cancelled = self.cancelled().is_some();
        let mut job_cancelled = false;
        let mut failed = false;
        let mut steps_ctx = Map::new();
        let mut masks: BTreeSet<String> = secrets
            .values()
            .filter(|v| !v.is_empty())
            .cloned()
            .collect();
        let steps = match &job["steps"] {
            Yaml::Array(a) => a.clone(),
            _ => Vec::new(),
        };
        for (n, step) in steps.iter().enumerate() {
            if !started_cancelled && self.cancelled().is_some() {
                job_cancelled = true;
            }
            let status = if job_cancelled {
                Status::Cancelled
            } else if failed {
                Status::Failure
            } else {
                Status::Success
            };
            contexts.insert("steps".into(), Value::Object(steps_ctx.clone()));
            // `job.status`, the job's status so far outside `if`s.
            // <https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#job-context>
            contexts.insert("job".into(), json!({"status": job_status(status)}));
            let mut env_ctx: Map<String, Value> = job_env
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                .collect();
            let mut step_env = job_env.clone();
            {
                let scope = Scope { contexts, status };
                for (k, v) in string_map(&step["env"]) {
                    let v = expr::interpolate(&v, &scope)?;
                    env_ctx.insert(k.clone(), Value::from(v.clone()));
                    step_env.insert(k, v);
                }
            }
            contexts.insert("env".into(), Value::Object(env_ctx));
            let scope = Scope { contexts, status };
            let step_id = scalar(&step["id"]).unwrap_or_else(|| format!("__{n}"));
            let uses = scalar(&step["uses"]);
            let name = scalar(&step["name"])
                .map(|nm| expr::interpolate(&nm, &scope))
                .transpose()?
                .or_else(|| uses.clone())
                .unwrap_or_else(|| format!("run {}", n + 1));
            let condition = scalar(&step["if"]).unwrap_or_else(|| "success()".into());
            let skipped = !expr::condition(&condition, &scope)
                .map_err(|e| format!("job `{id}`: step `{step_id}`: `if`: {e}"))?;
            let rec = if skipped {
                let rec = StepRecord {
                    id: step_id.clone(),
                    name,
                    uses: uses.clone().unwrap_or_else(|| "run".into()),
                    outcome: "skipped".into(),
                    conclusion: "skipped".into(),
                    ..StepRecord::default()
                };
                // Told too, so a timeline shows what did not run.
                self.tell(&Event::StepFinished {
                    job: id,
                    step: &rec,
                });
                rec
            } else {
                self.tell(&Event::StepStarted {
                    job: id,
                    id: &step_id,
                    name: &name,
                });
                let step_dir = dir.join(format!("step-{n:02}"));
                std::fs::create_dir_all(&step_dir).map_err(|e| e.to_string())?;
                let scope = Scope { contexts, status };
                let prepared = self.prepare(
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
                let running = At::step_running(id, &step_id);
                let hook = self.cancel_at.iter().find(|h| h.matches(&running)).cloned();
                let was_cancelled = self.cancelled().is_some();
                let mut rec = match prepared {
                    Prepared::Done(rec) => {
                        self.reached(&running);
                        rec
                    }
                    Prepared::Run(cmd, p) => {
                        let started = Instant::now();
                        let proc = process::start(cmd)?;
                        // Runs that arrive while this step runs arrive now,
                        // and take their turn while it runs.
                        if let Some(delay) = self.arrival_delay(&running) {
                            std::thread::sleep(delay.saturating_sub(started.elapsed()));
                        }
                        self.reached(&running);
                        let mut interrupt = match &hook {
                            Some(h) => Some(h.after().saturating_sub(started.elapsed())),
                            // Cancelled by another run while this step ran.
                            None if !was_cancelled && self.cancelled().is_some() => {
                                Some(Duration::ZERO)
                            }
                            None => None,
                        };
                        // The runner re-evaluates the running step's `if`
                        // for the cancelled run: `always()` and
                        // `cancelled()` steps go on.
                        if interrupt.is_some() {
                            let cancelled_scope = Scope {
                                contexts,
                                status: Status::Cancelled,
                            };
                            if expr::condition(&condition, &cancelled_scope)? {
                                interrupt = None;
                            }
                        }
                        let finished = proc.finish(interrupt)?;
                        p.record(finished, started.elapsed())
                    }
                };
                if let Some(h) = &hook {
                    self.cancel(&format!("cancelled by the test {h}"));
                }
                let scope = Scope { contexts, status };
                rec.id.clone_from(&step_id);
                rec.name = name;
                if rec.outcome == "failure" && step_true(&step["continue-on-error"], &scope)? {
                    rec.conclusion = "success".into();
                }
                for (cmd, value) in runner_commands(&rec.log) {
                    if cmd == "add-mask" {
                        let value = unescape_data(&value);
                        if !value.is_empty() {
                            masks.insert(value);
                        }
                    }
                }
                self.tell(&Event::StepFinished {
                    job: id,
                    step: &rec,
                });
                let finished = At::step_finished(id, &step_id);
                if let Some(hook) = self
                    .cancel_at
                    .iter()
                    .find(|h| h.matches(&finished))
                    .cloned()
                {
                    self.cancel(&format!("cancelled by the test {hook}"));
                }
                self.reached(&finished);
                rec
            };
            if rec.conclusion == "failure" {
                failed = true;
            }
            if rec.outcome == "cancelled" {
                job_cancelled = true;
            }
            steps_ctx.insert(
                step_id,
                json!({"outputs": rec.outputs, "outcome": rec.outcome, "conclusion": rec.conclusion}),
            );
            record.steps.push(rec);
        }
        if !started_cancelled && self.cancelled().is_some() {
            job_cancelled = true;
        }
        contexts.insert("steps".into(), Value::Object(steps_ctx));
        let status = if job_cancelled {
            Status::Cancelled
        } else if failed {
            Status::Failure
        } else {
            Status::Success
        };
        contexts.insert("job".into(), json!({"status": job_status(status)}));
        let scope = Scope { contexts, status };
        // "Outputs containing secrets are redacted on the runner and not
        // sent to GitHub Actions"
        // (<https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idoutputs>);
        // a masked value "is treated as a secret [...] after you mask a
        // value, you won't be able to set that value as an output"
        // (<https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#masking-a-value-in-a-log>).
        for (k, v) in string_map(&job["outputs"]) {
            let value = expr::interpolate(&v, &scope)?;
            if masks.iter().any(|m| value.contains(m.as_str())) {
                record.dropped_outputs.push(k);
            } else {
                record.outputs.insert(k, value);
            }
        }
        record.environment_url = url.map(|u| expr::interpolate(&u, &scope)).transpose()?;
        record.result = if job_cancelled {
            "cancelled"
        } else if failed {
            "failure"
        } else {
            "success"
        }
        .into();
        if job_cancelled {
            record.note = self.cancelled();
        }
        self.tell(&Event::JobFinished {
            id,
            result: &record.result,
        });
        Ok(record)
    }

    /// A step's process, ready to start, or the record of a step that
    /// starts none (a third-party action).
    fn prepare(
        &self,
        step: &Yaml,
        scope: &Scope<'_>,
        env: &BTreeMap<String, String>,
        files: &Files<'_>,
    ) -> Result<Prepared, String> {
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
                    return Ok(Prepared::Done(StepRecord {
                        uses: uses.clone(),
                        outcome: "success".into(),
                        conclusion: "success".into(),
                        note: Some(format!("`{uses}` is not one of ours; a local run skips it")),
                        ..StepRecord::default()
                    }));
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
            .stdin(std::process::Stdio::null());
        Ok(Prepared::Run(
            cmd,
            Ready {
                uses: uses.unwrap_or_else(|| "run".into()),
                output,
                summary,
            },
        ))
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

/// `runs-on`: a label, a list of labels, an expression giving either (a
/// JSON list through `fromJSON`), or `{group, labels}`.
/// <https://docs.github.com/en/actions/how-tos/write-workflows/choose-where-workflows-run/choose-the-runner-for-a-job>
fn runs_on(y: &Yaml, scope: &Scope<'_>) -> Result<Vec<String>, String> {
    let labels = match y {
        Yaml::String(s) => labels_of(s, scope)?,
        Yaml::Array(a) => {
            let mut out = Vec::new();
            for item in a {
                let s = scalar(item).ok_or("`runs-on` lists a value that is not a label")?;
                out.extend(labels_of(&s, scope)?);
            }
            out
        }
        Yaml::Hash(_) => {
            let mut out = Vec::new();
            if let Some(g) = scalar(&y["group"]) {
                out.push(format!("group:{}", expr::interpolate(&g, scope)?));
            }
            if !matches!(y["labels"], Yaml::BadValue) {
                out.extend(runs_on(&y["labels"], scope)?);
            }
            out
        }
        Yaml::BadValue | Yaml::Null => {
            return Err("`runs-on` is missing: every job with steps needs one".into());
        }
        other => return Err(format!("`runs-on: {other:?}` is not a label")),
    };
    if labels.iter().all(String::is_empty) {
        return Err("`runs-on` evaluated to no label".into());
    }
    Ok(labels.into_iter().filter(|l| !l.is_empty()).collect())
}

/// One `runs-on` value: a single `${{ }}` is evaluated as a value (a
/// string or an array); anything else is interpolated into one label.
fn labels_of(s: &str, scope: &Scope<'_>) -> Result<Vec<String>, String> {
    let t = s.trim();
    if let Some(inner) = t.strip_prefix("${{").and_then(|r| r.strip_suffix("}}"))
        && !inner.contains("${{")
    {
        let v: Value = expr::eval(inner.trim(), scope)?
            .try_into()
            .unwrap_or(Value::Null);
        return Ok(match v {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect(),
            Value::String(s) => vec![s],
            Value::Null => Vec::new(),
            other => vec![other.to_string()],
        });
    }
    Ok(vec![expr::interpolate(s, scope)?])
}

fn job_status(status: Status) -> &'static str {
    match status {
        Status::Success | Status::Incomplete => "success",
        Status::Failure => "failure",
        Status::Cancelled => "cancelled",
    }
}

fn not_linux(label: &str) -> bool {
    let l = label.to_ascii_lowercase();
    l.starts_with("windows") || l.starts_with("macos") || l == "osx"
}

/// A workflow command's data, unescaped as the runner reads it
/// (`%25`, `%0D`, `%0A`; the toolkit's `escapeData` reversed).
fn unescape_data(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
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
