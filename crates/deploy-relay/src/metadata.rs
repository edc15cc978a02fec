//! `action.yml` rendered from an action's spec.

use relay_runtime::ActionSpec;

/// The image every action runs in, published by the release workflow.
pub const IMAGE: &str = concat!(
    "docker://ghcr.io/deploy-relay/deploy-relay:v",
    env!("CARGO_PKG_VERSION")
);

/// A YAML double-quoted scalar: YAML's double-quoted style is a superset
/// of JSON strings, so serde_json's escaping is exactly right.
fn q(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The `action.yml` of `spec`.
pub fn action_yml(spec: &ActionSpec) -> String {
    let mut y = String::new();
    y.push_str("# Generated from the action's spec in crates/; edit it there and run\n");
    y.push_str("# `UPDATE_ACTION_YML=1 cargo test -p deploy-relay` to rewrite this file.\n");
    y.push_str(&format!(
        "name: {}\n",
        q(&format!("deploy-relay: {}", spec.name))
    ));
    y.push_str(&format!("description: {}\n", q(spec.description)));
    y.push_str("author: deploy-relay\n");
    y.push_str("branding:\n  icon: send\n  color: blue\n");
    y.push_str("inputs:\n");
    for input in spec.inputs {
        y.push_str(&format!("  {}:\n", input.name));
        y.push_str(&format!("    description: {}\n", q(input.description)));
        y.push_str(&format!("    required: {}\n", input.required));
        if let Some(default) = input.default_text() {
            y.push_str(&format!("    default: {}\n", q(default)));
        }
    }
    if !spec.outputs.is_empty() {
        y.push_str("outputs:\n");
        for output in spec.outputs {
            y.push_str(&format!("  {}:\n", output.name));
            y.push_str(&format!("    description: {}\n", q(output.description)));
        }
    }
    y.push_str("runs:\n  using: docker\n");
    y.push_str(&format!("  image: {}\n", q(IMAGE)));
    y.push_str(&format!(
        "  entrypoint: {}\n",
        q(&format!("/usr/local/bin/{}", spec.name))
    ));
    y
}
