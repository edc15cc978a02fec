//! Every `actions/<name>/action.yml` (and the root `action.yml` of the
//! `relay` action) is exactly what its spec renders, so the inputs, defaults
//! and outputs users read are the ones the code reads.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn action_yml_files_match_the_specs() {
    let update = relay_runtime::Env::from_process().get("UPDATE_ACTION_YML") == Some("1");
    let release = deploy_relay::Release::read(&root().join("release.toml")).unwrap();
    let mut stale = Vec::new();
    for action in deploy_relay::actions() {
        let path = root().join(action.dir()).join("action.yml");
        let want = deploy_relay::action_yml(action.spec, &release);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &want).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale action.yml (run `UPDATE_ACTION_YML=1 cargo test -p deploy-relay`): {stale:?}"
    );
}

#[test]
fn every_action_directory_belongs_to_an_action() {
    let names: Vec<&str> = deploy_relay::actions()
        .iter()
        .map(|a| a.spec.name)
        .collect();
    for entry in std::fs::read_dir(root().join("actions")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            names.contains(&name.as_str()),
            "actions/{name} has no action in crates/deploy-relay"
        );
    }
}

#[test]
fn every_action_has_a_readme() {
    for action in deploy_relay::actions() {
        let readme = root().join(action.dir()).join("README.md");
        let text = std::fs::read_to_string(&readme)
            .unwrap_or_else(|_| panic!("{} is missing", readme.display()));
        for input in action.spec.inputs {
            assert!(
                text.contains(&format!("`{}`", input.name)),
                "{} does not document input `{}`",
                readme.display(),
                input.name
            );
        }
        for output in action.spec.outputs {
            assert!(
                text.contains(&format!("`{}`", output.name)),
                "{} does not document output `{}`",
                readme.display(),
                output.name
            );
        }
    }
}

#[test]
fn every_entrypoint_is_a_name_the_image_answers_to() {
    // The scripts that build the image make one symlink per entrypoint.
    for action in deploy_relay::actions() {
        let yml = std::fs::read_to_string(root().join(action.dir()).join("action.yml")).unwrap();
        assert!(
            yml.contains(&format!(
                "entrypoint: \"/usr/local/bin/{}\"",
                action.spec.name
            )),
            "{}",
            action.spec.name
        );
    }
    for script in ["scripts/dist.sh", "scripts/image.sh", "Dockerfile"] {
        let text = std::fs::read_to_string(root().join(script)).unwrap();
        assert!(
            text.contains("entrypoint"),
            "{script} must make its symlinks from the action.yml entrypoints"
        );
    }
}

#[test]
fn unknown_action_name_fails_with_the_list() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deploy-relay"))
        .arg("nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error::deploy-relay has no action `nope`")
            && stdout.contains("dispatch-deploy"),
        "{stdout}"
    );
}

#[test]
fn help_lists_every_action_and_command() {
    for flag in ["--help", "help"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_deploy-relay"))
            .arg(flag)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        for a in deploy_relay::actions() {
            assert!(text.contains(a.spec.name), "{text}");
        }
        assert!(
            text.contains("status") && text.contains("approve"),
            "{text}"
        );
    }
}

#[test]
fn called_by_action_name_runs_that_action() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deploy-relay"))
        .args(["dispatch-deploy", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--event-type"));
}
