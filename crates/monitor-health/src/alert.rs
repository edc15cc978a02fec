//! What happens on failure: one issue per commit and environment, and the
//! rollback event.

use relay_github::{Access, Auth, Permission};
use relay_runtime::{Context, InputError, Placeholders, RepoName, md_cell, md_code, md_link, vars};
use serde_json::{Map, Value};

use crate::config::Config;
use relay_health::Report;

/// The hidden line that ties an issue to a commit and environment, so a
/// re-run (or a second failing job) finds it instead of opening another.
/// Both values can come from an event payload: `>` (and `%`, `<`, `&`,
/// control characters) are percent-encoded so neither can end the HTML
/// comment and put raw HTML into the issue.
pub(crate) fn marker(config: &Config) -> String {
    format!(
        "<!-- monitor-health: sha={} environment={} -->",
        comment_safe(&config.window.source.sha),
        comment_safe(&config.window.environment)
    )
}

fn comment_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '<' | '>' | '&') || c.is_control() {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Opens the failure issue unless one is already open; returns its URL.
pub(crate) async fn issue(
    ctx: &Context,
    config: &Config,
    report: &Report,
) -> anyhow::Result<String> {
    if config.auth.is_missing() {
        return Err(InputError::new(
            "github-token",
            "is empty, so no issue can be opened",
            "pass `github-token: ${{ github.token }}` with `permissions: issues: write`",
        )
        .into());
    }
    let repo = ctx.env.get(vars::GITHUB_REPOSITORY).ok_or_else(|| {
        anyhow::anyhow!(
            "GITHUB_REPOSITORY is not set, so there is no repository to open the issue in"
        )
    })?;
    let repo = RepoName::parse(repo).map_err(|why| anyhow::anyhow!("GITHUB_REPOSITORY {why}"))?;
    let client = config
        .auth
        .client_for(ctx, &Access::new(&repo, &[Permission::ISSUES_WRITE]))
        .await?;
    let marker = marker(config);
    let open = client.open_issues(&repo, &config.issue_labels).await?;
    if let Some(found) = open
        .iter()
        .find(|i| i.body.as_deref().is_some_and(|b| b.contains(&marker)))
    {
        ctx.console.info(&format!(
            "An issue for this commit and environment is already open: {}",
            found.html_url
        ));
        return Ok(found.html_url.clone());
    }
    let title = Placeholders::from_source(&config.window.source, &config.window.environment)
        .render(&config.issue_title)
        .map_err(|why| {
            InputError::new("issue-title", &why, "use the placeholders the README lists")
        })?;
    let body = ctx.console.redact(&issue_body(ctx, config, report));
    let made = client
        .create_issue(&repo, &title, &body, &config.issue_labels)
        .await?;
    ctx.console.info(&format!("Opened {}", made.html_url));
    Ok(made.html_url)
}

/// The issue's markdown: every value from the inputs or the event as code
/// (`md_code`), the run as a checked link, then the summary.
pub(crate) fn issue_body(ctx: &Context, config: &Config, report: &Report) -> String {
    let run = ctx
        .env
        .run_url()
        .map_or_else(|| "this run".into(), |u| md_link("this run", &u));
    let env = if config.window.environment.is_empty() {
        "(none)".to_owned()
    } else {
        md_code(&config.window.environment)
    };
    let mut body = format!(
        "{}\nThe post-deploy health window failed in {run}.\n\n- commit: {}\n- environment: {env}\n- failed:\n",
        marker(config),
        md_code(&config.window.source.sha),
    );
    for f in report.failed() {
        body.push_str(&format!(
            "  - {}: {}\n",
            md_code(&f.url),
            md_cell(f.verdict.as_deref().unwrap_or_default())
        ));
    }
    let before: Vec<_> = report.still_down().collect();
    if !before.is_empty() {
        body.push_str("- down before the deploy already (not counted):\n");
        for f in before {
            body.push_str(&format!(
                "  - {}: {}\n",
                md_code(&f.url),
                md_cell(f.verdict.as_deref().unwrap_or_default())
            ));
        }
    }
    body.push('\n');
    body.push_str(&report.markdown(&config.window));
    body
}

/// Sends the rollback `repository_dispatch`: plain data, the endpoints by
/// their redacted URLs.
pub(crate) async fn rollback(
    ctx: &Context,
    config: &Config,
    repo: &RepoName,
    report: &Report,
) -> anyhow::Result<()> {
    let auth = match &config.rollback_token {
        Some(token) => Auth::token(Some(token.clone())),
        None => config.auth.clone(),
    };
    if auth.is_missing() {
        return Err(InputError::new(
            "rollback-token",
            "is empty, so no rollback can be sent",
            "pass a PAT with `contents: write` on the rollback repository, or `github-app-id` and `github-app-private-key`",
        )
        .into());
    }
    let client = auth
        .client_for(ctx, &Access::new(repo, &[Permission::CONTENTS_WRITE]))
        .await?;
    let mut payload = Map::new();
    payload.insert("reason".into(), report.reason().into());
    payload.insert(
        "environment".into(),
        config.window.environment.clone().into(),
    );
    payload.insert("sha".into(), config.window.source.sha.clone().into());
    payload.insert(
        "failed_endpoints".into(),
        report
            .failed()
            .map(|f| Value::from(f.url.clone()))
            .collect(),
    );
    payload.insert(
        "repository".into(),
        config.window.source.repository.clone().into(),
    );
    if let Some(url) = ctx.env.run_url() {
        payload.insert("run_url".into(), url.into());
    }
    client
        .repository_dispatch(repo, &config.rollback_event_type, &payload)
        .await?;
    ctx.console.info(&format!(
        "Sent repository_dispatch `{}` to {repo} to roll back",
        config.rollback_event_type
    ));
    Ok(())
}
