//! `action.yml` rendered from an action's spec.

use relay_runtime::ActionSpec;

/// What `release.toml` at the repository root says every action runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Release {
    /// `docker://` reference of the image: by tag on main, by digest on a
    /// release commit.
    pub image: String,
}

impl Release {
    /// Reads `release.toml`.
    pub fn read(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let release: Self =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if !release.image.starts_with("docker://") {
            return Err(format!(
                "{}: `image` must be a `docker://` reference, got `{}`",
                path.display(),
                release.image
            ));
        }
        Ok(release)
    }
}

/// A YAML double-quoted scalar: YAML's double-quoted style is a superset
/// of JSON strings, so `serde_json`'s escaping is exactly right.
fn q(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The `action.yml` of `spec`.
pub fn action_yml(spec: &ActionSpec, release: &Release) -> String {
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
    y.push_str(&format!("  image: {}\n", q(&release.image)));
    y.push_str(&format!(
        "  entrypoint: {}\n",
        q(&format!("/usr/local/bin/{}", spec.name))
    ));
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_toml_must_name_a_docker_image() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("release.toml");
        std::fs::write(&path, "image = \"ghcr.io/x/y:main\"\n").unwrap();
        assert!(Release::read(&path).unwrap_err().contains("docker://"));
        std::fs::write(&path, "image = \"docker://ghcr.io/x/y@sha256:ab\"\n").unwrap();
        assert_eq!(
            Release::read(&path).unwrap().image,
            "docker://ghcr.io/x/y@sha256:ab"
        );
    }
}
