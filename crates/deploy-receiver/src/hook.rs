//! One `[[hooks]]` table: the command, the fields it is given and their
//! patterns, its timeout, lock, mode and process rules.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use crate::config::{ConfigError, SecretSource, duration_key, invalid};

/// The pattern `image_sha` gets when the hook gives none (SPEC).
pub const DEFAULT_IMAGE_SHA_PATTERN: &str = "^[0-9a-f]{7,64}$";

/// The pattern `image` gets when the hook gives none: a digest reference,
/// `name@sha256:<64 hex>` (an image exactly as it was built, never a tag
/// that can move). The name follows the reference grammar docker documents
/// (<https://docs.docker.com/reference/cli/docker/image/tag/>): an optional
/// registry host (with a port), then lower-case path components whose
/// separators are `.`, `_`, `__` or dashes. It cannot start with `-`, so it
/// is never read as an option.
/// A hook that deploys by tag sets its own pattern, e.g.
/// `image = "^ghcr\\.io/o/api:[0-9a-f]{7}$"`.
pub(crate) const DEFAULT_IMAGE_PATTERN: &str = concat!(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?/)?",
    r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*",
    r"@sha256:[0-9a-f]{64}$"
);

/// Deploys waiting behind a running one, per hook with `queue = true`,
/// unless `queue_limit` says otherwise.
pub(crate) const DEFAULT_QUEUE_LIMIT: usize = 2;
/// The largest `queue_limit`: a queue is for a few deploys in a row, not a
/// backlog.
pub(crate) const MAX_QUEUE_LIMIT: usize = 100;

// The defaults of a hook's other keys, each written once: the parser uses
// them and `--help` renders them (`crate::config_keys`).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_mins(10);
pub(crate) const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_QUEUE: bool = false;
pub(crate) const DEFAULT_KEEP_CHILDREN: bool = false;
/// Exit code → HTTP status, under a hook's `[hooks.exit_codes]`, with what
/// the code tells (SPEC: the deploy command's contract).
pub(crate) const DEFAULT_EXIT_CODES: [(i32, u16, &str); 3] = [
    (0, 200, "deployed"),
    (2, 422, "nothing changed"),
    (3, 503, "rolled back"),
];
/// The HTTP status of an exit code no map names.
pub(crate) const UNLISTED_EXIT_STATUS: u16 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHook {
    pub(crate) path: String,
    command: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    secret_file: Option<PathBuf>,
    secret_env: Option<String>,
    mode: Option<String>,
    timeout: Option<String>,
    kill_grace: Option<String>,
    queue: Option<bool>,
    queue_limit: Option<usize>,
    keep_children: Option<bool>,
    working_dir: Option<PathBuf>,
    #[serde(default)]
    validate: BTreeMap<String, String>,
    #[serde(default)]
    exit_codes: BTreeMap<String, u16>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// How a deploy is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The answer waits for the command.
    #[default]
    Sync,
    /// `202` at once with a status path; the result is polled (proxies cut
    /// long requests).
    Async,
}

/// One checked `[[hooks]]` table.
#[derive(Debug, Clone)]
pub struct Hook {
    /// The path it answers, in its one normal form (no trailing `/`).
    pub path: String,
    /// The program and its fixed arguments, run without a shell.
    pub command: Vec<String>,
    /// Payload fields passed as arguments, in order, each with the pattern
    /// it must match in full.
    pub args: Vec<(String, Regex)>,
    /// This hook's own secret; `None`: the global one.
    pub secret: Option<SecretSource>,
    /// How a deploy is answered.
    pub mode: Mode,
    /// How long the command may run before its process tree is stopped.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// Whether a second deploy waits for the first instead of a 409.
    pub queue: bool,
    /// With `queue`: deploys that may wait behind the running one; more are
    /// answered 429.
    pub queue_limit: usize,
    /// After a normal exit, leave the processes the command started running.
    pub keep_children: bool,
    /// The command's working directory; `None`: the receiver's.
    pub working_dir: Option<PathBuf>,
    /// Exit code → HTTP status, the defaults merged under the table's.
    pub exit_codes: BTreeMap<i32, u16>,
    /// Extra env for the command (e.g. `DEPLOY_SERVICE` for deploy.sh).
    pub env: Vec<(String, String)>,
}

impl Mode {
    /// The name `mode` takes.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Sync => "sync",
            Mode::Async => "async",
        }
    }

    /// The mode called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Mode::Sync, Mode::Async]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

impl Hook {
    /// The HTTP status for an exit code: the configured map, else 500.
    pub fn status_for(&self, code: i32) -> u16 {
        self.exit_codes
            .get(&code)
            .copied()
            .unwrap_or(UNLISTED_EXIT_STATUS)
    }
}

pub(crate) fn parse(i: usize, raw: RawHook) -> Result<Hook, ConfigError> {
    let key = |k: &str| format!("hooks[{i}].{k}");
    let path = normalise_path(&raw.path)
        .map_err(|why| invalid(key("path"), format!("`{}` {why}", raw.path.escape_debug())))?;
    if raw.command.first().is_none_or(String::is_empty) {
        return Err(invalid(
            key("command"),
            "give the program to run, e.g. [\"/opt/deploy/deploy.sh\"]",
        ));
    }
    let secret = SecretSource::from_keys(&key(""), raw.secret_file, raw.secret_env)?;
    let mode = match raw.mode.as_deref() {
        None => Mode::default(),
        Some(name) => Mode::from_name(name).ok_or_else(|| {
            invalid(
                key("mode"),
                format!("`{name}` is neither `sync` nor `async`"),
            )
        })?,
    };
    let queue = raw.queue.unwrap_or(DEFAULT_QUEUE);
    let queue_limit = match raw.queue_limit {
        None => DEFAULT_QUEUE_LIMIT,
        Some(_) if !queue => {
            return Err(invalid(
                key("queue_limit"),
                "is set but `queue` is not `true`; a hook without a queue answers 409 while busy",
            ));
        }
        Some(n @ 1..=MAX_QUEUE_LIMIT) => n,
        Some(n) => {
            return Err(invalid(
                key("queue_limit"),
                format!("`{n}` is not between 1 and {MAX_QUEUE_LIMIT}"),
            ));
        }
    };
    let args = args(&key("validate"), &raw.args, raw.validate)?;
    let exit_codes = exit_codes(&key("exit_codes"), raw.exit_codes)?;
    Ok(Hook {
        path,
        command: raw.command,
        args,
        secret,
        mode,
        timeout: duration_key(&key("timeout"), raw.timeout.as_deref(), DEFAULT_TIMEOUT)?,
        kill_grace: duration_key(
            &key("kill_grace"),
            raw.kill_grace.as_deref(),
            DEFAULT_KILL_GRACE,
        )?,
        queue,
        queue_limit,
        keep_children: raw.keep_children.unwrap_or(DEFAULT_KEEP_CHILDREN),
        working_dir: raw.working_dir,
        exit_codes,
        env: raw.env.into_iter().collect(),
    })
}

/// The one form of a hook path: `/` then segments of URL-unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`), no empty, `.` or `..` segment, no
/// trailing `/` (`/a/` is `/a`). Anything a router or a proxy could read
/// two ways — percent-encoding, `//`, dot segments, `{…}` captures, `:` or
/// `*` — is refused rather than guessed at.
pub(crate) fn normalise_path(raw: &str) -> Result<String, &'static str> {
    let Some(rest) = raw.strip_prefix('/') else {
        return Err("must start with `/`, e.g. `/deploy`");
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Err("names no hook; give it a name, e.g. `/deploy`");
    }
    if raw.len() > 200 {
        return Err("is longer than 200 characters");
    }
    for segment in rest.split('/') {
        if segment.is_empty() {
            return Err("has an empty segment (`//`, or more than one trailing `/`)");
        }
        if segment == "." || segment == ".." {
            return Err("has a `.` or `..` segment");
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        {
            return Err("may only hold `A-Z a-z 0-9 - . _ ~` between its `/`s");
        }
    }
    let path = format!("/{rest}");
    if path == "/healthz" {
        return Err("is the receiver's own health path");
    }
    Ok(path)
}

fn args(
    key: &str,
    fields: &[String],
    mut validate: BTreeMap<String, String>,
) -> Result<Vec<(String, Regex)>, ConfigError> {
    let mut args = Vec::new();
    for field in fields {
        let pattern = match validate.remove(field) {
            Some(p) => p,
            None if field == "image_sha" => DEFAULT_IMAGE_SHA_PATTERN.to_owned(),
            None if field == "image" => DEFAULT_IMAGE_PATTERN.to_owned(),
            None => {
                return Err(invalid(
                    key,
                    format!(
                        "field `{field}` is passed to the command but has no pattern; add `{field} = \"^...$\"` to [hooks.validate]"
                    ),
                ));
            }
        };
        // Wrapped so the whole value must match even if the pattern forgot its anchors.
        let regex = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                invalid(
                    format!("{key}.{field}"),
                    format!("`{pattern}` is not a valid pattern: {e}"),
                )
            })?;
        args.push((field.clone(), regex));
    }
    if let Some(unused) = validate.keys().next() {
        return Err(invalid(
            format!("{key}.{unused}"),
            "has a pattern but is not in `args`",
        ));
    }
    Ok(args)
}

fn exit_codes(key: &str, raw: BTreeMap<String, u16>) -> Result<BTreeMap<i32, u16>, ConfigError> {
    let mut exit_codes: BTreeMap<i32, u16> = DEFAULT_EXIT_CODES
        .iter()
        .map(|&(code, status, _)| (code, status))
        .collect();
    for (code, status) in raw {
        let parsed: i32 = code
            .parse()
            .ok()
            .filter(|c| (0..=255).contains(c))
            .ok_or_else(|| invalid(key, format!("`{code}` is not an exit code (0-255)")))?;
        // 202 means "accepted, poll for the result" to a sender (async mode).
        if !(200..=599).contains(&status) || status == 202 {
            return Err(invalid(
                format!("{key}.{code}"),
                format!(
                    "`{status}` is not an HTTP status for a finished deploy (200-599, not 202)"
                ),
            ));
        }
        exit_codes.insert(parsed, status);
    }
    Ok(exit_codes)
}
