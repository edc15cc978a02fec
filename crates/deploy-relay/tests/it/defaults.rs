//! Defaults written once: every action's input takes its default from the
//! constant that owns it (its `action.yml` is rendered from the spec), and
//! the hand-written reusable workflows that forward the input say the same
//! default in their description, or pass the constant itself.

use std::path::Path;

use relay_runtime::DEFAULT_ENVIRONMENTS;
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The mapping as a description writes it: `main=production, develop=staging, …`.
fn as_prose(lines: &str) -> String {
    lines.lines().collect::<Vec<_>>().join(", ")
}

/// `(workflow file, input name, description, default)` of every
/// `workflow_call` input of the repository's reusable workflows.
fn reusable_inputs() -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    let dir = root().join(".github/workflows");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = &YamlLoader::load_from_str(&text).unwrap()[0];
        let Yaml::Hash(inputs) = &doc["on"]["workflow_call"]["inputs"] else {
            continue;
        };
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for (name, spec) in inputs {
            let text_of = |key: &str| spec[key].as_str().unwrap_or_default().to_owned();
            out.push((
                file.clone(),
                name.as_str().unwrap_or_default().to_owned(),
                text_of("description"),
                text_of("default"),
            ));
        }
    }
    out
}

#[test]
fn every_environments_input_of_an_action_defaults_to_the_one_mapping() {
    let mut seen = 0;
    for action in deploy_relay::actions() {
        for input in action
            .spec
            .inputs
            .iter()
            .filter(|i| i.name == "environments")
        {
            seen += 1;
            assert_eq!(
                input.default_text(),
                Some(DEFAULT_ENVIRONMENTS),
                "{}'s `environments`",
                action.spec.name
            );
        }
    }
    assert!(
        seen >= 3,
        "dispatch-deploy, download-and-reupload-artifacts and relay read it"
    );
}

#[test]
fn reusable_workflows_say_the_environments_default_the_actions_use() {
    let mut seen = 0;
    for (file, name, description, default) in reusable_inputs() {
        if name != "environments" {
            continue;
        }
        seen += 1;
        if default.is_empty() {
            // Empty falls through to the action's default: the description
            // is the only place a reader sees it, so it must be that one.
            let want = format!("default: {}", as_prose(DEFAULT_ENVIRONMENTS));
            assert!(
                description.contains(&want),
                "{file}: the description of `environments` must say `{want}`, says `{description}`"
            );
        } else {
            assert_eq!(
                default, DEFAULT_ENVIRONMENTS,
                "{file}: `environments` defaults to another mapping than the actions'"
            );
        }
    }
    assert!(seen >= 1, "relay.yml forwards `environments`");
}
