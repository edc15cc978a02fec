//! Settings that work but weaken the receiver, reported by `--check` and
//! logged at start-up.

use std::collections::BTreeMap;
use std::time::Duration;

use relay_signature::Scheme;

use crate::auth::Secrets;
use crate::config::{Config, SecretSource};
use crate::replay::IdStore;

/// Keys shorter than this many bytes are worth a warning (GitHub suggests
/// a random string with high entropy; Standard Webhooks keys are 24-64 bytes).
const SHORT_SECRET: usize = 32;
const SHORT_WHSEC: usize = 24;

fn shown(source: &SecretSource) -> String {
    match source {
        SecretSource::File(path) => format!("the secret file `{}`", path.display()),
        SecretSource::Env(name) => format!("the secret env var `{name}`"),
    }
}

/// One sentence per weak setting, each saying what to do instead.
pub(crate) fn warnings(config: &Config, secrets: &Secrets, ids: IdStore) -> Vec<String> {
    let mut out = Vec::new();
    let minimum = match config.scheme {
        Scheme::GitHub => SHORT_SECRET,
        Scheme::StandardWebhooks => SHORT_WHSEC,
    };
    for (source, keys) in secrets.sources() {
        if let Some(short) = keys
            .iter()
            .map(|k| k.expose().len())
            .filter(|n| *n < minimum)
            .min()
        {
            out.push(format!(
                "{} holds a key of {short} bytes; use at least {minimum} random bytes (`openssl rand -hex 32`)",
                shown(source)
            ));
        }
    }
    if config.replay_window.is_zero() {
        out.push("`replay_window = \"0s\"` remembers no delivery id: a replayed request runs its deploy again; keep the default `24h`".into());
    } else if config.scheme == Scheme::StandardWebhooks
        && config.replay_window < config.timestamp_tolerance
    {
        out.push("`replay_window` is shorter than `timestamp_tolerance`: a captured request can be replayed once its id is forgotten while its timestamp still passes; make `replay_window` the longer".into());
    }
    match config.scheme {
        Scheme::GitHub => {
            out.push("`signature = \"github\"` signs the body only (no timestamp, the delivery id is not signed): a captured request can be replayed with a new delivery id, and any hook sharing its secret accepts it; where the network path is not fully trusted use `signature = \"standard-webhooks\"` with `require_delivery_id = true`".into());
            if !config.require_delivery_id {
                out.push("`require_delivery_id = false`: a request without a delivery id is never refused as a duplicate; set `require_delivery_id = true` (sign-and-call-webhook always sends one)".into());
            }
        }
        Scheme::StandardWebhooks => {
            if config.timestamp_tolerance > Duration::from_hours(1) {
                out.push(format!(
                    "`timestamp_tolerance` is {}: a captured request stays valid that long; the reference libraries use 5m",
                    relay_runtime::duration::format(config.timestamp_tolerance)
                ));
            }
        }
    }
    let mut by_secret: BTreeMap<&SecretSource, Vec<&str>> = BTreeMap::new();
    for hook in &config.hooks {
        if let Some(source) = hook.secret.as_ref().or(config.secret.as_ref()) {
            by_secret.entry(source).or_default().push(&hook.path);
        }
    }
    for (source, paths) in by_secret.iter().filter(|(_, p)| p.len() > 1) {
        out.push(format!(
            "hooks {} share {}: a request signed for one can be sent to another; give each hook its own `secret_file`",
            paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
            shown(source)
        ));
    }
    if ids == IdStore::Memory {
        out.push("delivery ids are kept in memory only: a restart forgets them, so a request captured before it can be replayed after it (under `standard-webhooks` only within `timestamp_tolerance`); set `replay_state`, or give the service `StateDirectory=deploy-receiver`".into());
    }
    if config.max_connections_per_peer.is_none() {
        out.push("`max_connections_per_peer = 0`: no per-client connection limit; right behind a proxy (where every client is one peer), not when facing clients directly".into());
    }
    if config.tls.is_none() && !config.listen.ip().is_loopback() {
        out.push(format!(
            "plain HTTP on `{}`: put a TLS-terminating proxy in front, or set `tls_cert` and `tls_key`",
            config.listen
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_signature::SigningKey;

    fn config(extra: &str) -> Config {
        Config::parse(&format!(
            "listen = \"127.0.0.1:0\"\nsecret_env = \"S\"\n{extra}\n[[hooks]]\npath = \"/a\"\ncommand = [\"/bin/true\"]\n[[hooks]]\npath = \"/b\"\ncommand = [\"/bin/true\"]\n"
        ))
        .unwrap()
    }

    fn warned(config: &Config, key: &[u8], ids: IdStore) -> String {
        let secrets = Secrets::from_global(config, vec![SigningKey::new(key.to_vec()).unwrap()]);
        warnings(config, &secrets, ids).join("\n")
    }

    #[test]
    fn weak_settings_are_named() {
        let c = config("replay_window = \"0s\"\nmax_connections_per_peer = 0");
        let text = warned(&c, b"short", IdStore::Memory);
        for needle in [
            "key of 5 bytes",
            "`replay_window = \"0s\"`",
            "`signature = \"github\"`",
            "`require_delivery_id = false`",
            "hooks `/a`, `/b` share",
            "memory only",
            "`max_connections_per_peer = 0`",
        ] {
            assert!(text.contains(needle), "{needle}:\n{text}");
        }
        assert!(!text.contains("plain HTTP"), "loopback is fine:\n{text}");
    }

    #[test]
    fn a_strong_setup_only_hears_about_what_remains() {
        let mut c = config("signature = \"standard-webhooks\"\nrequire_delivery_id = true");
        c.hooks.truncate(1);
        assert_eq!(warned(&c, &[7; 32], IdStore::StateFile), "");
        c.timestamp_tolerance = Duration::from_hours(2);
        assert!(warned(&c, &[7; 32], IdStore::StateFile).contains("`timestamp_tolerance` is 2h"));
        c.replay_window = Duration::from_mins(1);
        assert!(
            warned(&c, &[7; 32], IdStore::StateFile).contains("shorter than `timestamp_tolerance`")
        );
    }
}
