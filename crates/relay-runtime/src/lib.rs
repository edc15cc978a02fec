//! The GitHub Actions runtime contract, as every deploy-relay action needs it:
//! inputs from `INPUT_*` env or `--flags`, outputs and the step summary, workflow
//! commands with the runner's escaping and secret masking, the event payload
//! as typed views, durations and sizes, and the mapping of a run's result to an exit
//! code. An action declares an [`ActionSpec`] and an async `run(Context)`;
//! [`main`] does the rest.

#![warn(unreachable_pub, missing_docs, clippy::pedantic)]
// The allow-list of [workspace.lints] (reasons there), repeated because a
// crate-level `warn` of the group overrides the workspace's `allow`s.
#![allow(
    clippy::must_use_candidate,
    clippy::missing_errors_doc,
    clippy::return_self_not_must_use,
    clippy::format_push_string,
    clippy::too_many_lines,
    clippy::similar_names,
    clippy::struct_excessive_bools,
    clippy::cast_precision_loss
)]

mod app;
mod cleanup;
mod console;
pub mod duration;
mod env;
mod environments;
mod error;
mod event;
mod http_status;
mod image;
mod inputs;
mod local;
mod markdown;
mod outputs;
mod repo;
mod secret;
pub mod size;
mod source;
mod states;
mod template;

use std::future::Future;
use std::process::ExitCode;

pub use app::{APP_ID_INPUT, APP_KEY_INPUT, AppCredentials, AppId, AppKey, Credentials, KeyFormat};
pub use cleanup::{CLEANUP_TIMEOUT, Cleanup};
pub use console::{
    Captured, Console, Group, Verbosity, command, escape_controls, escape_data, escape_property,
    mask_spans, printed_forms, redact,
};
pub use env::{Env, vars};
pub use environments::{DEFAULT_ENVIRONMENTS, Environments};
pub use error::{InputError, error_text, root_cause};
pub use event::{
    DEFAULT_TRIGGER_EVENTS, Event, EventError, Owner, Provenance, PullRequestEvent, PushEvent,
    Repository, RepositoryDispatchEvent, WorkflowRun, WorkflowRunEvent, trigger_events,
};
pub use http_status::HttpStatusSet;
pub use image::{ImageRef, image_lines};
pub use inputs::{ActionSpec, InputDefault, InputSpec, Inputs, OutputSpec, ParseOutcome, env_name};
pub use local::{Checkout, repository_of_remote};
pub use markdown::{md_block, md_cell, md_code, md_link};
pub use outputs::{OutputError, Outputs, Summary, heredoc, parse_output_file};
pub use repo::RepoName;
pub use secret::Secret;
pub use source::{Source, check_repository, short_ref};
pub use states::{Conclusion, RunStatus};
pub use template::Placeholders;

/// The names `sign-and-call-webhook` and `monitor-health` still use; to be
/// removed once they switch to [`HttpStatusSet`] and [`InputDefault`].
#[doc(hidden)]
pub use http_status::HttpStatusSet as StatusSet;
#[doc(hidden)]
pub use inputs::InputDefault as Default;

#[doc(hidden)]
pub mod __private {
    //! What [`github_state!`](crate::github_state) expands to, so its users need no serde of their own.
    pub use serde;
}

/// Everything a run of an action reads from and writes to.
#[derive(Clone)]
pub struct Context {
    /// The environment, read once at start-up.
    pub env: Env,
    /// The log, with every secret masked.
    pub console: Console,
    /// The inputs, parsed and checked against the spec.
    pub inputs: Inputs,
    /// `GITHUB_OUTPUT`.
    pub outputs: Outputs,
    /// `GITHUB_STEP_SUMMARY`.
    pub summary: Summary,
    /// The event that started the workflow.
    pub event: Event,
    /// What must run when the action ends, whatever the outcome (revoking
    /// the installation tokens it minted).
    pub cleanup: Cleanup,
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
    let console = Console::stdout(env.verbosity());
    execute(spec, args, env, console, run)
}

/// [`main`] with its inputs given, so the multi-call binary and tests can use it.
// The caller hands its console over; taking a reference would only move
// the clone into every caller.
#[allow(clippy::needless_pass_by_value)]
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
    let cleanup = Cleanup::default();
    let ctx = Context {
        cleanup: cleanup.clone(),
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
    let result = runtime
        .block_on(cleanup.unless_cancelled(run(ctx)))
        .unwrap_or_else(|| {
            Err(anyhow::anyhow!(
                "the step was cancelled (a signal stopped it)"
            ))
        });
    runtime.block_on(cleanup.run());
    match result {
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
        let (console, out) = Console::capture();
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
    fn cleanup_runs_after_success_and_after_failure() {
        for fail in [false, true] {
            let (console, out) = Console::capture();
            let code = execute(
                &SPEC,
                ["t".to_owned()],
                Env::from_pairs(std::iter::empty::<(&str, &str)>()),
                console,
                |ctx: Context| async move {
                    let console = ctx.console.clone();
                    ctx.cleanup
                        .defer(move || async move { console.info("cleaned up") });
                    if fail {
                        anyhow::bail!("it failed");
                    }
                    Ok(())
                },
            );
            assert_eq!(code == ExitCode::SUCCESS, !fail);
            assert!(out.text().contains("cleaned up"), "{}", out.text());
        }
    }

    #[test]
    fn unreadable_event_is_an_error() {
        let (code, out) = exec(&[("GITHUB_EVENT_PATH", "/nonexistent/event.json")]);
        assert_eq!(code, ExitCode::FAILURE);
        assert!(out.contains("/nonexistent/event.json"));
    }
}
