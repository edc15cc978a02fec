//! The GitHub Actions runtime contract, as every deploy-relay action needs it:
//! inputs from `INPUT_*` env or `--flags`, outputs and the step summary, workflow
//! commands with the runner's escaping and secret masking, the event payload
//! as typed views, durations and sizes, and the mapping of a run's result to an exit
//! code. An action declares an [`ActionSpec`] and an async `run(Context)`;
//! [`main`] does the rest.

mod console;
pub mod duration;
mod env;
mod environments;
mod error;
mod event;
mod image;
mod inputs;
mod local;
mod markdown;
mod outputs;
mod repo;
mod secret;
pub mod size;
mod source;
mod status;
mod template;

use std::future::Future;
use std::process::ExitCode;

pub use console::{Captured, Console, Group, command, escape_data, escape_property, redact};
pub use env::{Env, vars};
pub use environments::{DEFAULT_ENVIRONMENTS, Environments};
pub use error::{InputError, error_text, root_cause};
pub use event::{
    DEFAULT_TRIGGER_EVENTS, Event, EventError, Provenance, PullRequestEvent, PushEvent, Repository,
    RepositoryDispatchEvent, WorkflowRun, WorkflowRunEvent, trigger_events,
};
pub use image::ImageRef;
pub use inputs::{ActionSpec, Default, InputSpec, Inputs, OutputSpec, ParseOutcome, env_name};
pub use local::{Checkout, repository_of_remote};
pub use markdown::{md_block, md_cell, md_code, md_link};
pub use outputs::{OutputError, Outputs, Summary, heredoc, parse_output_file};
pub use repo::RepoName;
pub use secret::Secret;
pub use source::{Source, check_repository, short_ref};
pub use status::StatusSet;
pub use template::Placeholders;

/// Everything a run of an action reads from and writes to.
#[derive(Clone)]
pub struct Context {
    pub env: Env,
    pub console: Console,
    pub inputs: Inputs,
    pub outputs: Outputs,
    pub summary: Summary,
    pub event: Event,
}

/// The entry point of every action binary: parse, run, report.
pub fn main<F, Fut>(spec: &'static ActionSpec, run: F) -> ExitCode
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    main_with_args(spec, std::env::args(), run)
}

/// [`main`] with the command line given, for the multi-call binary.
pub fn main_with_args<F, Fut>(
    spec: &'static ActionSpec,
    args: impl IntoIterator<Item = String>,
    run: F,
) -> ExitCode
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut env = Env::from_process();
    if env.get(vars::GITHUB_ACTIONS).is_none()
        && let Ok(dir) = std::env::current_dir()
    {
        // By hand on the command line: the checkout says what the runner would.
        local::Checkout::read(&dir).fill(&mut env);
    }
    let console = Console::stdout(env.debug());
    execute(spec, args, env, console, run)
}

/// [`main`] with its inputs given, so the multi-call binary and tests can use it.
pub fn execute<F, Fut>(
    spec: &'static ActionSpec,
    args: impl IntoIterator<Item = String>,
    env: Env,
    console: Console,
    run: F,
) -> ExitCode
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    // Mask secrets from env before anything, even a usage error, is printed.
    for input in spec.inputs.iter().filter(|i| i.secret) {
        if let Some(value) = env.get(&input.env_name()) {
            console.add_mask(value.trim());
        }
    }
    if let Some(token) = env.get(vars::ACTIONS_RUNTIME_TOKEN) {
        console.add_mask(token);
    }
    let inputs = match spec.parse(args, &env) {
        Ok(inputs) => inputs,
        Err(ParseOutcome::Exit(text)) => {
            console.help(text.trim_end());
            return ExitCode::SUCCESS;
        }
        Err(ParseOutcome::Invalid(e)) => {
            console.error(&e.to_string());
            return ExitCode::FAILURE;
        }
    };
    for secret in inputs.secrets() {
        console.add_mask(secret);
    }
    let event = match Event::load(&env) {
        Ok(event) => event,
        Err(e) => {
            console.error(&format!("{e}\nhint: this action reads the event the runner saved; run it inside a workflow or point GITHUB_EVENT_PATH at a valid payload"));
            return ExitCode::FAILURE;
        }
    };
    let ctx = Context {
        outputs: Outputs::new(env.path(vars::GITHUB_OUTPUT), console.clone()),
        summary: Summary::new(env.path(vars::GITHUB_STEP_SUMMARY), console.clone()),
        console: console.clone(),
        inputs,
        event,
        env,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            console.error(&format!("couldn't start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(ctx)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            console.error(&error_text(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPEC: ActionSpec = ActionSpec {
        name: "t",
        description: "test",
        context: "nothing",
        inputs: &[
            InputSpec::new("token", "t").secret(),
            InputSpec::new("fail", "f").default("false"),
        ],
        outputs: &[],
    };

    fn exec(env: &[(&str, &str)]) -> (ExitCode, String) {
        let (console, out) = Console::capture(false);
        let code = execute(
            &SPEC,
            ["t".to_owned()],
            Env::from_pairs(env.iter().copied()),
            console,
            |ctx: Context| async move {
                ctx.console.info(&format!(
                    "token is {}",
                    ctx.inputs.get("token").unwrap_or("")
                ));
                if ctx.inputs.bool("fail")? {
                    anyhow::bail!("it failed with {}", ctx.inputs.get("token").unwrap_or(""));
                }
                Ok(())
            },
        );
        (code, out.text())
    }

    #[test]
    fn success_exits_0_and_secret_is_masked_first() {
        let (code, out) = exec(&[("INPUT_TOKEN", "ghp_abcdef")]);
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(out.starts_with("::add-mask::ghp_abcdef\n"), "{out}");
        assert!(out.contains("token is ***"));
    }

    #[test]
    fn failure_exits_1_with_one_error_line_and_no_secret() {
        let (code, out) = exec(&[("INPUT_TOKEN", "ghp_abcdef"), ("INPUT_FAIL", "true")]);
        assert_eq!(code, ExitCode::FAILURE);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("::error::")).count(),
            1
        );
        assert!(out.contains("::error::it failed with ***"));
        assert_eq!(out.matches("ghp_abcdef").count(), 1);
    }

    #[test]
    fn bad_input_exits_1_before_run() {
        let (code, out) = exec(&[("INPUT_FAIL", "yes")]);
        assert_eq!(code, ExitCode::FAILURE);
        assert!(
            out.contains("::error::input `fail` must be `true` or `false`"),
            "{out}"
        );
    }

    #[test]
    fn unreadable_event_is_an_error() {
        let (code, out) = exec(&[("GITHUB_EVENT_PATH", "/nonexistent/event.json")]);
        assert_eq!(code, ExitCode::FAILURE);
        assert!(out.contains("/nonexistent/event.json"));
    }
}
