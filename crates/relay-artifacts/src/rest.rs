//! The REST side of artifacts, through [`relay_github::GitHub`] (so GitHub's
//! retry rules, rate limits and permission hints apply): a run's artifact
//! list (every page, newest per name, expired ones set aside for a warning),
//! the `/zip` endpoint's 302 to a short-lived signed blob URL (taken without
//! following it, so the GitHub token never reaches blob storage).

use std::collections::BTreeMap;

use relay_github::GitHub;
use relay_http::DisplaySafeUrl;
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
) -> Result<DisplaySafeUrl, ArtifactError> {
    match gh.artifact_zip_url(repo, artifact).await {
        Err(e) if e.status() == Some(410) => Err(ArtifactError::Expired {
            name: artifact.name.clone(),
        }),
        other => Ok(other?),
    }
}

/// A listed, live artifact of three bytes, for the unit tests of the listing.
#[cfg(test)]
pub(crate) fn test_artifact(id: u64, name: &str, created: &str) -> RestArtifact {
    RestArtifact {
        id,
        name: name.into(),
        size_in_bytes: 3,
        digest: None,
        expired: false,
        created_at: Some(created.into()),
    }
}

/// `a`, expired.
#[cfg(test)]
pub(crate) fn expired(a: RestArtifact) -> RestArtifact {
    RestArtifact { expired: true, ..a }
}

#[cfg(test)]
mod tests {
    use relay_fakes::FakeArtifacts;

    use super::*;
    use super::{expired, test_artifact as art};
    use crate::test_support::{Overwrite, github, o_r, pseudo_random, relay_into_current};

    #[test]
    fn newest_per_name_wins_and_expired_names_are_set_aside() {
        let got = newest_per_name(
            vec![
                art(1, "web", "2026-01-01T00:00:00Z"),
                expired(art(2, "old", "2026-01-01T00:00:00Z")),
                art(3, "web", "2026-01-02T00:00:00Z"),
                art(4, "api", "2026-01-01T00:00:00Z"),
                expired(art(5, "api", "2026-01-03T00:00:00Z")),
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
        let only = newest_per_name(vec![art(1, "web", "x"), art(4, "api", "x")], Some("api"));
        assert_eq!(only.artifacts.len(), 1);
    }

    #[tokio::test]
    async fn rest_lists_every_page_newest_per_name_and_sets_expired_aside() {
        use relay_fakes::ArtifactSeed;
        let gh = relay_fakes::FakeGitHub::start();
        gh.repo("o/r", "main");
        for i in 0..130 {
            gh.add_artifact(
                "o/r",
                7,
                ArtifactSeed::new(&format!("n{i:03}"), "http://b/x", 1),
            );
        }
        let old_web = gh.add_artifact("o/r", 7, ArtifactSeed::new("web", "http://b/1", 1));
        let new_web = gh.add_artifact(
            "o/r",
            7,
            ArtifactSeed::new("web", "http://b/2", 1).created_at("2026-11-22T11:00:00Z"),
        );
        gh.add_artifact(
            "o/r",
            7,
            ArtifactSeed::new("old", "http://b/3", 1).expired(),
        );
        let client = github(&gh);
        let got = super::list_run_artifacts(&client, &o_r(), 7, None)
            .await
            .unwrap();
        assert_eq!(got.artifacts.len(), 131, "two pages of 100");
        let web = got.artifacts.iter().find(|a| a.name == "web").unwrap();
        assert_eq!(web.id, new_web);
        assert_ne!(web.id, old_web);
        assert_eq!(got.expired[0].name, "old");
        let only = super::list_run_artifacts(&client, &o_r(), 7, Some("n007"))
            .await
            .unwrap();
        assert_eq!(only.artifacts.len(), 1);
        let lists = gh
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/runs/7/artifacts"))
            .count();
        assert_eq!(lists, 3);
    }

    #[tokio::test]
    async fn zip_redirect_is_followed_without_the_github_token_and_410_means_expired() {
        use relay_fakes::ArtifactSeed;
        let fake = FakeArtifacts::start();
        let data = pseudo_random(100_000);
        let (_, blob_url, digest) = fake.seed("source-run", "web", data.clone());
        let gh = relay_fakes::FakeGitHub::start();
        gh.repo("o/r", "main");
        let seed = ArtifactSeed::new("web", &blob_url, data.len() as u64).digest(&digest);
        let id = gh.add_artifact("o/r", 7, seed.clone());
        let client = github(&gh);
        let listed = super::list_run_artifacts(&client, &o_r(), 7, None)
            .await
            .unwrap();
        assert_eq!(listed.artifacts[0].id, id);
        assert_eq!(listed.artifacts[0].digest.as_deref(), Some(digest.as_str()));
        let url = super::zip_url(&client, &o_r(), &listed.artifacts[0])
            .await
            .unwrap();
        assert_eq!(url.expose().as_str(), blob_url);
        let done = relay_into_current(&fake, &url, &digest, Overwrite::Refuse)
            .await
            .unwrap();
        assert_eq!(done.1.size, data.len() as u64);
        assert!(
            !fake.blob_saw_authorization(),
            "a token went to blob storage"
        );

        let expired_id = gh.add_artifact("o/r", 7, seed.expired());
        let mut expired = listed.artifacts[0].clone();
        expired.id = expired_id;
        let err = super::zip_url(&client, &o_r(), &expired).await.unwrap_err();
        assert!(
            matches!(err, ArtifactError::Expired { ref name } if name == "web"),
            "{err}"
        );
    }
}
