//! Sending the dispatch.

use relay_github::{Access, GitHub, Permission, RunDetails};
use relay_runtime::{Console, RepoName};
use serde_json::{Map, Value};

use crate::payload::DispatchKind;

/// What a token needs on `repo` to send `kind` (and, with `wait`, to
/// follow the run it starts): `contents: write` for `repository_dispatch`,
/// `actions: write` for `workflow_dispatch`, `actions: read` to wait.
pub fn access(repo: &RepoName, kind: &DispatchKind, wait: bool) -> Access {
    let mut needs = vec![match kind {
        DispatchKind::Repository { .. } => Permission::CONTENTS_WRITE,
        DispatchKind::Workflow { .. } => Permission::ACTIONS_WRITE,
    }];
    if wait {
        needs.push(Permission::ACTIONS_READ);
    }
    Access::new(repo, &needs)
}

/// Sends `payload` to `repo` as `kind` says; the started run when GitHub
/// said which (`workflow_dispatch` with `return_run_details`).
pub async fn send(
    gh: &GitHub,
    console: &Console,
    repo: &RepoName,
    kind: &DispatchKind,
    payload: &Map<String, Value>,
    dispatch_id: &str,
) -> Result<Option<RunDetails>, relay_github::Error> {
    let run = match kind {
        DispatchKind::Repository { event_type } => {
            gh.repository_dispatch(repo, event_type, payload).await?;
            console.info(&format!(
                "Sent repository_dispatch `{event_type}` to {repo} (dispatch id {dispatch_id})"
            ));
            None
        }
        DispatchKind::Workflow { workflow, git_ref } => {
            let git_ref = match git_ref {
                Some(r) => r.clone(),
                None => gh.default_branch(repo).await?,
            };
            let run = gh
                .workflow_dispatch(repo, workflow, &git_ref, payload, console)
                .await?;
            console.info(&format!(
                "Sent workflow_dispatch of `{workflow}` on `{git_ref}` to {repo} (dispatch id {dispatch_id})"
            ));
            run
        }
    };
    if let Some(run) = &run {
        console.info(&format!("Started run {}", run.html_url));
    }
    Ok(run)
}
