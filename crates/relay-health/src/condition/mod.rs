//! Conditions a probe must meet, as Gatus writes them: `<left> <op> <right>`.
//!
//! ```text
//! condition   := left ws op ws right
//! left        := placeholder | "len(" body ")" | "has(" body ")"
//! placeholder := "[STATUS]" | "[RESPONSE_TIME]" | "[CERTIFICATE_EXPIRATION]" | body
//! body        := "[BODY]" path
//! path        := ( "." key | "[" index "]" )*
//! op          := "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "!contains"
//! right       := value | "pat(" pattern ")" | "any(" value ( "," value )* ")"
//! ```
//!
//! `[STATUS]` compares with a number or an inclusive range `200..299`
//! (`==` means inside it, `!=` outside). `[RESPONSE_TIME]` is in
//! milliseconds (`500`, or a duration like `1.5s`). `[CERTIFICATE_EXPIRATION]`
//! is the time left on the peer certificate, compared with a duration
//! (`48h`). `[BODY]` alone is the whole body; with a path it is the JSON
//! value there, compared as text (`UP`, `true`, `3`) or, with `<`/`>`, as a
//! number. `contains` works on `[BODY]` and its paths.
//!
//! The functions are Gatus's (its README, "Functions"): `len(...)` is the
//! number of elements of an array, else the length in characters of the
//! value (objects as minified JSON); `has(...)` is `true` when the path
//! exists (a `null` does not count, nor a body that is not JSON); `pat(...)`
//! is a wildcard pattern ([`pattern`]) and `any(...)` a list of accepted
//! values, both with `==` / `!=` only. Any other `name(...)` is refused by
//! name, as is a Gatus placeholder this action does not have: a copied
//! condition either means what it meant in Gatus or fails the step before
//! the first probe, never turns into a comparison with the literal text.

mod eval;
pub(crate) mod pattern;

use std::fmt;

pub(crate) use eval::Observed;
use pattern::Pattern;

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
    /// `len([BODY]...)`.
    Len(Vec<Segment>),
    /// `has([BODY]...)`.
    Has(Vec<Segment>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
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
pub(crate) enum Value {
    Number(f64),
    Range(u16, u16),
    Text(String),
    /// `pat(...)`.
    Pattern(Pattern),
    /// `any(...)`: the accepted values, trimmed, as text.
    Any(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub text: String,
    pub subject: Subject,
    pub(crate) op: Op,
    pub(crate) value: Value,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot parse condition `{text}`: {why}")]
pub struct ParseError {
    pub text: String,
    pub why: String,
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

/// Gatus placeholders this action has no value for: named in the error
/// rather than reported as unknown.
const GATUS_ONLY: [&str; 5] = [
    "[IP]",
    "[CONNECTED]",
    "[DNS_RCODE]",
    "[DOMAIN_EXPIRATION]",
    "[CONTEXT]",
];

const FUNCTIONS: &str = "len(), has(), pat() and any()";

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
        let subject = parse_left(lhs).map_err(|w| err(&w))?;
        let value = parse_right(&subject, op, raw).map_err(|w| err(&w))?;
        Ok(Self {
            text: t.to_owned(),
            subject,
            op,
            value,
        })
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `name(inner)` when `s` is written as a function call.
fn call(s: &str) -> Option<Result<(&str, &str), String>> {
    let open = s.find('(')?;
    let name = &s[..open];
    let is_name = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !is_name {
        return None;
    }
    Some(match s[open + 1..].strip_suffix(')') {
        Some(inner) => Ok((name, inner)),
        None => Err(format!("`{name}(` is not closed by `)`")),
    })
}

fn parse_left(lhs: &str) -> Result<Subject, String> {
    if let Some(call) = call(lhs) {
        let (name, inner) = call?;
        let wrap = match name {
            "len" => Subject::Len,
            "has" => Subject::Has,
            "pat" | "any" => {
                return Err(format!(
                    "`{name}()` goes on the right, after the operator, e.g. `[BODY].status == {name}(...)`"
                ));
            }
            _ => {
                return Err(format!(
                    "`{name}()` is not a supported function; the functions are {FUNCTIONS}"
                ));
            }
        };
        return match parse_subject(inner.trim())? {
            Subject::Body(path) => Ok(wrap(path)),
            _ => Err(format!("`{name}()` works on [BODY] only, as in Gatus")),
        };
    }
    parse_subject(lhs)
}

fn parse_right(subject: &Subject, op: Op, raw: &str) -> Result<Value, String> {
    let ordered = matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
    let contains = matches!(op, Op::Contains | Op::NotContains);
    let body_like = matches!(subject, Subject::Body(_));
    if contains && !body_like {
        return Err("`contains` applies to [BODY] only".into());
    }
    if !raw.starts_with('"') && is_placeholder(raw) {
        return Err(format!(
            "comparing with another placeholder (`{raw}`) is not supported; compare with a value"
        ));
    }
    // A quoted value is text even when it looks like a call.
    if let Some(call) = call(raw).filter(|_| !raw.starts_with('"')) {
        let (name, inner) = call?;
        if !matches!(name, "pat" | "any") {
            let hint = if matches!(name, "len" | "has") {
                format!("; `{name}()` goes on the left, e.g. `{name}([BODY].items) > 0`")
            } else {
                format!("; the functions are {FUNCTIONS} (quote the value to compare it as text)")
            };
            return Err(format!("`{name}()` is not supported here{hint}"));
        }
        if ordered || contains {
            return Err(format!("`{name}()` works with == and != only, as in Gatus"));
        }
        if matches!(
            subject,
            Subject::ResponseTime | Subject::CertificateExpiration | Subject::Has(_)
        ) {
            return Err(format!("`{name}()` applies to [STATUS], [BODY] and len()"));
        }
        return if name == "pat" {
            Ok(Value::Pattern(Pattern::parse(inner)?))
        } else {
            any_values(subject, inner).map(Value::Any)
        };
    }
    Ok(match subject {
        Subject::Status => match raw.split_once("..") {
            Some((a, b)) if !ordered => {
                let (a, b) = (parse_status(a)?, parse_status(b)?);
                if a > b {
                    return Err("the range's start is after its end".into());
                }
                Value::Range(a, b)
            }
            Some(_) => return Err("a range takes == or !=".into()),
            None => Value::Number(f64::from(parse_status(raw)?)),
        },
        Subject::ResponseTime | Subject::CertificateExpiration => {
            let ms = match raw.parse::<f64>() {
                Ok(n) if *subject == Subject::ResponseTime && n.is_finite() && n >= 0.0 => n,
                _ => {
                    relay_runtime::duration::parse(raw)
                        .map_err(|w| format!("`{raw}` is not a duration ({w})"))?
                        .as_secs_f64()
                        * 1000.0
                }
            };
            Value::Number(ms)
        }
        Subject::Len(_) => Value::Number(
            raw.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or("len() compares with a number")?,
        ),
        Subject::Has(_) => match (op, raw) {
            (Op::Eq | Op::Ne, "true" | "false") => Value::Text(raw.to_owned()),
            _ => return Err("has() compares with true or false, using == or !=".into()),
        },
        Subject::Body(_) => {
            let unquoted = unquote(raw);
            if ordered {
                let n = unquoted
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or("<, <=, > and >= on [BODY] take a number")?;
                Value::Number(n)
            } else {
                Value::Text(unquoted.to_owned())
            }
        }
    })
}

/// The options of `any(...)`, split on `,` and trimmed as Gatus does.
fn any_values(subject: &Subject, inner: &str) -> Result<Vec<String>, String> {
    let options: Vec<String> = inner.split(',').map(|o| o.trim().to_owned()).collect();
    if options.iter().all(String::is_empty) {
        return Err("any() needs at least one value".into());
    }
    match subject {
        // Statuses and lengths are numbers: written canonically so `any(200)`
        // meets the HTTP status 200 however the option was spelled.
        Subject::Status => options
            .iter()
            .map(|o| parse_status(o).map(|s| s.to_string()))
            .collect(),
        Subject::Len(_) => options
            .iter()
            .map(|o| {
                o.parse::<u64>()
                    .map(|n| n.to_string())
                    .map_err(|_| format!("any() on len() takes whole numbers, got `{o}`"))
            })
            .collect(),
        _ => Ok(options),
    }
}

fn is_placeholder(s: &str) -> bool {
    let upper = s.to_ascii_uppercase();
    [
        "[STATUS]",
        "[RESPONSE_TIME]",
        "[CERTIFICATE_EXPIRATION]",
        "[BODY]",
    ]
    .iter()
    .chain(GATUS_ONLY.iter())
    .any(|p| upper.starts_with(p))
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

/// A placeholder; names are case-insensitive as in Gatus, paths are not.
fn parse_subject(lhs: &str) -> Result<Subject, String> {
    let upper = lhs.to_ascii_uppercase();
    match upper.as_str() {
        "[STATUS]" => return Ok(Subject::Status),
        "[RESPONSE_TIME]" => return Ok(Subject::ResponseTime),
        "[CERTIFICATE_EXPIRATION]" => return Ok(Subject::CertificateExpiration),
        _ => {}
    }
    if let Some(p) = GATUS_ONLY.iter().find(|p| upper.starts_with(*p)) {
        return Err(format!(
            "`{p}` is a Gatus placeholder this action does not support; use [STATUS], [RESPONSE_TIME], [BODY] or [CERTIFICATE_EXPIRATION]"
        ));
    }
    if !upper.starts_with("[BODY]") {
        return Err(format!(
            "unknown placeholder `{lhs}`; use [STATUS], [RESPONSE_TIME], [BODY] or [CERTIFICATE_EXPIRATION]"
        ));
    }
    let mut rest = &lhs["[BODY]".len()..];
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

#[cfg(test)]
mod tests;
