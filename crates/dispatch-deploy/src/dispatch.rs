//! Sending the dispatch.

use relay_github::{Call, GitHub, Permission};
use relay_runtime::Context;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::config::{Config, Kind};

/// A workflow run, as much of it as we read.
#[derive(Debug, Clone, Deserialize)]
pub struct RunRef {
    pub id: u64,
    pub html_url: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub display_title: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// What was sent, and the run when GitHub said which it is.
pub struct Sent {
    pub client: GitHub,
    pub at: OffsetDateTime,
    pub run: Option<RunRef>,
}

#[derive(Deserialize)]
struct RunDetails {
    workflow_run_id: u64,
    html_url: String,
}

pub async fn send(ctx: &Context, config: &Config) -> anyhow::Result<Sent> {
    let token = config.token.as_deref().ok_or_else(|| {
        relay_runtime::InputError::new(
            "token",
            "is empty",
            "pass `token: ${{ secrets.DEPLOY_TOKEN }}` (a PAT or GitHub App token for another repository)",
        )
    })?;
    let client = GitHub::from_context(ctx, Some(token))?;
    let repo = &config.repository;
    let at = OffsetDateTime::now_utc();
    let run = match &config.kind {
        Kind::Repository { event_type } => {
            repository_dispatch(&client, repo, event_type, &config.payload).await?;
            ctx.console.info(&format!(
                "Sent repository_dispatch `{event_type}` to {repo} (dispatch id {})",
                config.dispatch_id
            ));
            None
        }
        Kind::Workflow { workflow, git_ref } => {
            let git_ref = match git_ref {
                Some(r) => r.clone(),
                None => default_branch(&client, repo).await?,
            };
            let call = Call::new(
                format!("run workflow `{workflow}` on `{repo}`"),
                repo,
                Permission::ACTIONS_WRITE,
            );
            let path = format!(
                "/repos/{repo}/actions/workflows/{}/dispatches",
                encode(workflow)
            );
            let body =
                json!({"ref": git_ref, "inputs": config.payload, "return_run_details": true});
            let run = match client.post(&call, &path, &body).await {
                Ok(resp) if resp.status == 200 => {
                    let details: RunDetails = resp.json(&call)?;
                    Some(RunRef {
                        id: details.workflow_run_id,
                        html_url: details.html_url,
                        status: None,
                        conclusion: None,
                        display_title: None,
                        name: None,
                    })
                }
                Ok(_) => None,
                // Servers older than `return_run_details` (GHES) refuse the
                // unknown key; send the classic request and find the run later.
                Err(e) if is_unknown_details_key(&e) => {
                    ctx.console.info(
                        "This GitHub does not know `return_run_details`; dispatching without it",
                    );
                    let body = json!({"ref": git_ref, "inputs": config.payload});
                    client.post(&call, &path, &body).await?;
                    None
                }
                Err(e) => return Err(e.into()),
            };
            ctx.console.info(&format!(
                "Sent workflow_dispatch of `{workflow}` on `{git_ref}` to {repo} (dispatch id {})",
                config.dispatch_id
            ));
            run
        }
    };
    if let Some(run) = &run {
        ctx.console.info(&format!("Started run {}", run.html_url));
    }
    Ok(Sent { client, at, run })
}

/// Sends `repository_dispatch` to `repo` after checking GitHub's limits.
/// Also used by monitor-health for its rollback event.
pub async fn repository_dispatch(
    client: &GitHub,
    repo: &str,
    event_type: &str,
    payload: &serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    crate::config::check_limits(
        &Kind::Repository {
            event_type: event_type.to_owned(),
        },
        payload,
    )?;
    let call = Call::new(
        format!("create a repository dispatch event on `{repo}`"),
        repo,
        Permission::CONTENTS_WRITE,
    );
    let body = json!({"event_type": event_type, "client_payload": payload});
    client
        .post(&call, &format!("/repos/{repo}/dispatches"), &body)
        .await?;
    Ok(())
}

fn is_unknown_details_key(e: &relay_github::Error) -> bool {
    match e {
        relay_github::Error::Status { status: 400, .. } => true,
        relay_github::Error::Status {
            status: 422,
            message,
            ..
        } => message.contains("return_run_details"),
        _ => false,
    }
}

async fn default_branch(client: &GitHub, repo: &str) -> anyhow::Result<String> {
    #[derive(Deserialize)]
    struct Repo {
        default_branch: String,
    }
    let call = Call::new(
        format!("read the default branch of `{repo}`"),
        repo,
        Permission::METADATA_READ,
    );
    let r: Repo = client.get(&call, &format!("/repos/{repo}")).await?;
    Ok(r.default_branch)
}

/// Percent-encodes a workflow file name for a path segment.
pub fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The run's JSON into a [`RunRef`].
pub fn run_ref(v: &Value) -> Option<RunRef> {
    serde_json::from_value(v.clone()).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encode_keeps_file_names_and_escapes_the_rest() {
        assert_eq!(super::encode("deploy.yml"), "deploy.yml");
        assert_eq!(super::encode("a b/c"), "a%20b%2Fc");
    }
}
