//! Inputs, checked before any request, and the defaults the event gives.

use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};
use relay_github::{Access, Auth, Conclusion, Permission};
use relay_runtime::{Context, InputError, RepoName, Source, check_repository, vars};

/// What to verify and how long to wait.
pub(crate) struct Config {
    pub auth: Auth,
    /// Fail rather than fall back when check runs cannot be read.
    pub require_check_runs: bool,
    pub repository: RepoName,
    pub sha: String,
    /// Required check globs, each with its text for messages.
    pub required: Vec<(String, globset::GlobMatcher)>,
    pub ignore: GlobSet,
    pub workflows: Vec<String>,
    pub allowed: Vec<Conclusion>,
    pub include_statuses: bool,
    pub wait: bool,
    pub timeout: Duration,
    pub discovery_timeout: Duration,
    pub interval: Duration,
    pub allow_empty: bool,
    /// The current run, when the sha is the runner's own: its unfinished
    /// check runs (this job's among them) are left out unless `checks`
    /// names them, so the step does not wait on itself.
    pub own_run_id: Option<String>,
}

fn glob(input: &str, pattern: &str) -> Result<Glob, InputError> {
    Glob::new(pattern).map_err(|e| {
        InputError::new(
            input,
            &format!("has a bad glob `{pattern}`: {e}"),
            "use `*`, `?`, `[abc]` and `{a,b}`",
        )
    })
}

// A check run's conclusions (https://docs.github.com/en/rest/checks/runs).
const KNOWN: [Conclusion; 8] = [
    Conclusion::Success,
    Conclusion::Failure,
    Conclusion::Neutral,
    Conclusion::Cancelled,
    Conclusion::Skipped,
    Conclusion::TimedOut,
    Conclusion::ActionRequired,
    Conclusion::Stale,
];

pub(crate) fn parse(ctx: &Context) -> Result<Config, InputError> {
    let inputs = &ctx.inputs;
    let mut source = Source::from_event(&ctx.env, &ctx.event);
    if let Some(pr) = ctx.event.pull_request() {
        // The head commit is what CI ran on; GITHUB_SHA is the merge commit.
        source.sha = pr.pull_request.head.sha;
    }
    let repository = check_repository(
        "repository",
        inputs.get("repository").unwrap_or(&source.repository),
        "set `repository`, or run under an event that names one",
    )?;
    let sha = inputs.get("sha").map_or(source.sha, str::to_owned);
    if sha.is_empty()
        || !sha
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        return Err(InputError::new(
            "sha",
            &format!("must be a commit sha or ref, got `{sha}`"),
            "set `sha`, or run under an event that carries one",
        ));
    }
    let mut required = Vec::new();
    for line in inputs.lines("checks") {
        required.push((line.to_owned(), glob("checks", line)?.compile_matcher()));
    }
    let mut ignore = GlobSetBuilder::new();
    for line in inputs.lines("ignore") {
        ignore.add(glob("ignore", line)?);
    }
    let ignore = ignore
        .build()
        .map_err(|e| InputError::new("ignore", &e.to_string(), "fix the globs"))?;
    let mut allowed = Vec::new();
    for text in inputs
        .value("allowed-conclusions")
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
    {
        let Some(known) = KNOWN.iter().find(|k| k.as_str() == text) else {
            return Err(InputError::new(
                "allowed-conclusions",
                &format!("names an unknown conclusion `{text}`"),
                &format!(
                    "pick from {}",
                    KNOWN.map(|k| k.as_str().to_owned()).join(", ")
                ),
            ));
        };
        allowed.push(known.clone());
    }
    let interval = inputs.nonzero_duration("interval", "15s")?;
    let env = &ctx.env;
    let own_repo = env.get(vars::GITHUB_REPOSITORY).unwrap_or_default();
    let own_sha = env.get(vars::GITHUB_SHA).unwrap_or_default();
    let own_head = ctx
        .event
        .pull_request()
        .map(|pr| pr.pull_request.head.sha)
        .unwrap_or_default();
    let is_own = repository.same_as(own_repo) && (sha == own_sha || sha == own_head);
    Ok(Config {
        auth: Auth::from_context(ctx, &[])?,
        require_check_runs: inputs.bool("require-check-runs")?,
        repository,
        sha,
        required,
        ignore,
        workflows: inputs
            .lines("workflows")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        allowed,
        include_statuses: inputs.bool("include-statuses")?,
        wait: inputs.bool("wait")?,
        timeout: inputs.duration("timeout")?,
        discovery_timeout: inputs.duration("discovery-timeout")?,
        interval,
        allow_empty: inputs.bool("allow-empty")?,
        own_run_id: env
            .get(vars::GITHUB_RUN_ID)
            .filter(|_| is_own)
            .map(str::to_owned),
    })
}

impl Config {
    /// What a minted token needs: check runs, and statuses and workflow
    /// runs when those are read.
    pub(crate) fn access(&self) -> Access {
        let mut needs = vec![Permission::CHECKS_READ];
        if self.include_statuses {
            needs.push(Permission::STATUSES_READ);
        }
        if !self.workflows.is_empty() {
            needs.push(Permission::ACTIONS_READ);
        }
        Access::new(&self.repository, &needs)
    }
}
