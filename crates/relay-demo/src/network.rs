//! The demo's network, clock and trust root, as the actions see them.
//!
//! The demo plays the examples as they are: their workflow files are read
//! and run unchanged, hosts, durations and all. Three things a laptop does
//! not have are supplied beneath them, the way `/etc/hosts`, a time-lapse
//! camera and a private CA would: the examples' hosts
//! (`https://vm.example.com:8443`, `https://app.example.com`) are the
//! demo's loopback services over plain http; a health window runs faster by
//! one factor for every duration (5 minutes at 30 s becomes 6 s at 600 ms:
//! the same ten probes per URL; a probe's timeout no shorter than a second,
//! for a loaded machine); and verify-provenance trusts the demo's own
//! Sigstore (relay-fakes' fake CA and log, which attested the builds) as
//! its `trusted-root`, in place of the public-good and GitHub roots no
//! offline build can be signed under. Each action started in the demo's
//! action mode gets its inputs with exactly these changes, as command-line
//! flags (flags win over the `INPUT_*` env the runner set); the timeline
//! says so at the start. The fleet scene's file, which the deploy
//! repository's checkout would hold, gets the same hosts and clock
//! (`fleet`): fleet-deploy is pointed at the demo's copy of it.

use relay_runtime::{Env, env_name};

/// `origin=origin` lines: the example's origin, the demo's.
pub const HOSTS_VAR: &str = "RELAY_DEMO_HOSTS";
/// How many times faster a health window runs.
pub const TIME_LAPSE_VAR: &str = "RELAY_DEMO_TIME_LAPSE";
/// The demo Sigstore's `trusted_root.json`, verify-provenance's trust root.
pub const TRUSTED_ROOT_VAR: &str = "RELAY_DEMO_TRUSTED_ROOT";

/// `checkout path=demo path`: the fleet file the deploy repository's
/// checkout (which the runner skips) would hold, and the demo's copy of it
/// with its hosts and health windows mapped (`fleet`), which fleet-deploy
/// reads instead.
pub const FLEET_FILE_VAR: &str = "RELAY_DEMO_FLEET_FILE";
/// fleet-deploy's `fleet-file` when a workflow gives none.
const FLEET_FILE_DEFAULT: &str = "deploy-relay.fleet.toml";

/// The health window's durations, the ones the time-lapse shortens.
const TIMED: &[(&str, &str)] = &[
    ("monitor-health", "duration"),
    ("monitor-health", "interval"),
    ("monitor-health", "initial-delay"),
    ("monitor-health", "timeout"),
];

/// The shortest probe timeout the time-lapse gives.
const MIN_TIMEOUT_MS: u64 = 1000;

/// The flags that give `action` its inputs as the demo's network and clock
/// see them; none when nothing needs to change.
pub fn flags(action: &str, env: &Env) -> Vec<String> {
    let hosts: Vec<(String, String)> = env
        .get(HOSTS_VAR)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
        .collect();
    let lapse: f64 = env
        .get(TIME_LAPSE_VAR)
        .and_then(|v| v.parse().ok())
        .filter(|f: &f64| *f >= 1.0)
        .unwrap_or(1.0);
    let Some(spec) = deploy_relay::actions()
        .into_iter()
        .find(|a| a.spec.name == action)
        .map(|a| a.spec)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut to_http = false;
    for input in spec.inputs {
        let Some(value) = env.get(&env_name(input.name)) else {
            continue;
        };
        let mut changed = value.to_owned();
        for (from, to) in &hosts {
            if changed.contains(from.as_str()) {
                changed = changed.replace(from.as_str(), to);
                to_http |= to.starts_with("http://") && input.name == "url";
            }
        }
        if TIMED.contains(&(action, input.name))
            && let Some(lapsed) = lapsed(input.name, &changed, lapse)
        {
            changed = lapsed;
        }
        if changed != value {
            out.push(format!("--{}", input.name));
            out.push(changed);
        }
    }
    if to_http {
        out.push("--allow-http".into());
        out.push("true".into());
    }
    if action == "fleet-deploy"
        && let Some((from, to)) = env.get(FLEET_FILE_VAR).and_then(|v| v.split_once('='))
        && env
            .get(&env_name("fleet-file"))
            .filter(|f| !f.is_empty())
            .unwrap_or(FLEET_FILE_DEFAULT)
            == from
    {
        out.push("--fleet-file".into());
        out.push(to.to_owned());
    }
    if action == "verify-provenance"
        && let Some(root) = env.get(TRUSTED_ROOT_VAR).filter(|r| !r.is_empty())
        && env.get(&env_name("trusted-root")).is_none_or(str::is_empty)
    {
        out.push("--trusted-root".into());
        out.push(root.to_owned());
    }
    out
}

/// `value`, a duration named `name` (`timeout` for a probe's), as the
/// demo's clock runs it `lapse` times faster: in milliseconds, a probe's
/// timeout no shorter than a second. None when it is not a duration or the
/// clock runs at its pace.
pub fn lapsed(name: &str, value: &str, lapse: f64) -> Option<String> {
    if lapse <= 1.0 {
        return None;
    }
    let d = relay_runtime::duration::parse(value).ok()?;
    let mut ms = (d.as_secs_f64() * 1000.0 / lapse).round() as u64;
    if name == "timeout" {
        ms = ms.max(MIN_TIMEOUT_MS.min(d.as_millis() as u64));
    }
    Some(format!("{ms}ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_move_to_loopback_and_the_window_speeds_up() {
        let env = Env::from_pairs([
            (
                HOSTS_VAR,
                "https://vm.example.com:8443=http://127.0.0.1:7001\nhttps://app.example.com=http://127.0.0.1:7002",
            ),
            (TIME_LAPSE_VAR, "50"),
            ("INPUT_URL", "https://vm.example.com:8443/deploy/api"),
            ("INPUT_SIGNATURE-SCHEME", "standard-webhooks"),
        ]);
        assert_eq!(
            flags("sign-and-call-webhook", &env),
            [
                "--url",
                "http://127.0.0.1:7001/deploy/api",
                "--allow-http",
                "true"
            ]
        );
        let env = Env::from_pairs([
            (HOSTS_VAR, "https://app.example.com=http://127.0.0.1:7002"),
            (TIME_LAPSE_VAR, "50"),
            (
                "INPUT_URLS",
                "https://app.example.com/api/health\nhttps://app.example.com/api/docs",
            ),
            ("INPUT_DURATION", "5m"),
            ("INPUT_INTERVAL", "30s"),
            ("INPUT_TIMEOUT", "10s"),
        ]);
        assert_eq!(
            flags("monitor-health", &env),
            [
                "--urls",
                "http://127.0.0.1:7002/api/health\nhttp://127.0.0.1:7002/api/docs",
                "--duration",
                "6000ms",
                "--interval",
                "600ms",
                "--timeout",
                "1000ms",
            ],
            "a probe's timeout no shorter than a second"
        );
        assert!(flags("verify-ci-status", &Env::from_pairs([("INPUT_SHA", "abc")])).is_empty());
    }

    #[test]
    fn fleet_deploy_reads_the_demos_copy_of_the_checkouts_fleet_file() {
        let var = (
            FLEET_FILE_VAR,
            "deploy-relay.fleet.toml=/work/fleet/mapped.toml",
        );
        let want = ["--fleet-file", "/work/fleet/mapped.toml"];
        let given = Env::from_pairs([var, ("INPUT_FLEET-FILE", "deploy-relay.fleet.toml")]);
        assert_eq!(flags("fleet-deploy", &given), want);
        // Unset or empty: the action's default, the same file.
        assert_eq!(flags("fleet-deploy", &Env::from_pairs([var])), want);
        // Another file, another action, or no copy: left as it is.
        let other = Env::from_pairs([var, ("INPUT_FLEET-FILE", "ops/fleet.toml")]);
        assert!(flags("fleet-deploy", &other).is_empty());
        assert!(flags("monitor-health", &given).is_empty());
        let none = Env::from_pairs([("INPUT_FLEET-FILE", "deploy-relay.fleet.toml")]);
        assert!(flags("fleet-deploy", &none).is_empty());
    }

    #[test]
    fn verify_provenance_trusts_the_demos_sigstore() {
        let env = Env::from_pairs([
            (TRUSTED_ROOT_VAR, "/work/sigstore/trusted_root.json"),
            ("INPUT_IMAGES", "image=ghcr.io/a/b@sha256:00"),
        ]);
        assert_eq!(
            flags("verify-provenance", &env),
            ["--trusted-root", "/work/sigstore/trusted_root.json"]
        );
        // Only verify-provenance, and never over a root the workflow gave.
        assert!(flags("verify-ci-status", &env).is_empty());
        let given = Env::from_pairs([
            (TRUSTED_ROOT_VAR, "/work/sigstore/trusted_root.json"),
            ("INPUT_TRUSTED-ROOT", "/etc/root.json"),
        ]);
        assert!(flags("verify-provenance", &given).is_empty());
        assert!(
            flags(
                "verify-provenance",
                &Env::from_pairs([("INPUT_SHA", "abc")])
            )
            .is_empty()
        );
    }
}
