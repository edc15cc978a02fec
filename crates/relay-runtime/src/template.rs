//! `{placeholder}` templates, as in `images` and `reupload-name`.

use std::collections::BTreeMap;

use crate::source::Source;

/// Placeholders that must never render empty: an image tag like
/// `ghcr.io//api:` is worse than an error.
const NEVER_EMPTY: [&str; 5] = ["repository", "owner", "repo", "sha", "short_sha"];

/// The values a template may use.
#[derive(Debug, Clone, Default)]
pub struct Placeholders(BTreeMap<&'static str, String>);

impl Placeholders {
    /// `{repository}` (lower-cased, as registries need), `{owner}`, `{repo}`,
    /// `{sha}`, `{short_sha}`, `{ref_name}`, `{run_id}`, `{run_number}`,
    /// `{environment}`.
    pub fn from_source(source: &Source, environment: &str) -> Self {
        let mut v = BTreeMap::new();
        v.insert("repository", source.repository.to_lowercase());
        v.insert("owner", source.owner().to_owned());
        v.insert("repo", source.repo().to_owned());
        v.insert("sha", source.sha.clone());
        v.insert("short_sha", source.short_sha().to_owned());
        v.insert("ref_name", source.ref_name.clone());
        v.insert("run_id", source.run_id.clone());
        v.insert("run_number", source.run_number.clone());
        v.insert("environment", environment.to_owned());
        Self(v)
    }

    /// The same placeholders, and `{name}` as `value`.
    pub fn with(mut self, name: &'static str, value: &str) -> Self {
        self.0.insert(name, value.to_owned());
        self
    }

    /// The placeholders' names.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.keys().copied().collect()
    }

    /// Fills `{name}` placeholders; an unknown one is an error naming it.
    pub fn render(&self, template: &str) -> Result<String, String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("`{{` at `{}` is never closed", &rest[open..]))?;
            let name = &after[..close];
            let value = self.0.get(name).ok_or_else(|| {
                format!(
                    "unknown placeholder `{{{name}}}`; known: {}",
                    self.0
                        .keys()
                        .map(|k| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            if value.is_empty() && NEVER_EMPTY.contains(&name) {
                return Err(format!(
                    "`{{{name}}}` has no value here: {}",
                    match name {
                        "sha" | "short_sha" =>
                            "no commit is known (outside a runner pass `--sha`, or run inside a git checkout)",
                        _ =>
                            "no repository is known (outside a runner set GITHUB_REPOSITORY=owner/repo, or run inside a git checkout with an `origin` remote)",
                    }
                ));
            }
            out.push_str(value);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> Source {
        Source {
            repository: "XTP-Tour/xtp-tour".into(),
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
            ref_name: "main".into(),
            run_id: "99".into(),
            run_number: "12".into(),
            conclusion: None,
            workflow: None,
        }
    }

    #[test]
    fn renders_seed_000_image_tags() {
        let v = Placeholders::from_source(&source(), "production");
        assert_eq!(
            v.render("ghcr.io/{repository}/api:{short_sha}").unwrap(),
            "ghcr.io/xtp-tour/xtp-tour/api:0123456"
        );
        assert_eq!(
            v.render("ghcr.io/{repository}/api:{sha}-test").unwrap(),
            "ghcr.io/xtp-tour/xtp-tour/api:0123456789abcdef0123456789abcdef01234567-test"
        );
        assert_eq!(
            v.render("{owner}-{repo}-{environment}-{run_number}")
                .unwrap(),
            "XTP-Tour-xtp-tour-production-12"
        );
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_errors() {
        let v = Placeholders::from_source(&source(), "");
        assert!(
            v.render("{nope}")
                .unwrap_err()
                .contains("unknown placeholder `{nope}`")
        );
        assert!(v.render("a{sha").unwrap_err().contains("never closed"));
    }

    #[test]
    fn identity_placeholders_never_render_empty() {
        let mut empty = source();
        empty.repository.clear();
        empty.sha.clear();
        let v = Placeholders::from_source(&empty, "");
        let e = v.render("ghcr.io/{repository}/api").unwrap_err();
        assert!(e.contains("`{repository}` has no value"), "{e}");
        let e = v.render("api:{short_sha}").unwrap_err();
        assert!(e.contains("--sha"), "{e}");
        assert_eq!(
            v.render("env-{environment}").unwrap(),
            "env-",
            "environment may be empty"
        );
    }

    #[test]
    fn extra_vars() {
        let v = Placeholders::from_source(&source(), "").with("name", "frontend-build");
        assert_eq!(
            v.render("deploy-{name}-{short_sha}").unwrap(),
            "deploy-frontend-build-0123456"
        );
    }

    proptest::proptest! {
        #[test]
        fn text_without_braces_is_unchanged(s in "[^{}]*") {
            let v = Placeholders::from_source(&source(), "");
            proptest::prop_assert_eq!(v.render(&s).unwrap(), s);
        }
    }
}
