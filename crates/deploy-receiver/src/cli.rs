//! The command line: `deploy-receiver --config receiver.toml`, logs to
//! stderr (text or JSON), SIGTERM/SIGINT for a graceful stop.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Arg, ArgAction, Command};
use relay_runtime::Env;
use tracing::info;

use crate::{Config, LogFormat, Receiver};

/// `RUST_LOG`-style filter for the logs; `info` when unset.
pub const ENV_LOG: &str = "DEPLOY_RECEIVER_LOG";

fn command() -> Command {
    Command::new("deploy-receiver")
        .about("Verifies signed deploy webhooks and runs the deploy command, one at a time")
        .version(env!("CARGO_PKG_VERSION"))
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
                .help("read the config and the secret, report problems, and exit"),
        )
        .arg(
            Arg::new("log-format")
                .long("log-format")
                .value_parser(["text", "json"])
                .help("overrides `log_format` from the config"),
        )
}

/// Parses the command line, serves, and maps failure to exit code 1.
pub fn main() -> ExitCode {
    let matches = command().get_matches();
    let env = Env::from_process();
    match run(&matches, &env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(matches: &clap::ArgMatches, env: &Env) -> anyhow::Result<()> {
    let path = matches
        .get_one::<PathBuf>("config")
        .context("--config is required")?;
    let config = Config::load(path)?;
    let format = match matches.get_one::<String>("log-format").map(String::as_str) {
        Some("json") => LogFormat::Json,
        Some(_) => LogFormat::Text,
        None => config.log_format,
    };
    init_logs(format, env);
    let runtime = tokio::runtime::Runtime::new().context("couldn't start the async runtime")?;
    runtime.block_on(async {
        let check_only = matches.get_flag("check");
        let receiver = Receiver::bind(config, env)
            .await
            .with_context(|| format!("couldn't start from `{}`", path.display()))?;
        let addr = receiver.local_addr()?;
        if check_only {
            println!("`{}` is valid; it would listen on {addr}", path.display());
            return Ok(());
        }
        info!(%addr, "listening");
        receiver.serve(stop_signal()).await?;
        Ok(())
    })
}

fn init_logs(format: LogFormat, env: &Env) {
    let filter = tracing_subscriber::EnvFilter::try_new(env.get(ENV_LOG).unwrap_or("info"))
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
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
    }
}
