//! The runtime token (`ACTIONS_RUNTIME_TOKEN`) authenticates results-service
//! calls; its JWT `scp` claim names the run and job backend ids
//! (`Actions.Results:<run>:<job>`) that every Twirp request must carry, as
//! `@actions/artifact`'s `getBackendIdsFromToken` reads them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use relay_runtime::Secret;

/// `ACTIONS_RUNTIME_TOKEN`: a [`Secret`] (the runner masks it, and so does
/// every action's start), with the backend ids it names.
#[derive(Clone)]
pub struct RuntimeToken(Secret);

impl RuntimeToken {
    /// Wraps the env value; an absent or empty token is the usual symptom of a
    /// step that is not a container/JavaScript action or of job `permissions`
    /// that dropped the runtime token.
    pub fn new(value: Option<String>) -> Result<Self, TokenError> {
        match value {
            Some(v) if !v.trim().is_empty() => Ok(Self(Secret::new(v.trim()))),
            _ => Err(TokenError::Missing),
        }
    }

    /// Whether the token names the backend ids the service needs, checked
    /// before any request.
    pub fn check(&self) -> Result<(), TokenError> {
        self.backend_ids().map(drop)
    }

    /// For the `Authorization: Bearer` header only.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The backend ids from the `scp` claim.
    pub(crate) fn backend_ids(&self) -> Result<BackendIds, TokenError> {
        let payload = self
            .expose()
            .split('.')
            .nth(1)
            .ok_or(TokenError::Malformed("it is not a JWT (no payload part)"))?;
        // Some issuers pad; the JWT spec says they should not.
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| TokenError::Malformed("its payload is not base64url"))?;
        let claims: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|_| TokenError::Malformed("its payload is not JSON"))?;
        let scp = claims
            .get("scp")
            .and_then(serde_json::Value::as_str)
            .ok_or(TokenError::Malformed("it has no `scp` claim"))?;
        for scope in scp.split(' ') {
            let parts: Vec<&str> = scope.split(':').collect();
            if parts.first() != Some(&"Actions.Results") {
                continue;
            }
            return match parts.as_slice() {
                [_, run, job] if !run.is_empty() && !job.is_empty() => Ok(BackendIds {
                    workflow_run_backend_id: (*run).to_owned(),
                    workflow_job_run_backend_id: (*job).to_owned(),
                }),
                _ => Err(TokenError::Malformed(
                    "its `Actions.Results` scope is not `Actions.Results:<run>:<job>`",
                )),
            };
        }
        Err(TokenError::Malformed(
            "its `scp` claim has no `Actions.Results:<run>:<job>` scope",
        ))
    }
}

/// The ids every results-service request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BackendIds {
    pub workflow_run_backend_id: String,
    pub workflow_job_run_backend_id: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
pub enum TokenError {
    #[error(
        "`ACTIONS_RUNTIME_TOKEN` is not set, so the artifacts service cannot be reached\nhint: run this as a container or JavaScript action step (not in `run:`), and do not strip the runtime token with job `permissions`"
    )]
    Missing,
    #[error(
        "`ACTIONS_RUNTIME_TOKEN` is malformed: {0}\nhint: the runner sets this token; do not override it"
    )]
    Malformed(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> RuntimeToken {
        let p = URL_SAFE_NO_PAD.encode(claims);
        RuntimeToken::new(Some(format!("eyJhbGciOiJub25lIn0.{p}.sig"))).unwrap()
    }

    #[test]
    fn reads_backend_ids_among_other_scopes() {
        let t = jwt(
            r#"{"scp":"Actions.ExampleScope Actions.Results:ce7f54c7-61c7-4aae-887f-30da475f5f1a:ca395085-040a-526b-2ce8-bdc85f692774"}"#,
        );
        assert_eq!(
            t.backend_ids().unwrap(),
            BackendIds {
                workflow_run_backend_id: "ce7f54c7-61c7-4aae-887f-30da475f5f1a".into(),
                workflow_job_run_backend_id: "ca395085-040a-526b-2ce8-bdc85f692774".into(),
            }
        );
    }

    #[test]
    fn missing_token_is_explained() {
        assert_eq!(RuntimeToken::new(None).err(), Some(TokenError::Missing));
        assert_eq!(
            RuntimeToken::new(Some(" ".into())).err(),
            Some(TokenError::Missing)
        );
        assert!(TokenError::Missing.to_string().contains("permissions"));
    }

    #[test]
    fn malformed_tokens_say_why() {
        let cases = [
            (
                RuntimeToken::new(Some("opaque".into())).unwrap(),
                "not a JWT",
            ),
            (
                RuntimeToken::new(Some("a.!!!.c".into())).unwrap(),
                "base64url",
            ),
            (jwt("not json"), "not JSON"),
            (jwt(r#"{"sub":"x"}"#), "no `scp`"),
            (jwt(r#"{"scp":"Actions.Other"}"#), "no `Actions.Results"),
            (jwt(r#"{"scp":"Actions.Results:run"}"#), "is not"),
            (jwt(r#"{"scp":"Actions.Results::job"}"#), "is not"),
        ];
        for (t, want) in cases {
            let err = t.backend_ids().unwrap_err().to_string();
            assert!(err.contains(want), "{err} lacks {want}");
        }
    }
}
