//! The multi-call binary the image ships. Each action is a symlink to it
//! (`/usr/local/bin/dispatch-deploy` → `deploy-relay`), so one static binary
//! carries every action and the image stays small; `deploy-relay <action>`
//! works too. Also renders each action's `action.yml` from its spec, so the
//! metadata and the code cannot drift apart (a test compares them). Beside
//! the actions it carries the operators' commands, `deploy-relay status`
//! and `deploy-relay approve`.

#![warn(unreachable_pub, missing_docs, clippy::pedantic)]
// The allow-list of [workspace.lints] (reasons there), repeated because a
// crate-level `warn` of the group overrides the workspace's `allow`s.
#![allow(
    clippy::must_use_candidate,
    clippy::missing_errors_doc,
    clippy::return_self_not_must_use,
    clippy::format_push_string,
    clippy::too_many_lines,
    clippy::similar_names,
    clippy::struct_excessive_bools,
    clippy::cast_precision_loss
)]

mod metadata;
mod ops;

use std::process::ExitCode;

use relay_runtime::ActionSpec;

pub use metadata::{Release, action_yml};
pub use ops::{Command, commands};

/// Every action: its spec and its entry point.
pub struct Action {
    /// Its inputs and outputs, from which its `action.yml` is rendered.
    pub spec: &'static ActionSpec,
    /// Runs it with these arguments (`argv`, the action's name first).
    pub main: fn(Vec<String>) -> ExitCode,
}

/// The action whose `action.yml` is the repository's own (`uses: deploy-relay/deploy-relay@…`).
pub const ROOT_ACTION: &str = "relay";

impl Action {
    /// Where its `action.yml` and README live, relative to the repository:
    /// the root for [`ROOT_ACTION`], `actions/<name>` for the others.
    pub fn dir(&self) -> std::path::PathBuf {
        if self.spec.name == ROOT_ACTION {
            std::path::PathBuf::new()
        } else {
            std::path::Path::new("actions").join(self.spec.name)
        }
    }
}

/// An [`Action`] for a crate that exports `SPEC` and `run`.
macro_rules! action {
    ($krate:ident) => {
        Action {
            spec: &$krate::SPEC,
            main: |args| relay_runtime::main_with_args(&$krate::SPEC, args, $krate::run),
        }
    };
}

/// Every action the image holds: one line per action.
pub fn actions() -> Vec<Action> {
    vec![
        action!(dispatch_deploy),
        action!(download_and_reupload_artifacts),
        action!(sign_and_call_webhook),
        action!(verify_ci_status),
        action!(verify_provenance),
        action!(monitor_health),
        action!(record_deployment),
        action!(relay_action),
        action!(fleet_deploy),
    ]
}

/// Runs the action named by `argv[0]`'s file name, or by the first
/// argument when called as `deploy-relay`.
pub fn dispatch(mut args: Vec<String>) -> ExitCode {
    let called = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
        .unwrap_or_default();
    let by_name = called == "deploy-relay";
    let name = if by_name && args.len() > 1 {
        args.remove(1)
    } else {
        called
    };
    let all = actions();
    let ops = commands();
    if by_name && matches!(name.as_str(), "--help" | "-h" | "help" | "deploy-relay") {
        say(&usage(&all, &ops));
        return ExitCode::SUCCESS;
    }
    if by_name && matches!(name.as_str(), "--version" | "-V") {
        say(&format!("deploy-relay {}", env!("CARGO_PKG_VERSION")));
        return ExitCode::SUCCESS;
    }
    let main = all
        .iter()
        .find(|a| a.spec.name == name)
        .map(|a| a.main)
        .or_else(|| ops.iter().find(|c| c.spec.name == name).map(|c| c.main));
    let Some(main) = main else {
        let names: Vec<&str> = all
            .iter()
            .map(|a| a.spec.name)
            .chain(ops.iter().map(|c| c.spec.name))
            .collect();
        say(&relay_runtime::command(
            "error",
            &[],
            &format!(
                "deploy-relay has no action `{name}`\nhint: call it as one of: {}",
                names.join(", ")
            ),
        ));
        return ExitCode::FAILURE;
    };
    if let Some(first) = args.first_mut() {
        name.clone_into(first);
    }
    main(args)
}

/// One line on stdout; a closed stdout (`| head`) is not worth a panic.
fn say(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// `deploy-relay --help`: every action and command, one line each.
fn usage(actions: &[Action], commands: &[Command]) -> String {
    let mut out = format!(
        "deploy-relay {}: the GitHub Actions of deploy-relay in one binary\n\n\
         Usage: deploy-relay <action|command> [--<input> <value>]...  (or call it by an action's name)\n\nActions:\n",
        env!("CARGO_PKG_VERSION")
    );
    for a in actions {
        out.push_str(&format!("  {:<34} {}\n", a.spec.name, a.spec.description));
    }
    out.push_str("\nOperators' commands:\n");
    for c in commands {
        out.push_str(&format!("  {:<34} {}\n", c.spec.name, c.spec.description));
    }
    out.push_str("\n`deploy-relay <name> --help` lists a name's inputs and defaults.");
    out
}
