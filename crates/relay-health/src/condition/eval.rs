//! Judging a probe by a condition, and saying what was seen when it fails.

use std::time::Duration;

use super::{Condition, Op, Segment, Subject, Value};

/// How much of a value seen in the body a failure message quotes.
const QUOTE_CHARS: usize = 80;

/// What a probe saw, for conditions to judge.
#[derive(Debug, Default)]
pub(crate) struct Observed<'a> {
    pub status: u16,
    pub response_time: Duration,
    pub body: &'a str,
    /// Time left on the peer certificate; `None` over plain HTTP.
    pub certificate_left: Option<Duration>,
    /// Secrets to redact from what a failure message quotes, before it is
    /// cut to length (a cut could otherwise leave part of one behind).
    pub secrets: &'a [String],
}

impl Condition {
    /// Whether the probe meets it; the error says what was seen instead.
    /// The error quotes the answer, so it is untrusted text.
    pub(crate) fn check(&self, seen: &Observed<'_>) -> Result<(), String> {
        let ok = match (&self.subject, &self.value) {
            (_, Value::Pattern(p)) => p.matches(&self.text_of(seen)?) == (self.op == Op::Eq),
            (_, Value::Any(options)) => {
                let actual = self.text_of(seen)?;
                options.contains(&actual) == (self.op == Op::Eq)
            }
            (Subject::Status, Value::Range(a, b)) => {
                (*a..=*b).contains(&seen.status) == (self.op == Op::Eq)
            }
            (Subject::Status, Value::Number(n)) => compare(f64::from(seen.status), self.op, *n),
            (Subject::ResponseTime, Value::Number(n)) => {
                compare(seen.response_time.as_secs_f64() * 1000.0, self.op, *n)
            }
            (Subject::CertificateExpiration, Value::Number(n)) => match seen.certificate_left {
                None => return Err("no TLS certificate (not https)".into()),
                Some(left) => compare(left.as_secs_f64() * 1000.0, self.op, *n),
            },
            (Subject::Len(path), Value::Number(n)) => {
                compare(length(seen.body, path)? as f64, self.op, *n)
            }
            (Subject::Has(path), Value::Text(want)) => {
                (has(seen.body, path).to_string() == *want) == (self.op == Op::Eq)
            }
            (Subject::Body(path), value) => {
                let actual = body_at(seen.body, path)?;
                match (value, self.op) {
                    (Value::Text(want), Op::Contains) => actual.contains(want.as_str()),
                    (Value::Text(want), Op::NotContains) => !actual.contains(want.as_str()),
                    (Value::Text(want), Op::Eq) => actual == *want,
                    (Value::Text(want), Op::Ne) => actual != *want,
                    (Value::Number(n), op) => actual
                        .trim()
                        .parse::<f64>()
                        .is_ok_and(|a| compare(a, op, *n)),
                    _ => false,
                }
            }
            // The parser builds no other pairing.
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{} failed ({})", self.text, self.describe(seen)))
        }
    }

    /// The subject as text, for `pat(...)` and `any(...)`.
    fn text_of(&self, seen: &Observed<'_>) -> Result<String, String> {
        Ok(match &self.subject {
            Subject::Status => seen.status.to_string(),
            Subject::Body(path) => body_at(seen.body, path)?,
            Subject::Len(path) => length(seen.body, path)?.to_string(),
            Subject::Has(path) => has(seen.body, path).to_string(),
            Subject::ResponseTime | Subject::CertificateExpiration => {
                return Err("pat() and any() apply to [STATUS], [BODY] and len()".into());
            }
        })
    }

    fn describe(&self, seen: &Observed<'_>) -> String {
        match &self.subject {
            Subject::Status => format!("status {}", seen.status),
            Subject::ResponseTime => format!("{} ms", seen.response_time.as_millis()),
            Subject::CertificateExpiration => seen
                .certificate_left
                .map(|d| format!("{}h left", d.as_secs() / 3600))
                .unwrap_or_default(),
            Subject::Body(path) => match body_at(seen.body, path) {
                Ok(v) => format!("`{}`", quote(&v, seen.secrets)),
                Err(e) => e,
            },
            Subject::Len(path) => match length(seen.body, path) {
                Ok(n) => format!("length {n}"),
                Err(e) => e,
            },
            Subject::Has(path) => if has(seen.body, path) {
                "present"
            } else {
                "absent"
            }
            .into(),
        }
    }
}

/// A value from the answer as a failure message quotes it: secrets
/// redacted first, then cut to [`QUOTE_CHARS`].
fn quote(value: &str, secrets: &[String]) -> String {
    let redacted = relay_runtime::redact(value, secrets);
    let mut chars = redacted.chars();
    let mut out: String = chars.by_ref().take(QUOTE_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

// `==` compares the number the endpoint sent with the one the user wrote,
// exactly, as Gatus does.
#[allow(clippy::float_cmp)]
fn compare(a: f64, op: Op, b: f64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Contains | Op::NotContains => false,
    }
}

/// The JSON value at `path`; `None` when the body is not JSON or the path
/// leads nowhere.
fn json_at(body: &str, path: &[Segment]) -> Result<serde_json::Value, String> {
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|_| "body is not JSON".to_owned())?;
    let mut at = &json;
    for seg in path {
        let next = match seg {
            Segment::Key(k) => at.get(k),
            Segment::Index(i) => at.get(i),
        };
        at = next.ok_or_else(|| "path not in the body".to_owned())?;
    }
    Ok(at.clone())
}

/// The body (trimmed, as Gatus resolves `[BODY]`), or the JSON value at
/// `path` as text (strings unquoted).
fn body_at(body: &str, path: &[Segment]) -> Result<String, String> {
    if path.is_empty() {
        return Ok(body.trim().to_owned());
    }
    Ok(match json_at(body, path)? {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// Gatus's `len`: the elements of an array, else the characters of the
/// value's text (an object as minified JSON). `len([BODY])` of a body that
/// is not a JSON array is the length of the body. A `null` or missing path
/// fails the condition rather than counting as 0.
fn length(body: &str, path: &[Segment]) -> Result<usize, String> {
    if path.is_empty() {
        return Ok(match serde_json::from_str::<serde_json::Value>(body) {
            Ok(serde_json::Value::Array(items)) => items.len(),
            _ => body.trim().chars().count(),
        });
    }
    Ok(match json_at(body, path)? {
        serde_json::Value::Array(items) => items.len(),
        serde_json::Value::String(s) => s.chars().count(),
        serde_json::Value::Null => return Err("path is null in the body".into()),
        other => other.to_string().chars().count(),
    })
}

/// Gatus's `has`: whether the path leads to a value (not `null`); for
/// `has([BODY])`, whether there is a body at all.
fn has(body: &str, path: &[Segment]) -> bool {
    if path.is_empty() {
        return !body.trim().is_empty();
    }
    json_at(body, path).is_ok_and(|v| !v.is_null())
}
