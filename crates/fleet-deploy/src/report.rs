//! What is told about a rollout: the `report` output (JSON per target),
//! the step summary (a table per wave), and the one issue of a failed
//! rollout. Names and values from the fleet file, the inputs and the
//! receivers reach markdown only as `md_code`, the JSON as plain data.

use relay_runtime::{Context, md_code, md_link};
use serde_json::{Value, json};

use crate::config::Config;
use crate::rollout::{End, Health, Outcome, Rollback, Rollout, short};
use crate::target::Called;

fn call_word(o: &Outcome) -> &'static str {
    match (&o.call, o.skipped) {
        (_, true) => "already-on-release",
        (None, false) => "not-called",
        (Some(Called::Deployed { .. }), _) => "deployed",
        (Some(Called::RolledBackByReceiver { .. }), _) => "rolled-back-by-receiver",
        (Some(Called::NothingChanged { .. }), _) => "nothing-changed",
        (Some(Called::Failed { .. }), _) => "failed",
        (Some(Called::Unknown { .. }), _) => "unknown",
    }
}

/// The `report` output: one object per target, in the file's order.
pub(crate) fn json(config: &Config, outcomes: &[Outcome]) -> Value {
    Value::Array(
        outcomes
            .iter()
            .map(|o| {
                let (rollback, to, said) = match &o.rollback {
                    Rollback::None => ("none", None, None),
                    Rollback::NoPrevious => ("no-previous-release", None, None),
                    Rollback::Done { sha } => ("done", Some(sha.clone()), None),
                    Rollback::Failed { sha, said } => {
                        ("failed", Some(sha.clone()), Some(said.clone()))
                    }
                };
                json!({
                    "name": o.name,
                    "wave": config.fleet.waves[o.wave].name,
                    "call": call_word(o),
                    "status": o.call.as_ref().and_then(Called::status),
                    "said": o.call.as_ref().filter(|c| !c.ok()).map(Called::describe),
                    "gate": match &o.gate {
                        Health::NotRun => "not-run",
                        Health::Passed => "passed",
                        Health::Failed(_) => "failed",
                    },
                    "gate_reason": match &o.gate {
                        Health::Failed(why) => Some(why.clone()),
                        _ => None,
                    },
                    "rollback": rollback,
                    "rolled_back_to": to,
                    "rollback_said": said,
                })
            })
            .collect(),
    )
}

/// The names of the targets that failed (their call or their gate).
pub(crate) fn failed(outcomes: &[Outcome]) -> Vec<&str> {
    outcomes
        .iter()
        .filter(|o| {
            o.call.as_ref().is_some_and(|c| !c.ok()) || matches!(&o.gate, Health::Failed(_))
        })
        .map(|o| o.name.as_str())
        .collect()
}

pub(crate) fn rolled_back(outcomes: &[Outcome]) -> Vec<&str> {
    outcomes
        .iter()
        .filter(|o| matches!(o.rollback, Rollback::Done { .. }))
        .map(|o| o.name.as_str())
        .collect()
}

fn row(o: &Outcome) -> String {
    let call = match (&o.call, o.skipped) {
        (_, true) => "⏭️ already on the release".to_owned(),
        (None, false) => "· not called".to_owned(),
        (Some(c), _) if c.ok() => format!("✅ {}", md_code(&c.describe())),
        (Some(c), _) => format!("❌ {}", md_code(&c.describe())),
    };
    let gate = match &o.gate {
        Health::NotRun => "·".to_owned(),
        Health::Passed => "✅".to_owned(),
        Health::Failed(why) => format!("❌ {}", md_code(why)),
    };
    let rollback = match &o.rollback {
        Rollback::None => String::new(),
        Rollback::NoPrevious => "⚠️ no previous good release: left as is".into(),
        Rollback::Done { sha } => format!("↩️ to {}", md_code(short(sha))),
        Rollback::Failed { sha, said } => {
            format!("❌ to {}: {}", md_code(short(sha)), md_code(said))
        }
    };
    format!("| {} | {call} | {gate} | {rollback} |\n", md_code(&o.name))
}

/// The step summary.
pub(crate) fn markdown(config: &Config, rollout: &Rollout<'_>, end: &End) -> String {
    let c = config;
    let mut md = format!(
        "## {} Fleet deploy of {} to {}\n\n",
        match end {
            End::Done => "✅",
            End::Paused { .. } => "⏸️",
            End::Failed { .. } => "❌",
        },
        md_code(short(&c.release.sha)),
        md_code(&c.fleet.environment)
    );
    md.push_str(&format!(
        "App {} · fleet file {} · {} wave(s), {} target(s)\n\n",
        md_code(&c.app),
        md_code(&c.file),
        c.fleet.waves.len(),
        rollout.outcomes.len()
    ));
    match end {
        End::Done => md.push_str("Every wave passed its health gate.\n\n"),
        End::Paused { next, approval } => md.push_str(&format!(
            "Paused before wave {}: it waits for the reviewers of {}.\n\n",
            md_code(&c.fleet.waves[*next].name),
            md_code(approval)
        )),
        End::Failed { why, .. } => md.push_str(&format!("Stopped: {}\n\n", md_code(why))),
    }
    for (w, wave) in c.fleet.waves.iter().enumerate() {
        let mut title = format!(
            "### Wave {}/{} {}",
            w + 1,
            c.fleet.waves.len(),
            md_code(&wave.name)
        );
        if let Some(a) = &wave.approval {
            title.push_str(&format!(" (approved in {})", md_code(a)));
        }
        md.push_str(&title);
        md.push_str("\n\n| target | call | health gate | rollback |\n|---|---|---|---|\n");
        for o in rollout.outcomes.iter().filter(|o| o.wave == w) {
            md.push_str(&row(o));
        }
        md.push('\n');
    }
    md
}

/// The hidden line that ties the issue to one rollout, so a re-run that
/// fails again finds it instead of opening another. Values percent-encode
/// what could end the comment.
fn marker(config: &Config) -> String {
    let safe = |t: &str| -> String {
        t.chars()
            .map(|c| {
                if matches!(c, '%' | '<' | '>' | '&') || c.is_control() {
                    format!("%{:02X}", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    format!(
        "<!-- fleet-deploy: run={} environment={} sha={} -->",
        safe(&config.run_id),
        safe(&config.fleet.environment),
        safe(&config.release.sha)
    )
}

fn issue_body(ctx: &Context, config: &Config, rollout: &Rollout<'_>, why: &str) -> String {
    let c = config;
    let run = ctx
        .env
        .run_url()
        .map_or_else(|| "this run".into(), |u| md_link("this run", &u));
    let mut body = format!(
        "{}\nThe fleet deploy of {} ({}) to {} stopped in {run}.\n\n{}\n\n",
        marker(c),
        md_code(&c.release.sha),
        md_code(&c.app),
        md_code(&c.fleet.environment),
        md_code(why)
    );
    let list = |title: &str, items: Vec<String>| {
        if items.is_empty() {
            String::new()
        } else {
            format!("**{title}**\n\n{}\n\n", items.join("\n"))
        }
    };
    let o = &rollout.outcomes;
    body.push_str(&list(
        "Failed",
        o.iter()
            .filter(|o| {
                o.call.as_ref().is_some_and(|c| !c.ok()) || matches!(o.gate, Health::Failed(_))
            })
            .map(|o| {
                let what = match (&o.call, &o.gate) {
                    (Some(c), _) if !c.ok() => c.describe(),
                    (_, Health::Failed(why)) => format!("health gate: {why}"),
                    _ => String::new(),
                };
                format!("- {}: {}", md_code(&o.name), md_code(&what))
            })
            .collect(),
    ));
    body.push_str(&list(
        "Rolled back",
        o.iter()
            .filter_map(|o| match &o.rollback {
                Rollback::Done { sha } => {
                    Some(format!("- {} to {}", md_code(&o.name), md_code(sha)))
                }
                _ => None,
            })
            .collect(),
    ));
    body.push_str(&list(
        "Not rolled back",
        o.iter()
            .filter_map(|o| match &o.rollback {
                Rollback::NoPrevious => Some(format!(
                    "- {}: no previous good release is recorded; it stays on {}",
                    md_code(&o.name),
                    md_code(short(&c.release.sha))
                )),
                Rollback::Failed { sha, said } => Some(format!(
                    "- {}: the rollback to {} failed: {}",
                    md_code(&o.name),
                    md_code(short(sha)),
                    md_code(said)
                )),
                _ => None,
            })
            .collect(),
    ));
    let untouched: Vec<String> = c
        .fleet
        .waves
        .iter()
        .enumerate()
        .filter(|(w, _)| {
            o.iter()
                .filter(|o| o.wave == *w)
                .all(|o| o.call.is_none() && !o.skipped && o.gate == Health::NotRun)
        })
        .map(|(_, wave)| format!("- wave {}: never called", md_code(&wave.name)))
        .collect();
    body.push_str(&list("Untouched", untouched));
    body.push_str(&markdown(
        c,
        rollout,
        &End::Failed {
            wave: 0,
            why: why.to_owned(),
        },
    ));
    body
}

/// Opens the one issue of a failed rollout, unless a re-run's is open.
pub(crate) async fn issue(
    ctx: &Context,
    config: &Config,
    rollout: &Rollout<'_>,
    why: &str,
) -> anyhow::Result<String> {
    let gh = rollout.gh();
    let marker = marker(config);
    let open = gh
        .open_issues(&config.repository, &config.issue_labels)
        .await?;
    if let Some(found) = open
        .iter()
        .find(|i| i.body.as_deref().is_some_and(|b| b.contains(&marker)))
    {
        ctx.console.info(&format!(
            "This rollout's issue is already open: {}",
            found.html_url
        ));
        return Ok(found.html_url.clone());
    }
    let title = format!(
        "Fleet deploy failed: {} at {}",
        config.fleet.environment,
        short(&config.release.sha)
    );
    let body = ctx.console.redact(&issue_body(ctx, config, rollout, why));
    let made = gh
        .create_issue(&config.repository, &title, &body, &config.issue_labels)
        .await?;
    ctx.console.info(&format!("Opened {}", made.html_url));
    Ok(made.html_url)
}
