//! What happens on failure: one issue per commit and environment, and the
//! rollback event.

use relay_github::{Call, GitHub, Permission};
use relay_runtime::{Context, InputError, Vars, vars};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::report::Report;

#[derive(Deserialize)]
struct IssueRef {
    html_url: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    pull_request: Option<Value>,
}

/// The hidden line that ties an issue to a commit and environment, so a
/// re-run (or a second failing job) finds it instead of opening another.
pub fn marker(config: &Config) -> String {
    format!(
        "<!-- monitor-health: sha={} environment={} -->",
        config.source.sha, config.environment
    )
}

/// Opens the failure issue unless one is already open; returns its URL.
pub async fn issue(ctx: &Context, config: &Config, report: &Report) -> anyhow::Result<String> {
    let token = config.github_token.as_deref().ok_or_else(|| {
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
    let client = GitHub::from_context(ctx, Some(token))?;
    let marker = marker(config);
    let labels = config.issue_labels.join(",");
    let list = Call::new(
        format!("list open issues of `{repo}`"),
        repo,
        Permission::ISSUES_WRITE,
    );
    let path = format!(
        "/repos/{repo}/issues?state=open&per_page=100&labels={}",
        encode(&labels)
    );
    let open: Vec<IssueRef> = client.paginate(&list, &path, None, false).await?;
    if let Some(found) = open
        .iter()
        .filter(|i| i.pull_request.is_none())
        .find(|i| i.body.as_deref().is_some_and(|b| b.contains(&marker)))
    {
        ctx.console.info(&format!(
            "An issue for this commit and environment is already open: {}",
            found.html_url
        ));
        return Ok(found.html_url.clone());
    }
    let title = Vars::from_source(&config.source, &config.environment)
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
    let create = Call::new(
        format!("open an issue in `{repo}`"),
        repo,
        Permission::ISSUES_WRITE,
    );
    let resp = client
        .post(
            &create,
            &format!("/repos/{repo}/issues"),
            &json!({"title": title, "body": body, "labels": config.issue_labels}),
        )
        .await?;
    let made: IssueRef = resp.json(&create)?;
    ctx.console.info(&format!("Opened {}", made.html_url));
    Ok(made.html_url)
}

/// Sends the rollback `repository_dispatch`.
pub async fn rollback(
    ctx: &Context,
    config: &Config,
    repo: &str,
    report: &Report,
) -> anyhow::Result<()> {
    let token = config
        .rollback_token
        .as_deref()
        .or(config.github_token.as_deref())
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
    dispatch_deploy::repository_dispatch(&client, repo, &config.rollback_event_type, &payload)
        .await?;
    ctx.console.info(&format!(
        "Sent repository_dispatch `{}` to {repo} to roll back",
        config.rollback_event_type
    ));
    Ok(())
}

/// Percent-encodes a query value (labels may hold spaces and commas).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
