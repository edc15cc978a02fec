//! Workflow commands on stdout, with every registered secret masked before
//! anything is written — in every encoded form we might print it: as given,
//! JSON-escaped, URL-encoded and workflow-command-escaped ([`printed_forms`]).
//!
//! Escaping follows the runner (actions/toolkit `packages/core/src/command.ts`):
//! message data escapes `%`, `\r`, `\n`; property values also escape `:` and `,`.
//! Every line also has its other control characters (ESC, BEL, …) shown
//! escaped ([`escape_controls`]), so text from a server cannot drive the
//! terminal or the log viewer it lands in.

use aho_corasick::{AhoCorasick, MatchKind};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use crate::secret::Secret;

/// Escapes a command's message for the runner.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value for the runner.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Formats `::name k=v,k=v::message`.
pub fn command(name: &str, properties: &[(&str, &str)], message: &str) -> String {
    let props: Vec<String> = properties
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    if props.is_empty() {
        format!("::{name}::{}", escape_data(message))
    } else {
        format!("::{name} {}::{}", props.join(","), escape_data(message))
    }
}

/// `text` with every control character but line breaks and tabs shown as
/// an escape (`\u{1b}` for ESC, `\u{7}` for BEL), and the Unicode
/// direction overrides too (they reorder what a reader sees): what a
/// terminal or a log viewer would act on is printed, never sent. Line
/// breaks are left to the caller, which knows what a line is.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(acts) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// A character a terminal or a viewer acts on rather than shows.
fn acts(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Every form in which `secret` could be printed by something we print:
/// as given; JSON-escaped (a server echoing it in a JSON string: `a"b` as
/// `a\"b`, also with `/` escaped and with non-ASCII as `\uXXXX`);
/// URL-encoded (percent-encoding with upper- or lower-case hex, `+` for a
/// space as forms do, and JavaScript's `encodeURIComponent`); and
/// workflow-command-escaped (message and property escaping). The GitHub
/// runner masks a registered secret in such forms too; this is the same
/// promise for the text we write ourselves. Longest first, no repeats.
pub fn printed_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    let json = json_escaped(secret, false);
    forms.push(json.replace('/', "\\/"));
    forms.push(json_escaped(secret, true));
    forms.push(json);
    forms.push(url_encoded(secret, b"-_.~", true, false));
    forms.push(url_encoded(secret, b"-_.~", false, false));
    forms.push(url_encoded(secret, b"-_.~", true, true));
    forms.push(url_encoded(secret, b"-_.~!*'()", true, false));
    forms.push(escape_data(secret));
    forms.push(escape_property(secret));
    forms.retain(|f| !f.is_empty());
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    let mut seen = std::collections::HashSet::new();
    forms.retain(|f| seen.insert(f.clone()));
    forms
}

/// `text` inside a JSON string as an encoder writes it (quotes aside);
/// `ascii`: every non-ASCII character as `\uXXXX` (UTF-16), as Python's
/// `json.dumps` does by default.
fn json_escaped(text: &str, ascii: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || (ascii && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` percent-encoded, every byte but ASCII letters, digits and `keep`;
/// `plus`: a space as `+` (HTML forms).
fn url_encoded(text: &str, keep: &[u8], upper: bool, plus: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(char::from(b));
        } else if plus && b == b' ' {
            out.push('+');
        } else if upper {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// Replaces every occurrence of each secret with `***`. Occurrences that
/// overlap (one secret's end is another's start) are masked as one: no
/// part of either shows.
pub fn redact(text: &str, secrets: &[String]) -> String {
    replace_spans(text, &mask_spans(text, secrets))
}

/// Where `masks` occur in `text`, in order: every occurrence of every
/// mask, overlapping ones merged into one span — a mask's own occurrences
/// too (`aaa` twice in `aaaa`), as the one-pass matcher finds them. Each
/// span starts and ends on a character boundary (a mask is whole
/// characters).
pub fn mask_spans(text: &str, masks: &[String]) -> Vec<std::ops::Range<usize>> {
    let mut found: Vec<std::ops::Range<usize>> = Vec::new();
    for m in masks.iter().filter(|m| !m.is_empty()) {
        let mut from = 0;
        while let Some(at) = text[from..].find(m.as_str()).map(|i| from + i) {
            found.push(at..at + m.len());
            // The next occurrence may start inside this one.
            from = at + text[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    found.sort_unstable_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(found.len());
    for span in found {
        match merged.last_mut() {
            Some(last) if span.start < last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// `text` with each span (in order, not overlapping) replaced by `***`.
fn replace_spans(text: &str, spans: &[std::ops::Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for span in spans {
        out.push_str(&text[copied..span.start]);
        out.push_str("***");
        copied = span.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Finds every mask in one pass over a text. The automaton holds only the
/// first [`Matcher::PREFIX`] bytes of each mask (a fleet step has
/// thousands of long keys: an automaton of whole masks costs megabytes);
/// where a prefix is found, the masks that start with it are compared in
/// full — [`mask_spans`]'s result, without its pass per mask.
struct Matcher {
    prefixes: AhoCorasick,
    /// Per prefix (the automaton's pattern id), the masks that start with
    /// it, longest first.
    by_prefix: Vec<Vec<usize>>,
    /// Every distinct prefix, to try the shorter ones at a place.
    ids: std::collections::HashMap<Vec<u8>, usize>,
    masks: Arc<Vec<String>>,
}

impl Matcher {
    const PREFIX: usize = 8;

    fn new(masks: Arc<Vec<String>>) -> Option<Self> {
        let mut ids: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
        let mut by_prefix: Vec<Vec<usize>> = Vec::new();
        // `masks` is longest first, so each list is too.
        for (i, m) in masks.iter().enumerate().filter(|(_, m)| !m.is_empty()) {
            let prefix = m.as_bytes()[..m.len().min(Self::PREFIX)].to_vec();
            let next = ids.len();
            let id = *ids.entry(prefix).or_insert(next);
            if id == by_prefix.len() {
                by_prefix.push(Vec::new());
            }
            by_prefix[id].push(i);
        }
        let mut patterns: Vec<&[u8]> = vec![&[]; ids.len()];
        for (p, &id) in &ids {
            patterns[id] = p;
        }
        let prefixes = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)
            .ok()?;
        Some(Self {
            prefixes,
            by_prefix,
            ids,
            masks,
        })
    }

    /// The length of the longest mask that starts at `at`.
    fn longest_at(&self, text: &[u8], at: usize) -> Option<usize> {
        let rest = &text[at..];
        (1..=Self::PREFIX.min(rest.len()))
            .filter_map(|l| self.ids.get(&rest[..l]))
            .flat_map(|&id| self.by_prefix[id].iter())
            .map(|&i| self.masks[i].as_bytes())
            .filter(|m| rest.starts_with(m))
            .map(<[u8]>::len)
            .max()
    }

    /// [`mask_spans`]'s result in one pass over `text`: at the leftmost
    /// place a mask starts, the longest one; then every mask that starts
    /// inside the span so far and reaches past it extends it.
    fn spans(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let bytes = text.as_bytes();
        let mut spans = Vec::new();
        let mut from = 0;
        while from < bytes.len() {
            let Some(found) = self
                .prefixes
                .find(aho_corasick::Input::new(bytes).span(from..bytes.len()))
            else {
                break;
            };
            let at = found.start();
            match self.longest_at(bytes, at) {
                Some(len) => {
                    // A mask is whole characters, so every start and end
                    // found here is a character boundary.
                    let mut end = at + len;
                    let mut inside = at + 1;
                    while inside < end {
                        if let Some(len) = self.longest_at(bytes, inside) {
                            end = end.max(inside + len);
                        }
                        inside += 1;
                    }
                    spans.push(at..end);
                    from = end;
                }
                None => from = at + 1,
            }
        }
        spans
    }
}

type Sink = Box<dyn Write + Send>;

/// Whether the step runs with debug logging (`RUNNER_DEBUG=1`): callers
/// print extra detail only then. `::debug::` lines are written either way;
/// the runner shows them only in debug mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// No extra detail.
    #[default]
    Normal,
    /// Extra detail for debugging.
    Debug,
}

/// Where an action's log goes. Cheap to clone; clones share the masks.
#[derive(Clone)]
pub struct Console {
    inner: Arc<Inner>,
}

struct Inner {
    out: Mutex<Sink>,
    /// Every printed form of every secret, longest first; shared, so a
    /// reader holds no copy of its own (a fleet has a key per target).
    masks: Mutex<Arc<Vec<String>>>,
    /// One pass over a line for every mask at once, built when first
    /// needed after the masks changed.
    matcher: Mutex<Option<Arc<Matcher>>>,
    verbosity: Verbosity,
    /// The secrets announced with `::add-mask::`, as given.
    announced: Mutex<Vec<String>>,
}

impl Console {
    /// The process's stdout, where the runner reads workflow commands.
    pub fn stdout(verbosity: Verbosity) -> Self {
        Self::new(Box::new(std::io::stdout()), verbosity)
    }

    /// A console writing to `out`.
    pub fn new(out: Sink, verbosity: Verbosity) -> Self {
        Self {
            inner: Arc::new(Inner {
                out: Mutex::new(out),
                masks: Mutex::default(),
                matcher: Mutex::default(),
                verbosity,
                announced: Mutex::default(),
            }),
        }
    }

    /// A console that writes into a shared buffer, for tests.
    pub fn capture() -> (Self, Captured) {
        Self::capture_with(Verbosity::Normal)
    }

    /// [`Console::capture`] in debug mode.
    pub fn capture_debug() -> (Self, Captured) {
        Self::capture_with(Verbosity::Debug)
    }

    fn capture_with(verbosity: Verbosity) -> (Self, Captured) {
        let buf = Captured::default();
        (Self::new(Box::new(buf.clone()), verbosity), buf)
    }

    /// Whether the step runs with debug logging.
    pub fn is_debug(&self) -> bool {
        self.inner.verbosity == Verbosity::Debug
    }

    /// Masks `value` (see [`Console::add_mask`]) and wraps it as a
    /// [`Secret`]: the way to make a secret of a value that did not come in
    /// as a secret input (an env variable, a file).
    pub fn secret(&self, value: &str) -> Secret {
        self.add_mask(value);
        Secret::new(value)
    }

    /// Tells the runner to mask `secret` and masks it here from now on. A
    /// multi-line secret is also masked line by line, because the runner
    /// matches log lines one at a time.
    pub fn add_mask(&self, secret: &str) {
        let mut parts = vec![secret.to_owned()];
        if secret.contains('\n') {
            parts.extend(
                secret
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.len() > 3)
                    .map(str::to_owned),
            );
        }
        for part in parts {
            {
                let mut announced = self
                    .inner
                    .announced
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if part.is_empty() || announced.contains(&part) {
                    continue;
                }
                announced.push(part.clone());
            }
            self.raw(&command("add-mask", &[], &part));
            let mut masks = self
                .inner
                .masks
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let list = Arc::make_mut(&mut masks);
            // Longest first, so a secret that contains another is masked
            // whole: each form goes after the last one as long as it, and
            // only those of its length can equal it.
            for form in printed_forms(&part) {
                let same = list.partition_point(|m| m.len() > form.len());
                let after = list.partition_point(|m| m.len() >= form.len());
                if !list[same..after].contains(&form) {
                    list.insert(after, form);
                }
            }
            *self
                .inner
                .matcher
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
        }
    }

    /// The registered secrets in every printed form ([`printed_forms`]),
    /// longest first. Shared, not copied.
    pub fn masks(&self) -> Arc<Vec<String>> {
        self.inner
            .masks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `text` with every registered secret replaced by `***`: one pass over
    /// the text, whatever the number of secrets, the longest match at each
    /// place, overlapping ones as one (what [`redact`] does mask by mask).
    pub fn redact(&self, text: &str) -> String {
        replace_spans(text, &self.mask_spans(text))
    }

    /// Where the registered secrets occur in `text` ([`mask_spans`]'s
    /// result), found in one pass by the cached automaton: what a caller
    /// that masks before it cuts (a webhook's answer) needs.
    pub fn mask_spans(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let matcher = {
            let mut cached = self
                .inner
                .matcher
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if cached.is_none() {
                let masks = self.masks();
                if masks.is_empty() {
                    return Vec::new();
                }
                match Matcher::new(masks.clone()) {
                    Some(built) => *cached = Some(Arc::new(built)),
                    // Too many to build one (never at our sizes): mask by mask.
                    None => return mask_spans(text, &masks),
                }
            }
            cached.clone()
        };
        matcher.map_or_else(Vec::new, |m| m.spans(text))
    }

    /// The length of the longest registered secret in any printed form.
    pub fn longest_mask(&self) -> usize {
        self.masks().first().map_or(0, String::len)
    }

    fn raw(&self, line: &str) {
        let mut out = self
            .inner
            .out
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // A closed stdout must not turn into a panic in the middle of a deploy.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// A plain log line of our own. Line breaks are escaped, so the text
    /// stays one line, and a line the runner could read as a command
    /// (`::name::` at its start, `##[name]` anywhere) is fenced: a value
    /// interpolated into it can never issue a workflow command.
    pub fn info(&self, text: &str) {
        let line = escape_controls(&escape_line(&self.redact(text)));
        if looks_like_command(&line) {
            self.fence(std::iter::once(line.as_str()));
        } else {
            self.raw(&line);
        }
    }

    /// `--help` and `--version`, our own text, as it is.
    pub(crate) fn help(&self, text: &str) {
        for line in text.lines() {
            self.raw(line);
        }
    }

    /// A `::debug::` line, shown in debug mode.
    pub fn debug(&self, text: &str) {
        self.command("debug", &[], text);
    }

    /// A `::notice::` annotation with `title`.
    pub fn notice(&self, title: &str, text: &str) {
        self.command("notice", &[("title", title)], text);
    }

    /// A `::warning::` annotation.
    pub fn warning(&self, text: &str) {
        self.command("warning", &[], text);
    }

    /// A warning annotation with a title, for what must not be missed.
    pub fn warning_titled(&self, title: &str, text: &str) {
        self.command("warning", &[("title", title)], text);
    }

    /// An `::error::` annotation.
    pub fn error(&self, text: &str) {
        self.command("error", &[], text);
    }

    /// Opens a log group; it closes when the returned guard drops.
    pub fn group(&self, title: &str) -> Group<'_> {
        self.command("group", &[], title);
        Group { console: self }
    }

    /// A workflow command whose message and properties are redacted first,
    /// then escaped: a secret holding `%`, `:`, `,` or a line break is
    /// masked in the form it was registered, not missed in its escaped form.
    fn command(&self, name: &str, properties: &[(&str, &str)], message: &str) {
        let redacted: Vec<(&str, String)> = properties
            .iter()
            .map(|(k, v)| (*k, escape_controls(&self.redact(v))))
            .collect();
        let props: Vec<(&str, &str)> = redacted.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.raw(&command(
            name,
            &props,
            &escape_controls(&self.redact(message)),
        ));
    }

    /// Prints text that came from outside (a response body, a command's
    /// output), or any text of several lines, so that it cannot issue
    /// workflow commands: the runner ignores commands between
    /// `::stop-commands::TOKEN` and `::TOKEN::`. Secrets are redacted
    /// before the text is split into lines.
    pub fn untrusted(&self, text: &str) {
        let text = escape_controls(&self.redact(text));
        // A carriage return alone would let a line overwrite itself.
        let lines: Vec<String> = text.lines().map(|l| l.replace('\r', "\\r")).collect();
        self.fence(lines.iter().map(String::as_str));
    }

    fn fence<'a>(&self, lines: impl Iterator<Item = &'a str>) {
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.raw(&format!("::stop-commands::{token}"));
        for line in lines {
            self.raw(line);
        }
        self.raw(&format!("::{token}::"));
    }
}

/// One log line: `\r` and `\n` escaped as the runner escapes them in data.
fn escape_line(text: &str) -> String {
    text.replace('\r', "%0D").replace('\n', "%0A")
}

/// Whether the runner could parse `line` as a workflow command: the v2
/// form `::name::` after leading whitespace, or the v1 form `##[name]`.
fn looks_like_command(line: &str) -> bool {
    line.trim_start().starts_with("::") || line.contains("##[")
}

/// Closes a log group when dropped.
pub struct Group<'a> {
    console: &'a Console,
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        self.console.raw("::endgroup::");
    }
}

/// A shared in-memory sink.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_cr_lf() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
    }

    #[test]
    fn properties_also_escape_colon_and_comma() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn command_without_properties() {
        assert_eq!(command("error", &[], "bad\ninput"), "::error::bad%0Ainput");
    }

    #[test]
    fn command_with_properties_skips_empty_ones() {
        assert_eq!(
            command("notice", &[("title", "Skipped: x,y"), ("file", "")], "m"),
            "::notice title=Skipped%3A x%2Cy::m"
        );
    }

    #[test]
    fn add_mask_is_printed_then_secret_redacted_everywhere() {
        let (console, out) = Console::capture();
        console.add_mask("s3cr3t-token");
        console.info("using s3cr3t-token now");
        console.error("failed with s3cr3t-token");
        let text = out.text();
        assert_eq!(text.matches("s3cr3t-token").count(), 1, "{text}");
        assert!(text.starts_with("::add-mask::s3cr3t-token\n"));
        assert!(text.contains("using *** now"));
        assert!(text.contains("::error::failed with ***"));
    }

    #[test]
    fn every_one_of_many_secrets_is_masked_in_one_line() {
        // A fleet's step holds a key per target.
        let (console, out) = Console::capture();
        let keys: Vec<String> = (0..2000).map(|i| format!("whsec_key{i:05}XYZ")).collect();
        for k in &keys {
            console.add_mask(k);
        }
        console.info(&format!("a {} b {} c", keys[7], keys[1999]));
        console.add_mask("late-secret-value");
        console.info("then late-secret-value");
        let text = out.text();
        let log: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect();
        assert_eq!(log, ["a *** b *** c", "then ***"]);
    }

    #[test]
    fn one_pass_masks_as_mask_by_mask_does() {
        // Masks that share a prefix, contain each other, are shorter than
        // the automaton's prefix, or hold multi-byte characters.
        let (console, _) = Console::capture();
        let masks = [
            "abcdefghij-long",
            "abcdefghij",
            "abcdefgh",
            "abc",
            "xyz",
            "ünïcødé-sécret",
            "defghijk",
            "abcabc",
        ];
        for m in masks {
            console.add_mask(m);
        }
        for text in [
            "abcdefghij-long and abcdefghij and abcdefgh and abc and ab",
            "aabcdefghijx ababc xyzxyz",
            "the ünïcødé-sécret, and ünïcødé",
            "abcdefghijk",
            // A mask that overlaps itself: `abcabc` twice in `abcabcabc`.
            "abcabcabc and xyzxyz",
            "",
            "no secret here",
        ] {
            assert_eq!(
                console.redact(text),
                redact(text, &console.masks()),
                "{text}"
            );
        }
    }

    #[test]
    fn a_secret_that_overlaps_itself_is_masked_whole() {
        let masks = ["aaa".to_owned()];
        assert_eq!(redact("aaaa", &masks), "***");
        assert_eq!(redact("aaa-aaaaa", &masks), "***-***");
        let (console, _) = Console::capture();
        console.add_mask("aaa");
        assert_eq!(console.redact("aaaa"), "***");
    }

    #[test]
    fn overlapping_secrets_are_masked_as_one() {
        // One secret's end is another's start: masking either first would
        // leave part of the other in plain sight.
        let (console, out) = Console::capture();
        for m in ["abcdefgh-one", "xyz-abcdefgh", "gh-one-more-secret"] {
            console.add_mask(m);
        }
        for (text, want) in [
            ("xyz-abcdefgh-one!", "***!"),
            ("<xyz-abcdefgh-one-more-secret>", "<***>"),
            ("abcdefgh-one and xyz-abcdefgh", "*** and ***"),
            ("abcdefgh-oneabcdefgh-one", "******"),
        ] {
            assert_eq!(console.redact(text), want, "one pass: {text}");
            assert_eq!(redact(text, &console.masks()), want, "mask by mask: {text}");
        }
        console.info("sent xyz-abcdefgh-one-more-secret");
        assert!(out.text().ends_with("sent ***\n"), "{}", out.text());
    }

    #[test]
    fn multi_line_secret_is_masked_per_line() {
        let (console, out) = Console::capture();
        console.add_mask("-----BEGIN-----\nline-one-secret\n-----END-----");
        console.info("echo line-one-secret");
        assert!(out.text().contains("echo ***"));
        assert!(
            out.text()
                .contains("::add-mask::-----BEGIN-----%0Aline-one-secret%0A-----END-----")
        );
    }

    #[test]
    fn longer_secret_masked_before_its_prefix() {
        let (console, out) = Console::capture();
        console.add_mask("abcd");
        console.add_mask("abcdefgh");
        console.info("abcdefgh");
        assert!(out.text().ends_with("***\n"), "{}", out.text());
    }

    #[test]
    fn group_closes_on_drop() {
        let (console, out) = Console::capture();
        {
            let _g = console.group("Response");
            console.info("body");
        }
        assert_eq!(out.text(), "::group::Response\nbody\n::endgroup::\n");
    }

    #[test]
    fn untrusted_text_is_fenced_by_stop_commands() {
        let (console, out) = Console::capture();
        console.untrusted("::error::fake\n::add-mask::x");
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        let token = lines[0].strip_prefix("::stop-commands::").unwrap();
        assert_eq!(token.len(), 32);
        assert_eq!(lines[1], "::error::fake");
        assert_eq!(lines[3], format!("::{token}::"));
    }

    #[test]
    fn debug_is_a_debug_command() {
        let (console, out) = Console::capture_debug();
        console.debug("x: y");
        assert_eq!(out.text(), "::debug::x: y\n");
    }

    #[test]
    fn secrets_with_escapable_characters_are_redacted_before_escaping() {
        for secret in [
            "pa%ss-w0rd",
            "pa:ss,w0rd",
            "pa\rss-w0rd",
            "pa\nss-w0rd",
            "p%0Aa:s,s\r\nw",
        ] {
            let (console, out) = Console::capture_debug();
            console.add_mask(secret);
            let before = out.text().len();
            console.error(&format!("failed with {secret}"));
            console.warning(secret);
            console.notice(secret, &format!("x{secret}y"));
            console.debug(secret);
            drop(console.group(&format!("g {secret}")));
            console.info(&format!("i {secret}"));
            console.untrusted(&format!("u {secret} v"));
            let text = out.text()[before..].to_owned();
            let escaped = escape_data(secret);
            let escaped_prop = escape_property(secret);
            for form in [secret, escaped.as_str(), escaped_prop.as_str()] {
                assert!(
                    !text.contains(form),
                    "{secret:?} leaked as {form:?} in {text}"
                );
            }
            assert!(text.contains("::error::failed with ***"), "{text}");
            assert!(text.contains("::notice title=***::x***y"), "{text}");
        }
    }

    #[test]
    fn every_encoded_form_of_a_secret_is_masked() {
        let secret = "a\"b\\c/d é&e=f g";
        let (console, out) = Console::capture_debug();
        console.add_mask(secret);
        let announced = out.text();
        let forms = [
            r#"a\"b\\c/d é&e=f g"#,
            r#"a\"b\\c\/d é&e=f g"#,
            r#"a\"b\\c/d \u00e9&e=f g"#,
            "a%22b%5Cc%2Fd%20%C3%A9%26e%3Df%20g",
            "a%22b%5cc%2fd%20%c3%a9%26e%3df%20g",
            "a%22b%5Cc%2Fd+%C3%A9%26e%3Df+g",
        ];
        for form in forms {
            console.info(&format!("i {form} i"));
            console.error(&format!("e {form} e"));
            console.notice(form, "n");
            console.untrusted(&format!("{{\"output\":\"{form}\"}}"));
        }
        let text = out.text()[announced.len()..].to_owned();
        for form in forms {
            assert!(!text.contains(form), "{form:?} leaked in\n{text}");
        }
        assert!(
            text.contains("i *** i") && text.contains("::error::e *** e"),
            "{text}"
        );
        assert_eq!(
            announced.matches("::add-mask::").count(),
            1,
            "only the secret itself is announced: {announced}"
        );
        // The issue's case: a short secret with a quote, echoed in JSON.
        let (console, out) = Console::capture();
        console.add_mask("a\"b");
        console.untrusted(r#"{"output":"x a\"b y"}"#);
        assert!(
            out.text().contains(r#"{"output":"x *** y"}"#),
            "{}",
            out.text()
        );
    }

    #[test]
    fn a_secret_that_is_anothers_encoded_form_is_announced_too() {
        let (console, out) = Console::capture();
        console.add_mask("a\"b");
        console.add_mask("a\\\"b");
        assert_eq!(
            out.text().matches("::add-mask::").count(),
            2,
            "{}",
            out.text()
        );
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        let (console, out) = Console::capture_debug();
        let hostile = "red\u{1b}[31m bell\u{7} nul\u{0} del\u{7f} csi\u{9b} rlo\u{202e} tab\tend";
        console.info(hostile);
        console.error(hostile);
        console.warning(hostile);
        console.notice(hostile, hostile);
        console.debug(hostile);
        drop(console.group(hostile));
        console.untrusted(&format!("{hostile}\nover\rwritten"));
        let text = out.text();
        for c in ['\u{1b}', '\u{7}', '\u{0}', '\u{7f}', '\u{9b}', '\u{202e}'] {
            assert!(!text.contains(c), "{c:?} reached the log:\n{text:?}");
        }
        assert!(text.contains("red\\u{1b}[31m bell\\u{7}"), "{text}");
        assert!(text.contains("tab\tend"), "a tab is text");
        assert!(text.contains("over\\rwritten"), "{text}");
        assert!(!text.contains('\r'), "{text:?}");
        assert_eq!(escape_controls("plain"), "plain");
    }

    #[test]
    fn multi_line_secret_is_redacted_whole_and_per_line() {
        let (console, out) = Console::capture();
        let key = "-----BEGIN KEY-----\nAAAAsecretline1\nBBBBsecretline2\n-----END KEY-----";
        console.add_mask(key);
        let before = out.text().len();
        console.error(&format!("bad key {key}"));
        console.error("only BBBBsecretline2 here");
        let text = out.text()[before..].to_owned();
        assert!(!text.contains("secretline"), "{text}");
    }

    #[test]
    fn info_keeps_one_line_and_fences_what_looks_like_a_command() {
        let (console, out) = Console::capture();
        console.info("status DOWN\n::error title=Forged::x\r\n::add-mask::healthy");
        console.info("::warning::starts like a command");
        console.info("v1 form ##[add-mask]healthy in the middle");
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "status DOWN%0A::error title=Forged::x%0D%0A::add-mask::healthy"
        );
        let fenced: Vec<&str> = lines[1..].to_vec();
        let token = fenced[0].strip_prefix("::stop-commands::").unwrap();
        assert_eq!(fenced[1], "::warning::starts like a command");
        assert_eq!(fenced[2], format!("::{token}::"));
        assert!(fenced[3].starts_with("::stop-commands::"), "{text}");
        let token2 = fenced[3].strip_prefix("::stop-commands::").unwrap();
        assert_eq!(fenced[4], "v1 form ##[add-mask]healthy in the middle");
        assert_eq!(fenced[5], format!("::{token2}::"));
        assert_eq!(lines.len(), 7, "{text}");
    }
}
