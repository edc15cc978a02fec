//! The command line: `deploy-receiver --config receiver.toml`, logs to
//! stderr (text or JSON), SIGTERM/SIGINT for a graceful stop. The same
//! binary is each deploy's supervisor when started in that hidden mode.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Arg, ArgAction, Command};
use relay_runtime::{Env, vars};
use tracing::{info, warn};

use crate::{Config, LogFormat, Receiver, config_keys, supervisor};

fn command() -> Command {
    Command::new("deploy-receiver")
        .about("Verifies signed deploy webhooks and runs the deploy command, one at a time")
        .version(env!("CARGO_PKG_VERSION"))
        .after_help(config_keys::help())
        .arg(
            Arg::new("config")
                .long("config")
                .value_name("FILE")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("the receiver.toml to serve"),
        )
        .arg(
            Arg::new("check")
                .long("check")
                .action(ArgAction::SetTrue)
                .help(
                    "read the config, the secrets, the TLS files and the delivery-id state, report problems and weak settings, and exit; binds nothing and writes nothing",
                ),
        )
        .arg(
            Arg::new("reset-replay-state")
                .long("reset-replay-state")
                .action(ArgAction::SetTrue)
                .help(
                    "start with no remembered delivery ids, replacing the state file (the way out when it is corrupt)",
                ),
        )
        .arg(
            Arg::new("log-format")
                .long("log-format")
                .value_parser(LogFormat::ALL.map(LogFormat::name))
                .help("overrides `log_format` from the config"),
        )
}

/// Parses the command line, serves, and maps failure to exit code 1.
pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == supervisor::MODE) {
        return supervisor::main(&args[2..]);
    }
    // Before any secret is read: a deploy command runs as the same user, and
    // a dumpable process lets it read this one's environment (a
    // `secret_env` secret) and memory through /proc.
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        eprintln!("error: couldn't make the receiver non-dumpable: {e}");
        return ExitCode::FAILURE;
    }
    let matches = command().get_matches_from(args);
    let env = Env::from_process();
    match run(&matches, &env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", relay_runtime::error_text(&e));
            ExitCode::FAILURE
        }
    }
}

fn run(matches: &clap::ArgMatches, env: &Env) -> anyhow::Result<()> {
    let path = matches
        .get_one::<PathBuf>("config")
        .context("--config is required")?;
    let config = Config::load(path)?;
    let format = matches
        .get_one::<String>("log-format")
        .and_then(|name| LogFormat::from_name(name))
        .unwrap_or(config.log_format);
    init_logs(format, env);
    let options = crate::StartOptions {
        stored_ids: if matches.get_flag("reset-replay-state") {
            crate::StoredIds::Forget
        } else {
            crate::StoredIds::Keep
        },
    };
    if matches.get_flag("check") {
        let warnings = crate::preflight(&config, env, options)
            .with_context(|| format!("`{}` cannot start", path.display()))?;
        for w in &warnings {
            eprintln!("warning: {w}");
        }
        println!(
            "`{}` is valid; it would listen on {}",
            path.display(),
            config.listen
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Runtime::new().context("couldn't start the async runtime")?;
    runtime.block_on(async {
        let receiver = Receiver::bind_with(config, env, options)
            .await
            .with_context(|| format!("couldn't start from `{}`", path.display()))?;
        let addr = receiver.local_addr()?;
        for w in &receiver.warnings() {
            warn!("{w}");
        }
        info!(%addr, "listening");
        receiver.serve(stop_signal()).await?;
        Ok(())
    })
}

fn init_logs(format: LogFormat, env: &Env) {
    let filter = tracing_subscriber::EnvFilter::try_new(
        env.get(vars::DEPLOY_RECEIVER_LOG).unwrap_or("info"),
    )
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
    }
}
