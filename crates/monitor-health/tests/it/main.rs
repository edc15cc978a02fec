//! monitor-health run as the runner runs it, against the scriptable health
//! service and the fake GitHub. Windows are short (2–3 s at 100–200 ms);
//! timing assertions are bounds against the window, not tight figures.

mod alerts;
mod hostile;
mod probing;
mod snapshots;
mod tokens;

use std::time::Duration;

use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_testkit::health::{Behavior, HealthService};
use relay_testkit::{ActionRun, Outcome};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_monitor-health");

/// A run with the token set and debug on, so every test also checks that
/// the token never leaks, even in debug output.
pub fn action(urls: &[String]) -> ActionRun {
    ActionRun::new(BIN)
        .input("urls", &urls.join("\n"))
        .input("github-token", DEFAULT_TOKEN)
        .input("duration", "2s")
        .input("interval", "100ms")
        .input("timeout", "1s")
        .env("RUNNER_DEBUG", "1")
        .timeout(Duration::from_secs(30))
}

pub fn run(a: ActionRun) -> Outcome {
    let out = a.run();
    out.assert_secret_hidden(DEFAULT_TOKEN);
    out
}

/// A service with the given paths scripted.
pub fn service(routes: &[(&str, Behavior)]) -> HealthService {
    let s = HealthService::start();
    for (path, b) in routes {
        s.route(path, b.clone());
    }
    s
}

pub fn report(out: &Outcome) -> Vec<Value> {
    serde_json::from_str::<Value>(out.output("report"))
        .expect("report is JSON")
        .as_array()
        .expect("report is an array")
        .clone()
}

pub fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo("octo/app", "main");
    gh
}
