//! The REST side of a run's artifacts: the list, the `/zip` redirect to
//! blob storage (never followed, so the token stays with GitHub), deletion.

use relay_http::DisplaySafeUrl;
use relay_runtime::RepoName;
use reqwest::Method;
use serde::Deserialize;

use crate::client::{Fetch, GitHub};
use crate::error::{Call, Error, Permission};
use crate::path::with_query;

/// One artifact as `GET /repos/{owner}/{repo}/actions/runs/{id}/artifacts` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Artifact {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size_in_bytes: u64,
    /// `sha256:<hex>` of its zip, when GitHub recorded one.
    #[serde(default)]
    pub digest: Option<String>,
    /// Whether it expired (its zip is gone).
    #[serde(default)]
    pub expired: bool,
    /// When it was uploaded (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
}

impl GitHub {
    /// Every artifact of run `run_id`, all pages; `name` filters server-side.
    pub async fn run_artifacts(
        &self,
        repo: &RepoName,
        run_id: u64,
        name: Option<&str>,
    ) -> Result<Vec<Artifact>, Error> {
        let call = Call::new(
            format!("list the artifacts of run {run_id} in `{repo}`"),
            repo.as_str(),
            Permission::ACTIONS_READ,
        );
        let path = with_query(
            &format!("/repos/{repo}/actions/runs/{run_id}/artifacts"),
            &[("per_page", "100"), ("name", name.unwrap_or_default())],
        );
        self.list(&call, &path, Some("artifacts"), Fetch::Fresh)
            .await
    }

    /// Where `GET .../artifacts/{id}/zip` redirects: a short-lived signed
    /// blob URL, whose signature is a credential (so it prints redacted).
    /// An expired artifact is `Error::Status` 410.
    pub async fn artifact_zip_url(
        &self,
        repo: &RepoName,
        artifact: &Artifact,
    ) -> Result<DisplaySafeUrl, Error> {
        let call = Call::new(
            format!("download artifact `{}` of `{repo}`", artifact.name),
            repo.as_str(),
            Permission::ACTIONS_READ,
        );
        let resp = self
            .request(
                Method::GET,
                format!("/repos/{repo}/actions/artifacts/{}/zip", artifact.id),
            )
            .redirect_is_answer()
            .send(&call)
            .await?;
        let location = resp
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .filter(|_| resp.status.is_redirection())
            .ok_or_else(|| Error::NotRedirected {
                call: Box::new(call.clone()),
                status: resp.status.as_u16(),
            })?;
        DisplaySafeUrl::parse(location).map_err(|_| Error::BadRedirect {
            call: Box::new(call),
            shown: relay_http::redact_url(location),
        })
    }

    /// Deletes artifact `id`; one already gone (404) counts as deleted.
    pub async fn delete_artifact(&self, repo: &RepoName, id: u64) -> Result<(), Error> {
        let call = Call::new(
            format!("delete artifact {id} of `{repo}`"),
            repo.as_str(),
            Permission::ACTIONS_WRITE,
        );
        match self
            .request(
                Method::DELETE,
                format!("/repos/{repo}/actions/artifacts/{id}"),
            )
            .send(&call)
            .await
        {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other.map(drop),
        }
    }
}
