//! Which secrets a job sees: the repository's secrets by scope, and how a
//! called workflow got its secrets from its caller.

use std::collections::BTreeMap;

/// The secrets a repository's runs can reach, by scope: organisation,
/// repository and environment secrets are separate stores on GitHub, and
/// a job sees an environment's secrets only when it runs in that
/// environment.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Organisation secrets, name → value; a repository or environment
    /// secret of the same name wins.
    pub organization: BTreeMap<String, String>,
    /// Repository secrets, name → value; an environment secret of the
    /// same name wins.
    pub repository: BTreeMap<String, String>,
    /// Environment name → its secrets.
    pub environments: BTreeMap<String, BTreeMap<String, String>>,
}

impl Secrets {
    /// No secrets at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// An organisation secret.
    pub fn organization(mut self, name: &str, value: &str) -> Self {
        self.organization.insert(name.to_owned(), value.to_owned());
        self
    }

    /// A repository secret.
    pub fn repository(mut self, name: &str, value: &str) -> Self {
        self.repository.insert(name.to_owned(), value.to_owned());
        self
    }

    /// A secret of the environment `environment`.
    pub fn environment(mut self, environment: &str, name: &str, value: &str) -> Self {
        self.environments
            .entry(environment.to_owned())
            .or_default()
            .insert(name.to_owned(), value.to_owned());
        self
    }

    /// The environment's secrets (environment names are matched without
    /// regard to case, as GitHub names them).
    fn of_environment(&self, environment: &str) -> Option<&BTreeMap<String, String>> {
        self.environments
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(environment))
            .map(|(_, v)| v)
    }

    /// What a job of a workflow the repository's own event started sees:
    /// organisation, then repository, then (when the job runs in one) its
    /// environment's secrets, the lowest level winning a name clash.
    ///
    /// "If a secret with the same name exists at multiple levels, the
    /// secret at the lowest level takes precedence" — and environment
    /// secrets "are only available to workflow jobs that reference the
    /// environment":
    /// <https://docs.github.com/en/actions/reference/security/secrets#naming-your-secrets>,
    /// <https://docs.github.com/en/actions/reference/workflows-and-actions/deployments-and-environments#environment-secrets>.
    pub(crate) fn for_job(&self, environment: Option<&str>) -> BTreeMap<String, String> {
        let mut out = self.organization.clone();
        out.extend(self.repository.clone());
        if let Some(env) = environment.and_then(|e| self.of_environment(e)) {
            out.extend(env.clone());
        }
        out
    }
}

/// How a workflow got its secrets.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Started by the repository's own event: every job sees the
    /// repository's secrets by scope ([`Secrets::for_job`]).
    Root,
    /// Called with `secrets: inherit`: all the caller's secrets
    /// (organisation, repository and — for a job that sets `environment` —
    /// that environment's) reach it.
    /// <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idsecretsinherit>
    Inherit(BTreeMap<String, String>),
    /// Called with an explicit `secrets:` map: only the names passed.
    Explicit(BTreeMap<String, String>),
}

impl Source {
    /// The `secrets` context of a job (without `GITHUB_TOKEN`) of a workflow
    /// that got its secrets this way, running in `environment`.
    ///
    /// For a called workflow, "Reuse workflows" → "Using inputs and
    /// secrets in a reusable workflow"
    /// (<https://docs.github.com/en/actions/how-tos/reuse-automations/reuse-workflows#using-inputs-and-secrets-in-a-reusable-workflow>):
    /// to use an environment secret, the job of the called workflow sets
    /// `environment`, and the caller must still pass the secret — with
    /// `secrets: inherit`, or by name (which works even when the secret
    /// exists only in the environment, the caller's own value being empty
    /// since the calling job cannot set `environment`); the environment's
    /// value takes precedence either way. An environment secret the caller
    /// does not pass resolves to an empty string, with no error.
    pub(crate) fn for_job(
        &self,
        store: &Secrets,
        environment: Option<&str>,
    ) -> BTreeMap<String, String> {
        let env = environment.and_then(|e| store.of_environment(e));
        match self {
            Self::Root => store.for_job(environment),
            Self::Inherit(caller) => {
                let mut out = caller.clone();
                if let Some(env) = env {
                    out.extend(env.clone());
                }
                out
            }
            Self::Explicit(passed) => passed
                .iter()
                .map(|(k, v)| {
                    let v = env.and_then(|e| e.get(k)).unwrap_or(v);
                    (k.clone(), v.clone())
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Secrets {
        Secrets::new()
            .organization("SHARED", "org")
            .organization("ORG_ONLY", "o")
            .repository("SHARED", "repo")
            .environment("production", "SHARED", "prod")
            .environment("production", "WEBHOOK", "whsec-prod")
    }

    #[test]
    fn the_lowest_level_wins_and_environment_secrets_need_the_environment() {
        let s = store();
        let plain = s.for_job(None);
        assert_eq!(plain["SHARED"], "repo");
        assert_eq!(plain["ORG_ONLY"], "o");
        assert!(!plain.contains_key("WEBHOOK"));
        let prod = s.for_job(Some("Production"));
        assert_eq!(prod["SHARED"], "prod");
        assert_eq!(prod["WEBHOOK"], "whsec-prod");
    }

    #[test]
    fn a_called_workflow_gets_an_environment_secret_only_when_passed() {
        let s = store();
        let caller = s.for_job(None);
        let inherit = Source::Inherit(caller.clone());
        assert_eq!(
            inherit.for_job(&s, Some("production"))["WEBHOOK"],
            "whsec-prod"
        );
        assert!(!inherit.for_job(&s, None).contains_key("WEBHOOK"));
        // By name: the caller's value is empty, the environment's is used.
        let named = Source::Explicit([("WEBHOOK".to_owned(), String::new())].into());
        assert_eq!(
            named.for_job(&s, Some("production"))["WEBHOOK"],
            "whsec-prod"
        );
        assert_eq!(named.for_job(&s, None)["WEBHOOK"], "");
        // Not passed: not there, even in the environment.
        let other = Source::Explicit([("SHARED".to_owned(), "repo".to_owned())].into());
        let got = other.for_job(&s, Some("production"));
        assert!(!got.contains_key("WEBHOOK"));
        assert_eq!(got["SHARED"], "prod", "the environment's value wins");
        assert!(!got.contains_key("ORG_ONLY"));
    }
}
