//! Artifact names are checked before any request, with the same forbidden
//! characters as `@actions/artifact`'s `validateArtifactName`, so a name the
//! service would reject fails fast with the offending character named.
//!
//! The same check guards every name the API lists: such a name becomes a
//! directory (`path/<name>/`), a file (`path/<name>.zip`) and a log line, so
//! beyond GitHub's rules it may hold no control character (a NUL, an escape
//! sequence) and may not be `.` or `..`. Names are always shown escaped
//! (`\n`, `\u{1b}`), so a hostile one cannot start a line of its own.

/// Characters the official client refuses in an artifact name (NTFS-unsafe
/// characters plus path separators).
const FORBIDDEN: &[(char, &str)] = &[
    ('"', "double quote"),
    (':', "colon"),
    ('<', "less than"),
    ('>', "greater than"),
    ('|', "vertical bar"),
    ('*', "asterisk"),
    ('?', "question mark"),
    ('\r', "carriage return"),
    ('\n', "line feed"),
    ('\\', "backslash"),
    ('/', "forward slash"),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
pub enum NameError {
    #[error("artifact name is empty\nhint: give the artifact a name")]
    Empty,
    #[error(
        "artifact name `{}` contains a {what} ({shown:?}), which GitHub does not allow\nhint: remove {shown:?} from the name", name.escape_debug()
    )]
    Forbidden {
        name: String,
        what: &'static str,
        shown: char,
    },
    #[error(
        "artifact name `{}` contains the control character {shown:?}\nhint: use printable characters only", name.escape_debug()
    )]
    Control { name: String, shown: char },
    #[error(
        "artifact name `{name}` names a directory, not an artifact (it would be written outside `path`)\nhint: give the artifact a real name"
    )]
    Dots { name: String },
}

/// Accepts `name` when the artifacts service would and it is safe as a
/// file name and in a log line.
pub fn validate_artifact_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name == "." || name == ".." {
        return Err(NameError::Dots {
            name: name.to_owned(),
        });
    }
    for c in name.chars() {
        if let Some((shown, what)) = FORBIDDEN.iter().find(|(f, _)| *f == c) {
            return Err(NameError::Forbidden {
                name: name.to_owned(),
                what,
                shown: *shown,
            });
        }
        if c.is_control() {
            return Err(NameError::Control {
                name: name.to_owned(),
                shown: c,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for n in ["frontend-build", "deploy-frontend-build-abc1234", "a b.c_d"] {
            assert_eq!(validate_artifact_name(n), Ok(()), "{n}");
        }
    }

    #[test]
    fn refuses_every_forbidden_character() {
        for (c, what) in FORBIDDEN {
            let name = format!("a{c}b");
            let err = validate_artifact_name(&name).unwrap_err();
            assert_eq!(
                err,
                NameError::Forbidden {
                    name: name.clone(),
                    what,
                    shown: *c
                }
            );
            assert!(err.to_string().contains(what));
        }
    }

    #[test]
    fn refuses_what_would_escape_a_directory_or_a_log_line() {
        for (name, says) in [
            ("..", "names a directory"),
            (".", "names a directory"),
            ("a\0b", "control character '\\0'"),
            ("a\u{1b}[31mred", "control character '\\u{1b}'"),
            ("tab\there", "control character '\\t'"),
        ] {
            let err = validate_artifact_name(name).unwrap_err().to_string();
            assert!(err.contains(says), "{name:?}: {err}");
            assert!(!err.contains('\0') && !err.contains('\u{1b}'), "{err:?}");
        }
        let err = validate_artifact_name("web\n::error::forged").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("artifact name `web\\n::error::forged`"),
            "shown escaped: {err}"
        );
        assert_eq!(validate_artifact_name("a..b"), Ok(()));
    }

    #[test]
    fn refuses_empty() {
        assert_eq!(validate_artifact_name(""), Err(NameError::Empty));
    }
}
