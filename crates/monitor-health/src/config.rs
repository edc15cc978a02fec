//! The action's inputs, all checked before the first probe.

use std::time::Duration;

use relay_runtime::{Context, InputError, Source};

use crate::condition::Condition;

#[derive(Clone)]
pub struct Config {
    pub urls: Vec<String>,
    pub duration: Duration,
    pub interval: Duration,
    pub timeout: Duration,
    pub initial_delay: Duration,
    pub consecutive_failures: u64,
    pub success_threshold: f64,
    pub fail_fast: bool,
    pub conditions: Vec<Condition>,
    /// Status ranges a probe must answer with; empty when a `[STATUS]`
    /// condition takes over.
    pub expected_status: Vec<(u16, u16)>,
    pub headers: Vec<(String, String)>,
    pub insecure: bool,
    pub follow_redirects: bool,
    pub environment: String,
    pub source: Source,
    pub create_issue: bool,
    pub issue_title: String,
    pub issue_labels: Vec<String>,
    pub github_token: Option<String>,
    pub rollback_repository: Option<String>,
    pub rollback_event_type: String,
    pub rollback_token: Option<String>,
}

pub fn parse(ctx: &Context) -> Result<Config, InputError> {
    let i = &ctx.inputs;
    let urls: Vec<String> = i.lines("urls").into_iter().map(str::to_owned).collect();
    if urls.is_empty() {
        return Err(InputError::new(
            "urls",
            "is empty",
            "list one health endpoint URL per line",
        ));
    }
    for u in &urls {
        let ok = reqwest::Url::parse(u)
            .ok()
            .filter(|p| matches!(p.scheme(), "http" | "https"));
        if ok.is_none() {
            return Err(InputError::new(
                "urls",
                &format!("has `{u}`, which is not an http(s) URL"),
                "write full URLs such as https://app.example.com/api/health",
            ));
        }
    }
    let dur = |name: &str, default: Duration| -> Result<Duration, InputError> {
        Ok(i.duration(name)?.unwrap_or(default))
    };
    let duration = dur("duration", Duration::from_secs(300))?;
    let interval = dur("interval", Duration::from_secs(30))?;
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
    let timeout = dur("timeout", Duration::from_secs(10))?;
    if timeout.is_zero() {
        return Err(InputError::new(
            "timeout",
            "is zero",
            "give each probe some time, e.g. 5s",
        ));
    }
    let success_threshold = match i.get("success-threshold") {
        None => 95.0,
        Some(v) => v
            .trim_end_matches('%')
            .parse::<f64>()
            .ok()
            .filter(|n| (0.0..=100.0).contains(n))
            .ok_or_else(|| {
                InputError::new(
                    "success-threshold",
                    &format!("must be a percentage from 0 to 100, got `{v}`"),
                    "write it like 95 or 99.5",
                )
            })?,
    };
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
        .any(|c| c.subject == crate::condition::Subject::Status);
    let expected_status = if has_status_condition {
        Vec::new()
    } else {
        let text = i.get("expected-status").unwrap_or("200-299");
        parse_statuses(text).ok_or_else(|| {
            InputError::new(
                "expected-status",
                &format!("is not a list of statuses or ranges: `{text}`"),
                "write it like 200-299 or 200,204,301-302",
            )
        })?
    };
    let mut headers = Vec::new();
    for line in i.lines("headers") {
        let (name, value) = line
            .split_once(':')
            .filter(|(n, _)| reqwest::header::HeaderName::from_bytes(n.trim().as_bytes()).is_ok())
            .ok_or_else(|| {
                // The value may be a credential: name only what is wrong.
                InputError::new(
                    "headers",
                    "has a line that is not `Name: value`",
                    "write one header per line, e.g. `Authorization: Bearer ...`",
                )
            })?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut source = Source::from_event(&ctx.env, &ctx.event);
    if let Some(sha) = i.get("sha") {
        sha.clone_into(&mut source.sha);
    }
    let rollback_repository = i.get("rollback-repository").map(str::to_owned);
    if let Some(r) = &rollback_repository
        && r.split('/').filter(|p| !p.is_empty()).count() != 2
    {
        return Err(InputError::new(
            "rollback-repository",
            &format!("is not `owner/repo`: `{r}`"),
            "name the repository whose workflow rolls back",
        ));
    }
    Ok(Config {
        urls,
        duration,
        interval,
        timeout,
        initial_delay: dur("initial-delay", Duration::ZERO)?,
        consecutive_failures: i.int("consecutive-failures", 1..=10_000)?.unwrap_or(3),
        success_threshold,
        fail_fast: match i.get("fail-fast") {
            None => true,
            Some(_) => i.bool("fail-fast")?,
        },
        conditions,
        expected_status,
        headers,
        insecure: i.bool("insecure")?,
        follow_redirects: i.bool("follow-redirects")?,
        environment: i.get("environment").unwrap_or("").to_owned(),
        source,
        create_issue: i.bool("create-issue")?,
        issue_title: i
            .get("issue-title")
            .unwrap_or(crate::DEFAULT_ISSUE_TITLE)
            .to_owned(),
        issue_labels: i
            .get("issue-labels")
            .unwrap_or("deploy-health")
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        github_token: i.get("github-token").map(str::to_owned),
        rollback_repository,
        rollback_event_type: i
            .get("rollback-event-type")
            .unwrap_or("rollback")
            .to_owned(),
        rollback_token: i.get("rollback-token").map(str::to_owned),
    })
}

/// `200-299`, `200,204`, `200-299,301`: inclusive ranges.
pub fn parse_statuses(text: &str) -> Option<Vec<(u16, u16)>> {
    let status = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|n| (100..=599).contains(n))
    };
    text.split(',')
        .map(|item| match item.split_once('-') {
            Some((a, b)) => Some((status(a)?, status(b)?)).filter(|(a, b)| a <= b),
            None => status(item).map(|n| (n, n)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_statuses;

    #[test]
    fn status_lists() {
        assert_eq!(parse_statuses("200-299"), Some(vec![(200, 299)]));
        assert_eq!(
            parse_statuses("200, 204,301-302"),
            Some(vec![(200, 200), (204, 204), (301, 302)])
        );
        assert_eq!(parse_statuses("299-200"), None);
        assert_eq!(parse_statuses("2xx"), None);
        assert_eq!(parse_statuses(""), None);
    }
}
