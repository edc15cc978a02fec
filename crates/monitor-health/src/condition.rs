//! Conditions a probe must meet, Gatus-like: `<placeholder> <op> <value>`.
//!
//! ```text
//! condition   := placeholder ws op ws value
//! placeholder := "[STATUS]" | "[RESPONSE_TIME]" | "[CERTIFICATE_EXPIRATION]"
//!              | "[BODY]" path
//! path        := ( "." key | "[" index "]" )*
//! op          := "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "!contains"
//! ```
//!
//! `[STATUS]` compares with a number or an inclusive range `200..299`
//! (`==` means inside it, `!=` outside). `[RESPONSE_TIME]` is in
//! milliseconds (`500`, or a duration like `1.5s`). `[CERTIFICATE_EXPIRATION]`
//! is the time left on the peer certificate, compared with a duration
//! (`48h`). `[BODY]` alone is the whole body; with a path it is the JSON
//! value there, compared as text (`UP`, `true`, `3`) or, with `<`/`>`, as a
//! number. `contains` works on `[BODY]` and its paths.

use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Status,
    ResponseTime,
    CertificateExpiration,
    Body(Vec<Segment>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    NotContains,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Range(u16, u16),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub text: String,
    pub subject: Subject,
    pub op: Op,
    pub value: Value,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot parse condition `{text}`: {why}")]
pub struct ParseError {
    pub text: String,
    pub why: String,
}

/// What a probe saw, for conditions to judge.
#[derive(Debug, Default)]
pub struct Observed<'a> {
    pub status: u16,
    pub response_time: Duration,
    pub body: &'a str,
    /// Time left on the peer certificate; `None` over plain HTTP.
    pub certificate_left: Option<Duration>,
}

const OPS: [(&str, Op); 8] = [
    ("!contains", Op::NotContains),
    ("contains", Op::Contains),
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("<", Op::Lt),
    (">", Op::Gt),
];

impl Condition {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let err = |why: &str| ParseError {
            text: text.to_owned(),
            why: why.to_owned(),
        };
        let t = text.trim();
        let end = t
            .find(char::is_whitespace)
            .ok_or_else(|| err("expected `<placeholder> <operator> <value>`"))?;
        let (lhs, rest) = t.split_at(end);
        let rest = rest.trim_start();
        let (op_text, op) = OPS
            .iter()
            .find(|(s, _)| {
                rest.starts_with(s)
                    && rest[s.len()..]
                        .chars()
                        .next()
                        .is_none_or(char::is_whitespace)
            })
            .copied()
            .ok_or_else(|| err("expected one of ==, !=, <, <=, >, >=, contains, !contains"))?;
        let raw = rest[op_text.len()..].trim();
        if raw.is_empty() {
            return Err(err("missing the value after the operator"));
        }
        let subject = parse_subject(lhs).map_err(|w| err(&w))?;
        let ordered = matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
        let contains = matches!(op, Op::Contains | Op::NotContains);
        let value = match &subject {
            Subject::Status => {
                if contains {
                    return Err(err("`contains` applies to [BODY] only"));
                }
                match raw.split_once("..") {
                    Some((a, b)) if !ordered => {
                        let a = parse_status(a).map_err(|w| err(&w))?;
                        let b = parse_status(b).map_err(|w| err(&w))?;
                        if a > b {
                            return Err(err("the range's start is after its end"));
                        }
                        Value::Range(a, b)
                    }
                    Some(_) => return Err(err("a range takes == or !=")),
                    None => Value::Number(f64::from(parse_status(raw).map_err(|w| err(&w))?)),
                }
            }
            Subject::ResponseTime | Subject::CertificateExpiration => {
                if contains {
                    return Err(err("`contains` applies to [BODY] only"));
                }
                let ms = match raw.parse::<f64>() {
                    Ok(n) if subject == Subject::ResponseTime && n.is_finite() && n >= 0.0 => n,
                    _ => {
                        relay_runtime::duration::parse(raw)
                            .map_err(|w| err(&format!("`{raw}` is not a duration ({w})")))?
                            .as_secs_f64()
                            * 1000.0
                    }
                };
                Value::Number(ms)
            }
            Subject::Body(_) => {
                let unquoted = unquote(raw);
                if ordered {
                    let n = unquoted
                        .parse::<f64>()
                        .ok()
                        .filter(|n| n.is_finite())
                        .ok_or_else(|| err("<, <=, > and >= on [BODY] take a number"))?;
                    Value::Number(n)
                } else {
                    Value::Text(unquoted.to_owned())
                }
            }
        };
        Ok(Self {
            text: t.to_owned(),
            subject,
            op,
            value,
        })
    }

    /// Whether the probe meets it; the error says what was seen instead.
    pub fn check(&self, seen: &Observed<'_>) -> Result<(), String> {
        let ok = match &self.subject {
            Subject::Status => match self.value {
                Value::Range(a, b) => ((a..=b).contains(&seen.status)) == (self.op == Op::Eq),
                Value::Number(n) => compare(f64::from(seen.status), self.op, n),
                Value::Text(_) => false,
            },
            Subject::ResponseTime => {
                let ms = seen.response_time.as_secs_f64() * 1000.0;
                number(&self.value).is_some_and(|n| compare(ms, self.op, n))
            }
            Subject::CertificateExpiration => match seen.certificate_left {
                None => return Err("no TLS certificate (not https)".into()),
                Some(left) => number(&self.value)
                    .is_some_and(|n| compare(left.as_secs_f64() * 1000.0, self.op, n)),
            },
            Subject::Body(path) => {
                let actual = body_at(seen.body, path)?;
                match (&self.value, self.op) {
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
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{} failed ({})", self.text, self.describe(seen)))
        }
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
                Ok(v) => format!("`{}`", v.chars().take(80).collect::<String>()),
                Err(e) => e,
            },
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

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

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

fn parse_status(s: &str) -> Result<u16, String> {
    s.trim()
        .parse::<u16>()
        .ok()
        .filter(|n| (100..=599).contains(n))
        .ok_or_else(|| format!("`{}` is not an HTTP status (100 to 599)", s.trim()))
}

fn parse_subject(lhs: &str) -> Result<Subject, String> {
    match lhs {
        "[STATUS]" => return Ok(Subject::Status),
        "[RESPONSE_TIME]" => return Ok(Subject::ResponseTime),
        "[CERTIFICATE_EXPIRATION]" => return Ok(Subject::CertificateExpiration),
        _ => {}
    }
    let mut rest = lhs.strip_prefix("[BODY]").ok_or_else(|| {
        format!("unknown placeholder `{lhs}`; use [STATUS], [RESPONSE_TIME], [BODY] or [CERTIFICATE_EXPIRATION]")
    })?;
    let mut path = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            if key.is_empty() {
                return Err("empty key in the [BODY] path".into());
            }
            path.push(Segment::Key(key.to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let (index, r) = r.split_once(']').ok_or("unclosed `[` in the [BODY] path")?;
            let index = index
                .parse()
                .map_err(|_| format!("`[{index}]` is not an array index"))?;
            path.push(Segment::Index(index));
            rest = r;
        } else {
            return Err(format!("unexpected `{rest}` after [BODY]"));
        }
    }
    Ok(Subject::Body(path))
}

/// The body, or the JSON value at `path` as text (strings unquoted).
fn body_at(body: &str, path: &[Segment]) -> Result<String, String> {
    if path.is_empty() {
        return Ok(body.to_owned());
    }
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
    Ok(match at {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

#[cfg(test)]
#[path = "condition_tests.rs"]
mod tests;
