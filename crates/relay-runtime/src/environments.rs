//! `branch-glob=environment` lines: which deployment environment a branch
//! goes to. Shared by `dispatch-deploy` (the payload's `environment`) and the
//! `{environment}` placeholder of every template.

use globset::{GlobBuilder, GlobMatcher};

use crate::InputError;

/// The usual branch model, used when no lines are given: `main` and
/// hotfixes go to production, `develop` to staging, features to dev. The
/// one place it is written: every action's `environments` input takes it
/// as its spec default (and so its `action.yml`), and a test in
/// `deploy-relay` holds the reusable workflows' descriptions to it.
pub const DEFAULT_ENVIRONMENTS: &str =
    "main=production\ndevelop=staging\nhotfix/*=production\nfeature/*=dev";

/// Parsed `environments` lines, in order.
#[derive(Debug, Clone)]
pub struct Environments(Vec<(GlobMatcher, String)>);

impl Environments {
    /// The lines of the `environments` input, or the default mapping when
    /// there are none. `*` stops at `/` and `**` crosses it, as in GitHub's
    /// branch filters.
    pub fn parse(lines: &[&str]) -> Result<Self, InputError> {
        let default: Vec<&str>;
        let lines = if lines.is_empty() {
            default = DEFAULT_ENVIRONMENTS.lines().collect();
            &default
        } else {
            lines
        };
        lines
            .iter()
            .map(|line| {
                let bad = |why: &str| {
                    InputError::new(
                        "environments",
                        &format!("line `{line}` {why}"),
                        "write one `branch-glob=environment` per line, e.g. `release/*=staging`",
                    )
                };
                let (glob, environment) = line
                    .split_once('=')
                    .ok_or_else(|| bad("is not `branch-glob=environment`"))?;
                let glob = GlobBuilder::new(glob.trim())
                    .literal_separator(true)
                    .build()
                    .map_err(|e| bad(&format!("has a bad glob: {e}")))?
                    .compile_matcher();
                Ok((glob, environment.trim().to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The first mapping that matches `branch`; empty when none does.
    pub fn for_branch(&self, branch: &str) -> String {
        self.0
            .iter()
            .find(|(glob, _)| glob.is_match(branch))
            .map(|(_, env)| env.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(branch: &str, lines: &[&str]) -> String {
        Environments::parse(lines).unwrap().for_branch(branch)
    }
    #[test]
    fn seed_001_default_mapping() {
        assert_eq!(env_of("main", &[]), "production");
        assert_eq!(env_of("develop", &[]), "staging");
        assert_eq!(env_of("hotfix/login", &[]), "production");
        assert_eq!(env_of("feature/x", &[]), "dev");
        assert_eq!(env_of("release/1.0", &[]), "");
        assert_eq!(env_of("feature/a/b", &[]), "", "`*` does not cross `/`");
    }

    #[test]
    fn first_match_wins_and_double_star_crosses_slashes() {
        let lines = ["feature/special=qa", "feature/**=dev", "*=other"];
        assert_eq!(env_of("feature/special", &lines), "qa");
        assert_eq!(env_of("feature/a/b", &lines), "dev");
        assert_eq!(env_of("main", &lines), "other");
    }

    #[test]
    fn bad_mapping_line_names_the_input() {
        let e = Environments::parse(&["main"]).err().unwrap();
        assert_eq!(e.input, "environments");
    }
}
