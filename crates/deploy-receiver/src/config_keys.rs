//! Every key of `receiver.toml`, its default and meaning: printed by
//! `deploy-receiver --help` (the packaged binary's manual) and checked
//! against what the parser accepts, so neither can drift from the other.
//! A default is rendered from the constant the parser uses; the tests hold
//! the rendering to what the parser does and the README's tables to it.

use std::time::Duration;

use relay_signature::Scheme;

use crate::answer::{MAX_ANSWER, MAX_OUTPUT_TAIL};
use crate::config::{
    DEFAULT_BODY_BUDGET, DEFAULT_MAX_BODY, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_CONNECTIONS_PER_PEER, DEFAULT_OUTPUT_TAIL, DEFAULT_REPLAY_CAPACITY,
    DEFAULT_REPLAY_WINDOW, DEFAULT_REQUIRE_DELIVERY_ID, DEFAULT_RESULT_TTL,
    DEFAULT_TIMESTAMP_TOLERANCE, LogFormat,
};
use crate::decision::MAX_DELIVERY_ID;
use crate::deliveries::MAX_FINISHED;
use crate::hook::{
    DEFAULT_EXIT_CODES, DEFAULT_IMAGE_SHA_PATTERN, DEFAULT_KEEP_CHILDREN, DEFAULT_KILL_GRACE,
    DEFAULT_QUEUE, DEFAULT_QUEUE_LIMIT, DEFAULT_TIMEOUT, MAX_QUEUE_LIMIT, Mode,
    UNLISTED_EXIT_STATUS,
};
use crate::replay::DEFAULT_STATE_FILE;

/// One configuration key.
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) default: KeyDefault,
    pub(crate) meaning: String,
}

/// What a key is when it is left out.
pub(crate) enum KeyDefault {
    /// The value the parser uses: written out, it gives the config that
    /// leaving the key out gives.
    Value(toml::Value),
    /// No value stands for it: the key is required, unset turns something
    /// off, or the default is a rule.
    Rule(String),
}

impl KeyDefault {
    fn text(text: &str) -> Self {
        Self::Value(toml::Value::String(text.to_owned()))
    }

    fn duration(d: Duration) -> Self {
        Self::text(&relay_runtime::duration::format(d))
    }

    fn size(bytes: usize) -> Self {
        Self::text(&size_text(bytes))
    }

    fn count(n: usize) -> Self {
        Self::Value(toml::Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)))
    }

    fn flag(on: bool) -> Self {
        Self::Value(toml::Value::Boolean(on))
    }

    fn rule(text: impl Into<String>) -> Self {
        Self::Rule(text.into())
    }

    /// As `--help` and the README show it.
    pub(crate) fn shown(&self) -> String {
        match self {
            Self::Value(toml::Value::String(text)) | Self::Rule(text) => text.clone(),
            Self::Value(toml::Value::Table(table)) => table
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            Self::Value(value) => value.to_string(),
        }
    }
}

/// A size as the keys take it: whole MiB or KiB, else bytes.
fn size_text(bytes: usize) -> String {
    const KIB: usize = 1024;
    if bytes >= KIB * KIB && bytes.is_multiple_of(KIB * KIB) {
        format!("{}MiB", bytes / (KIB * KIB))
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{}KiB", bytes / KIB)
    } else {
        bytes.to_string()
    }
}

fn key(name: &'static str, default: KeyDefault, meaning: impl Into<String>) -> Key {
    Key {
        name,
        default,
        meaning: meaning.into(),
    }
}

/// Top-level keys.
pub(crate) fn top() -> Vec<Key> {
    vec![
        key(
            "listen",
            KeyDefault::rule("required"),
            "address:port to listen on, e.g. \"0.0.0.0:8443\"",
        ),
        key(
            "secret_file",
            KeyDefault::rule("one of the two, unless every hook has its own"),
            "file holding the shared secret; one key per non-empty line (several lines: several accepted keys, for rotation); only the line ending is stripped",
        ),
        key(
            "secret_env",
            KeyDefault::rule("unset (secret_file is used)"),
            "env var holding the secret instead of a file; removed from every command's environment",
        ),
        key(
            "tls_cert",
            KeyDefault::rule("unset: plain HTTP"),
            "PEM certificate chain (rustls); set with tls_key, or omit both behind a TLS-terminating proxy",
        ),
        key(
            "tls_key",
            KeyDefault::rule("unset"),
            "PEM private key for tls_cert",
        ),
        key(
            "max_body",
            KeyDefault::size(DEFAULT_MAX_BODY),
            "largest request body; a declared Content-Length over it is answered 413 before any byte is read (no 100 Continue)",
        ),
        key(
            "body_budget",
            KeyDefault::size(DEFAULT_BODY_BUDGET),
            "bytes of bodies not yet authenticated, all connections together; when spent, the stalest unauthenticated readers are evicted (503). Must be at least max_body",
        ),
        key(
            "signature",
            KeyDefault::text(Scheme::default().name()),
            "\"github\" (X-Hub-Signature-256 over the body) or \"standard-webhooks\" (webhook-id/-timestamp/-signature, whsec_ secrets)",
        ),
        key(
            "signature_header",
            KeyDefault::text(relay_signature::github::HEADER),
            "header of the github scheme",
        ),
        key(
            "timestamp_tolerance",
            KeyDefault::duration(DEFAULT_TIMESTAMP_TOLERANCE),
            "standard-webhooks and status polls: how far a timestamp may be from now, either way",
        ),
        key(
            "replay_window",
            KeyDefault::duration(DEFAULT_REPLAY_WINDOW),
            "how long a delivery id is remembered (a repeat is answered 409)",
        ),
        key(
            "replay_capacity",
            KeyDefault::count(DEFAULT_REPLAY_CAPACITY),
            "delivery ids remembered at most (oldest forgotten first)",
        ),
        key(
            "replay_state",
            KeyDefault::rule(format!(
                "$STATE_DIRECTORY/{DEFAULT_STATE_FILE} under systemd's StateDirectory=, else memory only"
            )),
            "file keeping delivery ids across restarts",
        ),
        key(
            "require_delivery_id",
            KeyDefault::flag(DEFAULT_REQUIRE_DELIVERY_ID),
            "refuse (400) requests without a delivery id",
        ),
        key(
            "result_ttl",
            KeyDefault::duration(DEFAULT_RESULT_TTL),
            format!(
                "how long a finished deploy's answer stays at its status path (at most {MAX_FINISHED} answers)"
            ),
        ),
        key(
            "output_tail",
            KeyDefault::size(DEFAULT_OUTPUT_TAIL),
            format!(
                "bytes of command output in the answer (its end, secrets masked before the cut); at most {}, and cut further when escaping makes the answer longer than {} KiB of JSON",
                size_text(MAX_OUTPUT_TAIL),
                MAX_ANSWER / 1024
            ),
        ),
        key(
            "log_format",
            KeyDefault::text(LogFormat::default().name()),
            "\"text\" or \"json\" (--log-format overrides)",
        ),
        key(
            "max_connections",
            KeyDefault::count(DEFAULT_MAX_CONNECTIONS),
            "open connections at most; at the cap the connection idle longest (not yet authenticated) is closed for a new one",
        ),
        key(
            "max_connections_per_peer",
            KeyDefault::count(DEFAULT_MAX_CONNECTIONS_PER_PEER),
            "open connections per client address (IPv6: per /64); more are answered 503 at once. 0 turns the limit off: do that behind a proxy, where every client is one peer",
        ),
    ]
}

/// Keys of each `[[hooks]]` table.
pub(crate) fn hook() -> Vec<Key> {
    let exit_codes = DEFAULT_EXIT_CODES
        .iter()
        .map(|&(code, status, _)| (code.to_string(), toml::Value::Integer(status.into())))
        .collect();
    vec![
        key(
            "path",
            KeyDefault::rule("required"),
            "e.g. \"/deploy\" (not /healthz): `/` and segments of A-Z a-z 0-9 - . _ ~; a trailing `/` is dropped (\"/a/\" is \"/a\"), two hooks on one path are an error; its deliveries' status is at <path>/deliveries/<id>",
        ),
        key(
            "command",
            KeyDefault::rule("required"),
            "program and fixed arguments, run directly (never through a shell)",
        ),
        key(
            "args",
            KeyDefault::Value(toml::Value::Array(Vec::new())),
            "payload fields appended as arguments, in order; \"a.b\" reads nested objects; values must be JSON strings",
        ),
        key(
            "secret_file",
            KeyDefault::rule("the global secret"),
            "this hook's own secret: a request signed for another hook cannot run this one",
        ),
        key(
            "secret_env",
            KeyDefault::rule("the global secret"),
            "this hook's own secret, from an env var",
        ),
        key(
            "mode",
            KeyDefault::text(Mode::default().name()),
            "\"sync\": answer when the command ends; \"async\": 202 at once with a status path, for deploys longer than a proxy waits",
        ),
        key(
            "timeout",
            KeyDefault::duration(DEFAULT_TIMEOUT),
            "then SIGTERM to the command's whole process tree, kill_grace later SIGKILL; answer 504",
        ),
        key(
            "kill_grace",
            KeyDefault::duration(DEFAULT_KILL_GRACE),
            "time between SIGTERM and SIGKILL, on timeout and for leftovers",
        ),
        key(
            "queue",
            KeyDefault::flag(DEFAULT_QUEUE),
            "true: a second deploy waits for the first instead of 409",
        ),
        key(
            "queue_limit",
            KeyDefault::rule(format!("{DEFAULT_QUEUE_LIMIT} (with queue = true)")),
            format!(
                "deploys that may wait behind the running one (1-{MAX_QUEUE_LIMIT}); more are answered 429 with Retry-After"
            ),
        ),
        key(
            "keep_children",
            KeyDefault::flag(DEFAULT_KEEP_CHILDREN),
            "true: processes the command leaves running after a normal exit are kept (else they are killed)",
        ),
        key(
            "working_dir",
            KeyDefault::rule("the receiver's"),
            "the command's working directory",
        ),
        key(
            "validate",
            KeyDefault::rule(format!(
                "image = a digest reference name@sha256:<64 hex>; image_sha = \"{DEFAULT_IMAGE_SHA_PATTERN}\""
            )),
            "[hooks.validate]: a pattern for every field in args; the whole value must match",
        ),
        key(
            "exit_codes",
            KeyDefault::Value(toml::Value::Table(exit_codes)),
            format!(
                "[hooks.exit_codes]: exit code -> HTTP status, merged over the defaults; others -> {UNLISTED_EXIT_STATUS}"
            ),
        ),
        key(
            "env",
            KeyDefault::rule("none"),
            "[hooks.env]: extra environment for the command",
        ),
    ]
}

fn table(out: &mut String, keys: &[Key]) {
    for k in keys {
        out.push_str(&format!(
            "  {}\n      default: {}\n      {}\n",
            k.name,
            k.default.shown(),
            k.meaning
        ));
    }
}

/// The text `--help` prints after the flags.
pub(crate) fn help() -> String {
    let mut out = String::from("CONFIGURATION (receiver.toml; unknown keys are errors)\n\n");
    table(&mut out, &top());
    out.push_str("\nEach [[hooks]] table:\n\n");
    table(&mut out, &hook());
    let exit_codes: Vec<String> = DEFAULT_EXIT_CODES
        .iter()
        .map(|(code, status, told)| format!("{code} -> {status} {told}"))
        .collect();
    out.push_str(&format!(
        "\nEvery command also gets DEPLOY_DELIVERY_ID and DEPLOY_HOOK_PATH, and never a secret's env var.\n\
         Exit codes: {}, others -> {UNLISTED_EXIT_STATUS};\n\
         timeout -> 504. Every answer of a deploy that ran carries `exit_code` (null when it timed out\n\
         or was killed), also as the Deploy-Exit-Code header: a sender must not retry it.\n\
         A delivery id is 1-{MAX_DELIVERY_ID} of A-Z a-z 0-9 - . _ ~ (else 400).\n\n\
         ENVIRONMENT\n  DEPLOY_RECEIVER_LOG  tracing filter for the logs (default info)\n  \
         STATE_DIRECTORY      set by systemd's StateDirectory=; default home of replay_state\n\n\
         See https://github.com/deploy-relay/deploy-relay/tree/main/crates/deploy-receiver",
        exit_codes.join(", ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key list from serde's "unknown field `x`, expected one of …" error.
    fn accepted_keys(text: &str) -> Vec<String> {
        let err = crate::Config::parse(text).unwrap_err().to_string();
        let list = err
            .split("expected one of ")
            .nth(1)
            .unwrap_or_else(|| panic!("{err}"));
        list.split(", ")
            .map(|k| k.trim_matches(|c| c == '`' || c == ' ').to_owned())
            .collect()
    }

    #[test]
    fn every_key_the_parser_accepts_is_documented_and_no_other() {
        let top_keys = accepted_keys("listen = \"127.0.0.1:0\"\nnot_a_key = 1\nhooks = []\n");
        let documented: Vec<&str> = top().iter().map(|k| k.name).chain(["hooks"]).collect();
        assert_eq!(sorted(&top_keys), sorted(&documented));
        let hook_keys = accepted_keys(
            "listen = \"127.0.0.1:0\"\n[[hooks]]\npath = \"/d\"\ncommand = [\"/bin/true\"]\nnot_a_key = 1\n",
        );
        let documented: Vec<&str> = hook().iter().map(|k| k.name).collect();
        assert_eq!(sorted(&hook_keys), sorted(&documented));
    }

    fn sorted(keys: &[impl AsRef<str>]) -> Vec<String> {
        let mut v: Vec<String> = keys.iter().map(|k| k.as_ref().to_owned()).collect();
        v.sort();
        v
    }

    /// `name = value` for each key whose default is a value.
    fn written_out(keys: &[Key]) -> String {
        keys.iter()
            .filter_map(|k| match &k.default {
                KeyDefault::Value(value) => Some(format!("{} = {value}\n", k.name)),
                KeyDefault::Rule(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_default_written_out_is_what_leaving_the_key_out_gives() {
        let config = |top: &str, hook: &str| {
            let text = format!(
                "listen = \"127.0.0.1:0\"\nsecret_env = \"S\"\n{top}[[hooks]]\npath = \"/d\"\ncommand = [\"/bin/true\"]\n{hook}"
            );
            let config = crate::Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            format!("{config:?}")
        };
        let (top_values, hook_values) = (written_out(&top()), written_out(&hook()));
        assert!(
            top_values.contains("max_body = \"64KiB\"")
                && hook_values.contains("timeout = \"10m\""),
            "{top_values}{hook_values}"
        );
        assert_eq!(config(&top_values, &hook_values), config("", ""));
        // The one rule with a number: the queue's length, given a queue.
        assert_eq!(
            config(
                "",
                &format!("queue = true\nqueue_limit = {DEFAULT_QUEUE_LIMIT}\n")
            ),
            config("", "queue = true\n")
        );
    }

    #[test]
    fn sizes_read_back_as_they_are_written() {
        for bytes in [1, 1000, 1024, 16 * 1024, 1536 * 1024, 8 << 20] {
            assert_eq!(crate::parse_size(&size_text(bytes)).unwrap(), bytes);
        }
        assert_eq!(size_text(8 << 20), "8MiB");
        assert_eq!(size_text(1536 * 1024), "1536KiB");
    }

    #[test]
    fn the_readme_documents_every_key_with_its_default() {
        let readme = include_str!("../README.md");
        for k in top().iter().chain(&hook()) {
            assert!(
                readme.contains(&format!("`{}`", k.name)),
                "README lacks `{}`",
                k.name
            );
            let KeyDefault::Value(value) = &k.default else {
                continue;
            };
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}`", k.name)))
                .unwrap_or_else(|| panic!("README has no row for `{}`", k.name));
            let shown: Vec<String> = match value {
                toml::Value::Table(t) => t.iter().map(|(k, v)| format!("`{k} = {v}`")).collect(),
                _ => vec![format!("| `{}` |", k.default.shown())],
            };
            for part in shown {
                assert!(
                    row.contains(&part),
                    "README's default of `{}` is not {part}:\n{row}",
                    k.name
                );
            }
        }
    }
}
