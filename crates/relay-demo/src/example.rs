//! What the platform example passes to `deploy.yml`.
//!
//! `examples/platform-repo/.github/workflows/deploy.yml` is the platform
//! repository's workflow: on the `deploy` dispatch it calls the reusable
//! `deploy.yml` with inputs drawn from the dispatch's `client_payload`. The
//! demo evaluates that `with:` and `secrets:` block against the dispatch it
//! recorded — so what reaches `deploy.yml` is what the example would send —
//! and moves only the example's hosts to loopback (plus `allow-http` and
//! short health windows, which the example leaves at their defaults).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use relay_runner::expr::{self, Scope, Status};
use serde_json::{Map, Value, json};
use yaml_rust2::{Yaml, YamlLoader};

/// The example, relative to the repository.
pub const PLATFORM_EXAMPLE: &str = "examples/platform-repo/.github/workflows/deploy.yml";
/// The app repository's example, played as it is (it names no host).
pub const APP_EXAMPLE: &str = "examples/app-repo/.github/workflows/deploy-dispatch.yaml";
/// The reusable workflow the platform example calls.
pub const DEPLOY_WORKFLOW: &str = ".github/workflows/deploy.yml";

/// The call the example makes.
#[derive(Debug, Clone)]
pub struct Call {
    pub inputs: Map<String, Value>,
    pub secrets: BTreeMap<String, String>,
}

/// The example's `with:` and `secrets:` evaluated for `event` (the
/// `repository_dispatch` payload) and the platform's `secrets`; every
/// `(from, to)` in `hosts` replaced, then `extra` inputs set.
pub fn platform_call(
    root: &Path,
    event: &Value,
    secrets: &BTreeMap<String, String>,
    hosts: &[(&str, String)],
    extra: &[(&str, &str)],
) -> anyhow::Result<Call> {
    let path = root.join(PLATFORM_EXAMPLE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("couldn't read `{}`", path.display()))?;
    let doc = YamlLoader::load_from_str(&text)
        .with_context(|| format!("`{}` is not YAML", path.display()))?
        .into_iter()
        .next()
        .unwrap_or(Yaml::Null);
    let job = &doc["jobs"]["deploy"];
    let uses = job["uses"].as_str().unwrap_or_default();
    anyhow::ensure!(
        uses.split('@').next() == Some(&format!("deploy-relay/deploy-relay/{DEPLOY_WORKFLOW}")),
        "`{PLATFORM_EXAMPLE}`'s job `deploy` calls `{uses}`, not `{DEPLOY_WORKFLOW}`"
    );
    let mut contexts = Map::new();
    contexts.insert(
        "github".into(),
        json!({"event": event, "event_name": "repository_dispatch"}),
    );
    contexts.insert(
        "secrets".into(),
        Value::Object(
            secrets
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                .collect(),
        ),
    );
    contexts.insert("inputs".into(), json!({}));
    contexts.insert("vars".into(), json!({}));
    let scope = Scope {
        contexts: &contexts,
        status: Status::Success,
    };
    let eval = |y: &Yaml| -> anyhow::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        if let Yaml::Hash(h) = y {
            for (k, v) in h {
                let (Some(k), Some(v)) = (k.as_str(), scalar(v)) else {
                    continue;
                };
                let value = expr::interpolate(&v, &scope)
                    .map_err(|e| anyhow::anyhow!("`{PLATFORM_EXAMPLE}`, `{k}`: {e}"))?;
                out.push((k.to_owned(), value));
            }
        }
        Ok(out)
    };
    let mut inputs = Map::new();
    for (k, mut v) in eval(&job["with"])? {
        for (from, to) in hosts {
            v = v.replace(from, to);
        }
        anyhow::ensure!(
            !v.contains(".example.com"),
            "`{PLATFORM_EXAMPLE}`'s `{k}` names a host the demo does not serve: `{v}`"
        );
        inputs.insert(k, Value::from(v));
    }
    for (k, v) in extra {
        inputs.insert((*k).to_owned(), Value::from(*v));
    }
    let secrets = eval(&job["secrets"])?.into_iter().collect();
    Ok(Call { inputs, secrets })
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_call_comes_from_the_dispatch() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let event = json!({"client_payload": {
            "repository": "xtp-tour/xtp-tour",
            "sha": "abc1234abc1234abc1234abc1234abc1234abc12",
            "dispatch_id": "d-1",
            "api_image": "ghcr.io/xtp-tour/xtp-tour/api:abc1234",
        }});
        let secrets: BTreeMap<String, String> = [
            ("WEBHOOK_SECRET".to_owned(), "whsec_x".to_owned()),
            ("APP_CI_TOKEN".to_owned(), "tok".to_owned()),
        ]
        .into();
        let call = platform_call(
            &root,
            &event,
            &secrets,
            &[
                ("https://vm.example.com", "http://127.0.0.1:1".to_owned()),
                ("https://app.example.com", "http://127.0.0.1:2".to_owned()),
            ],
            &[("allow-http", "true")],
        )
        .unwrap();
        let input = |k: &str| call.inputs[k].as_str().unwrap().to_owned();
        assert_eq!(input("repository"), "xtp-tour/xtp-tour");
        assert_eq!(input("sha"), "abc1234abc1234abc1234abc1234abc1234abc12");
        assert_eq!(input("dispatch-id"), "d-1");
        assert_eq!(
            input("images").trim(),
            "api_image=ghcr.io/xtp-tour/xtp-tour/api:abc1234"
        );
        assert_eq!(input("webhook-url"), "http://127.0.0.1:1/deploy");
        assert_eq!(
            input("health-urls").trim(),
            "http://127.0.0.1:2/api/health\nhttp://127.0.0.1:2/api/auth/status"
        );
        assert_eq!(input("allow-http"), "true");
        assert_eq!(call.secrets["webhook-secret"], "whsec_x");
        assert_eq!(call.secrets["token"], "tok");
    }

    #[test]
    fn a_host_the_demo_does_not_serve_is_an_error() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let err = platform_call(&root, &json!({}), &BTreeMap::new(), &[], &[]).unwrap_err();
        assert!(err.to_string().contains("example.com"), "{err}");
    }
}
