//! The action's inputs, all checked before the first probe.

use relay_github::Auth;
use relay_http::DisplaySafeUrl;
use relay_runtime::{Context, InputError, RepoName, Secret, Source};

use relay_health::Condition;

/// What a step does with the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Check every input, probe nothing: the first step of a deploy.
    Check,
    /// Probe each URL once, before the deploy: what is already down.
    Baseline,
    /// The health window after the deploy.
    Window,
}

#[derive(Clone)]
pub(crate) struct Config {
    pub mode: Mode,
    /// The health window's settings, as `relay-health` runs it (the
    /// commit and environment are the report's header).
    pub window: relay_health::Config,
    pub create_issue: bool,
    pub issue_title: String,
    pub issue_labels: Vec<String>,
    /// `github-token`, or the App (which also mints the rollback's token).
    pub auth: Auth,
    pub rollback_repository: Option<RepoName>,
    pub rollback_event_type: String,
    pub rollback_token: Option<Secret>,
}

pub(crate) fn parse(ctx: &Context) -> Result<Config, InputError> {
    let i = &ctx.inputs;
    let mode = match i.choice("mode", &["window", "baseline", "check"])? {
        "check" => Mode::Check,
        "baseline" => Mode::Baseline,
        _ => Mode::Window,
    };
    let lines = i.lines("urls");
    if lines.is_empty() {
        return Err(InputError::new(
            "urls",
            "is empty",
            "list one health endpoint URL per line",
        ));
    }
    let mut urls = Vec::new();
    for u in lines {
        let url = DisplaySafeUrl::parse(u)
            .ok()
            .filter(|p| matches!(p.scheme(), "http" | "https"))
            .ok_or_else(|| {
                // Not a URL: cut as text, so a credential in it stays hidden.
                InputError::new(
                    "urls",
                    &format!(
                        "has `{}`, which is not an http(s) URL",
                        relay_http::redact_url(u)
                    ),
                    "write full URLs such as https://app.example.com/api/health",
                )
            })?;
        urls.push(url);
    }
    let duration = i.duration("duration")?;
    let interval = i.duration("interval")?;
    if interval.is_zero() || interval > duration {
        return Err(InputError::new(
            "interval",
            &format!(
                "is `{}`, which does not fit in the {} window",
                relay_runtime::duration::format(interval),
                relay_runtime::duration::format(duration)
            ),
            "use an interval above zero and at most `duration`",
        ));
    }
    let timeout = i.nonzero_duration("timeout", "5s")?;
    let threshold = i.value("success-threshold");
    let success_threshold = threshold
        .trim_end_matches('%')
        .parse::<f64>()
        .ok()
        .filter(|n| (0.0..=100.0).contains(n))
        .ok_or_else(|| {
            InputError::new(
                "success-threshold",
                &format!("must be a percentage from 0 to 100, got `{threshold}`"),
                "write it like 95 or 99.5",
            )
        })?;
    let conditions = {
        i.lines("conditions")
            .into_iter()
            .map(Condition::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                InputError::new(
                    "conditions",
                    &e.to_string(),
                    "see the grammar in the action's README, e.g. `[STATUS] == 200` or `[BODY].status == UP`",
                )
            })?
    };
    let has_status_condition = conditions
        .iter()
        .any(|c| c.subject == relay_health::Subject::Status);
    let expected_status = if has_status_condition {
        None
    } else {
        Some(i.http_statuses("expected-status")?)
    };
    let headers = i.headers("headers")?;
    let mut source = Source::from_event(&ctx.env, &ctx.event);
    if let Some(sha) = i.get("sha") {
        sha.clone_into(&mut source.sha);
    }
    let rollback_repository = i.repository(
        "rollback-repository",
        "name the repository whose workflow rolls back, e.g. `my-org/deploy`",
    )?;
    // Matched as the URLs are shown (user info and query values redacted),
    // the form a `baseline` step outputs them in.
    let shown: Vec<String> = urls.iter().map(ToString::to_string).collect();
    let mut known_down = Vec::new();
    for line in i.lines("known-down") {
        let line = relay_http::redact_url(line);
        if !shown.contains(&line) {
            return Err(InputError::new(
                "known-down",
                &format!("names `{line}`, which is not one of `urls`"),
                "pass the `down` output of the `mode: baseline` step, with the same `urls`",
            ));
        }
        known_down.push(line);
    }
    Ok(Config {
        mode,
        window: relay_health::Config {
            urls,
            known_down,
            duration,
            interval,
            timeout,
            initial_delay: i.duration("initial-delay")?,
            consecutive_failures: i.int("consecutive-failures", 1..=10_000)?,
            success_threshold,
            fail_fast: i.bool("fail-fast")?,
            conditions,
            expected_status,
            headers,
            insecure: i.bool("insecure")?,
            follow_redirects: i.bool("follow-redirects")?,
            environment: i.get("environment").unwrap_or_default().to_owned(),
            source,
        },
        create_issue: i.bool("create-issue")?,
        issue_title: i.value("issue-title").to_owned(),
        issue_labels: i
            .value("issue-labels")
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        auth: Auth::from_context(ctx, &["rollback-token"])?,
        rollback_repository,
        rollback_event_type: i.value("rollback-event-type").to_owned(),
        rollback_token: i.secret("rollback-token"),
    })
}
