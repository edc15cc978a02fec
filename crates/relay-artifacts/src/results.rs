//! The results service: Twirp JSON over POST at
//! `{ACTIONS_RESULTS_URL}/twirp/github.actions.results.api.v1.ArtifactService/<Method>`.
//! Requests use the proto field names (`snake_case`), as the official client
//! sends them; responses are read in either case because protobuf JSON
//! parsers accept both and the service is free to send either.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ArtifactError;
use relay_http::Attempt;

use crate::retry::{RetryPolicy, retryable_status, transport};
use crate::token::{BackendIds, RuntimeToken};

const SERVICE: &str = "github.actions.results.api.v1.ArtifactService";
/// The artifact version `@actions/artifact` 2.x/5.x sends in `CreateArtifact`.
pub(crate) const ARTIFACT_VERSION: i32 = 7;

/// One artifact as `ListArtifacts` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedArtifact {
    pub id: i64,
    pub name: String,
    pub size: u64,
    pub digest: Option<String>,
}

pub(crate) struct ResultsClient {
    http: reqwest::Client,
    base: String,
    token: RuntimeToken,
    ids: BackendIds,
    retry: RetryPolicy,
}

impl ResultsClient {
    pub(crate) fn new(
        http: reqwest::Client,
        results_url: &str,
        token: RuntimeToken,
        retry: RetryPolicy,
    ) -> Result<Self, ArtifactError> {
        let ids = token.backend_ids()?;
        Ok(Self {
            http,
            base: results_url.trim_end_matches('/').to_owned(),
            token,
            ids,
            retry,
        })
    }

    /// Creates the artifact and returns its signed upload URL.
    pub(crate) async fn create_artifact(
        &self,
        name: &str,
        expires_at: Option<&str>,
    ) -> Result<String, ArtifactError> {
        crate::name::validate_artifact_name(name)?;
        let mut body = self.ids_json(name);
        body["version"] = json!(ARTIFACT_VERSION);
        body["mime_type"] = json!("application/zip");
        if let Some(at) = expires_at {
            body["expires_at"] = json!(at);
        }
        let v = self.call("CreateArtifact", name, &body).await?;
        upload_url_of(&v, name)
    }

    /// Finalizes an uploaded artifact; returns its id.
    pub(crate) async fn finalize_artifact(
        &self,
        name: &str,
        size: u64,
        sha256_hex: &str,
    ) -> Result<i64, ArtifactError> {
        let mut body = self.ids_json(name);
        // int64 travels as a decimal string in protobuf JSON.
        body["size"] = json!(size.to_string());
        body["hash"] = json!(format!("sha256:{sha256_hex}"));
        let v = self.call("FinalizeArtifact", name, &body).await?;
        artifact_id_of(&v, "FinalizeArtifact", name)
    }

    /// Artifacts of this run, optionally only the one named `name`.
    pub(crate) async fn list_artifacts(
        &self,
        name: Option<&str>,
    ) -> Result<Vec<ListedArtifact>, ArtifactError> {
        let mut body = json!({
            "workflow_run_backend_id": self.ids.workflow_run_backend_id,
            "workflow_job_run_backend_id": self.ids.workflow_job_run_backend_id,
        });
        if let Some(n) = name {
            body["name_filter"] = json!(n);
        }
        let v = self
            .call("ListArtifacts", name.unwrap_or(""), &body)
            .await?;
        listed_of(&v)
    }

    /// Deletes this run's artifact `name`; returns its id.
    pub(crate) async fn delete_artifact(&self, name: &str) -> Result<i64, ArtifactError> {
        let body = self.ids_json(name);
        let v = self.call("DeleteArtifact", name, &body).await?;
        artifact_id_of(&v, "DeleteArtifact", name)
    }

    fn ids_json(&self, name: &str) -> Value {
        json!({
            "workflow_run_backend_id": self.ids.workflow_run_backend_id,
            "workflow_job_run_backend_id": self.ids.workflow_job_run_backend_id,
            "name": name,
        })
    }

    async fn call(
        &self,
        method: &'static str,
        name: &str,
        body: &Value,
    ) -> Result<Value, ArtifactError> {
        let url = format!("{}/twirp/{SERVICE}/{method}", self.base);
        let (url, stall) = (url.as_str(), self.retry.stall_timeout);
        self.retry
            .run(method, move |_| async move {
                let sent = self
                    .http
                    .post(url)
                    .bearer_auth(self.token.expose())
                    .json(body)
                    .send();
                let resp = match tokio::time::timeout(stall, sent).await {
                    Err(_) => return again("the request stalled".into()),
                    Ok(Err(e)) => return again(transport("request failed", e)),
                    Ok(Ok(resp)) => resp,
                };
                let status = resp.status().as_u16();
                let text = match tokio::time::timeout(stall, resp.text()).await {
                    Err(_) => return again("the answer stalled".into()),
                    Ok(Err(e)) => return again(transport("reading the answer failed", e)),
                    Ok(Ok(text)) => text,
                };
                if (200..300).contains(&status) {
                    return Attempt::Done(serde_json::from_str(&text).map_err(|e| {
                        ArtifactError::BadResponse {
                            method,
                            what: format!("body is not JSON: {e}"),
                        }
                    }));
                }
                let msg = twirp_msg(&text);
                if status == 409 {
                    return Attempt::Done(Err(ArtifactError::AlreadyExists {
                        name: name.to_owned(),
                    }));
                }
                if retryable_status(status) {
                    return again(format!("HTTP {status}: {msg}"));
                }
                Attempt::Done(Err(ArtifactError::Service {
                    method,
                    status,
                    msg,
                }))
            })
            .await
    }
}

/// `CreateArtifact`'s answer: the signed upload URL.
fn upload_url_of(v: &Value, name: &str) -> Result<String, ArtifactError> {
    ensure_ok(v, "CreateArtifact", name)?;
    field(v, "signed_upload_url", "signedUploadUrl")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ArtifactError::BadResponse {
            method: "CreateArtifact",
            what: "no `signed_upload_url`".into(),
        })
}

/// `FinalizeArtifact`'s or `DeleteArtifact`'s answer: the artifact's id.
fn artifact_id_of(v: &Value, method: &'static str, name: &str) -> Result<i64, ArtifactError> {
    ensure_ok(v, method, name)?;
    int64(field(v, "artifact_id", "artifactId")).ok_or_else(|| ArtifactError::BadResponse {
        method,
        what: "no `artifact_id`".into(),
    })
}

/// `ListArtifacts`' answer.
fn listed_of(v: &Value) -> Result<Vec<ListedArtifact>, ArtifactError> {
    let list = v.get("artifacts").and_then(Value::as_array);
    let mut out = Vec::new();
    for a in list.into_iter().flatten() {
        let bad = |what: &str| ArtifactError::BadResponse {
            method: "ListArtifacts",
            what: format!("an artifact without `{what}`"),
        };
        out.push(ListedArtifact {
            id: int64(field(a, "database_id", "databaseId")).ok_or_else(|| bad("database_id"))?,
            name: a
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("name"))?
                .to_owned(),
            size: int64(a.get("size"))
                .and_then(|s| u64::try_from(s).ok())
                .unwrap_or(0),
            digest: a.get("digest").and_then(Value::as_str).map(str::to_owned),
        });
    }
    Ok(out)
}

fn again<T>(why: String) -> Attempt<T, ArtifactError, String> {
    Attempt::Again { why, wait: None }
}

fn field<'a>(v: &'a Value, snake: &str, camel: &str) -> Option<&'a Value> {
    v.get(snake).or_else(|| v.get(camel))
}

fn int64(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn ensure_ok(v: &Value, method: &'static str, name: &str) -> Result<(), ArtifactError> {
    if v.get("ok").and_then(Value::as_bool) == Some(true) {
        Ok(())
    } else {
        Err(ArtifactError::BadResponse {
            method,
            what: format!("`ok` is not true for `{name}`"),
        })
    }
}

#[derive(Deserialize)]
struct TwirpError {
    #[serde(default)]
    msg: String,
}

fn twirp_msg(text: &str) -> String {
    serde_json::from_str::<TwirpError>(text)
        .map_or_else(|_| text.chars().take(200).collect(), |e| e.msg)
}

#[cfg(test)]
mod tests;
