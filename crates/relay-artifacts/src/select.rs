//! Which of a run's artifacts to take: every page of the list, the newest
//! artifact per name (a re-run uploads again), then the caller's
//! [`Selection`]. Names the API lists are untrusted: one that could not be
//! used as a directory name or shown on a log line is set aside as
//! [`Refused`], whatever the caller does next (download only included).

use globset::GlobMatcher;
use relay_github::GitHub;
use relay_runtime::RepoName;

use crate::error::ArtifactError;
use crate::name::{NameError, validate_artifact_name};
use crate::rest::{self, RestArtifact};

/// What to take from the run.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Every artifact.
    All,
    /// These exact names (one name is filtered by GitHub).
    Names(Vec<String>),
    /// Names matching a glob; `glob` is its text, for messages.
    Pattern {
        /// The glob as written.
        glob: String,
        /// The glob, compiled.
        matcher: GlobMatcher,
    },
    /// These artifact ids, as `download-artifact`'s `artifact-ids`: an id
    /// that is not the newest artifact of its name counts as missing.
    Ids(Vec<u64>),
}

impl Selection {
    fn wants(&self, a: &RestArtifact) -> bool {
        match self {
            Selection::All => true,
            Selection::Names(names) => names.contains(&a.name),
            Selection::Pattern { matcher, .. } => matcher.is_match(&a.name),
            Selection::Ids(ids) => ids.contains(&a.id),
        }
    }

    /// How the selection reads after "matched" in a message: `` the names `a`, `b` ``.
    pub fn describe(&self) -> String {
        match self {
            Selection::All => String::new(),
            Selection::Names(names) => format!(" the names {}", crate::error::quoted(names)),
            Selection::Pattern { glob, .. } => format!(" the pattern `{glob}`"),
            Selection::Ids(ids) => format!(
                " the ids {}",
                ids.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// A listed artifact whose name cannot be used; it is neither downloaded
/// nor named on a log line unescaped.
#[derive(Debug)]
pub struct Refused {
    /// The artifact's id.
    pub id: u64,
    /// Why its name is refused.
    pub reason: NameError,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = self.reason.to_string();
        let reason = reason.lines().next().unwrap_or_default();
        write!(f, "artifact {} was skipped: {reason}", self.id)
    }
}

/// The run's artifacts, as the selection takes them.
#[derive(Debug, Default)]
pub struct Listing {
    /// The newest live artifact of each selected name, by name.
    pub selected: Vec<RestArtifact>,
    /// Selected artifacts that expired (and have no live artifact of
    /// their name).
    pub expired: Vec<RestArtifact>,
    /// Names or ids asked for that match no artifact at all.
    pub missing: Vec<String>,
    /// Artifacts whose listed name is unusable.
    pub refused: Vec<Refused>,
}

impl Listing {
    /// Whether anything can be relayed.
    pub fn found(&self) -> bool {
        !self.selected.is_empty()
    }
}

/// Lists run `run_id` of `repo` (every page) and applies `selection`.
pub async fn list(
    gh: &GitHub,
    repo: &RepoName,
    run_id: u64,
    selection: &Selection,
) -> Result<Listing, ArtifactError> {
    let server_filter = match selection {
        Selection::Names(names) if names.len() == 1 => Some(names[0].as_str()),
        _ => None,
    };
    let all = rest::list_run_artifacts(gh, repo, run_id, server_filter).await?;
    Ok(apply(all, selection))
}

fn apply(all: rest::RunArtifacts, selection: &Selection) -> Listing {
    let mut listing = Listing::default();
    let (mut selected, mut expired, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    for (list, into) in [(all.artifacts, &mut selected), (all.expired, &mut expired)] {
        for a in list {
            match validate_artifact_name(&a.name) {
                Err(reason) => refused.push(Refused { id: a.id, reason }),
                Ok(()) if selection.wants(&a) => into.push(a),
                Ok(()) => {}
            }
        }
    }
    listing.missing = match selection {
        Selection::Names(names) => names
            .iter()
            .filter(|n| !selected.iter().chain(&expired).any(|a| a.name == **n))
            .cloned()
            .collect(),
        Selection::Ids(ids) => ids
            .iter()
            .filter(|id| !selected.iter().chain(&expired).any(|a| a.id == **id))
            .map(u64::to_string)
            .collect(),
        _ => Vec::new(),
    };
    listing.selected = selected;
    listing.expired = expired;
    listing.refused = refused;
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(id: u64, name: &str) -> RestArtifact {
        rest::test_artifact(id, name, "2026-11-22T10:00:00Z")
    }

    fn names(v: &[RestArtifact]) -> Vec<&str> {
        v.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn hostile_listed_names_are_refused_whatever_the_selection() {
        let all = rest::newest_per_name(
            vec![
                art(1, "web"),
                art(2, "web\n::error::forged"),
                art(3, ".."),
                art(4, "a/b"),
                rest::expired(art(5, "nul\0")),
            ],
            None,
        );
        let got = apply(all, &Selection::All);
        assert_eq!(names(&got.selected), ["web"]);
        assert!(got.expired.is_empty());
        let mut ids: Vec<u64> = got.refused.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, [2, 3, 4, 5]);
        for r in &got.refused {
            let shown = r.to_string();
            assert!(!shown.contains('\n') && !shown.contains('\0'), "{shown:?}");
        }
    }

    #[test]
    fn names_and_ids_report_what_is_missing() {
        let list = || {
            rest::newest_per_name(
                vec![art(1, "web"), art(2, "api"), rest::expired(art(3, "old"))],
                None,
            )
        };
        let got = apply(
            list(),
            &Selection::Names(vec!["web".into(), "nope".into(), "old".into()]),
        );
        assert_eq!(names(&got.selected), ["web"]);
        assert_eq!(names(&got.expired), ["old"]);
        assert_eq!(got.missing, ["nope"]);
        let got = apply(list(), &Selection::Ids(vec![2, 99]));
        assert_eq!(names(&got.selected), ["api"]);
        assert_eq!(got.missing, ["99"]);
        assert!(got.found());
        let got = apply(list(), &Selection::Ids(vec![99]));
        assert!(!got.found());
    }
}
