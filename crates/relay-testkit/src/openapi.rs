//! Checks requests against GitHub's own REST description (`@octokit/openapi`),
//! so the fake and our client cannot agree on a shape GitHub would refuse.

use serde_json::Value;

use crate::peers;
use relay_fakes::{FakeGitHub, Recorded};

/// Checks every request `gh` has received against GitHub's description,
/// when it is installed (see [`OpenApi::load`]); panics at the first
/// request GitHub does not document.
pub fn assert_requests_documented(gh: &FakeGitHub) {
    if let Some(api) = OpenApi::load() {
        api.assert_documented(&gh.requests());
    }
}

/// GitHub's REST description, dereferenced.
pub struct OpenApi {
    doc: Value,
}

impl OpenApi {
    /// The dereferenced api.github.com description, or `None` (skipped, or a
    /// failure under CI) when the npm peer is not installed.
    pub fn load() -> Option<Self> {
        let path = peers::npm_package("@octokit/openapi/generated/api.github.com.deref.json");
        if !peers::require(&path, "cd peers && npm ci") {
            return None;
        }
        let text = std::fs::read_to_string(&path).ok()?;
        Some(Self {
            doc: serde_json::from_str(&text).ok()?,
        })
    }

    /// The operation for `method path`: the matching path template with the
    /// fewest parameters.
    pub fn operation(&self, method: &str, path: &str) -> Option<(&str, &Value)> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let paths = self.doc.get("paths")?.as_object()?;
        paths
            .iter()
            .filter_map(|(template, item)| {
                let t: Vec<&str> = template.trim_matches('/').split('/').collect();
                if t.len() != segments.len() {
                    return None;
                }
                let mut params = 0;
                for (a, b) in t.iter().zip(&segments) {
                    if a.starts_with('{') {
                        params += 1;
                    } else if a != b {
                        return None;
                    }
                }
                let op = item.get(method.to_lowercase())?;
                Some((params, template.as_str(), op))
            })
            .min_by_key(|(params, _, _)| *params)
            .map(|(_, t, op)| (t, op))
    }

    /// Checks that the request is a documented operation and, for a JSON
    /// body, that the body matches its schema.
    pub fn validate(&self, req: &Recorded) -> Result<(), String> {
        let (template, op) = self
            .operation(&req.method, &req.path)
            .ok_or_else(|| format!("{} {} is not a documented operation", req.method, req.path))?;
        let Some(body) = &req.body else { return Ok(()) };
        let schema = op
            .pointer("/requestBody/content/application~1json/schema")
            .ok_or_else(|| format!("{} {template} takes no JSON body", req.method))?;
        let validator =
            jsonschema::validator_for(schema).map_err(|e| format!("schema of {template}: {e}"))?;
        let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{} {template}: {}", req.method, errors.join("; ")))
        }
    }

    /// [`OpenApi::validate`] for each of `requests`, panicking at the first
    /// that fails.
    pub fn assert_documented(&self, requests: &[Recorded]) {
        for r in requests {
            self.validate(r).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Checks an answer of the fake against the documented response schema,
    /// reading `OpenAPI` 3.0's `nullable: true` as JSON Schema's `null` type
    /// (a validator alone would refuse every documented `null`).
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), String> {
        let path = path.split('?').next().unwrap_or(path);
        let mut schema = self
            .response_schema(method, path, status)
            .ok_or_else(|| format!("{method} {path} documents no {status} answer"))?
            .clone();
        nullable_as_null(&mut schema);
        let validator = jsonschema::validator_for(&schema)
            .map_err(|e| format!("schema of {method} {path}: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{method} {path} {status}: {}", errors.join("; ")))
        }
    }

    /// The documented schema of a response, to check the fake's answers.
    pub fn response_schema(&self, method: &str, path: &str, status: u16) -> Option<&Value> {
        let (_, op) = self.operation(method, path)?;
        op.pointer(&format!(
            "/responses/{status}/content/application~1json/schema"
        ))
    }
}

/// Rewrites `{"type": T, "nullable": true}` as `{"type": [T, "null"]}`, and
/// a nullable schema without a type (`anyOf`, `allOf`) as `anyOf [it, null]`.
fn nullable_as_null(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            for v in map.values_mut() {
                nullable_as_null(v);
            }
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), serde_json::json!([t, "null"]));
                    if let Some(Value::Array(e)) = map.get_mut("enum") {
                        e.push(Value::Null);
                    }
                } else {
                    let inner = Value::Object(std::mem::take(map));
                    map.insert("anyOf".into(), serde_json::json!([inner, {"type": "null"}]));
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_as_null),
        _ => {}
    }
}
