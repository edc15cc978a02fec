//! Each image digest's attestations, listed by GitHub and verified here:
//! what was found, or why nothing could be.

use std::collections::BTreeMap;

use relay_github::{Access, GitHub, Permission};
use relay_provenance::{Expected, HOW_TO_ATTEST, Policy, Verified, verify_any};
use relay_runtime::Context;

use crate::config::{Config, Refs};
use crate::images::Image;

/// What became of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// An attestation verified and the policy allowed it.
    Verified,
    /// Attestations exist, and none verified or none was allowed.
    Refused,
    /// GitHub lists no attestation for the digest.
    Missing,
    /// The attestations could not be read (permission, plan, server).
    Unavailable,
    /// A tag reference, which no attestation can vouch for.
    Tag,
    /// `provenance: off`.
    Skipped,
}

impl Verdict {
    /// As the report and the summary write it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Refused => "refused",
            Self::Missing => "missing",
            Self::Unavailable => "unavailable",
            Self::Tag => "tag",
            Self::Skipped => "skipped",
        }
    }
}

/// One image's line of the report.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub image: Image,
    pub verdict: Verdict,
    pub verified: Option<Verified>,
    /// Why it was not verified; text from the bundle or GitHub quoted in it.
    pub reason: Option<String>,
}

impl Row {
    pub(crate) fn new(image: &Image, verdict: Verdict, reason: Option<String>) -> Self {
        Self {
            image: image.clone(),
            verdict,
            verified: None,
            reason,
        }
    }
}

/// What listing one digest's attestations gave.
enum Listed {
    Bundles(Vec<Vec<u8>>),
    /// 404: GitHub has no attestation of the digest (or cannot show one).
    NotFound,
    Unavailable(String),
}

/// The message GitHub gives where the plan has no artifact attestations
/// (private repositories outside GitHub Enterprise Cloud):
/// "Feature not available for user-owned private repositories. …"
/// <https://docs.github.com/en/actions/how-tos/secure-your-work/use-artifact-attestations/use-artifact-attestations>
fn plan_lacks_attestations(message: &str) -> bool {
    message
        .to_ascii_lowercase()
        .contains("feature not available")
}

const WAY_OUT: &str = "where attestations cannot be had, set `provenance: off` for this environment (the deploy then goes ahead unverified, and says so)";

/// Lists and verifies every digest once; rows in the order of `images`.
pub(crate) async fn verify_all(ctx: &Context, config: &Config) -> anyhow::Result<Vec<Row>> {
    let client = config
        .auth
        .client_for(
            ctx,
            &Access::new(&config.repository, &[Permission::ATTESTATIONS_READ]),
        )
        .await?;
    let digests: Vec<&str> = {
        let mut d: Vec<&str> = config
            .images
            .iter()
            .filter_map(|i| i.digest.as_deref())
            .collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    if digests.is_empty() {
        // Only tags (under `warn`): nothing to list.
        return Ok(config.images.iter().map(tag_row).collect());
    }
    let policy = match policy(&client, config).await {
        Ok(p) => p,
        Err(reason) => {
            return Ok(config
                .images
                .iter()
                .map(|i| match i.digest {
                    Some(_) => Row::new(i, Verdict::Unavailable, Some(reason.clone())),
                    None => tag_row(i),
                })
                .collect());
        }
    };
    ctx.console.info(&format!(
        "Verifying the provenance of {} image digest(s) from {} at {} against {}; signer workflows: {}; refs: {}",
        digests.len(),
        config.repository,
        config.sha,
        config.roots_from,
        policy.signer_workflows.join(", "),
        policy.ref_patterns().join(", "),
    ));

    let mut listed = BTreeMap::new();
    for digest in &digests {
        let answer = match client
            .attestations(&config.repository, digest, Some("provenance"))
            .await
        {
            Ok(list) => {
                let total = list.len();
                let bundles: Vec<Vec<u8>> = list
                    .into_iter()
                    .filter_map(|a| a.bundle)
                    .filter_map(|b| serde_json::to_vec(&b).ok())
                    .collect();
                if total > 0 && bundles.is_empty() {
                    Listed::Unavailable(format!(
                        "GitHub listed {total} attestation(s) of `{digest}` only by `bundle_url`, which deploy-relay does not download\nhint: {WAY_OUT}"
                    ))
                } else {
                    Listed::Bundles(bundles)
                }
            }
            Err(e) => classify(&e, config.repository.as_str()),
        };
        listed.insert(*digest, answer);
    }

    // GitHub Enterprise Server may not have the attestations API: every
    // digest is a 404 there. GHES is told by its API URL, `https://HOST/api/v3`.
    // <https://docs.github.com/en/enterprise-server@latest/rest/quickstart#using-curl-commands-in-github-actions>
    let api = ctx.env.api_url();
    let ghes = api.ends_with("/api/v3");
    let all_missing = !listed.is_empty() && listed.values().all(|l| matches!(l, Listed::NotFound));
    if ghes && all_missing {
        let reason = format!(
            "`{api}` answered 404 for the attestations of every image: this GitHub Enterprise Server may not have the artifact attestations API (or `{}` has no attestations)\nhint: {WAY_OUT}",
            config.repository
        );
        for v in listed.values_mut() {
            *v = Listed::Unavailable(reason.clone());
        }
    }

    let mut results: BTreeMap<&str, (Verdict, Option<Verified>, Option<String>)> = BTreeMap::new();
    for (digest, answer) in listed {
        let result = match answer {
            Listed::Unavailable(reason) => (Verdict::Unavailable, None, Some(reason)),
            Listed::NotFound => (
                Verdict::Missing,
                None,
                Some(
                    relay_provenance::Error::NoAttestation {
                        digest: digest.to_owned(),
                        repository: config.repository.to_string(),
                    }
                    .to_string(),
                ),
            ),
            Listed::Bundles(bundles) => {
                let expected = Expected {
                    digest,
                    commit: &config.sha,
                };
                match verify_any(
                    bundles.iter().map(Vec::as_slice),
                    &config.roots,
                    &policy,
                    expected,
                ) {
                    Ok(v) => (Verdict::Verified, Some(v), None),
                    Err(relay_provenance::Error::NoneVerified { refusals, .. }) => {
                        let n = refusals.len();
                        let mut text =
                            format!("none of the {n} attestation(s) of `{digest}` passed:");
                        for (i, r) in refusals.iter().enumerate() {
                            text.push_str(&format!("\n{}. {r}", i + 1));
                        }
                        (Verdict::Refused, None, Some(text))
                    }
                    Err(e @ relay_provenance::Error::NoAttestation { .. }) => {
                        (Verdict::Missing, None, Some(e.to_string()))
                    }
                    Err(e) => (Verdict::Refused, None, Some(e.to_string())),
                }
            }
        };
        results.insert(digest, result);
    }

    Ok(config
        .images
        .iter()
        .map(|image| match image.digest.as_deref() {
            None => tag_row(image),
            Some(d) => {
                let (verdict, verified, reason) =
                    results
                        .get(d)
                        .cloned()
                        .unwrap_or((Verdict::Unavailable, None, None));
                Row {
                    image: image.clone(),
                    verdict,
                    verified,
                    reason,
                }
            }
        })
        .collect())
}

fn tag_row(image: &Image) -> Row {
    Row::new(
        image,
        Verdict::Tag,
        Some(format!(
            "`{}` is a tag, not a digest: no attestation can vouch for what a tag will point at when it is pulled\nhint: hand over `name@sha256:<digest>` (the digest the build pushed)",
            image.reference
        )),
    )
}

/// A failed listing, said so a user can act on it.
fn classify(e: &relay_github::Error, repository: &str) -> Listed {
    let message = match e {
        relay_github::Error::Status { message, .. } => message.as_str(),
        _ => "",
    };
    if plan_lacks_attestations(message) {
        return Listed::Unavailable(format!(
            "GitHub does not offer artifact attestations for `{repository}` (it said: {message}); attestations of private and internal repositories need GitHub Enterprise Cloud\nhint: make the repository public, or {WAY_OUT}"
        ));
    }
    if e.status() == Some(404) {
        return Listed::NotFound;
    }
    // The call's own error names the missing permission (`attestations: read`).
    Listed::Unavailable(format!("{e}\nhint: {WAY_OUT}"))
}

/// The policy: the default one for the app repository, with the inputs'
/// replacements; the default branch looked up when it is needed and not given.
async fn policy(client: &GitHub, config: &Config) -> Result<Policy, String> {
    let repo = config.repository.as_str();
    let mut policy = match &config.refs {
        Refs::Given(refs) => {
            let mut p = Policy::new(repo, "", &[]);
            p.refs.clone_from(refs);
            p
        }
        Refs::Default {
            default_branch,
            branches,
        } => {
            let branch = match default_branch {
                Some(b) => b.clone(),
                None => client
                    .default_branch(&config.repository)
                    .await
                    .map_err(|e| format!("{e}\nhint: pass `default-branch` (or `allowed-refs`) to skip the lookup; {WAY_OUT}"))?,
            };
            let branches: Vec<&str> = branches.iter().map(String::as_str).collect();
            Policy::new(repo, &branch, &branches)
        }
    };
    if let Some(w) = &config.signer_workflows {
        policy.signer_workflows.clone_from(w);
    }
    policy.mode = config.mode;
    config.server_url.clone_into(&mut policy.server_url);
    Ok(policy)
}

/// The advice a failure under `require` ends with.
pub(crate) fn how_to_fix(rows: &[Row]) -> String {
    let mut hints = Vec::new();
    if rows
        .iter()
        .any(|r| matches!(r.verdict, Verdict::Missing | Verdict::Refused))
    {
        hints.push(format!(
            "to deploy only what CI built, {HOW_TO_ATTEST}, and hand its digest over"
        ));
    }
    hints.push(WAY_OUT.to_owned());
    hints.join("; ")
}
