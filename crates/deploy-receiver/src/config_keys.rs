//! Every key of `receiver.toml`, its default and meaning: printed by
//! `deploy-receiver --help` (the packaged binary's manual) and checked
//! against what the parser accepts, so neither can drift from the other.

/// One configuration key.
pub struct Key {
    pub name: &'static str,
    pub default: &'static str,
    pub meaning: &'static str,
}

const fn key(name: &'static str, default: &'static str, meaning: &'static str) -> Key {
    Key {
        name,
        default,
        meaning,
    }
}

/// Top-level keys.
pub const TOP: &[Key] = &[
    key(
        "listen",
        "required",
        "address:port to listen on, e.g. \"0.0.0.0:8443\"",
    ),
    key(
        "secret_file",
        "one of the two, unless every hook has its own",
        "file holding the shared secret; one key per non-empty line (several lines: several accepted keys, for rotation); only the line ending is stripped",
    ),
    key(
        "secret_env",
        "unset (secret_file is used)",
        "env var holding the secret instead of a file; removed from every command's environment",
    ),
    key(
        "tls_cert",
        "unset: plain HTTP",
        "PEM certificate chain (rustls); set with tls_key, or omit both behind a TLS-terminating proxy",
    ),
    key("tls_key", "unset", "PEM private key for tls_cert"),
    key(
        "max_body",
        "64KiB",
        "largest request body; a declared Content-Length over it is answered 413 before any byte is read (no 100 Continue)",
    ),
    key(
        "body_budget",
        "8MiB",
        "bytes of bodies not yet authenticated, all connections together; when spent, the stalest unauthenticated readers are evicted (503). Must be at least max_body",
    ),
    key(
        "signature",
        "github",
        "\"github\" (X-Hub-Signature-256 over the body) or \"standard-webhooks\" (webhook-id/-timestamp/-signature, whsec_ secrets)",
    ),
    key(
        "signature_header",
        "X-Hub-Signature-256",
        "header of the github scheme",
    ),
    key(
        "timestamp_tolerance",
        "5m",
        "standard-webhooks and status polls: how far a timestamp may be from now, either way",
    ),
    key(
        "replay_window",
        "24h",
        "how long a delivery id is remembered (a repeat is answered 409)",
    ),
    key(
        "replay_capacity",
        "10000",
        "delivery ids remembered at most (oldest forgotten first)",
    ),
    key(
        "replay_state",
        "$STATE_DIRECTORY/delivery-ids.json under systemd's StateDirectory=, else memory only",
        "file keeping delivery ids across restarts",
    ),
    key(
        "require_delivery_id",
        "false",
        "refuse (400) requests without a delivery id",
    ),
    key(
        "result_ttl",
        "1h",
        "how long a finished deploy's answer stays at its status path (at most 1000 answers)",
    ),
    key(
        "output_tail",
        "16KiB",
        "bytes of command output in the answer (its end, secrets masked before the cut); at most 24KiB, and cut further when escaping makes the answer longer than 32 KiB of JSON",
    ),
    key(
        "log_format",
        "text",
        "\"text\" or \"json\" (--log-format overrides)",
    ),
    key(
        "max_connections",
        "512",
        "open connections at most; at the cap the connection idle longest (not yet authenticated) is closed for a new one",
    ),
    key(
        "max_connections_per_peer",
        "16",
        "open connections per client address (IPv6: per /64); more are answered 503 at once. 0 turns the limit off: do that behind a proxy, where every client is one peer",
    ),
];

/// Keys of each `[[hooks]]` table.
pub const HOOK: &[Key] = &[
    key(
        "path",
        "required",
        "e.g. \"/deploy\" (not /healthz): `/` and segments of A-Z a-z 0-9 - . _ ~; a trailing `/` is dropped (\"/a/\" is \"/a\"), two hooks on one path are an error; its deliveries' status is at <path>/deliveries/<id>",
    ),
    key(
        "command",
        "required",
        "program and fixed arguments, run directly (never through a shell)",
    ),
    key(
        "args",
        "[]",
        "payload fields appended as arguments, in order; \"a.b\" reads nested objects; values must be JSON strings",
    ),
    key(
        "secret_file",
        "the global secret",
        "this hook's own secret: a request signed for another hook cannot run this one",
    ),
    key(
        "secret_env",
        "the global secret",
        "this hook's own secret, from an env var",
    ),
    key(
        "mode",
        "sync",
        "\"sync\": answer when the command ends; \"async\": 202 at once with a status path, for deploys longer than a proxy waits",
    ),
    key(
        "timeout",
        "10m",
        "then SIGTERM to the command's whole process tree, kill_grace later SIGKILL; answer 504",
    ),
    key(
        "kill_grace",
        "10s",
        "time between SIGTERM and SIGKILL, on timeout and for leftovers",
    ),
    key(
        "queue",
        "false",
        "true: a second deploy waits for the first instead of 409",
    ),
    key(
        "queue_limit",
        "2 (with queue = true)",
        "deploys that may wait behind the running one (1-100); more are answered 429 with Retry-After",
    ),
    key(
        "keep_children",
        "false",
        "true: processes the command leaves running after a normal exit are kept (else they are killed)",
    ),
    key(
        "working_dir",
        "the receiver's",
        "the command's working directory",
    ),
    key(
        "validate",
        "image = a digest reference name@sha256:<64 hex>; image_sha = \"^[0-9a-f]{7,64}$\"",
        "[hooks.validate]: a pattern for every field in args; the whole value must match",
    ),
    key(
        "exit_codes",
        "0 = 200, 2 = 422, 3 = 503",
        "[hooks.exit_codes]: exit code -> HTTP status, merged over the defaults; others -> 500",
    ),
    key(
        "env",
        "none",
        "[hooks.env]: extra environment for the command",
    ),
];

fn table(out: &mut String, keys: &[Key]) {
    for k in keys {
        out.push_str(&format!(
            "  {}\n      default: {}\n      {}\n",
            k.name, k.default, k.meaning
        ));
    }
}

/// The text `--help` prints after the flags.
pub fn help() -> String {
    let mut out = String::from("CONFIGURATION (receiver.toml; unknown keys are errors)\n\n");
    table(&mut out, TOP);
    out.push_str("\nEach [[hooks]] table:\n\n");
    table(&mut out, HOOK);
    out.push_str(
        "\nEvery command also gets DEPLOY_DELIVERY_ID and DEPLOY_HOOK_PATH, and never a secret's env var.\n\
         Exit codes: 0 -> 200 deployed, 2 -> 422 nothing changed, 3 -> 503 rolled back, others -> 500;\n\
         timeout -> 504. Every answer of a deploy that ran carries `exit_code` (null when it timed out\n\
         or was killed), also as the Deploy-Exit-Code header: a sender must not retry it.\n\
         A delivery id is 1-128 of A-Z a-z 0-9 - . _ ~ (else 400).\n\n\
         ENVIRONMENT\n  DEPLOY_RECEIVER_LOG  tracing filter for the logs (default info)\n  \
         STATE_DIRECTORY      set by systemd's StateDirectory=; default home of replay_state\n\n\
         See https://github.com/deploy-relay/deploy-relay/tree/main/crates/deploy-receiver",
    );
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
        let top = accepted_keys("listen = \"127.0.0.1:0\"\nnot_a_key = 1\nhooks = []\n");
        let documented: Vec<&str> = TOP.iter().map(|k| k.name).chain(["hooks"]).collect();
        assert_eq!(sorted(&top), sorted(&documented));
        let hook = accepted_keys(
            "listen = \"127.0.0.1:0\"\n[[hooks]]\npath = \"/d\"\ncommand = [\"/bin/true\"]\nnot_a_key = 1\n",
        );
        let documented: Vec<&str> = HOOK.iter().map(|k| k.name).collect();
        assert_eq!(sorted(&hook), sorted(&documented));
    }

    fn sorted(keys: &[impl AsRef<str>]) -> Vec<String> {
        let mut v: Vec<String> = keys.iter().map(|k| k.as_ref().to_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn the_readme_documents_every_key() {
        let readme = include_str!("../README.md");
        for k in TOP.iter().chain(HOOK) {
            assert!(
                readme.contains(&format!("`{}`", k.name)),
                "README lacks `{}`",
                k.name
            );
        }
    }
}
