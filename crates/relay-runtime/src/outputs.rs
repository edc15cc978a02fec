//! Step outputs (`GITHUB_OUTPUT`) and the job summary (`GITHUB_STEP_SUMMARY`).
//!
//! Outputs are written as the toolkit's `file-command.ts` writes them: a
//! `name<<DELIMITER` heredoc with a random delimiter, refusing a value that
//! contains it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use crate::console::Console;

/// Why an output or the summary could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// `GITHUB_OUTPUT` could not be written.
    #[error("couldn't write output `{name}` to `{path}`: {source}")]
    Write {
        /// The output.
        name: String,
        /// `GITHUB_OUTPUT`.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A value holds the heredoc delimiter chosen for it.
    #[error("output `{name}` contains the heredoc delimiter `{delimiter}`")]
    Delimiter {
        /// The output.
        name: String,
        /// The heredoc delimiter its value contains.
        delimiter: String,
    },
    /// An output name the runner cannot read back.
    #[error("output name `{0}` is empty or contains a line break")]
    Name(String),
    /// `GITHUB_STEP_SUMMARY` could not be written.
    #[error("couldn't append to the step summary `{path}`: {source}")]
    Summary {
        /// `GITHUB_STEP_SUMMARY`.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
}

/// Writes step outputs where the runner reads them.
#[derive(Clone)]
pub struct Outputs {
    file: Option<PathBuf>,
    console: Console,
}

impl Outputs {
    /// Outputs written to `file` (`GITHUB_OUTPUT`); without one they are logged.
    pub fn new(file: Option<PathBuf>, console: Console) -> Self {
        Self { file, console }
    }

    /// Sets output `name`. Registered secrets are masked in the value too.
    pub fn set(&self, name: &str, value: &str) -> Result<(), OutputError> {
        if name.is_empty() || name.contains(['\n', '\r']) {
            return Err(OutputError::Name(name.to_owned()));
        }
        let value = self.console.redact(value);
        let Some(path) = &self.file else {
            self.console.info(&format!("{name}={value}"));
            return Ok(());
        };
        let delimiter = format!("ghadelimiter_{}", uuid::Uuid::new_v4());
        let text = heredoc(name, &value, &delimiter)?;
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new().append(true).create(true).open(path)?;
            f.write_all(text.as_bytes())
        };
        write().map_err(|source| OutputError::Write {
            name: name.to_owned(),
            path: path.display().to_string(),
            source,
        })
    }
}

/// `name<<DELIM\nvalue\nDELIM\n`.
pub fn heredoc(name: &str, value: &str, delimiter: &str) -> Result<String, OutputError> {
    if name.contains(delimiter) || value.contains(delimiter) {
        return Err(OutputError::Delimiter {
            name: name.to_owned(),
            delimiter: delimiter.into(),
        });
    }
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

/// Parses what [`heredoc`] (or `name=value` lines) wrote: the runner's side,
/// used by tests and the harness.
pub fn parse_output_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.push((name.to_owned(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_owned(), value.to_owned()));
        }
    }
    out
}

/// The job summary: markdown appended to `GITHUB_STEP_SUMMARY`, when set.
#[derive(Clone)]
pub struct Summary {
    file: Option<PathBuf>,
    console: Console,
}

impl Summary {
    /// A summary written to `file` (`GITHUB_STEP_SUMMARY`); without one it is logged.
    pub fn new(file: Option<PathBuf>, console: Console) -> Self {
        Self { file, console }
    }

    /// Appends `markdown` to the summary.
    pub fn append(&self, markdown: &str) -> Result<(), OutputError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        // Renderers escape text for markdown before it reaches here, so a
        // secret is also looked for in the forms the escaping gives it.
        let masks = self.console.masks();
        let mut forms = masks.to_vec();
        forms.extend(masks.iter().map(|m| crate::md_cell(m)));
        forms.sort_by_key(|m| std::cmp::Reverse(m.len()));
        forms.dedup();
        let text = crate::console::redact(markdown, &forms);
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new().append(true).create(true).open(path)?;
            f.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                f.write_all(b"\n")?;
            }
            Ok(())
        };
        write().map_err(|source| OutputError::Summary {
            path: path.display().to_string(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_with_random_delimiter_round_trips_multiline_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let (console, _) = Console::capture();
        let outputs = Outputs::new(Some(path.clone()), console);
        outputs.set("payload", "{\n  \"a\": 1\n}").unwrap();
        outputs.set("dispatched", "true").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("payload<<ghadelimiter_"));
        let parsed = parse_output_file(&text);
        assert_eq!(parsed[0], ("payload".into(), "{\n  \"a\": 1\n}".into()));
        assert_eq!(parsed[1], ("dispatched".into(), "true".into()));
        let delims: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("ghadelimiter_"))
            .collect();
        assert_ne!(delims[0], delims[1], "a new delimiter per output");
    }

    #[test]
    fn value_containing_the_delimiter_is_refused() {
        let e = heredoc("x", "a\nghadelimiter_1\nb", "ghadelimiter_1").unwrap_err();
        assert!(matches!(e, OutputError::Delimiter { .. }));
    }

    #[test]
    fn without_github_output_prints_name_equals_value() {
        let (console, out) = Console::capture();
        Outputs::new(None, console).set("run-id", "7").unwrap();
        assert_eq!(out.text(), "run-id=7\n");
    }

    #[test]
    fn secrets_are_masked_in_outputs_and_summary() {
        let dir = tempfile::tempdir().unwrap();
        let (console, _) = Console::capture();
        console.add_mask("hunter22");
        Outputs::new(Some(dir.path().join("o")), console.clone())
            .set("x", "pw=hunter22")
            .unwrap();
        Summary::new(Some(dir.path().join("s")), console)
            .append("pw hunter22")
            .unwrap();
        assert!(
            std::fs::read_to_string(dir.path().join("o"))
                .unwrap()
                .contains("pw=***")
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("s")).unwrap(),
            "pw ***\n"
        );
    }

    #[test]
    fn summary_appends_and_is_skipped_without_the_env() {
        let dir = tempfile::tempdir().unwrap();
        let (console, _) = Console::capture();
        let s = Summary::new(Some(dir.path().join("s")), console.clone());
        s.append("# a").unwrap();
        s.append("b\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("s")).unwrap(),
            "# a\nb\n"
        );
        Summary::new(None, console).append("ignored").unwrap();
    }

    #[test]
    fn bad_output_name_is_refused() {
        let (console, _) = Console::capture();
        assert!(Outputs::new(None, console).set("a\nb", "v").is_err());
    }

    #[test]
    fn secrets_are_masked_in_the_summary_in_their_escaped_forms_too() {
        let dir = tempfile::tempdir().unwrap();
        let (console, _) = Console::capture();
        console.add_mask("pa|ss\nword");
        Summary::new(Some(dir.path().join("s")), console)
            .append(&format!(
                "| {} | {} |",
                crate::md_cell("pa|ss\nword"),
                crate::md_code("pa|ss\nword")
            ))
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join("s")).unwrap();
        assert!(!text.contains("ss"), "{text}");
    }
}
