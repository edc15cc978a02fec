//! Repositories and `repository_dispatch`.

use relay_runtime::RepoName;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::GitHub;
use crate::error::{Call, Error, Permission};

#[derive(Deserialize)]
struct RepoInfo {
    default_branch: String,
}

impl GitHub {
    /// `repo`'s default branch (`GET /repos/{owner}/{repo}`).
    pub async fn default_branch(&self, repo: &RepoName) -> Result<String, Error> {
        let call = Call::new(
            format!("read the default branch of `{repo}`"),
            repo.as_str(),
            Permission::METADATA_READ,
        );
        let info: RepoInfo = self
            .request(Method::GET, format!("/repos/{repo}"))
            .send(&call)
            .await?
            .json(&call)?;
        Ok(info.default_branch)
    }

    /// Sends a `repository_dispatch` event. GitHub's limits on the payload
    /// (10 top-level keys, 64 KiB) are the caller's to check first, so the
    /// error can name the input that broke them.
    pub async fn repository_dispatch(
        &self,
        repo: &RepoName,
        event_type: &str,
        client_payload: &Map<String, Value>,
    ) -> Result<(), Error> {
        let call = Call::new(
            format!("create a repository dispatch event on `{repo}`"),
            repo.as_str(),
            Permission::CONTENTS_WRITE,
        );
        self.request(Method::POST, format!("/repos/{repo}/dispatches"))
            .json(json!({"event_type": event_type, "client_payload": client_payload}))
            .send(&call)
            .await?;
        Ok(())
    }
}
