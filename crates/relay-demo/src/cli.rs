//! The command line, and the hidden modes the same binary runs in: each
//! action as the runner starts it (`action <name>`), deploy-receiver's
//! per-deploy supervisor, and the demo service.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Arg, ArgAction, Command};

use crate::github::Credentials;
use crate::service;
use crate::steps::Break;

/// `relay-demo action <name> [args]`: one of deploy-relay's actions, run
/// as its own process the way the runner runs a container action.
pub const ACTION_MODE: &str = "action";

fn command() -> Command {
    let breaks: Vec<PossibleValue> = Break::ALL
        .iter()
        .map(|b| PossibleValue::new(b.name()).help(b.what()))
        .collect();
    Command::new("relay-demo")
        .about(
            "The whole deployment on this machine: a fake GitHub, deploy-receiver and a demo \
             service on 127.0.0.1, and deploy-relay's real actions played through the reusable \
             workflows. Release 1 deploys and passes its health window; release 2 fails its \
             window and is rolled back; release 3, its image built outside CI, is stopped by \
             verify-provenance before the webhook.",
        )
        .version(env!("CARGO_PKG_VERSION"))
        .arg(
            Arg::new("break")
                .long("break")
                .value_name("LINK")
                .value_parser(PossibleValuesParser::new(breaks))
                .help("break one link for release 2 and show where the flow stops"),
        )
        .arg(
            Arg::new("credentials")
                .long("credentials")
                .value_name("KIND")
                .value_parser(PossibleValuesParser::new(
                    Credentials::ALL
                        .iter()
                        .map(|c| PossibleValue::new(c.name()).help(c.what())),
                ))
                .default_value(Credentials::App.name())
                .help("how both repositories reach GitHub, as README's Get started sets it up"),
        )
        .arg(
            Arg::new("no-color")
                .long("no-color")
                .action(ArgAction::SetTrue)
                .help("plain output, no live step line (also when stdout is not a terminal)"),
        )
}

/// Routes the hidden modes, else runs the demo.
pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let mode = args.get(1).and_then(|a| a.to_str()).unwrap_or_default();
    if mode == ACTION_MODE {
        // The demo's runner starts actions from its main thread, which
        // lives as long as the demo: an action outlives neither.
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM);
        let mut argv = vec!["deploy-relay".to_owned()];
        argv.extend(args[2..].iter().map(|a| a.to_string_lossy().into_owned()));
        // The demo's network and clock beneath the example's values.
        let action = argv.get(1).cloned().unwrap_or_default();
        argv.extend(crate::network::flags(
            &action,
            &relay_runtime::Env::from_process(),
        ));
        return deploy_relay::dispatch(argv);
    }
    if mode == deploy_receiver::SUPERVISOR_MODE {
        return deploy_receiver::main();
    }
    if mode == service::MODE {
        return service::main(&args[2..]);
    }
    let matches = command().get_matches_from(args);
    let breaks = matches
        .get_one::<String>("break")
        .and_then(|b| Break::parse(b));
    let no_color = matches.get_flag("no-color")
        || relay_runtime::Env::from_process()
            .get("NO_COLOR")
            .is_some_and(|v| !v.is_empty());
    let credentials = matches
        .get_one::<String>("credentials")
        .and_then(|c| Credentials::parse(c))
        .unwrap_or(Credentials::App);
    match crate::demo::run(breaks, credentials, no_color) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
