//! What a deploy-relay record carries in its deployment's `payload`: the
//! app that was deployed, not the deploy repository's own commit (that is
//! the deployment's `ref`/`sha`).

use std::collections::BTreeMap;

use relay_github::Deployment;
use relay_runtime::InputError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `payload` of a deploy-relay deployment. Every key is always written,
/// so readers (the reusable workflows, `deploy-relay status`) see one shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The app repository, `owner/repo`.
    pub repository: String,
    /// The app commit deployed.
    pub sha: String,
    /// Image references by key (`api_image` → `ghcr.io/o/app/api:abc1234`).
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// The dispatch that asked for this deploy, when one did.
    #[serde(default)]
    pub dispatch_id: String,
    /// Whether this deploy puts back an earlier good sha.
    #[serde(default)]
    pub rollback: bool,
    /// Why, for a rollback.
    #[serde(default)]
    pub reason: String,
    /// What verify-provenance found for the images, its `report` as it is
    /// (`mode`, `verified`, and per image the signer workflow, ref, digest
    /// and log index); `null` when provenance was not verified.
    #[serde(default)]
    pub provenance: Value,
}

/// The most a provenance report may hold: one object per image, a few
/// hundred bytes each, in a payload GitHub keeps with every deployment.
const MAX_REPORT: usize = 16 * 1024;

/// Input `provenance-report` (record-deployment's and fleet-deploy's):
/// verify-provenance's `report` output, a JSON object with `mode`,
/// `verified` and `images`, kept in a record's `provenance` as it is.
pub fn provenance_report(text: &str) -> Result<Value, InputError> {
    let bad = |why: &str| {
        InputError::new(
            "provenance-report",
            why,
            "pass verify-provenance's `report` output as it is",
        )
    };
    if text.len() > MAX_REPORT {
        return Err(bad(&format!(
            "is {} bytes long; a report is at most {MAX_REPORT}",
            text.len()
        )));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| bad(&format!("is not JSON: {e}")))?;
    let shaped = value.get("mode").is_some_and(Value::is_string)
        && value.get("verified").is_some_and(Value::is_boolean)
        && value.get("images").is_some_and(Value::is_array);
    if !shaped {
        return Err(bad(
            "is not a provenance report (a JSON object with `mode`, `verified` and `images`)",
        ));
    }
    Ok(value)
}

impl Payload {
    /// The payload of `d`, when it is one deploy-relay wrote: an object (or
    /// a JSON string of one, as GitHub keeps a payload sent as a string)
    /// naming a commit as hex. Other tasks' payloads (`{}` for GitHub's own
    /// `environment:` deployments) give `None`, and so does one whose `sha`
    /// is no commit: anyone who may write deployments can write a payload,
    /// and its sha becomes a rollback target.
    pub fn of(d: &Deployment) -> Option<Self> {
        let value = match &d.payload {
            Value::String(text) => serde_json::from_str(text).ok()?,
            v => v.clone(),
        };
        let payload: Self = serde_json::from_value(value).ok()?;
        is_commit(&payload.sha).then_some(payload)
    }

    /// Whether this is a record of app repository `app` (any, when `None`);
    /// repository names compare as GitHub compares them, ignoring case.
    pub fn is_of(&self, app: Option<&str>) -> bool {
        app.is_none_or(|a| a.eq_ignore_ascii_case(&self.repository))
    }

    /// The first seven characters of the sha.
    pub fn short_sha(&self) -> &str {
        self.sha.get(..7).unwrap_or(&self.sha)
    }

    /// The payload as the deployment stores it.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// A commit sha as hex: 7 (short) to 64 (SHA-256 repositories) characters.
pub fn is_commit(sha: &str) -> bool {
    (7..=64).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit())
}

/// Whether `a` and `b` name the same commit: equal ignoring case, or one a
/// prefix of the other (a short sha of at least 7 characters).
pub fn same_commit(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    !short.is_empty() && (short == long || (short.len() >= 7 && long.starts_with(short.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(payload: &Value) -> Deployment {
        serde_json::from_value(json!({
            "id": 1, "sha": "d".repeat(40), "ref": "main", "task": "deploy-relay",
            "environment": "staging", "payload": payload, "created_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn reads_what_it_writes_and_nothing_else() {
        let p = Payload {
            repository: "o/app".into(),
            sha: "a".repeat(40),
            images: [(
                "api_image".to_owned(),
                "ghcr.io/o/app/api:aaaaaaa".to_owned(),
            )]
            .into(),
            dispatch_id: "id-1".into(),
            rollback: true,
            reason: "health".into(),
            provenance: json!({"mode": "require", "verified": true, "images": []}),
        };
        assert_eq!(Payload::of(&deployment(&p.to_value())), Some(p.clone()));
        let as_string = Value::String(p.to_value().to_string());
        assert_eq!(Payload::of(&deployment(&as_string)), Some(p));
        assert_eq!(
            Payload::of(&deployment(&json!({}))),
            None,
            "GitHub's own deployments"
        );
        assert_eq!(Payload::of(&deployment(&json!({"sha": 3}))), None);
        assert_eq!(Payload::of(&deployment(&json!("not json"))), None);
        let hostile = json!({"repository": "o/a", "sha": "::error::pwned; rm -rf /"});
        assert_eq!(
            Payload::of(&deployment(&hostile)),
            None,
            "a sha must be a commit"
        );
        let minimal =
            Payload::of(&deployment(&json!({"repository": "o/a", "sha": "abc1234"}))).unwrap();
        assert!(!minimal.rollback && minimal.images.is_empty());
        assert!(
            minimal.provenance.is_null(),
            "a record from before provenance"
        );
    }

    #[test]
    fn commits_compare_by_full_or_short_sha() {
        let full = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
        assert!(same_commit(full, &full.to_uppercase()));
        assert!(same_commit("9f86d08", full));
        assert!(same_commit(full, "9f86d08"));
        assert!(!same_commit("9f86d0", full), "too short to name a commit");
        assert!(!same_commit("9f86d09", full));
        assert!(!same_commit("", full));
    }
}
