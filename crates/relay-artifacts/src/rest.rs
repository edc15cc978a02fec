//! The REST side of artifacts: a run's artifact list (every page, newest per
//! name, expired ones set aside for a warning), the `/zip` endpoint's 302 to
//! a short-lived signed blob URL (taken without following it, so the GitHub
//! token never reaches blob storage), and deleting an artifact.

use std::collections::BTreeMap;

use reqwest::header::{HeaderValue, LOCATION};
use serde::Deserialize;

use crate::error::ArtifactError;

/// One artifact as `GET /repos/{owner}/{repo}/actions/runs/{id}/artifacts` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RestArtifact {
    pub id: u64,
    pub name: String,
    pub size_in_bytes: u64,
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// The artifacts to relay and the names skipped because they expired.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunArtifacts {
    pub artifacts: Vec<RestArtifact>,
    pub expired: Vec<String>,
}

#[derive(Deserialize)]
struct Page {
    artifacts: Vec<RestArtifact>,
}

/// A REST endpoint plus a token that is only ever sent to it.
pub struct Rest<'a> {
    pub http: &'a reqwest::Client,
    pub api_url: &'a str,
    pub token: Option<&'a str>,
}

impl Rest<'_> {
    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let req = req
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        match self
            .token
            .and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok())
        {
            Some(mut v) => {
                v.set_sensitive(true);
                req.header("authorization", v)
            }
            None => req,
        }
    }

    /// Every artifact of run `run_id` in `repo` (`owner/name`), following
    /// `Link: rel="next"`; `name` filters server-side. Of several artifacts
    /// with one name (a re-run uploads again) the newest wins.
    pub async fn list_run_artifacts(
        &self,
        repo: &str,
        run_id: u64,
        name: Option<&str>,
    ) -> Result<RunArtifacts, ArtifactError> {
        let base = self.api_url.trim_end_matches('/');
        let mut url = format!("{base}/repos/{repo}/actions/runs/{run_id}/artifacts?per_page=100");
        if let Some(n) = name {
            url.push_str("&name=");
            url.push_str(&encode(n));
        }
        let mut newest: BTreeMap<String, RestArtifact> = BTreeMap::new();
        let mut expired = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let resp = self
                .auth(self.http.get(&url))
                .send()
                .await
                .map_err(|e| rest_err(&url, e))?;
            let status = resp.status().as_u16();
            if status != 200 {
                return Err(ArtifactError::Rest {
                    what: format!("listing artifacts of run {run_id} in `{repo}`"),
                    status,
                });
            }
            next = resp
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let page: Page = resp.json().await.map_err(|e| rest_err(&url, e))?;
            for a in page.artifacts {
                if name.is_some_and(|n| n != a.name) {
                    continue;
                }
                if a.expired {
                    expired.push(a.name);
                    continue;
                }
                let keep = newest.get(&a.name).is_none_or(|old| {
                    (a.created_at.as_deref(), a.id) > (old.created_at.as_deref(), old.id)
                });
                if keep {
                    newest.insert(a.name.clone(), a);
                }
            }
        }
        expired.retain(|n| !newest.contains_key(n));
        expired.sort();
        expired.dedup();
        Ok(RunArtifacts {
            artifacts: newest.into_values().collect(),
            expired,
        })
    }

    /// The signed blob URL the `/zip` endpoint redirects to. `self.http`
    /// must not follow redirects (see [`no_redirect_client`]).
    pub async fn zip_url(&self, repo: &str, id: u64) -> Result<String, ArtifactError> {
        let url = format!(
            "{}/repos/{repo}/actions/artifacts/{id}/zip",
            self.api_url.trim_end_matches('/')
        );
        let resp = self
            .auth(self.http.get(&url))
            .send()
            .await
            .map_err(|e| rest_err(&url, e))?;
        let status = resp.status().as_u16();
        match resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()) {
            Some(loc) if (300..400).contains(&status) => Ok(loc.to_owned()),
            _ => Err(ArtifactError::Rest {
                what: format!("downloading artifact {id} of `{repo}`"),
                status,
            }),
        }
    }

    /// Deletes artifact `id`; a 404 counts as already gone.
    pub async fn delete_artifact(&self, repo: &str, id: u64) -> Result<(), ArtifactError> {
        let url = format!(
            "{}/repos/{repo}/actions/artifacts/{id}",
            self.api_url.trim_end_matches('/')
        );
        let resp = self
            .auth(self.http.delete(&url))
            .send()
            .await
            .map_err(|e| rest_err(&url, e))?;
        match resp.status().as_u16() {
            204 | 404 => Ok(()),
            status => Err(ArtifactError::Rest {
                what: format!("deleting artifact {id} of `{repo}`"),
                status,
            }),
        }
    }
}

/// A client that hands redirects back instead of following them, so the
/// token on the REST request is never replayed to the redirect target.
pub fn no_redirect_client() -> Result<reqwest::Client, ArtifactError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ArtifactError::Exhausted {
            what: "building the HTTP client".into(),
            attempts: 1,
            last: e.to_string(),
        })
}

fn rest_err(url: &str, e: reqwest::Error) -> ArtifactError {
    ArtifactError::Exhausted {
        what: format!("GET {}", url.split('?').next().unwrap_or(url)),
        attempts: 1,
        last: e.without_url().to_string(),
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == r#"rel="next""#)
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_link_among_others() {
        let h = r#"<https://api.github.com/r?page=1>; rel="prev", <https://api.github.com/r?page=3>; rel="next", <https://api.github.com/r?page=9>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/r?page=3")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn names_are_query_encoded() {
        assert_eq!(encode("a b&c"), "a%20b%26c");
    }
}
