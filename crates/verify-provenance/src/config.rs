//! Inputs, every one checked before any request, and the defaults the
//! event gives.

use std::path::PathBuf;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use relay_github::Auth;
use relay_provenance::{Mode, TrustedRoots};
use relay_runtime::{Context, InputError, RepoName, Source, check_repository};

use crate::images::{self, Image};

/// A trusted root file larger than this is not a trusted root (the
/// public-good one is about 7 KiB, GitHub's about 30 KiB).
const MAX_ROOT_BYTES: u64 = 1 << 20;

/// Which refs an attestation may have been built from.
#[derive(Debug, Clone)]
pub(crate) enum Refs {
    /// `allowed-refs`, as given.
    Given(Vec<String>),
    /// The default: the default branch (given, or looked up), tags, and
    /// the branches the environments map sends to this environment.
    Default {
        default_branch: Option<String>,
        branches: Vec<String>,
    },
}

pub(crate) struct Config {
    /// `github-token`, or the App (which mints a token that reads attestations).
    pub auth: Auth,
    pub repository: RepoName,
    pub sha: String,
    pub images: Vec<Image>,
    pub mode: Mode,
    /// Why this mode.
    pub mode_source: ModeSource,
    pub environment: String,
    pub signer_workflows: Option<Vec<String>>,
    pub refs: Refs,
    /// Replaces the embedded roots when set.
    pub roots: TrustedRoots,
    /// Where the roots came from, for the log.
    pub roots_from: String,
    /// `GITHUB_SERVER_URL`: the server the certificate's identities name.
    pub server_url: String,
}

/// Where the mode came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModeSource {
    Input,
    Protected,
    Unprotected,
    NoEnvironment,
}

impl Config {
    /// Why this mode applies; `quote` renders the environment's name for
    /// the channel (log or markdown).
    pub(crate) fn mode_why(&self, quote: impl Fn(&str) -> String) -> String {
        let env = quote(&self.environment);
        match self.mode_source {
            ModeSource::Input => "set by the `provenance` input".to_owned(),
            ModeSource::Protected => {
                format!("the default for environment {env}, one of the protected environments")
            }
            ModeSource::Unprotected => {
                format!("the default for environment {env}, which is not a protected environment")
            }
            ModeSource::NoEnvironment => "the default when no environment is named".to_owned(),
        }
    }
}

pub(crate) fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Require => "require",
        Mode::Warn => "warn",
        Mode::Off => "off",
    }
}

fn globs(input: &str, patterns: &[String], case_insensitive: bool) -> Result<GlobSet, InputError> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        // As relay-provenance matches them: `*` stops at `/`, `**` crosses it.
        let glob = GlobBuilder::new(p)
            .literal_separator(true)
            .case_insensitive(case_insensitive)
            .build()
            .map_err(|e| {
                InputError::new(
                    input,
                    &format!("has a bad glob `{p}`: {e}"),
                    "use `*` (not across `/`), `**`, `?`, `[abc]` and `{a,b}`",
                )
            })?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| InputError::new(input, &e.to_string(), "fix the globs"))
}

/// Comma- or newline-separated values, trimmed, without comments.
fn list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn parse(ctx: &Context) -> Result<Config, InputError> {
    let inputs = &ctx.inputs;
    let mut source = Source::from_event(&ctx.env, &ctx.event);
    if let Some(pr) = ctx.event.pull_request() {
        // The head commit is what was built; GITHUB_SHA is the merge commit.
        source.sha = pr.pull_request.head.sha;
    }
    let repository = check_repository(
        "app-repository",
        inputs.get("app-repository").unwrap_or(&source.repository),
        "set `app-repository` to the repository that builds and attests the images, or run under an event that names one",
    )?;
    let sha = inputs
        .get("sha")
        .map_or(source.sha, str::to_owned)
        .to_ascii_lowercase();
    if !matches!(sha.len(), 40 | 64) || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(InputError::new(
            "sha",
            &format!("must be the full commit sha being deployed (40 hex characters), got `{sha}`"),
            "pass the commit the images were built from; an attestation names the full sha",
        ));
    }

    let environment = inputs
        .get("environment")
        .map(str::to_owned)
        .or_else(|| {
            ctx.event
                .repository_dispatch()
                .and_then(|d| d.field("environment").map(str::to_owned))
        })
        .unwrap_or_default();
    let protected = list(inputs.value("protected-environments"));
    // GitHub's environment names are not case-sensitive.
    let is_protected =
        globs("protected-environments", &protected, true)?.is_match(environment.as_str());
    let (mode, mode_source) = match inputs.get("provenance") {
        Some(v) => (
            v.parse::<Mode>().map_err(|why| {
                InputError::new("provenance", &why, "set `require`, `warn` or `off`")
            })?,
            ModeSource::Input,
        ),
        None if is_protected => (Mode::Require, ModeSource::Protected),
        None if environment.is_empty() => (Mode::Warn, ModeSource::NoEnvironment),
        None => (Mode::Warn, ModeSource::Unprotected),
    };

    let images = images::parse(inputs.get("images").unwrap_or_default())?;
    if mode == Mode::Require {
        if images.is_empty() {
            return Err(InputError::new(
                "images",
                "is empty, and `provenance: require` needs an image digest to verify",
                "pass the deployed images as `key=name@sha256:<digest>` lines, or set `provenance: warn` (or `off`) where no image is deployed",
            ));
        }
        if let Some(tag) = images.iter().find(|i| i.digest.is_none()) {
            return Err(InputError::new(
                "images",
                &format!(
                    "`{}` is the tag reference `{}`; under `provenance: require` only digest references deploy (a tag verified now may point at another image when the VM pulls it)",
                    tag.key, tag.reference
                ),
                "hand over the digest the build pushed: `name@sha256:<digest>`, e.g. `ghcr.io/octo/app@${{ steps.push.outputs.digest }}` from docker/build-push-action's `digest` output, passed through the dispatch",
            ));
        }
    }

    let signer_workflows: Vec<String> = inputs
        .lines("allowed-signer-workflows")
        .into_iter()
        .map(str::to_owned)
        .collect();
    globs("allowed-signer-workflows", &signer_workflows, true)?;
    if let Some(bad) = signer_workflows
        .iter()
        .find(|p| !p.contains(".github/workflows/") && !p.starts_with('*'))
    {
        return Err(InputError::new(
            "allowed-signer-workflows",
            &format!("has `{bad}`, which no signer workflow can match"),
            "a signer workflow is `owner/repo/.github/workflows/<file>` (add `@<ref>` to match the ref too), e.g. `octo/app/.github/workflows/release.yml`",
        ));
    }

    let refs = if inputs.get("allowed-refs").is_some() {
        let given: Vec<String> = inputs
            .lines("allowed-refs")
            .into_iter()
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        if given.is_empty() {
            return Err(InputError::new(
                "allowed-refs",
                "names no ref",
                "list globs such as `main` and `refs/tags/v*`, or leave it out for the default",
            ));
        }
        globs("allowed-refs", &given, false)?;
        Refs::Given(given)
    } else {
        let default_branch = inputs.get("default-branch").map(str::to_owned);
        if let Some(b) = &default_branch
            && (b.starts_with("refs/")
                || b.chars().any(|c| c.is_whitespace() || "*?[]{}".contains(c)))
        {
            return Err(InputError::new(
                "default-branch",
                &format!("must be a branch name, got `{b}`"),
                "write the name alone, e.g. `main`",
            ));
        }
        Refs::Default {
            default_branch,
            branches: branches_for(&inputs.lines("environments"), &environment)?,
        }
    };

    let paths: Vec<PathBuf> = inputs
        .lines("trusted-root")
        .into_iter()
        .map(PathBuf::from)
        .collect();
    let (roots, roots_from) = if paths.is_empty() {
        let roots = TrustedRoots::embedded();
        let names = roots.names();
        (roots, format!("the embedded roots ({names})"))
    } else {
        for p in &paths {
            let meta = std::fs::metadata(p).map_err(|e| {
                InputError::new(
                    "trusted-root",
                    &format!("names `{}`, which cannot be read: {e}", p.display()),
                    "pass the path of a Sigstore trusted_root.json in the workspace",
                )
            })?;
            if !meta.is_file() || meta.len() > MAX_ROOT_BYTES {
                return Err(InputError::new(
                    "trusted-root",
                    &format!(
                        "names `{}`, which is not a file of at most 1 MiB",
                        p.display()
                    ),
                    "pass the path of a Sigstore trusted_root.json",
                ));
            }
        }
        let roots = TrustedRoots::from_files(&paths)
            .map_err(|e| InputError::new("trusted-root", &format!("is not usable: {e}"), ""))?;
        let names = roots.names();
        (roots, format!("the trusted-root files ({names})"))
    };

    Ok(Config {
        auth: Auth::from_context(ctx, &[])?,
        repository,
        sha,
        images,
        mode,
        mode_source,
        environment,
        signer_workflows: (!signer_workflows.is_empty()).then_some(signer_workflows),
        refs,
        roots,
        roots_from,
        server_url: ctx.env.server_url(),
    })
}

/// The branch globs of `environments` (`branch-glob=environment` lines, as
/// dispatch-deploy reads them) that send to `environment`.
fn branches_for(lines: &[&str], environment: &str) -> Result<Vec<String>, InputError> {
    // Checks every line's shape and glob, with the error dispatch-deploy gives.
    relay_runtime::Environments::parse(lines)?;
    if environment.is_empty() {
        return Ok(Vec::new());
    }
    let lines: Vec<&str> = if lines.is_empty() {
        relay_runtime::DEFAULT_ENVIRONMENTS.lines().collect()
    } else {
        lines.to_vec()
    };
    Ok(lines
        .iter()
        .filter_map(|l| l.split_once('='))
        .filter(|(_, env)| env.trim().eq_ignore_ascii_case(environment))
        .map(|(glob, _)| glob.trim().to_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environments_map_gives_the_branches_of_the_environment() {
        assert_eq!(
            branches_for(&[], "production").unwrap(),
            ["main", "hotfix/*"]
        );
        assert_eq!(branches_for(&[], "Staging").unwrap(), ["develop"]);
        assert!(branches_for(&[], "").unwrap().is_empty());
        assert_eq!(
            branches_for(&["release/**=prod", "main=prod", "x=dev"], "prod").unwrap(),
            ["release/**", "main"]
        );
        assert_eq!(
            branches_for(&["nope"], "prod").unwrap_err().input,
            "environments"
        );
    }

    #[test]
    fn lists_split_on_commas_and_lines() {
        assert_eq!(
            list("production, prod-*\n# c\n\nlive"),
            ["production", "prod-*", "live"]
        );
    }
}
