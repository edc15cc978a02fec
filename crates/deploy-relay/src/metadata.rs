//! `action.yml` rendered from an action's spec.

use relay_runtime::ActionSpec;

/// The image every action runs in, published by the release workflow.
pub const IMAGE: &str = concat!(
    "docker://ghcr.io/deploy-relay/deploy-relay:v",
    env!("CARGO_PKG_VERSION")
);

/// YAML double-quoted scalars are JSON strings.
fn q(s: &str) -> String {
    serde_json_escape(s)
}

fn serde_json_escape(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
