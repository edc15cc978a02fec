//! `monitor-health`: the post-deploy health window. It probes every URL on
//! a fixed schedule for `duration`, judges each probe by its HTTP status and
//! Gatus-like conditions, and fails when an endpoint fails
//! `consecutive-failures` times in a row or ends below `success-threshold`.
//! On failure it can open one issue per commit and environment and send a
//! rollback `repository_dispatch`; the step fails either way.
//!
//! Two more modes serve a deploy's first steps: `check` checks every input
//! and probes nothing (a typo fails before anything changes, not after the
//! deploy, where it would roll a good release back); `baseline` probes each
//! URL once before the deploy and outputs those already down, which the
//! window then reports but never fails for (`known-down`): a release is not
//! rolled back for an endpoint that was down before it.

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

mod alert;
mod baseline;
mod config;

use relay_health::{self as probe, Report, pct};

use relay_runtime::{ActionSpec, Context, InputSpec, OutputSpec};

const DEFAULT_ISSUE_TITLE: &str = "Health check failed: {environment} at {short_sha}";

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "monitor-health",
    description: "Probe health endpoints for a window after a deploy; fail on consecutive failures or a low success rate, open an issue and send a rollback event",
    context: "GITHUB_REPOSITORY (where the issue is opened), the commit (the workflow_run's head_sha, else GITHUB_SHA), GITHUB_SERVER_URL and GITHUB_RUN_ID (the run link), GITHUB_API_URL. On the command line pass --sha and --environment; the issue needs GITHUB_REPOSITORY.",
    inputs: &[
        InputSpec::new("mode", "`window`: the health window; `baseline`: probe each URL once (before a deploy) and output those already down, never failing for them; `check`: check every input, probe nothing").default("window"),
        InputSpec::new("urls", "Health endpoint URLs, one per line; each is probed on the same schedule. Logs, summary, issue, outputs and the rollback show them with user info and query values as `***`").required(),
        InputSpec::new("duration", "Length of the window from its start (after `initial-delay`): probes are due at 0, `interval`, 2 × `interval`, … while below `duration`; the last ones may answer up to `timeout` later").default("5m"),
        InputSpec::new("interval", "Time between probes of each URL; probes run on a fixed grid from the window's start").default("30s"),
        InputSpec::new("timeout", "Longest time one probe may take, from sending the request (connecting included) to the last byte of the body; a slower probe fails as `timed out`").default("10s"),
        InputSpec::new("initial-delay", "Wait this long before the window starts (e.g. while the service warms up)").default("0"),
        InputSpec::new("expected-status", "Statuses that pass: ranges, lists or classes (`200-299`, `200,204`, `2xx`); ignored when `conditions` has a `[STATUS]` condition").default("200-299"),
        InputSpec::new("conditions", "Gatus conditions, one per line, all must hold: `[STATUS] == 200`, `[RESPONSE_TIME] < 500`, `[BODY].status == UP`, `[BODY] contains ok`, `[CERTIFICATE_EXPIRATION] > 48h`, with Gatus's functions `any()`, `pat()`, `len()` and `has()`; anything else is an input error"),
        InputSpec::new("headers", "Request headers, one `Name: value` per line (values are never printed, nor shown where an endpoint echoes them)"),
        InputSpec::new("insecure", "Accept invalid or self-signed TLS certificates").default("false"),
        InputSpec::new("follow-redirects", "Follow redirects (up to 10); when false a 3xx answer is judged as it is").default("false"),
        InputSpec::new("consecutive-failures", "Fail when one URL fails this many probes in a row").default("3"),
        InputSpec::new("success-threshold", "Fail when a URL's share of passed probes ends below this percentage").default("95"),
        InputSpec::new("known-down", "URLs found down before the deploy (the `down` output of a `mode: baseline` step), one per line: probed and reported, but never the cause of a failed window"),
        InputSpec::new("fail-fast", "Stop the window, failing, as soon as a URL reaches `consecutive-failures` or has failed so many probes that `success-threshold` can no longer be met").default("true"),
        InputSpec::new("environment", "Environment name for the issue and the rollback event"),
        InputSpec::new("sha", "Commit being checked (default: the event's commit, the workflow_run's head_sha under workflow_run)"),
        InputSpec::new("create-issue", "On failure, open an issue in this repository (once per commit and environment); needs `issues: write`").default("false"),
        InputSpec::new("issue-title", "Title of that issue; placeholders {environment} {sha} {short_sha} {repository} {ref_name} {run_id}").default(DEFAULT_ISSUE_TITLE),
        InputSpec::new("issue-labels", "Comma-separated labels for that issue; the first ones also find an already open issue").default("deploy-health"),
        InputSpec::github_token("Token for the issue (`issues: write`)"),
        InputSpec::TOKEN_ALIAS,
        InputSpec::GITHUB_APP_ID,
        InputSpec::GITHUB_APP_PRIVATE_KEY,
        InputSpec::new("rollback-repository", "On failure, send repository_dispatch to this `owner/repo`"),
        InputSpec::new("rollback-event-type", "Event type of that dispatch").default("rollback"),
        InputSpec::new("rollback-token", "Token for the rollback dispatch: a PAT or GitHub App token with `contents: write` on `rollback-repository` (default: `github-token`)").secret(),
    ],
    outputs: &[
        OutputSpec { name: "healthy", description: "`true` when every URL passed the window" },
        OutputSpec { name: "success-rate", description: "The lowest per-URL success rate, in percent (the figure `success-threshold` judged)" },
        OutputSpec { name: "checks", description: "Probes run, all URLs together" },
        OutputSpec { name: "failures", description: "Probes failed, all URLs together" },
        OutputSpec { name: "max-consecutive-failures", description: "Longest run of failed probes of any one URL" },
        OutputSpec { name: "p50-ms", description: "Median response time of answered probes, all URLs, in ms" },
        OutputSpec { name: "p95-ms", description: "95th percentile response time of answered probes, all URLs, in ms" },
        OutputSpec { name: "report", description: "JSON array, one object per URL: url (redacted), healthy, checks, failures, success_rate, max_consecutive_failures, p50_ms, p95_ms, max_ms, reason, last_failure (the endpoint's text, as data)" },
        OutputSpec { name: "issue-url", description: "The failure issue opened (or found open) for this commit and environment" },
        OutputSpec { name: "down", description: "`baseline`: the URLs (as shown, credentials redacted) that failed their probe, one per line; pass them to the window's `known-down`" },
    ],
};

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let config = config::parse(&ctx)?;
    match config.mode {
        config::Mode::Check => return baseline::checked(&ctx, &config),
        config::Mode::Baseline => return baseline::run(&ctx, &config).await,
        config::Mode::Window => {}
    }
    let window_config = &config.window;
    let client = probe::client(window_config)?;
    ctx.console.info(&format!(
        "Probing {} URL(s) every {} for {}: fail on {} in a row or below {}%",
        config.window.urls.len(),
        relay_runtime::duration::format(config.window.interval),
        relay_runtime::duration::format(config.window.duration),
        config.window.consecutive_failures,
        pct(config.window.success_threshold),
    ));
    let secrets = probe::secrets(window_config, ctx.console.masks().to_vec());
    let window = probe::watch(window_config, client, &ctx.console, secrets).await;
    let report = Report::new(window_config, &window);
    let ms = |v: Option<u128>| v.map(|v| v.to_string()).unwrap_or_default();
    ctx.outputs.set("healthy", &report.healthy.to_string())?;
    ctx.outputs.set("success-rate", &pct(report.success_rate))?;
    ctx.outputs.set("checks", &report.checks.to_string())?;
    ctx.outputs.set("failures", &report.failures.to_string())?;
    ctx.outputs
        .set("max-consecutive-failures", &report.max_streak.to_string())?;
    ctx.outputs.set("p50-ms", &ms(report.p50_ms))?;
    ctx.outputs.set("p95-ms", &ms(report.p95_ms))?;
    ctx.outputs.set("report", &report.json().to_string())?;
    ctx.summary.append(&report.markdown(window_config))?;
    for f in report.still_down() {
        ctx.console.warning(&format!(
            "{} was down before the deploy and still is ({}); it is not counted against this release",
            f.url,
            f.verdict.as_deref().unwrap_or_default()
        ));
    }
    if report.healthy {
        ctx.console.info(&format!(
            "Healthy: {} probes in {:.1}s, {} failed",
            report.checks,
            report.elapsed.as_secs_f64(),
            report.failures
        ));
        return Ok(());
    }
    // Both alerts are attempted even if one fails: a missing issue must not
    // keep the rollback from being sent.
    let mut problems = Vec::new();
    if let Some(repo) = &config.rollback_repository
        && let Err(e) = alert::rollback(&ctx, &config, repo, &report).await
    {
        problems.push(format!(
            "the rollback was not sent: {}",
            relay_runtime::error_text(&e)
        ));
    }
    if config.create_issue {
        match alert::issue(&ctx, &config, &report).await {
            Ok(url) => ctx.outputs.set("issue-url", &url)?,
            Err(e) => problems.push(format!(
                "no issue was opened: {}",
                relay_runtime::error_text(&e)
            )),
        }
    }
    let mut message = format!("Health window failed: {}", report.reason());
    for p in problems {
        message.push_str("; ");
        message.push_str(&p);
    }
    anyhow::bail!(message)
}
