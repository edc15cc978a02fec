//! One target's call — the deploy, or its rollback — made the way
//! `sign-and-call-webhook` makes it (relay-webhook: the exact body signed,
//! the same delivery id on every try, an async deploy followed), plus a
//! receiver that is busy with another deploy waited for; and what its
//! answer means for the rollout.

use std::collections::BTreeMap;

use relay_runtime::Console;
use relay_signature::SigningKey;
use relay_webhook::{Call, Ending, Reply};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::file::Target;

/// What a deploy or rollback call came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Called {
    /// The receiver answered 2xx: deployed.
    Deployed { status: u16 },
    /// The deploy ran, was unhealthy, and the receiver put the previous
    /// version back itself (503 with an exit code): nothing to roll back.
    RolledBackByReceiver { status: u16, said: String },
    /// Nothing changed: refused, busy to the end, or "could not be
    /// pulled, nothing changed" (422 with an exit code).
    NothingChanged { status: Option<u16>, said: String },
    /// The deploy ran and failed: the target may have changed.
    Failed { status: u16, said: String },
    /// Whether the deploy ran is unknown: the target may have changed.
    Unknown { said: String },
}

impl Called {
    pub(crate) fn ok(&self) -> bool {
        matches!(self, Called::Deployed { .. })
    }

    /// Whether the target may now run something else than before the call.
    pub(crate) fn may_have_changed(&self) -> bool {
        matches!(
            self,
            Called::Deployed { .. } | Called::Failed { .. } | Called::Unknown { .. }
        )
    }

    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Called::Deployed { status }
            | Called::RolledBackByReceiver { status, .. }
            | Called::Failed { status, .. } => Some(*status),
            Called::NothingChanged { status, .. } => *status,
            Called::Unknown { .. } => None,
        }
    }

    /// One line of plain text; what the receiver said is data (masked,
    /// cut), shown by callers through the untrusted channels only.
    pub(crate) fn describe(&self) -> String {
        match self {
            Called::Deployed { status } => format!("deployed ({status})"),
            Called::RolledBackByReceiver { status, said } => {
                format!("unhealthy, the receiver rolled back itself ({status}): {said}")
            }
            Called::NothingChanged {
                status: Some(s),
                said,
            } => format!("refused, nothing changed ({s}): {said}"),
            Called::NothingChanged { status: None, said } => {
                format!("not reached, nothing changed: {said}")
            }
            Called::Failed { status, said } => format!("failed ({status}): {said}"),
            Called::Unknown { said } => format!("outcome unknown: {said}"),
        }
    }
}

/// Deploy (new release) or rollback (a previous good release).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Deploy,
    Rollback,
}

/// The delivery id of `target`'s call in this run attempt: the same on
/// every try of the call (the receiver refuses a second delivery with it),
/// a new one in a re-run (the receiver's lock keeps the attempts apart).
/// At most 128 of `A-Z a-z 0-9 . _ ~ -`, as deploy-receiver requires.
pub(crate) fn delivery_id(config: &Config, target: &str, purpose: Purpose) -> String {
    let scope = Sha256::digest(
        format!(
            "{}\n{}\n{}\n{}",
            config.fleet.environment, config.app, config.release.sha, config.run_attempt
        )
        .as_bytes(),
    );
    let scope: String = scope[..4]
        .iter()
        .fold(String::new(), |hex, b| hex + &format!("{b:02x}"));
    let run: String = config.run_id.chars().take(24).collect();
    let kind = match purpose {
        Purpose::Deploy => "d",
        Purpose::Rollback => "r",
    };
    format!("fleet-{run}-{}-{scope}-{target}-{kind}", config.run_attempt)
}

/// The JSON body a target gets: the app, the release (each image its own
/// field, what the receiver's hook passes on), the environment, target and
/// wave, and the run. Every value a string, as hook arguments must be.
pub(crate) fn body(
    config: &Config,
    target: &str,
    wave: &str,
    sha: &str,
    images: &BTreeMap<String, String>,
    purpose: Purpose,
) -> Vec<u8> {
    let mut p = Map::new();
    p.insert("repository".into(), config.app.clone().into());
    p.insert("sha".into(), sha.into());
    p.insert(
        "environment".into(),
        config.fleet.environment.clone().into(),
    );
    p.insert("target".into(), target.into());
    p.insert("wave".into(), wave.into());
    p.insert("run_id".into(), config.run_id.clone().into());
    p.insert(
        "run_url".into(),
        config.run_url.clone().unwrap_or_default().into(),
    );
    if !config.dispatch_id.is_empty() {
        p.insert("dispatch_id".into(), config.dispatch_id.clone().into());
    }
    p.insert(
        "rollback".into(),
        (purpose == Purpose::Rollback).to_string().into(),
    );
    for (key, reference) in images {
        p.insert(key.clone(), reference.clone().into());
    }
    serde_json::to_vec(&Value::Object(p)).unwrap_or_default()
}

/// The call to `target`.
pub(crate) fn call(
    config: &Config,
    target: &Target,
    key: &SigningKey,
    body: Vec<u8>,
    purpose: Purpose,
) -> Call {
    Call {
        url: target.url.clone(),
        key: key.clone(),
        body,
        method: reqwest::Method::POST,
        headers: Vec::new(),
        signature_header: config.fleet.signature_header.clone(),
        scheme: config.fleet.scheme,
        timeout: config.fleet.timeout,
        connect_timeout: config.fleet.connect_timeout,
        retries: config.fleet.retries,
        insecure: false,
        ca_cert: config.ca_cert.clone(),
        delivery_id: delivery_id(config, &target.name, purpose),
        backoff_scale: config.backoff_scale,
        // A receiver busy with another deploy (a re-run's first attempt
        // still running, a hand-made deploy) is waited for, within `retries`.
        retry_busy: true,
    }
}

/// The client every call shares: connections and TLS settings.
pub(crate) fn client(config: &Config) -> anyhow::Result<reqwest::Client> {
    let mut builder = relay_http::client_builder()
        .connect_timeout(config.fleet.connect_timeout)
        // A signed deploy call is never replayed to another address.
        .redirect(reqwest::redirect::Policy::none())
        // Each target is called once (its async status polled seconds
        // apart): an idle connection kept per target would hold its buffers
        // for the whole rollout, memory growing with the fleet.
        .pool_max_idle_per_host(0);
    if let Some(cert) = &config.ca_cert {
        builder = builder.add_root_certificate(cert.clone());
    }
    Ok(builder.build()?)
}

/// Makes the call and says what it came to.
pub(crate) async fn make(http: &reqwest::Client, console: &Console, call: &Call) -> Called {
    match relay_webhook::deliver_with(call, http, console).await {
        Err(e) => Called::NothingChanged {
            status: None,
            said: first_line(&e.to_string()),
        },
        Ok(delivery) => match delivery.ending {
            Ending::Final(reply) => judge(&reply),
            Ending::Unknown { why, .. } => Called::Unknown {
                said: first_line(&why),
            },
        },
    }
}

/// A final answer, read as deploy-receiver's contract says (its README,
/// "Pairing with sign-and-call-webhook").
fn judge(reply: &Reply) -> Called {
    let status = reply.status;
    let said = said(reply);
    match (status, reply.exit_code) {
        (200..=299, _) => Called::Deployed { status },
        (503, true) => Called::RolledBackByReceiver { status, said },
        // "Could not be pulled, nothing changed"; and deploy-receiver's
        // refusals and "busy", which never carry an exit code: nothing ran.
        (422, true) | (300..=499 | 503, false) => Called::NothingChanged {
            status: Some(status),
            said,
        },
        // Ran and failed, or a receiver that broke while it may have been
        // deploying (a 500 without an exit code).
        _ => Called::Failed { status, said },
    }
}

/// The receiver's `status` word (or the body's first line), cut short: it
/// is the receiver's text, shown only as data.
fn said(reply: &Reply) -> String {
    let json: Option<Value> = (!reply.truncated)
        .then(|| serde_json::from_str(&reply.body).ok())
        .flatten();
    let text = json
        .as_ref()
        .and_then(|j| j.get("status"))
        .and_then(Value::as_str)
        .map_or_else(|| first_line(&reply.body), first_line);
    text.chars().take(200).collect()
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        relay_webhook::interpret(
            status,
            &reqwest::header::HeaderMap::new(),
            body.as_bytes(),
            &[],
        )
    }

    #[test]
    fn answers_read_as_the_receiver_means_them() {
        let deployed = judge(&reply(200, r#"{"status":"deployed","exit_code":0}"#));
        assert!(deployed.ok() && deployed.may_have_changed());
        let rolled = judge(&reply(
            503,
            r#"{"status":"unhealthy, rolled back","exit_code":3}"#,
        ));
        assert!(matches!(rolled, Called::RolledBackByReceiver { .. }));
        assert!(!rolled.may_have_changed(), "never rolled back twice");
        let pull = judge(&reply(
            422,
            r#"{"status":"image could not be pulled, nothing changed","exit_code":2}"#,
        ));
        assert!(!pull.may_have_changed());
        let failed = judge(&reply(
            500,
            r#"{"status":"deploy failed with exit code 1","exit_code":1}"#,
        ));
        assert!(failed.may_have_changed() && !failed.ok());
        let timed_out = judge(&reply(
            504,
            r#"{"status":"deploy timed out","exit_code":null}"#,
        ));
        assert!(timed_out.may_have_changed());
        for refused in [401, 409, 415, 422, 429, 503] {
            let r = judge(&reply(refused, r#"{"status":"busy"}"#));
            assert!(!r.may_have_changed(), "{refused}: {r:?}");
        }
        assert_eq!(
            judge(&reply(409, r#"{"status":"a deploy is already running"}"#)).describe(),
            "refused, nothing changed (409): a deploy is already running"
        );
    }
}
