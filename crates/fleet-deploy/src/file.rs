//! The fleet file (`deploy-relay.fleet.toml`, in the deploy repository):
//! per environment, ordered waves of targets, each target a receiver hook
//! with the NAME of the secret that signs for it and its health URLs, and
//! each wave's gate. TOML, as `receiver.toml` is: no implicit typing (a
//! YAML `on`, `no` or `1.10` means something else than it reads), comments,
//! and the `toml` parser's spans, so every mistake is reported as
//! `file:line:column: key.path: what, hint` — the syntax, an unknown or
//! missing key, a wrong type, and every value checked after reading.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use relay_health::Condition;
use relay_http::DisplaySafeUrl;
use relay_runtime::HttpStatusSet;
use relay_signature::Scheme;
use reqwest::Url;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Where the fleet file is looked for, relative to the workspace.
pub(crate) const DEFAULT_FILE: &str = "deploy-relay.fleet.toml";

/// Defaults of what a file leaves out; the README's table says the same.
pub(crate) mod defaults {
    use std::time::Duration;

    /// Targets of one wave called at once.
    pub(crate) const MAX_PARALLEL: u32 = 10;
    /// One target's call, its answer (or an async deploy's end) included:
    /// longer than deploy-receiver's default hook timeout (10m).
    pub(crate) const TIMEOUT: Duration = Duration::from_mins(15);
    /// Time to connect to a receiver.
    pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Extra tries where nothing ran (refused connection, 429/503 without
    /// an exit code, 409 while the hook runs another deploy): 1 s doubling
    /// to 32 s, about three minutes in all.
    pub(crate) const RETRIES: u32 = 10;
    /// The health window of a wave.
    pub(crate) const DURATION: Duration = Duration::from_mins(5);
    /// Between probes of one URL.
    pub(crate) const INTERVAL: Duration = Duration::from_secs(30);
    /// One probe.
    pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Failed probes of one URL in a row that fail the gate.
    pub(crate) const CONSECUTIVE_FAILURES: u64 = 3;
    /// Lowest share of passed probes per URL, in percent.
    pub(crate) const SUCCESS_THRESHOLD: f64 = 95.0;
    /// Statuses a probe passes with.
    pub(crate) const EXPECTED_STATUS: &str = "200-299";
    /// The most waves that wait for an approval: `fleet.yml` has that many
    /// approval jobs.
    pub(crate) const MAX_APPROVALS: usize = 3;
}

/// A mistake in the fleet file: where, which key, what, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileError {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    /// The dotted path of the key, e.g. `environments.production.waves[1].targets[0].url`.
    pub(crate) key: String,
    pub(crate) message: String,
    pub(crate) hint: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "`{}` ", self.key)?;
        }
        write!(f, "{}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\nhint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

/// One environment of the fleet file, checked.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    pub(crate) environment: String,
    pub(crate) scheme: Scheme,
    pub(crate) signature_header: reqwest::header::HeaderName,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) waves: Vec<Wave>,
}

impl Fleet {
    /// Every target, wave by wave.
    pub(crate) fn targets(&self) -> impl Iterator<Item = (usize, &Target)> {
        self.waves
            .iter()
            .enumerate()
            .flat_map(|(w, wave)| wave.targets.iter().map(move |t| (w, t)))
    }

    /// The wave named `name`, or the `name`th (1-based).
    pub(crate) fn wave_index(&self, name: &str) -> Option<usize> {
        self.waves.iter().position(|w| w.name == name).or_else(|| {
            name.parse::<usize>()
                .ok()
                .filter(|n| (1..=self.waves.len()).contains(n))
                .map(|n| n - 1)
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Wave {
    pub(crate) name: String,
    pub(crate) max_parallel: usize,
    /// A protected environment whose reviewers approve this wave before it
    /// starts: the step stops before it, and the workflow's next job runs
    /// in that environment.
    pub(crate) approval: Option<String>,
    pub(crate) gate: Gate,
    pub(crate) targets: Vec<Target>,
}

/// What a wave must pass before the next one starts.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    pub(crate) duration: Duration,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) initial_delay: Duration,
    pub(crate) consecutive_failures: u64,
    pub(crate) success_threshold: f64,
    pub(crate) fail_fast: bool,
    pub(crate) conditions: Vec<Condition>,
    /// `None` when a `[STATUS]` condition takes over.
    pub(crate) expected_status: Option<HttpStatusSet>,
    pub(crate) follow_redirects: bool,
    /// Wait this long after a passed gate before the next wave.
    pub(crate) pause: Duration,
}

#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) url: Url,
    /// The NAME of the secret (in the step's `secrets`) that signs for it.
    pub(crate) secret: String,
    pub(crate) health: Vec<DisplaySafeUrl>,
}

// What serde reads; every value checked afterwards keeps its span.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    environments: BTreeMap<String, Spanned<RawEnvironment>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEnvironment {
    signature_scheme: Option<Spanned<String>>,
    signature_header: Option<Spanned<String>>,
    max_parallel: Option<Spanned<i64>>,
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    retries: Option<Spanned<i64>>,
    allow_http: Option<bool>,
    gate: Option<RawGate>,
    waves: Spanned<Vec<Spanned<RawWave>>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawGate {
    duration: Option<Spanned<String>>,
    interval: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    initial_delay: Option<Spanned<String>>,
    consecutive_failures: Option<Spanned<i64>>,
    success_threshold: Option<Spanned<f64>>,
    fail_fast: Option<bool>,
    conditions: Option<Vec<Spanned<String>>>,
    expected_status: Option<Spanned<String>>,
    follow_redirects: Option<bool>,
    pause: Option<Spanned<String>>,
}

impl RawGate {
    /// `self`'s keys over `base`'s.
    fn over(&self, base: &RawGate) -> RawGate {
        RawGate {
            duration: self.duration.clone().or_else(|| base.duration.clone()),
            interval: self.interval.clone().or_else(|| base.interval.clone()),
            timeout: self.timeout.clone().or_else(|| base.timeout.clone()),
            initial_delay: self
                .initial_delay
                .clone()
                .or_else(|| base.initial_delay.clone()),
            consecutive_failures: self
                .consecutive_failures
                .clone()
                .or_else(|| base.consecutive_failures.clone()),
            success_threshold: self
                .success_threshold
                .clone()
                .or_else(|| base.success_threshold.clone()),
            fail_fast: self.fail_fast.or(base.fail_fast),
            conditions: self.conditions.clone().or_else(|| base.conditions.clone()),
            expected_status: self
                .expected_status
                .clone()
                .or_else(|| base.expected_status.clone()),
            follow_redirects: self.follow_redirects.or(base.follow_redirects),
            pause: self.pause.clone().or_else(|| base.pause.clone()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWave {
    name: Spanned<String>,
    max_parallel: Option<Spanned<i64>>,
    approval: Option<Spanned<String>>,
    gate: Option<RawGate>,
    targets: Spanned<Vec<Spanned<RawTarget>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: Spanned<String>,
    url: Spanned<String>,
    secret: Spanned<String>,
    health: Spanned<Vec<Spanned<String>>>,
}

/// Reads the fleet file's `environment`. `file` names it in errors.
pub(crate) fn parse(file: &str, text: &str, environment: &str) -> Result<Fleet, FileError> {
    let doc = DeTable::parse(text).map_err(|e| {
        let at = e.span().unwrap_or(0..0);
        located(
            file,
            text,
            None,
            at,
            e.message(),
            "check the TOML syntax near there",
        )
    })?;
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let at = e.span().unwrap_or(0..0);
        located(
            file,
            text,
            Some(&doc),
            at,
            &serde_message(e.message()),
            "the README lists every key of the fleet file",
        )
    })?;
    let at = |span: Range<usize>, message: &str, hint: &str| {
        located(file, text, Some(&doc), span, message, hint)
    };
    let Some(env) = raw.environments.get(environment) else {
        let known: Vec<&str> = raw.environments.keys().map(String::as_str).collect();
        return Err(FileError {
            file: file.to_owned(),
            line: 1,
            column: 1,
            key: "environments".into(),
            message: format!("has no `{environment}`"),
            hint: if known.is_empty() {
                format!("add a `[environments.{environment}]` table with its waves")
            } else {
                format!(
                    "the file describes {}; add `[environments.{environment}]`, or pass one of those as `environment`",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        });
    };
    let env_span = env.span();
    let env = env.get_ref();
    let scheme = match &env.signature_scheme {
        None => Scheme::StandardWebhooks,
        Some(s) => s.get_ref().parse::<Scheme>().map_err(|e| {
            at(
                s.span(),
                &e.to_string(),
                "write `standard-webhooks` (the default) or `github`, as the receivers' `signature`",
            )
        })?,
    };
    let signature_header = {
        let text = env
            .signature_header
            .as_ref()
            .map_or("X-Hub-Signature-256", |h| h.get_ref().as_str());
        reqwest::header::HeaderName::from_bytes(text.as_bytes()).map_err(|_| {
            let span = env
                .signature_header
                .as_ref()
                .map_or(env_span.clone(), Spanned::span);
            at(
                span,
                &format!("`{text}` is not a header name"),
                "use letters, digits and `-`",
            )
        })?
    };
    let max_parallel = count(env.max_parallel.as_ref(), defaults::MAX_PARALLEL, 1, 1000)
        .map_err(|(span, why)| at(span, &why, "a number of targets, e.g. 5"))?;
    let timeout = duration(env.timeout.as_ref(), defaults::TIMEOUT, true)
        .map_err(|(span, why)| at(span, &why, "write it like 15m"))?;
    let connect_timeout = duration(
        env.connect_timeout.as_ref(),
        defaults::CONNECT_TIMEOUT,
        true,
    )
    .map_err(|(span, why)| at(span, &why, "write it like 10s"))?;
    let retries = count(env.retries.as_ref(), defaults::RETRIES, 0, 20)
        .map_err(|(span, why)| at(span, &why, "a number of extra tries, e.g. 10"))?;
    let allow_http = env.allow_http.unwrap_or(false);
    let base_gate = env.gate.clone().unwrap_or_default();

    if env.waves.get_ref().is_empty() {
        return Err(at(
            env.waves.span(),
            "has no wave",
            "add `[[environments.<name>.waves]]` tables, the canary first",
        ));
    }
    let mut waves = Vec::new();
    let mut wave_names = BTreeSet::new();
    let mut target_names = BTreeSet::new();
    let mut approvals = 0;
    for (w, raw_wave) in env.waves.get_ref().iter().enumerate() {
        let wave_span = raw_wave.span();
        let raw_wave = raw_wave.get_ref();
        let name = raw_wave.name.get_ref().clone();
        if !is_name(&name) {
            return Err(at(
                raw_wave.name.span(),
                &format!("`{name}` is not a wave name"),
                "use 1-64 of `A-Z a-z 0-9 . _ -`, e.g. `canary`",
            ));
        }
        if !wave_names.insert(name.clone()) {
            return Err(at(
                raw_wave.name.span(),
                &format!("`{name}` names two waves"),
                "give each wave its own name",
            ));
        }
        let wave_parallel = match &raw_wave.max_parallel {
            None => max_parallel,
            Some(_) => count(raw_wave.max_parallel.as_ref(), 1, 1, 1000)
                .map_err(|(span, why)| at(span, &why, "a number of targets, e.g. 5"))?,
        };
        let approval = match &raw_wave.approval {
            None => None,
            Some(a) => {
                let env_name = a.get_ref();
                if w == 0 {
                    return Err(at(
                        a.span(),
                        "is set on the first wave, which nothing precedes",
                        "run the fleet job itself in that environment (its reviewers approve before anything starts), or approve a later wave",
                    ));
                }
                // https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/manage-environments
                // (environment names: at most 255 characters).
                if env_name.is_empty()
                    || env_name.chars().count() > 255
                    || env_name.chars().any(char::is_control)
                {
                    return Err(at(
                        a.span(),
                        "is not an environment name",
                        "name the protected environment whose reviewers approve this wave, e.g. `production-approval`",
                    ));
                }
                approvals += 1;
                if approvals > defaults::MAX_APPROVALS {
                    return Err(at(
                        a.span(),
                        &format!(
                            "makes more than {} waves wait for an approval",
                            defaults::MAX_APPROVALS
                        ),
                        "fleet.yml has that many approval jobs; join waves, or approve fewer of them",
                    ));
                }
                Some(env_name.clone())
            }
        };
        let gate = gate(
            &raw_wave.gate.clone().unwrap_or_default().over(&base_gate),
            wave_span.clone(),
        )
        .map_err(|(span, why, hint)| at(span, &why, &hint))?;
        if raw_wave.targets.get_ref().is_empty() {
            return Err(at(
                raw_wave.targets.span(),
                "is empty",
                "list the wave's targets, or drop the wave",
            ));
        }
        let mut targets = Vec::new();
        for raw_target in raw_wave.targets.get_ref() {
            let raw_target = raw_target.get_ref();
            targets.push(
                target(raw_target, allow_http, &mut target_names)
                    .map_err(|(span, why, hint)| at(span, &why, &hint))?,
            );
        }
        waves.push(Wave {
            name,
            max_parallel: wave_parallel as usize,
            approval,
            gate,
            targets,
        });
    }
    Ok(Fleet {
        environment: environment.to_owned(),
        scheme,
        signature_header,
        timeout,
        connect_timeout,
        retries,
        waves,
    })
}

type Problem = (Range<usize>, String, String);

fn target(
    raw: &RawTarget,
    allow_http: bool,
    names: &mut BTreeSet<String>,
) -> Result<Target, Problem> {
    let name = raw.name.get_ref();
    if !is_name(name) {
        return Err((
            raw.name.span(),
            format!("`{name}` is not a target name"),
            "use 1-64 of `A-Z a-z 0-9 . _ -`, e.g. `web-1`: it goes into delivery ids".into(),
        ));
    }
    if !names.insert(name.clone()) {
        return Err((
            raw.name.span(),
            format!("`{name}` names two targets"),
            "a target is one receiver hook, in one wave: give each its own name".into(),
        ));
    }
    let url_text = raw.url.get_ref();
    let url = Url::parse(url_text).map_err(|e| {
        (
            raw.url.span(),
            format!("is not a URL: {e}"),
            "write the receiver's hook like https://vm-1.example.com:8443/deploy/api".into(),
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err((
                raw.url.span(),
                "uses plain http, which would send the deploy request readable on the wire".into(),
                "use https, or set `allow-http = true` on the environment for receivers on a private network".into(),
            ));
        }
        other => {
            return Err((
                raw.url.span(),
                format!("has scheme `{other}`"),
                "use an https:// URL".into(),
            ));
        }
    }
    let secret = raw.secret.get_ref();
    if secret.to_ascii_lowercase().starts_with("whsec_") {
        // Never echoed: it may be the key itself.
        return Err((
            raw.secret.span(),
            "holds what looks like a key (`whsec_…`), not the name of a secret".into(),
            "store the key as a secret of the environment or repository, put its NAME here, and remove the key from the file and its history".into(),
        ));
    }
    if !is_secret_name(secret) {
        return Err((
            raw.secret.span(),
            format!("`{secret}` is not a secret name"),
            // https://docs.github.com/en/actions/reference/secrets-reference#naming-your-secrets
            "name the secret that holds this receiver's key: letters, digits and `_`, not starting with a digit or `GITHUB_` (the value never goes in this file)".into(),
        ));
    }
    if raw.health.get_ref().is_empty() {
        return Err((
            raw.health.span(),
            "is empty".into(),
            "list the URLs the wave's health gate probes for this target".into(),
        ));
    }
    let mut health = Vec::new();
    for h in raw.health.get_ref() {
        let parsed = DisplaySafeUrl::parse(h.get_ref())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                (
                    h.span(),
                    format!(
                        "has `{}`, which is not an http(s) URL",
                        relay_http::redact_url(h.get_ref())
                    ),
                    "write full URLs such as https://vm-1.example.com/healthz".into(),
                )
            })?;
        health.push(parsed);
    }
    Ok(Target {
        name: name.clone(),
        url,
        secret: secret.to_ascii_uppercase(),
        health,
    })
}

fn gate(raw: &RawGate, wave: Range<usize>) -> Result<Gate, Problem> {
    let span_of = |s: Option<&Spanned<String>>| s.map_or(wave.clone(), Spanned::span);
    let dur = |s: Option<&Spanned<String>>, default: Duration, nonzero: bool| {
        duration(s, default, nonzero)
            .map_err(|(span, why)| (span, why, "write it like 30s or 5m".to_owned()))
    };
    let duration_ = dur(raw.duration.as_ref(), defaults::DURATION, true)?;
    let interval = dur(raw.interval.as_ref(), defaults::INTERVAL, true)?;
    if interval > duration_ {
        return Err((
            span_of(raw.interval.as_ref()),
            format!(
                "is `{}`, which does not fit in the {} window",
                relay_runtime::duration::format(interval),
                relay_runtime::duration::format(duration_)
            ),
            "use an interval of at most `duration`".into(),
        ));
    }
    let timeout = dur(raw.timeout.as_ref(), defaults::PROBE_TIMEOUT, true)?;
    let initial_delay = dur(raw.initial_delay.as_ref(), Duration::ZERO, false)?;
    let pause = dur(raw.pause.as_ref(), Duration::ZERO, false)?;
    let consecutive_failures = count(
        raw.consecutive_failures.as_ref(),
        u32::try_from(defaults::CONSECUTIVE_FAILURES).unwrap_or(3),
        1,
        10_000,
    )
    .map_err(|(span, why)| (span, why, "a number of probes, e.g. 3".to_owned()))?;
    let success_threshold = match &raw.success_threshold {
        None => defaults::SUCCESS_THRESHOLD,
        Some(t) if (0.0..=100.0).contains(t.get_ref()) => *t.get_ref(),
        Some(t) => {
            return Err((
                t.span(),
                format!("is {}, not a percentage", t.get_ref()),
                "write a number from 0 to 100, e.g. 95".into(),
            ));
        }
    };
    let mut conditions = Vec::new();
    for c in raw.conditions.iter().flatten() {
        conditions.push(Condition::parse(c.get_ref()).map_err(|e| {
            (
                c.span(),
                e.to_string(),
                "Gatus conditions, e.g. `[STATUS] == 200` or `[BODY].status == UP`".into(),
            )
        })?);
    }
    let has_status = conditions
        .iter()
        .any(|c| c.subject == relay_health::Subject::Status);
    let expected_status = if has_status {
        None
    } else {
        let text = raw
            .expected_status
            .as_ref()
            .map_or(defaults::EXPECTED_STATUS, |s| s.get_ref().as_str());
        Some(HttpStatusSet::parse(text).map_err(|why| {
            (
                span_of(raw.expected_status.as_ref()),
                why,
                "ranges, lists or classes: `200-299`, `200,204`, `2xx`".into(),
            )
        })?)
    };
    Ok(Gate {
        duration: duration_,
        interval,
        timeout,
        initial_delay,
        consecutive_failures: u64::from(consecutive_failures),
        success_threshold,
        fail_fast: raw.fail_fast.unwrap_or(true),
        conditions,
        expected_status,
        follow_redirects: raw.follow_redirects.unwrap_or(false),
        pause,
    })
}

fn duration(
    value: Option<&Spanned<String>>,
    default: Duration,
    nonzero: bool,
) -> Result<Duration, (Range<usize>, String)> {
    let Some(v) = value else { return Ok(default) };
    let d = relay_runtime::duration::parse(v.get_ref())
        .map_err(|why| (v.span(), format!("`{}`: {why}", v.get_ref())))?;
    if nonzero && d.is_zero() {
        return Err((v.span(), "must be more than 0".into()));
    }
    Ok(d)
}

fn count(
    value: Option<&Spanned<i64>>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, (Range<usize>, String)> {
    let Some(v) = value else { return Ok(default) };
    u32::try_from(*v.get_ref())
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            (
                v.span(),
                format!("is {}, not from {min} to {max}", v.get_ref()),
            )
        })
}

/// Names that go into delivery ids, markers and logs as they are.
fn is_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// GitHub's rule for secret names
/// (<https://docs.github.com/en/actions/reference/secrets-reference#naming-your-secrets>).
fn is_secret_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
        && !s.to_ascii_uppercase().starts_with("GITHUB_")
}

/// serde's wording, in the file's own words.
fn serde_message(message: &str) -> String {
    message
        .trim()
        .replace("invalid type: ", "has the wrong type: ")
        .replace("unknown field", "is not a key here: unknown field")
}

/// A [`FileError`] at byte `span` of `text`, its key found in `doc`.
fn located(
    file: &str,
    text: &str,
    doc: Option<&Spanned<DeTable<'_>>>,
    span: Range<usize>,
    message: &str,
    hint: &str,
) -> FileError {
    let (line, column) = line_column(text, span.start);
    FileError {
        file: file.to_owned(),
        line,
        column,
        key: doc
            .map(|d| key_path(d.get_ref(), &span))
            .unwrap_or_default(),
        message: message.to_owned(),
        hint: hint.to_owned(),
    }
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The dotted path of the innermost key whose key or value holds `span`.
fn key_path(table: &DeTable<'_>, span: &Range<usize>) -> String {
    let mut path = String::new();
    walk_table(table, span, &mut path);
    path
}

fn within(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
}

fn walk_table(table: &DeTable<'_>, span: &Range<usize>, path: &mut String) {
    for (key, value) in table {
        if within(&key.span(), span) || within(&value.span(), span) {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key.get_ref());
            walk_value(value.get_ref(), span, path);
            return;
        }
    }
    // A table header's span covers only the header: find the key by the
    // items that hold the span instead.
    for (key, value) in table {
        if holds(value.get_ref(), span) {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key.get_ref());
            walk_value(value.get_ref(), span, path);
            return;
        }
    }
}

fn walk_value(value: &DeValue<'_>, span: &Range<usize>, path: &mut String) {
    match value {
        DeValue::Table(t) => walk_table(t, span, path),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if within(&item.span(), span) || holds(item.get_ref(), span) {
                    path.push_str(&format!("[{i}]"));
                    walk_value(item.get_ref(), span, path);
                    return;
                }
            }
        }
        _ => {}
    }
}

/// Whether any key or value under `value` holds `span`.
fn holds(value: &DeValue<'_>, span: &Range<usize>) -> bool {
    match value {
        DeValue::Table(t) => t.iter().any(|(k, v)| {
            within(&k.span(), span) || within(&v.span(), span) || holds(v.get_ref(), span)
        }),
        DeValue::Array(items) => items
            .iter()
            .any(|i| within(&i.span(), span) || holds(i.get_ref(), span)),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
