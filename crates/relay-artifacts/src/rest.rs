//! The REST side of artifacts, through [`relay_github::GitHub`] (so GitHub's
//! retry rules, rate limits and permission hints apply): a run's artifact
//! list (every page, newest per name, expired ones set aside for a warning),
//! the `/zip` endpoint's 302 to a short-lived signed blob URL (taken without
//! following it, so the GitHub token never reaches blob storage).

use std::collections::BTreeMap;

use relay_github::GitHub;
use relay_runtime::RepoName;

use crate::error::ArtifactError;

/// One artifact as the REST API lists it.
pub type RestArtifact = relay_github::Artifact;

/// The newest live artifact per name, and the expired ones whose name has
/// no live artifact.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RunArtifacts {
    pub artifacts: Vec<RestArtifact>,
    pub expired: Vec<RestArtifact>,
}

/// Every artifact of run `run_id` in `repo` (`owner/name`), all pages;
/// `name` filters server-side. Of several artifacts with one name (a re-run
/// uploads again) the newest wins; expired ones are set aside.
pub(crate) async fn list_run_artifacts(
    gh: &GitHub,
    repo: &RepoName,
    run_id: u64,
    name: Option<&str>,
) -> Result<RunArtifacts, ArtifactError> {
    let all = gh.run_artifacts(repo, run_id, name).await?;
    Ok(newest_per_name(all, name))
}

/// Keeps the newest artifact per name (and only `name`, if given); expired
/// names are listed apart unless a live artifact has the same name.
pub(crate) fn newest_per_name(all: Vec<RestArtifact>, name: Option<&str>) -> RunArtifacts {
    let mut newest: BTreeMap<String, RestArtifact> = BTreeMap::new();
    let mut expired: BTreeMap<String, RestArtifact> = BTreeMap::new();
    for a in all {
        if name.is_some_and(|n| n != a.name) {
            continue;
        }
        if a.expired {
            expired.entry(a.name.clone()).or_insert(a);
            continue;
        }
        let keep = newest.get(&a.name).is_none_or(|old| {
            (a.created_at.as_deref(), a.id) > (old.created_at.as_deref(), old.id)
        });
        if keep {
            newest.insert(a.name.clone(), a);
        }
    }
    expired.retain(|n, _| !newest.contains_key(n));
    RunArtifacts {
        artifacts: newest.into_values().collect(),
        expired: expired.into_values().collect(),
    }
}

/// The signed blob URL `/zip` redirects to (the client never follows
/// redirects, so the token stays with GitHub).
pub(crate) async fn zip_url(
    gh: &GitHub,
    repo: &RepoName,
    artifact: &RestArtifact,
) -> Result<String, ArtifactError> {
    match gh.artifact_zip_url(repo, artifact).await {
        Err(e) if e.status() == Some(410) => Err(ArtifactError::Expired {
            name: artifact.name.clone(),
        }),
        other => Ok(other?),
    }
}

/// A listed artifact of three bytes, for the unit tests of the listing.
#[cfg(test)]
pub(crate) fn test_artifact(id: u64, name: &str, created: &str, expired: bool) -> RestArtifact {
    RestArtifact {
        id,
        name: name.into(),
        size_in_bytes: 3,
        digest: None,
        expired,
        created_at: Some(created.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::test_artifact as art;
    use super::*;

    #[test]
    fn newest_per_name_wins_and_expired_names_are_set_aside() {
        let got = newest_per_name(
            vec![
                art(1, "web", "2026-01-01T00:00:00Z", false),
                art(2, "old", "2026-01-01T00:00:00Z", true),
                art(3, "web", "2026-01-02T00:00:00Z", false),
                art(4, "api", "2026-01-01T00:00:00Z", false),
                art(5, "api", "2026-01-03T00:00:00Z", true),
            ],
            None,
        );
        let names: Vec<_> = got
            .artifacts
            .iter()
            .map(|a| (a.name.as_str(), a.id))
            .collect();
        assert_eq!(names, [("api", 4), ("web", 3)]);
        assert_eq!(
            got.expired
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>(),
            ["old"],
            "an expired re-upload of a live name is not reported"
        );
        let only = newest_per_name(
            vec![art(1, "web", "x", false), art(4, "api", "x", false)],
            Some("api"),
        );
        assert_eq!(only.artifacts.len(), 1);
    }
}
