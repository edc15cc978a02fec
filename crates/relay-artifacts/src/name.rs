//! Artifact names are checked before any request, with the same forbidden
//! characters as `@actions/artifact`'s `validateArtifactName`, so a name the
//! service would reject fails fast with the offending character named.

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
pub enum NameError {
    #[error("artifact name is empty\nhint: give the artifact a name")]
    Empty,
    #[error(
        "artifact name `{name}` contains a {what} ({shown:?}), which GitHub does not allow\nhint: remove {shown:?} from the name"
    )]
    Forbidden {
        name: String,
        what: &'static str,
        shown: char,
    },
}

/// Accepts `name` when the artifacts service would.
pub fn validate_artifact_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    for c in name.chars() {
        if let Some((shown, what)) = FORBIDDEN.iter().find(|(f, _)| *f == c) {
            return Err(NameError::Forbidden {
                name: name.to_owned(),
                what,
                shown: *shown,
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
    fn refuses_empty() {
        assert_eq!(validate_artifact_name(""), Err(NameError::Empty));
    }
}
