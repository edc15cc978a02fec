//! Deployment environments: whether an environment exists and which
//! protection rules gate a job that names it (`GET
//! /repos/{owner}/{repo}/environments/{environment_name}`,
//! <https://docs.github.com/en/rest/deployments/environments#get-an-environment>).
//! GitHub creates an environment the first time a job or deployment names
//! it, with no protection rule ("Managing environments for deployment",
//! <https://docs.github.com/en/actions/deployment/targeting-different-environments/using-environments-for-deployment>).

use relay_runtime::RepoName;
use reqwest::Method;
use serde::Deserialize;

use crate::client::GitHub;
use crate::error::{Call, Error, Permission};
use crate::path::encode;

/// An environment and its protection rules.
#[derive(Debug, Clone, Deserialize)]
pub struct Environment {
    /// GitHub's id of the environment.
    pub id: u64,
    /// Its name, as jobs name it.
    pub name: String,
    /// Required reviewers, a wait timer, a branch policy, custom rules
    /// (`type`: `required_reviewers`, `wait_timer`, `branch_policy`, or an
    /// app's); empty when nothing gates a job.
    #[serde(default)]
    pub protection_rules: Vec<ProtectionRule>,
}

/// One protection rule of an environment.
#[derive(Debug, Clone, Deserialize)]
pub struct ProtectionRule {
    /// Its `type` (`required_reviewers`, `wait_timer`, `branch_policy`, or
    /// an app's).
    #[serde(rename = "type")]
    pub kind: String,
    /// Minutes, for a `wait_timer`.
    #[serde(default)]
    pub wait_timer: Option<u64>,
}

impl Environment {
    /// Whether anything gates a job that names it.
    pub fn is_protected(&self) -> bool {
        !self.protection_rules.is_empty()
    }
}

impl GitHub {
    /// Environment `name` of `repo`, or `None` when it does not exist (yet).
    /// Anyone who can read the repository may read it; a fine-grained or
    /// App token needs `actions: read`.
    pub async fn environment(
        &self,
        repo: &RepoName,
        name: &str,
    ) -> Result<Option<Environment>, Error> {
        let call = Call::new(
            format!("read environment `{name}` of `{repo}`"),
            repo.as_str(),
            Permission::ACTIONS_READ,
        );
        let answer = self
            .request(
                Method::GET,
                format!("/repos/{repo}/environments/{}", encode(name)),
            )
            .send(&call)
            .await;
        match answer {
            Ok(resp) => resp.json(&call).map(Some),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
