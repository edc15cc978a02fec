//! The payload: what is computed from the event, what the user adds, and
//! GitHub's limits, checked before sending so the error can say which keys.

use relay_runtime::{InputError, Placeholders, Source};
use serde_json::{Map, Value};

/// GitHub's limits on dispatches.
pub const MAX_EVENT_TYPE: usize = 100;
/// Top-level keys of a `client_payload`.
pub const MAX_CLIENT_PAYLOAD_KEYS: usize = 10;
/// Inputs of a `workflow_dispatch`.
pub const MAX_WORKFLOW_INPUTS: usize = 25;
/// Bytes of a `repository_dispatch` request body (less than this).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchKind {
    /// `repository_dispatch`.
    Repository {
        /// The event type receivers match on.
        event_type: String,
    },
    /// `workflow_dispatch`.
    Workflow {
        /// The workflow file name or id.
        workflow: String,
        /// The branch or tag it runs on; `None`: the default branch.
        git_ref: Option<String>,
    },
}

impl DispatchKind {
    /// A `repository_dispatch` of `event_type`, checked against GitHub's length limit.
    pub fn repository(event_type: &str) -> Result<Self, InputError> {
        let len = event_type.chars().count();
        if len == 0 || len > MAX_EVENT_TYPE {
            return Err(InputError::new(
                "event-type",
                &format!("is {len} characters long; GitHub accepts 1 to {MAX_EVENT_TYPE}"),
                "shorten it; receivers match on it with `on: repository_dispatch: types: [...]`",
            ));
        }
        Ok(DispatchKind::Repository {
            event_type: event_type.to_owned(),
        })
    }
}

/// The computed keys, in the order receivers see them: `repository`, `ref`,
/// `sha`, `workflow_run_id`, `environment`, `dispatch_id`.
pub fn computed_payload(
    source: &Source,
    environment: &str,
    dispatch_id: &str,
) -> Map<String, Value> {
    let mut payload = Map::new();
    payload.insert("repository".into(), source.repository.clone().into());
    payload.insert("ref".into(), source.ref_name.clone().into());
    payload.insert("sha".into(), source.sha.clone().into());
    payload.insert("workflow_run_id".into(), source.run_id.clone().into());
    payload.insert("environment".into(), environment.into());
    payload.insert("dispatch_id".into(), dispatch_id.into());
    payload
}

/// `key=template` lines (input `images`), rendered with `placeholders`.
pub fn render_images(
    lines: &[&str],
    placeholders: &Placeholders,
) -> Result<Vec<(String, String)>, InputError> {
    let mut out = Vec::new();
    for line in lines {
        let (key, template) = line.split_once('=').ok_or_else(|| {
            InputError::new(
                "images",
                &format!("line `{line}` is not `key=template`"),
                "write one `key=template` per line, e.g. `api_image=ghcr.io/{repository}/api:{short_sha}`",
            )
        })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(InputError::new(
                "images",
                &format!("line `{line}` has no key"),
                "write `key=template`",
            ));
        }
        let value = placeholders.render(template.trim()).map_err(|why| {
            InputError::new(
                "images",
                &format!("line `{line}`: {why}"),
                "fix the template",
            )
        })?;
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

/// Input `client-payload`: a JSON object whose keys win over computed ones.
pub fn merge_client_payload(
    payload: &mut Map<String, Value>,
    text: &str,
) -> Result<(), InputError> {
    let extra: Value = serde_json::from_str(text).map_err(|e| {
        InputError::new(
            "client-payload",
            &format!("is not valid JSON: {e}"),
            "pass a JSON object, e.g. `{\"component\": \"api\"}`",
        )
    })?;
    let Value::Object(extra) = extra else {
        return Err(InputError::new(
            "client-payload",
            &format!("must be a JSON object, got {}", json_kind(&extra)),
            "wrap the values in an object, e.g. `{\"component\": \"api\"}`",
        ));
    };
    for (k, v) in extra {
        payload.insert(k, v);
    }
    Ok(())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// GitHub's limits, checked before sending so the error can say which keys.
pub fn check_limits(kind: &DispatchKind, payload: &Map<String, Value>) -> Result<(), InputError> {
    let keys = || {
        payload
            .keys()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match kind {
        DispatchKind::Repository { event_type } => {
            if payload.len() > MAX_CLIENT_PAYLOAD_KEYS {
                return Err(InputError::new(
                    "client-payload",
                    &format!(
                        "makes a payload of {} top-level keys; GitHub accepts at most {MAX_CLIENT_PAYLOAD_KEYS}: {}",
                        payload.len(),
                        keys()
                    ),
                    "nest extra values under one key, e.g. `{\"meta\": {\"a\": 1, \"b\": 2}}`, or drop some `images`",
                ));
            }
            let body = serde_json::json!({"event_type": event_type, "client_payload": payload});
            let size = body.to_string().len();
            if size >= MAX_BODY_BYTES {
                return Err(InputError::new(
                    "client-payload",
                    &format!("makes a request of {size} bytes; GitHub accepts less than 64 KiB"),
                    "send a reference (an artifact name, a URL) instead of the data",
                ));
            }
        }
        DispatchKind::Workflow { .. } => {
            if payload.len() > MAX_WORKFLOW_INPUTS {
                return Err(InputError::new(
                    "client-payload",
                    &format!(
                        "makes {} workflow inputs; GitHub accepts at most {MAX_WORKFLOW_INPUTS}: {}",
                        payload.len(),
                        keys()
                    ),
                    "drop some keys or use repository_dispatch (remove `workflow`)",
                ));
            }
            let not_strings: Vec<String> = payload
                .iter()
                .filter(|(_, v)| !v.is_string())
                .map(|(k, _)| format!("`{k}`"))
                .collect();
            if !not_strings.is_empty() {
                return Err(InputError::new(
                    "client-payload",
                    &format!(
                        "has values that are not strings, which workflow inputs must be: {}",
                        not_strings.join(", ")
                    ),
                    "quote them, e.g. `\"replicas\": \"3\"`",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy() -> DispatchKind {
        DispatchKind::repository("deploy").unwrap()
    }

    #[test]
    fn eleven_keys_are_refused_with_the_list() {
        let payload: Map<String, Value> =
            (0..11).map(|i| (format!("k{i}"), Value::from(i))).collect();
        let e = check_limits(&deploy(), &payload).unwrap_err();
        assert!(e.problem.contains("11 top-level keys"), "{e}");
        assert!(
            e.problem.contains("`k0`") && e.problem.contains("`k10`"),
            "{e}"
        );
        assert!(e.hint.contains("nest"), "{e}");
    }

    #[test]
    fn workflow_inputs_must_be_strings() {
        let payload: Map<String, Value> = [
            ("a".to_owned(), Value::from(1)),
            ("b".to_owned(), Value::from("x")),
        ]
        .into_iter()
        .collect();
        let kind = DispatchKind::Workflow {
            workflow: "d.yml".into(),
            git_ref: None,
        };
        let e = check_limits(&kind, &payload).unwrap_err();
        assert!(
            e.problem.contains("`a`") && !e.problem.contains("`b`"),
            "{e}"
        );
    }

    #[test]
    fn body_of_64_kib_is_refused() {
        let payload: Map<String, Value> =
            [("big".to_owned(), Value::from("x".repeat(MAX_BODY_BYTES)))]
                .into_iter()
                .collect();
        let e = check_limits(&deploy(), &payload).unwrap_err();
        assert!(e.problem.contains("64 KiB"), "{e}");
    }

    #[test]
    fn event_type_length_is_checked() {
        assert!(DispatchKind::repository(&"x".repeat(100)).is_ok());
        let e = DispatchKind::repository(&"x".repeat(101)).unwrap_err();
        assert_eq!(e.input, "event-type");
    }

    #[test]
    fn client_payload_keys_win_and_must_be_an_object() {
        let mut p = Map::new();
        p.insert("sha".into(), "a".into());
        merge_client_payload(&mut p, r#"{"sha": "b", "x": 1}"#).unwrap();
        assert_eq!(p["sha"], "b");
        let e = merge_client_payload(&mut p, "[1]").unwrap_err();
        assert!(e.problem.contains("an array"), "{e}");
    }
}
