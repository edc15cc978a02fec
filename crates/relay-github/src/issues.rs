//! Issues: the failure report of a health window.

use relay_runtime::RepoName;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Fetch, GitHub};
use crate::error::{Call, Error, Permission};
use crate::path::with_query;

/// An issue, as much as deploy-relay reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    /// Its number.
    pub number: u64,
    /// Its page.
    pub html_url: String,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Its text.
    #[serde(default)]
    pub body: Option<String>,
    /// Set when the "issue" is a pull request (the issues API lists both).
    #[serde(default)]
    pull_request: Option<Value>,
}

impl GitHub {
    /// The open issues (not pull requests) carrying every one of `labels`, all pages.
    pub async fn open_issues(
        &self,
        repo: &RepoName,
        labels: &[String],
    ) -> Result<Vec<Issue>, Error> {
        let call = Call::new(
            format!("list open issues of `{repo}`"),
            repo.as_str(),
            Permission::ISSUES_WRITE,
        );
        let labels = labels.join(",");
        let path = with_query(
            &format!("/repos/{repo}/issues"),
            &[("state", "open"), ("per_page", "100"), ("labels", &labels)],
        );
        let all: Vec<Issue> = self.list(&call, &path, None, Fetch::Fresh).await?;
        Ok(all
            .into_iter()
            .filter(|i| i.pull_request.is_none())
            .collect())
    }

    /// Opens an issue.
    pub async fn create_issue(
        &self,
        repo: &RepoName,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<Issue, Error> {
        let call = Call::new(
            format!("open an issue in `{repo}`"),
            repo.as_str(),
            Permission::ISSUES_WRITE,
        );
        self.request(Method::POST, format!("/repos/{repo}/issues"))
            .json(json!({"title": title, "body": body, "labels": labels}))
            .send(&call)
            .await?
            .json(&call)
    }

    /// Comments on issue `number`.
    pub async fn comment_issue(
        &self,
        repo: &RepoName,
        number: u64,
        body: &str,
    ) -> Result<(), Error> {
        let call = Call::new(
            format!("comment on issue #{number} of `{repo}`"),
            repo.as_str(),
            Permission::ISSUES_WRITE,
        );
        self.request(
            Method::POST,
            format!("/repos/{repo}/issues/{number}/comments"),
        )
        .json(json!({"body": body}))
        .send(&call)
        .await?;
        Ok(())
    }
}
