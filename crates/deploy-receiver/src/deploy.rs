//! Running an accepted delivery — waiting for the hook's turn (409 or a
//! queue), then the command — and turning the outcome into the answer
//! `{status, exit_code, duration_ms, output}`: at once (`mode = "sync"`), or
//! `202` now and the answer at the status path (`mode = "async"`).

use std::sync::Arc;
use std::time::Instant;

use axum::response::Response;
use http::StatusCode;
use relay_runtime::vars;
use serde_json::json;
use tokio::sync::OwnedMutexGuard;
use tracing::{Instrument, info};

use crate::answer::{self, Finished};
use crate::app::{App, Claim, HookState};
use crate::command::{self, Exit, Job};
use crate::config::{Hook, Mode};
use crate::decision::Accepted;
use crate::deliveries::DeliveryState;
use crate::in_flight::Place;
use crate::routes::answer;

fn busy(claim: Option<Claim>, place: Place) -> Response {
    // Dropping the claim forgets the id: this delivery did not run.
    drop((claim, place));
    info!(status = 409, "refused: a deploy is already running");
    let status = "a deploy is already running for this hook; try again later";
    answer(StatusCode::CONFLICT, json!({ "status": status }))
}

/// Takes the hook's turn and runs the command, answering as the hook's
/// mode says.
pub(crate) async fn start(
    app: &Arc<App>,
    state: &HookState,
    accepted: Accepted,
    claim: Option<Claim>,
    mut place: Place,
) -> Response {
    let hook = &state.hook;
    let id = accepted.delivery_id.clone();
    let record = |s: DeliveryState| {
        if let Some(id) = &id {
            app.deliveries.set(&hook.path, id, s);
        }
    };
    match hook.mode {
        Mode::Sync => {
            let turn = if hook.queue {
                // A client that hangs up here drops this future, and with
                // it the claim: its id is forgotten, not burnt.
                state.lock.clone().lock_owned().await
            } else {
                match state.lock.clone().try_lock_owned() {
                    Ok(turn) => turn,
                    Err(_) => return busy(claim, place),
                }
            };
            place.started();
            if let Some(c) = claim {
                c.commit();
            }
            record(DeliveryState::Running {
                since: Instant::now(),
            });
            // The deploy runs in its own task: a client that hangs up must
            // not cancel it half-way through swapping a service.
            let task = app.deploys.spawn(
                run(app.clone(), hook.clone(), accepted, Some(turn), None, place).in_current_span(),
            );
            match task.await {
                Ok((status, body)) => answer::response(status, body),
                Err(_) => answer(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "status": "the deploy task failed" }),
                ),
            }
        }
        Mode::Async => {
            // The route refuses an async request without a usable id first.
            let Some(id) = id.clone() else {
                return answer(
                    StatusCode::BAD_REQUEST,
                    json!({ "status": "this hook answers asynchronously: send a delivery id" }),
                );
            };
            let (turn, word) = if hook.queue {
                (None, "queued")
            } else {
                match state.lock.clone().try_lock_owned() {
                    Ok(turn) => (Some(turn), "accepted"),
                    Err(_) => return busy(claim, place),
                }
            };
            if let Some(c) = claim {
                c.commit();
            }
            let now = Instant::now();
            record(if turn.is_some() {
                DeliveryState::Running { since: now }
            } else {
                DeliveryState::Queued { since: now }
            });
            let lock = state.lock.clone();
            app.deploys.spawn(
                run(app.clone(), hook.clone(), accepted, turn, Some(lock), place).in_current_span(),
            );
            info!(
                status = 202,
                "accepted; the result will be at the status path"
            );
            crate::routes::accepted(&hook.path, &id, word, 0)
        }
    }
}

/// Runs the command holding the hook's `turn` (or first waiting for it on
/// `lock`), records the answer for the status path, and returns it. The
/// deploy's `place` among the hook's deploys in flight is given back when
/// it ends.
async fn run(
    app: Arc<App>,
    hook: Hook,
    accepted: Accepted,
    turn: Option<OwnedMutexGuard<()>>,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
    mut place: Place,
) -> (StatusCode, serde_json::Value) {
    let turn = match (turn, lock) {
        (Some(turn), _) => Some(turn),
        (None, Some(lock)) => Some(lock.lock_owned().await),
        (None, None) => None,
    };
    place.started();
    let delivery_id = accepted.delivery_id.clone();
    if let Some(id) = &delivery_id {
        app.deliveries.set(
            &hook.path,
            id,
            DeliveryState::Running {
                since: Instant::now(),
            },
        );
    }
    info!("deploy started");
    let outcome = command::run(job(&app, &hook, accepted)).await;
    drop(turn);
    let (status, text, exit_code) = match &outcome.exit {
        Exit::Code(code) => {
            let status = hook.status_for(*code);
            (status, describe(status, *code), Some(*code))
        }
        Exit::Signal(sig) => (500, format!("deploy killed by signal {sig}"), None),
        Exit::TimedOut => {
            let after = relay_runtime::duration::format(hook.timeout);
            let text = format!("deploy timed out after {after}; its process tree was killed");
            (504, text, None)
        }
        Exit::NotStarted(why) => (500, why.clone(), None),
    };
    let duration_ms = u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX);
    let leftovers = outcome.leftovers_killed;
    info!(
        status,
        exit_code,
        duration_ms,
        leftovers_killed = leftovers,
        "deploy finished"
    );
    let (output, cut) = app.redactor.tail(&outcome.output, app.config.output_tail);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = Finished {
        text,
        exit_code,
        duration_ms,
        output: &output,
        cut: outcome.dropped || cut,
        leftovers_killed: leftovers,
        delivery_id: delivery_id.as_deref(),
    }
    .body();
    if let Some(id) = &delivery_id {
        app.deliveries.set(
            &hook.path,
            id,
            DeliveryState::Done {
                status,
                body: body.clone(),
                at: Instant::now(),
            },
        );
    }
    drop(place);
    (status, body)
}

/// The command line and environment: the hook's command, then the
/// validated fields; no secret's env var is inherited.
fn job(app: &App, hook: &Hook, accepted: Accepted) -> Job {
    let mut env = hook.env.clone();
    env.push((vars::DEPLOY_HOOK_PATH.to_owned(), hook.path.clone()));
    let delivery = accepted.delivery_id.unwrap_or_default();
    env.push((vars::DEPLOY_DELIVERY_ID.to_owned(), delivery));
    let fixed = hook.command[1..].iter().cloned();
    Job {
        supervisor: app.supervisor.clone(),
        program: hook.command[0].clone(),
        args: fixed.chain(accepted.args).collect(),
        env,
        env_remove: app.secret_env.clone(),
        working_dir: hook.working_dir.clone(),
        timeout: hook.timeout,
        kill_grace: hook.kill_grace,
        keep_children: hook.keep_children,
        keep_output: app.config.output_tail + app.redactor.longest(),
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
