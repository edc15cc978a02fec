//! The action's inputs, checked before any request, and the payload they make.

use relay_runtime::{Context, Environments, InputError, Source, Vars, check_repository, short_ref};
use serde_json::{Map, Value};
use std::time::Duration;

/// GitHub's limits on dispatches.
pub const MAX_EVENT_TYPE: usize = 100;
pub const MAX_CLIENT_PAYLOAD_KEYS: usize = 10;
pub const MAX_WORKFLOW_INPUTS: usize = 25;
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Repository {
        event_type: String,
    },
    Workflow {
        workflow: String,
        git_ref: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub token: Option<String>,
    pub repository: String,
    pub kind: Kind,
    pub source: Source,
    pub environment: String,
    pub payload: Map<String, Value>,
    pub dispatch_id: String,
    pub require_success: bool,
    pub wait: bool,
    pub wait_timeout: Duration,
    pub wait_interval: Duration,
    pub dry_run: bool,
}

pub fn parse(ctx: &Context) -> Result<Config, InputError> {
    let i = &ctx.inputs;
    let repository = i.require("repository")?.to_owned();
    check_repository(
        "repository",
        &repository,
        "name the repository that receives the deploy, e.g. `my-org/deploy`",
    )?;
    let kind = match i.get("workflow") {
        Some(workflow) => Kind::Workflow {
            workflow: workflow.to_owned(),
            git_ref: i.get("ref").map(short_ref),
        },
        None => {
            let event_type = i.get("event-type").unwrap_or("deploy").to_owned();
            let len = event_type.chars().count();
            if len > MAX_EVENT_TYPE {
                return Err(InputError::new(
                    "event-type",
                    &format!("is {len} characters long; GitHub accepts 1 to {MAX_EVENT_TYPE}"),
                    "shorten it; receivers match on it with `on: repository_dispatch: types: [...]`",
                ));
            }
            Kind::Repository { event_type }
        }
    };
    let mut source = Source::from_event(&ctx.env, &ctx.event);
    if let Some(sha) = i.get("sha") {
        if !sha.chars().all(|c| c.is_ascii_hexdigit()) || !(7..=64).contains(&sha.len()) {
            return Err(InputError::new(
                "sha",
                &format!("is not a commit sha: `{sha}`"),
                "pass a 7 to 64 character hex sha",
            ));
        }
        sha.clone_into(&mut source.sha);
    }
    if let Some(r) = i.get("source-ref") {
        source.ref_name = short_ref(r);
    }
    let environment = Environments::parse(&i.lines("environments"))?.for_branch(&source.ref_name);
    let vars = Vars::from_source(&source, &environment);
    let dispatch_id = uuid::Uuid::new_v4().to_string();
    let mut payload = Map::new();
    payload.insert("repository".into(), source.repository.clone().into());
    payload.insert("ref".into(), source.ref_name.clone().into());
    payload.insert("sha".into(), source.sha.clone().into());
    payload.insert("workflow_run_id".into(), source.run_id.clone().into());
    payload.insert("environment".into(), environment.clone().into());
    payload.insert("dispatch_id".into(), dispatch_id.clone().into());
    for line in i.lines("images") {
        let (key, template) = line.split_once('=').ok_or_else(|| {
            InputError::new("images", &format!("line `{line}` is not `key=template`"), "write one `key=template` per line, e.g. `api_image=ghcr.io/{repository}/api:{short_sha}`")
        })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(InputError::new(
                "images",
                &format!("line `{line}` has no key"),
                "write `key=template`",
            ));
        }
        let value = vars.render(template.trim()).map_err(|why| {
            InputError::new(
                "images",
                &format!("line `{line}`: {why}"),
                "fix the template",
            )
        })?;
        payload.insert(key.to_owned(), value.into());
    }
    if let Some(text) = i.get("client-payload") {
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
        // User keys win over computed ones.
        for (k, v) in extra {
            payload.insert(k, v);
        }
    }
    check_limits(&kind, &payload)?;
    let duration = |name: &str, default: u64| -> Result<Duration, InputError> {
        Ok(i.duration(name)?.unwrap_or(Duration::from_secs(default)))
    };
    let wait_interval = duration("wait-interval", 10)?;
    if wait_interval.is_zero() {
        return Err(InputError::new(
            "wait-interval",
            "must be more than 0",
            "use e.g. 10s",
        ));
    }
    Ok(Config {
        token: i.get("token").map(str::to_owned),
        repository,
        kind,
        source,
        environment,
        payload,
        dispatch_id,
        require_success: i.bool("require-success")?,
        wait: i.bool("wait")?,
        wait_timeout: duration("wait-timeout", 1800)?,
        wait_interval,
        dry_run: i.bool("dry-run")?,
    })
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
pub fn check_limits(kind: &Kind, payload: &Map<String, Value>) -> Result<(), InputError> {
    let keys = || {
        payload
            .keys()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match kind {
        Kind::Repository { event_type } => {
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
        Kind::Workflow { .. } => {
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

    #[test]
    fn eleven_keys_are_refused_with_the_list() {
        let payload: Map<String, Value> =
            (0..11).map(|i| (format!("k{i}"), Value::from(i))).collect();
        let e = check_limits(
            &Kind::Repository {
                event_type: "deploy".into(),
            },
            &payload,
        )
        .unwrap_err();
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
        let kind = Kind::Workflow {
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
        let e = check_limits(
            &Kind::Repository {
                event_type: "deploy".into(),
            },
            &payload,
        )
        .unwrap_err();
        assert!(e.problem.contains("64 KiB"), "{e}");
    }
}
