//! A step's log as the runner shows it: masks applied, workflow commands
//! read rather than printed, and nothing a step printed able to move the
//! terminal's cursor or colour it.
//!
//! The local runner hands back each step's raw stdout, `::add-mask::` lines
//! included. GitHub's runner hides those lines and every masked value; so
//! does this, before any of it reaches the timeline or the report.

use std::sync::{Arc, Mutex, PoisonError};

/// Every secret known so far: the demo's own and each step's `::add-mask::`.
#[derive(Clone, Default)]
pub struct Masks(Arc<Mutex<Vec<String>>>);

impl Masks {
    pub fn add(&self, secret: &str) {
        let secret = secret.trim();
        // Short values would mask ordinary words; the runner ignores them too.
        if secret.len() < 4 {
            return;
        }
        let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !all.iter().any(|s| s == secret) {
            all.push(secret.to_owned());
            // Longest first, so a secret that contains another is masked whole.
            all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every known secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        relay_runtime::redact(text, &all)
    }

    /// Reads the masks a step announced in its log.
    pub fn learn(&self, log: &str) {
        for line in log.lines() {
            if let Some(value) = line.trim_start().strip_prefix("::add-mask::") {
                self.add(&unescape(value));
            }
        }
    }
}

/// What a log line means to the runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Text(String),
    Error(String),
    Warning(String),
    Notice(String),
    Group(String),
}

/// The log the runner would show: `add-mask`, `debug` and `endgroup`
/// lines dropped, annotations and groups recognised, lines between
/// `::stop-commands::T` and `::T::` taken as plain text. Masks are applied.
pub fn view(log: &str, masks: &Masks) -> Vec<Line> {
    let mut out = Vec::new();
    let mut stopped: Option<String> = None;
    for raw in log.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some(token) = &stopped {
            if line.trim() == format!("::{token}::") {
                stopped = None;
            } else {
                out.push(Line::Text(masks.redact(line)));
            }
            continue;
        }
        let Some(command) = line.trim_start().strip_prefix("::") else {
            out.push(Line::Text(masks.redact(line)));
            continue;
        };
        let Some((head, message)) = command.split_once("::") else {
            out.push(Line::Text(masks.redact(line)));
            continue;
        };
        let name = head.split_once(' ').map_or(head, |(n, _)| n);
        let message = masks.redact(&unescape(message));
        match name {
            "add-mask" | "debug" | "endgroup" => {}
            "stop-commands" => stopped = Some(message),
            "error" => out.push(Line::Error(message)),
            "warning" => out.push(Line::Warning(message)),
            "notice" => out.push(Line::Notice(message)),
            "group" => out.push(Line::Group(message)),
            _ => out.push(Line::Text(masks.redact(line))),
        }
    }
    out
}

/// The first error the step reported, else its first notice: the one-line
/// reason a step stopped the flow.
pub fn reason(lines: &[Line]) -> Option<String> {
    let first = |f: fn(&Line) -> Option<&String>| lines.iter().find_map(f).cloned();
    first(|l| match l {
        Line::Error(m) => Some(m),
        _ => None,
    })
    .or_else(|| {
        first(|l| match l {
            Line::Notice(m) => Some(m),
            _ => None,
        })
    })
    .map(|m| one_line(&m))
}

/// Longest reason shown; a longer one (a response body quoted whole) is cut.
const MAX_REASON: usize = 240;

/// The first line of `text`, for a terminal: control characters dropped,
/// cut at [`MAX_REASON`] characters.
pub fn one_line(text: &str) -> String {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let line = terminal_safe(first);
    if line.chars().count() <= MAX_REASON {
        return line;
    }
    let cut: String = line.chars().take(MAX_REASON).collect();
    format!("{cut}…")
}

/// Text for a terminal: no escape sequences, no carriage returns.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { '·' } else { c })
        .collect()
}

/// A command message or property as the runner unescapes it.
fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_commands_are_read_not_shown() {
        let masks = Masks::default();
        let log = "::add-mask::whsec_abc%25def\nsent with whsec_abc%def\n::error title=x::the receiver answered 401%0Ahint: check the secret\n::group::Response\n::stop-commands::tok\n::error::not a command\n::tok::\n::endgroup::\n\u{1b}[31mred";
        masks.learn(log);
        let lines = view(log, &masks);
        assert_eq!(
            lines,
            [
                Line::Text("sent with ***".into()),
                Line::Error("the receiver answered 401\nhint: check the secret".into()),
                Line::Group("Response".into()),
                Line::Text("::error::not a command".into()),
                Line::Text("\u{1b}[31mred".into()),
            ]
        );
        assert_eq!(reason(&lines).as_deref(), Some("the receiver answered 401"));
        assert_eq!(terminal_safe("\u{1b}[31mred\r"), "·[31mred·");
    }

    #[test]
    fn a_secret_inside_another_is_masked_whole() {
        let masks = Masks::default();
        masks.add("abcd");
        masks.add("xxabcdyy");
        assert_eq!(masks.redact("xxabcdyy abcd"), "*** ***");
    }
}
