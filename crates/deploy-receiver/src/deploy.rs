//! Running an accepted delivery and turning the outcome into the answer
//! `{status, exit_code, duration_ms, output}`.

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use relay_signature::Secret;
use serde_json::json;
use tokio::sync::OwnedMutexGuard;
use tracing::{Instrument, info};

use crate::check::Accepted;
use crate::config::{Hook, SecretSource};
use crate::runner::{self, Exit, Job};
use crate::server::{App, ENV_DELIVERY_ID, ENV_HOOK_PATH, answer};

/// Runs the hook's command for `accepted`, holding `turn` (the hook's lock)
/// until the command is done.
pub(crate) async fn run(
    app: &Arc<App>,
    hook: &Hook,
    accepted: Accepted,
    turn: OwnedMutexGuard<()>,
) -> Response {
    let delivery_id = accepted.delivery_id.clone();
    let job = job(app, hook, accepted);
    info!("deploy started");
    // The deploy runs in its own task: a client that hangs up must not
    // cancel it half-way through swapping a service.
    let task = app.deploys.spawn(
        async move {
            let outcome = runner::run(job).await;
            drop(turn);
            outcome
        }
        .in_current_span(),
    );
    let Ok(outcome) = task.await else {
        let status = "the deploy task failed";
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "status": status }),
        );
    };
    let (status, text, exit_code) = match &outcome.exit {
        Exit::Code(code) => {
            let status = hook.status_for(*code);
            (status, describe(status, *code), Some(*code))
        }
        Exit::Signal(sig) => (500, format!("deploy killed by signal {sig}"), None),
        Exit::TimedOut => {
            let after = relay_runtime::duration::format(hook.timeout);
            let text = format!("deploy timed out after {after}; its process group was killed");
            (504, text, None)
        }
        Exit::NotStarted(why) => (500, why.clone(), None),
    };
    let duration_ms = u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX);
    info!(status, exit_code, duration_ms, "deploy finished");
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    answer(
        status,
        json!({
            "status": text,
            "exit_code": exit_code,
            "duration_ms": duration_ms,
            "output": redact(&outcome.output, app.auth.secrets()),
            "output_truncated": outcome.truncated,
            "delivery_id": delivery_id,
        }),
    )
}

/// The command line and environment: the hook's command, then the
/// validated fields; the secret's env var is not inherited.
fn job(app: &App, hook: &Hook, accepted: Accepted) -> Job {
    let mut env = hook.env.clone();
    env.push((ENV_HOOK_PATH.to_owned(), hook.path.clone()));
    let delivery = accepted.delivery_id.unwrap_or_default();
    env.push((ENV_DELIVERY_ID.to_owned(), delivery));
    let env_remove = match &app.config.secret {
        SecretSource::Env(name) => vec![name.clone()],
        SecretSource::File(_) => vec![],
    };
    let fixed = hook.command[1..].iter().cloned();
    Job {
        program: hook.command[0].clone(),
        args: fixed.chain(accepted.args).collect(),
        env,
        env_remove,
        working_dir: hook.working_dir.clone(),
        timeout: hook.timeout,
        kill_grace: hook.kill_grace,
        output_tail: app.config.output_tail,
    }
}

fn describe(status: u16, code: i32) -> String {
    match status {
        200..=299 => "deployed".into(),
        422 => "image could not be pulled, nothing changed".into(),
        503 => "unhealthy, rolled back".into(),
        _ => format!("deploy failed with exit code {code}"),
    }
}

/// The output with any secret (raw or `whsec_` form) replaced, in case a
/// script echoes it.
fn redact(output: &[u8], secrets: &[Secret]) -> String {
    let mut text = String::from_utf8_lossy(output).into_owned();
    for secret in secrets {
        let raw = String::from_utf8_lossy(secret.expose()).into_owned();
        for form in [raw, secret.to_whsec()] {
            if form.len() >= 4 {
                text = text.replace(&form, "***");
            }
        }
    }
    text
}
