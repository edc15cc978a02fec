//! What happens on failure: one issue per commit and environment, and the
//! rollback event.

use relay_github::GitHub;
use relay_runtime::{Context, InputError, Placeholders, RepoName, vars};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::report::Report;

/// The hidden line that ties an issue to a commit and environment, so a
/// re-run (or a second failing job) finds it instead of opening another.
pub(crate) fn marker(config: &Config) -> String {
    format!(
        "<!-- monitor-health: sha={} environment={} -->",
        config.source.sha, config.environment
    )
}

/// Opens the failure issue unless one is already open; returns its URL.
pub(crate) async fn issue(
    ctx: &Context,
    config: &Config,
    report: &Report,
) -> anyhow::Result<String> {
    let token = config.github_token.clone().ok_or_else(|| {
        InputError::new(
            "github-token",
            "is empty, so no issue can be opened",
            "pass `github-token: ${{ github.token }}` with `permissions: issues: write`",
        )
    })?;
    let repo = ctx.env.get(vars::GITHUB_REPOSITORY).ok_or_else(|| {
        anyhow::anyhow!(
            "GITHUB_REPOSITORY is not set, so there is no repository to open the issue in"
        )
    })?;
    let repo = RepoName::parse(repo).map_err(|why| anyhow::anyhow!("GITHUB_REPOSITORY {why}"))?;
    let client = GitHub::from_context(ctx, Some(token))?;
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
    let title = Placeholders::from_source(&config.source, &config.environment)
        .render(&config.issue_title)
        .map_err(|why| {
            InputError::new("issue-title", &why, "use the placeholders the README lists")
        })?;
    let run = ctx
        .env
        .run_url()
        .map(|u| format!("[this run]({u})"))
        .unwrap_or_else(|| "this run".into());
    let env = if config.environment.is_empty() {
        "(none)".to_owned()
    } else {
        format!("`{}`", config.environment)
    };
    let body = format!(
        "{marker}\nThe post-deploy health window failed in {run}.\n\n- commit: `{}`\n- environment: {env}\n- reason: {}\n\n{}",
        config.source.sha,
        report.reason(),
        report.markdown(config)
    );
    let made = client
        .create_issue(&repo, &title, &body, &config.issue_labels)
        .await?;
    ctx.console.info(&format!("Opened {}", made.html_url));
    Ok(made.html_url)
}

/// Sends the rollback `repository_dispatch`.
pub(crate) async fn rollback(
    ctx: &Context,
    config: &Config,
    repo: &RepoName,
    report: &Report,
) -> anyhow::Result<()> {
    let token = config
        .rollback_token
        .clone()
        .or_else(|| config.github_token.clone())
        .ok_or_else(|| {
            InputError::new(
                "rollback-token",
                "is empty, so no rollback can be sent",
                "pass a PAT or GitHub App token with `contents: write` on the rollback repository",
            )
        })?;
    let client = GitHub::from_context(ctx, Some(token))?;
    let mut payload = Map::new();
    payload.insert("reason".into(), report.reason().into());
    payload.insert("environment".into(), config.environment.clone().into());
    payload.insert("sha".into(), config.source.sha.clone().into());
    payload.insert(
        "failed_endpoints".into(),
        report
            .failed()
            .map(|f| Value::from(f.url.clone()))
            .collect(),
    );
    payload.insert("repository".into(), config.source.repository.clone().into());
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
