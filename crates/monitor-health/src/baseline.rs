//! Before the deploy: `check` (the inputs, nothing probed) and `baseline`
//! (one probe per URL, judged as the window judges, to learn what was down
//! already).

use std::fmt::Write as _;

use relay_runtime::{Context, md_cell, md_code};
use serde_json::json;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::probe;

/// `mode: check`: the inputs parsed (which is the check), said so.
pub(crate) fn checked(ctx: &Context, config: &Config) -> anyhow::Result<()> {
    ctx.console.info(&format!(
        "Health inputs checked: {} URL(s), every {} for {}; nothing was probed",
        config.window.urls.len(),
        relay_runtime::duration::format(config.window.interval),
        relay_runtime::duration::format(config.window.duration),
    ));
    let urls = config.window.urls.iter().fold(String::new(), |mut out, u| {
        let _ = writeln!(out, "- {}", md_code(&u.to_string()));
        out
    });
    ctx.summary.append(&format!(
        "### 🔎 Health inputs checked\n\n{urls}\nEvery {} for {}, judged by {}; nothing was probed.\n",
        relay_runtime::duration::format(config.window.interval),
        relay_runtime::duration::format(config.window.duration),
        if config.window.conditions.is_empty() {
            "the status".to_owned()
        } else {
            format!("{} condition(s)", config.window.conditions.len())
        },
    ))?;
    Ok(())
}

/// `mode: baseline`: every URL probed once, side by side. A URL already
/// down is a warning, never a failure: the deploy may be what fixes it.
pub(crate) async fn run(ctx: &Context, config: &Config) -> anyhow::Result<()> {
    let window = &config.window;
    let client = probe::client(window)?;
    let secrets = std::sync::Arc::new(probe::secrets(window, ctx.console.masks().to_vec()));
    let mut probes = JoinSet::new();
    for (n, url) in config.window.urls.iter().enumerate() {
        let (client, url, secrets) = (client.clone(), url.clone(), secrets.clone());
        let (timeout, expected, conditions) = (
            config.window.timeout,
            config.window.expected_status.clone(),
            config.window.conditions.clone(),
        );
        probes.spawn(async move {
            let outcome = probe::probe(
                &client,
                &url,
                timeout,
                expected.as_ref(),
                &conditions,
                &secrets,
            )
            .await;
            (n, outcome)
        });
    }
    let mut outcomes = vec![None; config.window.urls.len()];
    while let Some(done) = probes.join_next().await {
        if let Ok((n, outcome)) = done {
            outcomes[n] = Some(outcome);
        }
    }
    let mut down = Vec::new();
    let mut rows = Vec::new();
    let mut report = Vec::new();
    for (url, outcome) in config.window.urls.iter().zip(outcomes) {
        let shown = url.to_string();
        let failure = outcome.as_ref().map_or(Some("not probed".to_owned()), |o| {
            o.failure.as_ref().map(probe::Failure::describe)
        });
        if let Some(why) = &failure {
            ctx.console.warning(&format!(
                "{shown} is already down before the deploy ({}): the health window will report it but not fail for it",
                why.replace(['\r', '\n'], " ")
            ));
            rows.push(format!(
                "| {} | ⚠️ down: {} |\n",
                md_code(&shown),
                md_cell(why)
            ));
            down.push(shown.clone());
        } else {
            ctx.console
                .info(&format!("{shown} is up before the deploy"));
            rows.push(format!("| {} | ✅ up |\n", md_code(&shown)));
        }
        report.push(json!({
            "url": shown,
            "healthy": failure.is_none(),
            "status": outcome.as_ref().and_then(|o| o.status),
            "reason": failure,
        }));
    }
    ctx.outputs.set("down", &down.join("\n"))?;
    ctx.outputs.set("healthy", &down.is_empty().to_string())?;
    ctx.outputs
        .set("checks", &config.window.urls.len().to_string())?;
    ctx.outputs.set("failures", &down.len().to_string())?;
    ctx.outputs
        .set("report", &serde_json::Value::Array(report).to_string())?;
    ctx.summary.append(&format!(
        "### {} Before the deploy\n\n| endpoint | one probe |\n|---|---|\n{}\n{}",
        if down.is_empty() { "✅" } else { "⚠️" },
        rows.concat(),
        if down.is_empty() {
            String::new()
        } else {
            "An endpoint down before the deploy is watched by the health window but never the cause of a rollback.\n".to_owned()
        }
    ))?;
    Ok(())
}
