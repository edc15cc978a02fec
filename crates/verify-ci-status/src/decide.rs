//! The decision, from one look at what GitHub reports: pure, so every rule
//! has a unit test.

use relay_github::{CommitState, Conclusion, RunStatus};
use serde::Serialize;

use crate::config::Config;

/// What reported a check. The output spells a commit status `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    CheckRun,
    #[serde(rename = "status")]
    CommitStatus,
    Workflow,
}

/// How a completed check ended: a check run's or workflow run's
/// conclusion, or a commit status's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum Ending {
    Conclusion(Conclusion),
    CommitState(CommitState),
}

impl Ending {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Ending::Conclusion(c) => c.as_str(),
            Ending::CommitState(s) => s.as_str(),
        }
    }
}

/// One check as the outputs report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Check {
    pub name: String,
    pub kind: Kind,
    /// Its run status; a commit status is `pending` or `completed`.
    pub status: RunStatus,
    pub conclusion: Option<Ending>,
    pub url: String,
    /// A job of this very workflow run.
    #[serde(skip)]
    pub own_run: bool,
}

impl Check {
    pub(crate) fn completed(&self) -> bool {
        self.status.is_completed()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Success,
    Failure {
        failed: Vec<String>,
        reason: String,
    },
    /// Not decided yet: what is still pending or missing.
    Pending {
        pending: Vec<String>,
    },
    Timeout {
        pending: Vec<String>,
    },
}

/// Whether checks may still appear: while the discovery timeout runs,
/// missing checks are awaited rather than failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Discovery {
    Open,
    Over,
}

/// Decides from `checks` (already newest-per-name, this run's unfinished
/// jobs left out unless `checks` names them).
pub(crate) fn decide(config: &Config, checks: &[Check], discovery: Discovery) -> Verdict {
    let considered: Vec<&Check> = checks
        .iter()
        .filter(|c| !config.ignore.is_match(&c.name))
        .filter(|c| {
            c.kind == Kind::Workflow
                || config.required.is_empty()
                || config.required.iter().any(|(_, m)| m.is_match(&c.name))
        })
        .collect();
    // A failure is final whatever else is pending: decide early.
    let failed: Vec<&Check> = considered
        .iter()
        .filter(|c| c.completed() && !passed(config, c))
        .copied()
        .collect();
    if let Some(first) = failed.first() {
        let names = failed.iter().map(|c| c.name.clone()).collect();
        let conclusion = first.conclusion.as_ref().map_or("unknown", Ending::as_str);
        let more = if failed.len() > 1 {
            format!(" (and {} more)", failed.len() - 1)
        } else {
            String::new()
        };
        return Verdict::Failure {
            failed: names,
            reason: format!(
                "{} `{}` concluded `{conclusion}`{more} on {}@{}: {}\nhint: open the link to see why; conclusions that pass are `{}` (allowed-conclusions)",
                kind_text(first.kind),
                first.name,
                config.repository,
                config.sha,
                first.url,
                config
                    .allowed
                    .iter()
                    .map(Conclusion::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
    }
    let mut missing: Vec<String> = config
        .required
        .iter()
        .filter(|(_, m)| !considered.iter().any(|c| m.is_match(&c.name)))
        .map(|(text, _)| text.clone())
        .collect();
    missing.extend(
        config
            .workflows
            .iter()
            .filter(|w| {
                !considered
                    .iter()
                    .any(|c| c.kind == Kind::Workflow && &&c.name == w)
            })
            .cloned(),
    );
    let pending: Vec<String> = considered
        .iter()
        .filter(|c| !c.completed())
        .map(|c| c.name.clone())
        .collect();
    if !missing.is_empty() {
        if discovery == Discovery::Over {
            return Verdict::Failure {
                failed: missing.clone(),
                reason: format!(
                    "required check{} never appeared on {}@{} within discovery-timeout: {}\nhint: check the names (globs match the check run's name, e.g. `build (ubuntu-latest)` for a matrix job) or raise discovery-timeout",
                    if missing.len() == 1 { "" } else { "s" },
                    config.repository,
                    config.sha,
                    missing.join(", ")
                ),
            };
        }
        let mut all = pending;
        all.extend(missing);
        return Verdict::Pending { pending: all };
    }
    if considered.is_empty() {
        if discovery == Discovery::Over {
            // Passing on nothing only once checks had their time to appear,
            // so a commit whose CI has not started yet is not waved through.
            if config.allow_empty && config.required.is_empty() {
                return Verdict::Success;
            }
            return Verdict::Failure {
                failed: Vec::new(),
                reason: format!(
                    "{}@{} has no checks or statuses to verify\nhint: make sure CI runs on this commit, or set `allow-empty: true` to pass a commit without checks",
                    config.repository, config.sha
                ),
            };
        }
        return Verdict::Pending {
            pending: vec!["(any check)".into()],
        };
    }
    if pending.is_empty() {
        Verdict::Success
    } else {
        Verdict::Pending { pending }
    }
}

fn passed(config: &Config, check: &Check) -> bool {
    match (&check.kind, &check.conclusion) {
        // A workflow named in `workflows` must have succeeded, nothing less.
        (Kind::Workflow, Some(Ending::Conclusion(c))) => c.is_success(),
        (Kind::CommitStatus, Some(Ending::CommitState(s))) => *s == CommitState::Success,
        (Kind::CheckRun, Some(Ending::Conclusion(c))) => config.allowed.contains(c),
        _ => false,
    }
}

fn kind_text(kind: Kind) -> &'static str {
    match kind {
        Kind::CheckRun => "check",
        Kind::CommitStatus => "commit status",
        Kind::Workflow => "workflow",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use globset::{Glob, GlobSetBuilder};

    use super::*;

    fn config(required: &[&str], ignore: &[&str]) -> Config {
        let mut set = GlobSetBuilder::new();
        for g in ignore {
            set.add(Glob::new(g).unwrap());
        }
        Config {
            auth: relay_github::Auth::token(None),
            require_check_runs: false,
            repository: relay_runtime::RepoName::parse("o/r").unwrap(),
            sha: "abc".into(),
            required: required
                .iter()
                .map(|g| ((*g).to_owned(), Glob::new(g).unwrap().compile_matcher()))
                .collect(),
            ignore: set.build().unwrap(),
            workflows: Vec::new(),
            allowed: vec![
                Conclusion::Success,
                Conclusion::Neutral,
                Conclusion::Skipped,
            ],
            include_statuses: true,
            wait: true,
            timeout: Duration::from_mins(1),
            discovery_timeout: Duration::from_secs(10),
            interval: Duration::from_secs(1),
            allow_empty: false,
            own_run_id: None,
        }
    }

    fn check(name: &str, kind: Kind, status: &str, conclusion: Option<&str>) -> Check {
        let ending = |c: &str| match kind {
            Kind::CommitStatus => Ending::CommitState(c.parse().unwrap()),
            _ => Ending::Conclusion(c.parse().unwrap()),
        };
        Check {
            name: name.into(),
            kind,
            status: status.parse().unwrap(),
            conclusion: conclusion.map(ending),
            url: format!("https://example.com/{name}"),
            own_run: false,
        }
    }

    #[test]
    fn a_failure_decides_while_others_are_pending() {
        let checks = [
            check("a", Kind::CheckRun, "in_progress", None),
            check("b", Kind::CheckRun, "completed", Some("timed_out")),
        ];
        match decide(&config(&[], &[]), &checks, Discovery::Open) {
            Verdict::Failure { failed, reason } => {
                assert_eq!(failed, ["b"]);
                assert!(reason.contains("https://example.com/b"), "{reason}");
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn only_checks_matching_required_globs_count() {
        let checks = [
            check("test (1)", Kind::CheckRun, "completed", Some("success")),
            check("other", Kind::CheckRun, "completed", Some("failure")),
        ];
        assert_eq!(
            decide(&config(&["test (*)"], &[]), &checks, Discovery::Open),
            Verdict::Success
        );
        assert!(matches!(
            decide(&config(&[], &[]), &checks, Discovery::Open),
            Verdict::Failure { .. }
        ));
    }

    #[test]
    fn ignored_checks_do_not_count() {
        let checks = [
            check("ok", Kind::CheckRun, "completed", Some("success")),
            check(
                "codecov/patch",
                Kind::CommitStatus,
                "completed",
                Some("failure"),
            ),
        ];
        assert_eq!(
            decide(&config(&[], &["codecov/*"]), &checks, Discovery::Open),
            Verdict::Success
        );
    }

    #[test]
    fn missing_required_waits_then_fails_after_discovery() {
        let checks = [check("build", Kind::CheckRun, "completed", Some("success"))];
        let c = config(&["build", "e2e"], &[]);
        assert_eq!(
            decide(&c, &checks, Discovery::Open),
            Verdict::Pending {
                pending: vec!["e2e".into()]
            }
        );
        match decide(&c, &checks, Discovery::Over) {
            Verdict::Failure { failed, .. } => assert_eq!(failed, ["e2e"]),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn empty_waits_for_discovery_and_passes_only_with_allow_empty() {
        let mut c = config(&[], &[]);
        assert!(matches!(
            decide(&c, &[], Discovery::Open),
            Verdict::Pending { .. }
        ));
        assert!(matches!(
            decide(&c, &[], Discovery::Over),
            Verdict::Failure { .. }
        ));
        c.allow_empty = true;
        assert!(matches!(
            decide(&c, &[], Discovery::Open),
            Verdict::Pending { .. }
        ));
        assert_eq!(decide(&c, &[], Discovery::Over), Verdict::Success);
    }

    #[test]
    fn statuses_and_workflows_pass_only_on_success() {
        let c = config(&[], &[]);
        for kind in [Kind::CommitStatus, Kind::Workflow] {
            let checks = [check("x", kind, "completed", Some("neutral"))];
            assert!(
                matches!(
                    decide(&c, &checks, Discovery::Open),
                    Verdict::Failure { .. }
                ),
                "{kind:?}"
            );
        }
        let checks = [check("x", Kind::CheckRun, "completed", Some("neutral"))];
        assert_eq!(decide(&c, &checks, Discovery::Open), Verdict::Success);
    }
}
