//! `owner/repo`, checked once where it enters (an input, an event payload),
//! so every path built from it is safe.

use std::fmt;

/// A repository name as GitHub spells one: `owner/repo`, owner of letters,
/// digits and `-`, name of letters, digits, `-`, `_` and `.` (not `.` or `..`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(String);

impl RepoName {
    /// Checks `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let ok = text.split_once('/').is_some_and(|(owner, name)| {
            !owner.is_empty()
                && !name.is_empty()
                && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && name != "."
                && name != ".."
        });
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("must be `owner/repo`, got `{text}`"))
        }
    }

    /// `owner/repo`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owner.
    pub fn owner(&self) -> &str {
        self.0.split_once('/').map_or("", |(o, _)| o)
    }

    /// The repository's name, without the owner.
    pub fn name(&self) -> &str {
        self.0.split_once('/').map_or("", |(_, n)| n)
    }

    /// GitHub compares repository names without regard to case.
    pub fn same_as(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RepoName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_slash_repo_only() {
        for ok in ["o/r", "my-org/deploy.repo", "a/b_c"] {
            let r = RepoName::parse(ok).unwrap();
            assert_eq!(r.as_str(), ok);
        }
        for bad in [
            "nope", "/r", "o/", "o/r/x", "o o/r", "o/..", "o/.", "", "o/r?x", "o/r%2F", "o\n/r",
        ] {
            assert!(RepoName::parse(bad).is_err(), "{bad:?}");
        }
        let r = RepoName::parse("Xtp/App").unwrap();
        assert_eq!((r.owner(), r.name()), ("Xtp", "App"));
        assert!(r.same_as("xtp/app"));
    }
}
