//! Workflow commands on stdout, with every registered secret masked before
//! anything is written.
//!
//! Escaping follows the runner (actions/toolkit `packages/core/src/command.ts`):
//! message data escapes `%`, `\r`, `\n`; property values also escape `:` and `,`.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

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

/// Replaces every occurrence of each secret with `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if !secret.is_empty() && out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

type Sink = Box<dyn Write + Send>;

/// Where an action's log goes. Cheap to clone; clones share the masks.
#[derive(Clone)]
pub struct Console {
    inner: Arc<Inner>,
}

struct Inner {
    out: Mutex<Sink>,
    masks: Mutex<Vec<String>>,
    debug: bool,
}

impl Console {
    pub fn stdout(debug: bool) -> Self {
        Self::new(Box::new(std::io::stdout()), debug)
    }

    pub fn new(out: Sink, debug: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                out: Mutex::new(out),
                masks: Mutex::default(),
                debug,
            }),
        }
    }

    /// A console that writes into a shared buffer, for tests.
    pub fn capture(debug: bool) -> (Self, Captured) {
        let buf = Captured::default();
        (Self::new(Box::new(buf.clone()), debug), buf)
    }

    pub fn is_debug(&self) -> bool {
        self.inner.debug
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
            if part.is_empty() || self.masks().contains(&part) {
                continue;
            }
            self.raw(&command("add-mask", &[], &part));
            let mut masks = self
                .inner
                .masks
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            masks.push(part);
            // Longest first, so a secret that contains another is masked whole.
            masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
        }
    }

    /// The registered secrets, longest first.
    pub fn masks(&self) -> Vec<String> {
        self.inner
            .masks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `text` with every registered secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.masks())
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

    /// A plain log line.
    pub fn info(&self, text: &str) {
        self.raw(&self.redact(text));
    }

    pub fn debug(&self, text: &str) {
        self.raw(&self.redact(&command("debug", &[], text)));
    }

    pub fn notice(&self, title: &str, text: &str) {
        self.raw(&self.redact(&command("notice", &[("title", title)], text)));
    }

    pub fn warning(&self, text: &str) {
        self.raw(&self.redact(&command("warning", &[], text)));
    }

    pub fn error(&self, text: &str) {
        self.raw(&self.redact(&command("error", &[], text)));
    }

    pub fn group(&self, title: &str) -> Group<'_> {
        self.raw(&self.redact(&command("group", &[], title)));
        Group { console: self }
    }

    /// Prints text that came from outside (a response body, a command's
    /// output) so that it cannot issue workflow commands: the runner ignores
    /// commands between `::stop-commands::TOKEN` and `::TOKEN::`.
    pub fn untrusted(&self, text: &str) {
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.raw(&format!("::stop-commands::{token}"));
        for line in text.lines() {
            self.raw(&self.redact(line));
        }
        self.raw(&format!("::{token}::"));
    }
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
        let (console, out) = Console::capture(false);
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
    fn multi_line_secret_is_masked_per_line() {
        let (console, out) = Console::capture(false);
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
        let (console, out) = Console::capture(false);
        console.add_mask("abcd");
        console.add_mask("abcdefgh");
        console.info("abcdefgh");
        assert!(out.text().ends_with("***\n"), "{}", out.text());
    }

    #[test]
    fn group_closes_on_drop() {
        let (console, out) = Console::capture(false);
        {
            let _g = console.group("Response");
            console.info("body");
        }
        assert_eq!(out.text(), "::group::Response\nbody\n::endgroup::\n");
    }

    #[test]
    fn untrusted_text_is_fenced_by_stop_commands() {
        let (console, out) = Console::capture(false);
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
        let (console, out) = Console::capture(true);
        console.debug("x: y");
        assert_eq!(out.text(), "::debug::x: y\n");
    }
}
