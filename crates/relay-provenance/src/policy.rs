//! The deploy policy on a verified attestation: it is SLSA provenance v1
//! for the image digest being deployed, made in GitHub Actions by an
//! allowed workflow of the application's repository, from an allowed ref,
//! at the commit being deployed.

use std::str::FromStr;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::error::Error;
use crate::verify::VerifiedBundle;
use crate::x509::rfc3339;

/// GitHub Actions' OIDC issuer.
/// <https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect>
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The predicate type `actions/attest-build-provenance` writes.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// What a failed verification does: stop the deploy, warn, or skip the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An image not verified stops the deploy.
    Require,
    /// An image not verified is a warning; the deploy goes ahead.
    Warn,
    /// Nothing is read or verified.
    Off,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "require" => Ok(Self::Require),
            "warn" => Ok(Self::Warn),
            "off" => Ok(Self::Off),
            other => Err(format!(
                "`{other}` is not a provenance mode; use `require`, `warn` or `off`"
            )),
        }
    }
}

/// The policy's inputs.
#[derive(Debug, Clone)]
pub struct Policy {
    /// What a refusal does; the checks are the same in every mode.
    pub mode: Mode,
    /// The application's repository, `owner/repo`: the attestation must
    /// have been built from it.
    pub repository: String,
    /// Globs over the signer workflow as `owner/repo/.github/workflows/<file>`
    /// (matched without the `@ref`), or `…/<file>@<ref>` (a pattern with an
    /// `@` is matched with the ref). Case-insensitive, like GitHub's names.
    pub signer_workflows: Vec<String>,
    /// Globs over the ref that was built (`refs/heads/main`, `refs/tags/v1`);
    /// a pattern not starting with `refs/` names branches (`hotfix/*` is
    /// `refs/heads/hotfix/*`). `*` stops at `/`, `**` does not, as in
    /// GitHub's filter patterns:
    /// <https://docs.github.com/en/actions/using-workflows/workflow-syntax-for-github-actions#filter-pattern-cheat-sheet>
    pub refs: Vec<String>,
    /// The OIDC issuer the certificate must name.
    pub issuer: String,
    /// The GitHub server the workflow ran on (`https://github.com`).
    pub server_url: String,
}

/// What is being deployed.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The image digest, `sha256:<hex>`.
    pub digest: &'a str,
    /// The commit sha being deployed.
    pub commit: &'a str,
}

/// What a passing attestation showed, for the summary and the deployment record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The image digest attested, `sha256:<hex>` in lower case.
    pub digest: String,
    /// The signer workflow (certificate SAN).
    pub signer_workflow: String,
    /// The repository built, as the certificate names it
    /// (`https://github.com/owner/repo`).
    pub source_repository: String,
    /// The ref built (`refs/heads/main`, `refs/tags/v1`).
    pub source_ref: String,
    /// The commit built, as the certificate names it.
    pub source_commit: String,
    /// The OIDC issuer of the token the certificate was issued for.
    pub issuer: String,
    /// The earliest signing time proven, RFC 3339.
    pub signed_at: String,
    /// The index of the first transparency-log entry, if any.
    pub log_index: Option<u64>,
    /// Whether an RFC 3161 timestamp was among the proofs.
    pub timestamped: bool,
    /// The name of the trusted root the certificate chained to.
    pub root: String,
}

impl Policy {
    /// The default policy for `repository`: any workflow of the repository
    /// itself, building its default branch, a tag, or one of `branches`
    /// (globs such as `hotfix/*`).
    pub fn new(repository: &str, default_branch: &str, branches: &[&str]) -> Self {
        let mut refs = vec![
            format!("refs/heads/{default_branch}"),
            "refs/tags/**".to_owned(),
        ];
        refs.extend(branches.iter().map(|b| (*b).to_owned()));
        Self {
            mode: Mode::Require,
            repository: repository.to_owned(),
            signer_workflows: vec![format!("{repository}/.github/workflows/*")],
            refs,
            issuer: GITHUB_ACTIONS_ISSUER.to_owned(),
            server_url: "https://github.com".to_owned(),
        }
    }

    /// The ref globs as matched: branch names completed to `refs/heads/…`.
    pub fn ref_patterns(&self) -> Vec<String> {
        self.refs
            .iter()
            .map(|r| {
                if r.starts_with("refs/") {
                    r.clone()
                } else {
                    format!("refs/heads/{r}")
                }
            })
            .collect()
    }

    /// Judges a verified bundle against the policy for what is deployed.
    pub fn check(
        &self,
        bundle: &VerifiedBundle,
        expected: Expected<'_>,
    ) -> Result<Verified, Error> {
        let st = &bundle.statement;
        if st.predicate_type != SLSA_PROVENANCE_V1 {
            return Err(Error::PredicateType {
                found: st.predicate_type.clone(),
            });
        }
        let want = expected
            .digest
            .strip_prefix("sha256:")
            .unwrap_or(expected.digest);
        let matches = st.subject.iter().any(|s| {
            s.digest
                .get("sha256")
                .is_some_and(|d| d.eq_ignore_ascii_case(want))
        });
        if !matches {
            let found = st
                .subject
                .iter()
                .flat_map(|s| s.digest.iter().map(|(alg, d)| format!("{alg}:{d}")))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::Digest {
                expected: format!("sha256:{want}"),
                found,
            });
        }
        let id = &bundle.identity;
        let issuer = required(id.issuer.as_deref(), "OIDC issuer", "1.3.6.1.4.1.57264.1.8")?;
        if issuer != self.issuer {
            return Err(Error::Issuer {
                expected: self.issuer.clone(),
                found: issuer.to_owned(),
            });
        }
        let source = required(
            id.source_repository.as_deref(),
            "source repository",
            "1.3.6.1.4.1.57264.1.12",
        )?;
        let want_source = format!(
            "{}/{}",
            self.server_url.trim_end_matches('/'),
            self.repository
        );
        if !source.eq_ignore_ascii_case(&want_source) {
            return Err(Error::SourceRepository {
                expected: want_source,
                found: source.to_owned(),
            });
        }
        let san = required(
            id.san.as_deref(),
            "signer workflow",
            "subject alternative name",
        )?;
        let server = format!("{}/", self.server_url.trim_end_matches('/'));
        let workflow = san.strip_prefix(&server).unwrap_or(san);
        if !self.workflow_allowed(workflow)? {
            return Err(Error::SignerWorkflow {
                found: san.to_owned(),
                allowed: self.signer_workflows.clone(),
            });
        }
        let git_ref = required(
            id.source_ref.as_deref(),
            "source ref",
            "1.3.6.1.4.1.57264.1.14",
        )?;
        let patterns = self.ref_patterns();
        if !globs(&patterns, false)?.is_match(git_ref) {
            return Err(Error::Ref {
                found: git_ref.to_owned(),
                allowed: patterns,
            });
        }
        let commit = required(
            id.source_commit.as_deref(),
            "source commit",
            "1.3.6.1.4.1.57264.1.13",
        )?;
        if !commit.eq_ignore_ascii_case(expected.commit) {
            return Err(Error::SourceCommit {
                expected: expected.commit.to_owned(),
                found: commit.to_owned(),
            });
        }
        Ok(Verified {
            digest: format!("sha256:{}", want.to_ascii_lowercase()),
            signer_workflow: san.to_owned(),
            source_repository: source.to_owned(),
            source_ref: git_ref.to_owned(),
            source_commit: commit.to_owned(),
            issuer: issuer.to_owned(),
            signed_at: rfc3339(bundle.signed_at),
            log_index: bundle.log_index,
            timestamped: bundle.timestamped,
            root: bundle.root.clone(),
        })
    }

    /// `workflow` is `owner/repo/.github/workflows/<file>@<ref>`.
    fn workflow_allowed(&self, workflow: &str) -> Result<bool, Error> {
        let path = workflow.split_once('@').map_or(workflow, |(p, _)| p);
        let (with_ref, without): (Vec<String>, Vec<String>) = self
            .signer_workflows
            .iter()
            .cloned()
            .partition(|p| p.contains('@'));
        Ok(globs(&without, true)?.is_match(path) || globs(&with_ref, true)?.is_match(workflow))
    }
}

fn required<'a>(
    v: Option<&'a str>,
    what: &'static str,
    oid: &'static str,
) -> Result<&'a str, Error> {
    v.ok_or(Error::MissingIdentity { what, oid })
}

fn globs(patterns: &[String], case_insensitive: bool) -> Result<GlobSet, Error> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let glob: Glob = GlobBuilder::new(p)
            .literal_separator(true)
            .case_insensitive(case_insensitive)
            .build()
            .map_err(|source| Error::Pattern {
                pattern: p.clone(),
                source,
            })?;
        set.add(glob);
    }
    set.build().map_err(|source| Error::Pattern {
        pattern: patterns.join(", "),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Identity, Statement, Subject};

    const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const COMMIT: &str = "8c1f0b7d2e4a6c8e0f1a3b5c7d9e1f2a3b4c5d6e";

    fn bundle(workflow: &str, git_ref: &str) -> VerifiedBundle {
        VerifiedBundle {
            statement: Statement {
                statement_type: "https://in-toto.io/Statement/v1".into(),
                subject: vec![Subject {
                    name: "ghcr.io/octo/app".into(),
                    digest: [("sha256".to_owned(), DIGEST.to_owned())].into(),
                }],
                predicate_type: SLSA_PROVENANCE_V1.into(),
                predicate: serde_json::Value::Null,
            },
            identity: Identity {
                san: Some(format!("https://github.com/{workflow}@{git_ref}")),
                issuer: Some(GITHUB_ACTIONS_ISSUER.into()),
                source_repository: Some("https://github.com/Octo/App".into()),
                source_commit: Some(COMMIT.into()),
                source_ref: Some(git_ref.into()),
                ..Identity::default()
            },
            signed_at: 0,
            log_index: Some(1),
            timestamped: false,
            root: "r".into(),
            ca: "c".into(),
        }
    }

    fn check(policy: &Policy, workflow: &str, git_ref: &str) -> Result<Verified, Error> {
        policy.check(
            &bundle(workflow, git_ref),
            Expected {
                digest: &format!("sha256:{DIGEST}"),
                commit: COMMIT,
            },
        )
    }

    #[test]
    fn the_default_allows_the_repositorys_workflows_on_the_default_branch_and_tags() {
        let p = Policy::new("octo/app", "main", &[]);
        let wf = "octo/app/.github/workflows/build.yml";
        assert!(check(&p, wf, "refs/heads/main").is_ok());
        assert!(
            check(
                &p,
                "OCTO/app/.github/workflows/build.yml",
                "refs/tags/v1.2.3"
            )
            .is_ok()
        );
        assert!(
            check(&p, wf, "refs/tags/release/2026").is_ok(),
            "** crosses /"
        );
        assert!(matches!(
            check(&p, wf, "refs/heads/feature"),
            Err(Error::Ref { .. })
        ));
        assert!(matches!(
            check(&p, wf, "refs/heads/main-old"),
            Err(Error::Ref { .. })
        ));
        assert!(matches!(
            check(
                &p,
                "octo/other/.github/workflows/build.yml",
                "refs/heads/main"
            ),
            Err(Error::SignerWorkflow { .. })
        ));
        assert!(matches!(
            check(
                &p,
                "octo/app/.github/workflows/nested/x.yml",
                "refs/heads/main"
            ),
            Err(Error::SignerWorkflow { .. })
        ));
    }

    #[test]
    fn branch_globs_are_completed_and_stop_at_slashes() {
        let p = Policy::new("octo/app", "main", &["hotfix/*"]);
        assert_eq!(p.ref_patterns()[2], "refs/heads/hotfix/*");
        let wf = "octo/app/.github/workflows/build.yml";
        assert!(check(&p, wf, "refs/heads/hotfix/cve-1").is_ok());
        assert!(matches!(
            check(&p, wf, "refs/heads/hotfix/a/b"),
            Err(Error::Ref { .. })
        ));
    }

    #[test]
    fn a_workflow_pattern_with_a_ref_matches_the_ref_too() {
        let mut p = Policy::new("octo/app", "main", &[]);
        p.signer_workflows = vec!["octo/app/.github/workflows/release.yml@refs/tags/*".into()];
        let wf = "octo/app/.github/workflows/release.yml";
        assert!(check(&p, wf, "refs/tags/v1").is_ok());
        assert!(matches!(
            check(&p, wf, "refs/heads/main"),
            Err(Error::SignerWorkflow { .. })
        ));
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let mut p = Policy::new("octo/app", "main", &[]);
        p.refs = vec!["refs/heads/[main".into()];
        assert!(matches!(
            check(&p, "octo/app/.github/workflows/build.yml", "refs/heads/main"),
            Err(Error::Pattern { pattern, .. }) if pattern == "refs/heads/[main"
        ));
    }

    #[test]
    fn modes_parse_and_others_are_named() {
        assert_eq!("require".parse(), Ok(Mode::Require));
        assert_eq!("warn".parse(), Ok(Mode::Warn));
        assert_eq!("off".parse(), Ok(Mode::Off));
        assert!("Require".parse::<Mode>().unwrap_err().contains("`Require`"));
    }

    #[test]
    fn another_issuer_or_predicate_is_refused() {
        let p = Policy::new("octo/app", "main", &[]);
        let mut b = bundle("octo/app/.github/workflows/build.yml", "refs/heads/main");
        b.identity.issuer = Some("https://gitlab.com".into());
        let exp = Expected {
            digest: &format!("sha256:{DIGEST}"),
            commit: COMMIT,
        };
        assert!(matches!(p.check(&b, exp), Err(Error::Issuer { .. })));
        b.identity.issuer = None;
        assert!(matches!(
            p.check(&b, exp),
            Err(Error::MissingIdentity { .. })
        ));
        b.statement.predicate_type = "https://spdx.dev/Document".into();
        assert!(matches!(p.check(&b, exp), Err(Error::PredicateType { .. })));
    }
}
