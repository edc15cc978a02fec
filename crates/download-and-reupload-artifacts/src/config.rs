//! The inputs, checked before any request: the source run, what to select,
//! where to put it, and how the re-uploaded artifacts are named.

use std::path::PathBuf;

use globset::{Glob, GlobMatcher};
use relay_artifacts::{DigestPolicy, ExtractLimits, RuntimeToken, validate_artifact_name};
use relay_github::Token;
use relay_runtime::{
    Context, Environments, InputError, Placeholders, RepoName, Source, check_repository, vars,
};

/// What `if-no-artifact-found` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoneFound {
    Warn,
    Error,
    Ignore,
}

/// Where re-uploads go: the results service of the current run.
pub(crate) struct Upload {
    pub results_url: String,
    pub token: RuntimeToken,
    pub template: String,
    pub expires_at: Option<String>,
    pub overwrite: bool,
}

pub(crate) struct Config {
    pub token: Option<Token>,
    pub repository: RepoName,
    pub run_id: u64,
    /// Exact names (`name` lines); empty means "every artifact".
    pub names: Vec<String>,
    pub pattern: Option<(String, GlobMatcher)>,
    /// `path`, made absolute against the workspace.
    pub path: PathBuf,
    pub merge_multiple: bool,
    pub extract: bool,
    /// `None` when `reupload: false`.
    pub upload: Option<Upload>,
    pub placeholders: Placeholders,
    pub if_none: NoneFound,
    pub digest: DigestPolicy,
    pub limits: ExtractLimits,
    /// Warnings found while reading the inputs, printed once the run starts.
    pub notes: Vec<String>,
}

pub(crate) fn parse(ctx: &Context) -> anyhow::Result<Config> {
    let i = &ctx.inputs;
    let env = &ctx.env;
    let source = Source::from_event(env, &ctx.event);
    let mut notes = Vec::new();

    let run_id = match i.get("run-id") {
        Some(v) => v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            InputError::new(
                "run-id",
                &format!("must be a workflow run id (a positive number), got `{v}`"),
                "pass `${{ github.event.workflow_run.id }}` or the id from a run's URL",
            )
        })?,
        None => source
            .run_id
            .parse::<u64>()
            .ok()
            .filter(|_| {
                ctx.event.workflow_run().is_some() || ctx.event.repository_dispatch().is_some()
            })
            .ok_or_else(|| {
                InputError::new(
                    "run-id",
                    &format!(
                        "is required under a `{}` event, which names no other workflow run",
                        ctx.event.name
                    ),
                    "set `run-id`, or run this step in a workflow triggered by `workflow_run`",
                )
            })?,
    };
    let repository = check_repository(
        "repository",
        i.get("repository").unwrap_or(&source.repository),
        "name the repository whose run built the artifacts",
    )?;

    let names: Vec<String> = i.lines("name").into_iter().map(str::to_owned).collect();
    for n in &names {
        validate_artifact_name(n).map_err(|e| {
            InputError::new("name", &first_line(&e.to_string()), "fix the artifact name")
        })?;
    }
    let pattern = match i.get("pattern") {
        Some(p) if !names.is_empty() => {
            notes.push(format!(
                "`pattern` (`{p}`) is ignored because `name` selects the artifacts"
            ));
            None
        }
        Some(p) => Some((
            p.to_owned(),
            Glob::new(p)
                .map_err(|e| {
                    InputError::new(
                        "pattern",
                        &format!("is not a valid glob `{p}`: {e}"),
                        "use `*`, `?`, `[abc]` and `{a,b}`, e.g. `frontend-*`",
                    )
                })?
                .compile_matcher(),
        )),
        None => None,
    };

    let workspace = env
        .path(vars::GITHUB_WORKSPACE)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    let path = workspace.join(i.value("path"));

    let environment = Environments::parse(&i.lines("environments"))?.for_branch(&source.ref_name);
    let placeholders = Placeholders::from_source(&source, &environment);

    let upload = if i.bool("reupload")? {
        let template = i.value("reupload-name").to_owned();
        // A trial render: unknown placeholders and forbidden characters the
        // template itself brings fail now, not after the download.
        let trial = placeholders
            .clone()
            .with("name", "artifact")
            .render(&template)
            .map_err(|why| InputError::new("reupload-name", &why, "use the placeholders listed"))?;
        validate_artifact_name(&trial).map_err(|e| {
            InputError::new(
                "reupload-name",
                &format!(
                    "makes a name GitHub refuses: {}",
                    first_line(&e.to_string())
                ),
                "remove the character from the template",
            )
        })?;
        let retention = i.opt_int("retention-days", 1..=90)?.map(|d| d as u32);
        let (expires_at, capped) = relay_artifacts::expires_at(
            retention,
            env.get(vars::GITHUB_RETENTION_DAYS),
            time::OffsetDateTime::now_utc(),
        );
        if capped {
            notes.push(format!(
                "`retention-days` is capped at the repository's maximum of {} days",
                env.get(vars::GITHUB_RETENTION_DAYS)
                    .unwrap_or_default()
                    .trim()
            ));
        }
        let results_url = env
            .get(vars::ACTIONS_RESULTS_URL)
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "ACTIONS_RESULTS_URL is not set, so artifacts cannot be uploaded\nhint: run this step as a container action in a GitHub Actions job (the runner sets it), or set `reupload: false`"
                )
            })?
            .to_owned();
        let token = RuntimeToken::new(env.get(vars::ACTIONS_RUNTIME_TOKEN).map(str::to_owned))?;
        token.backend_ids()?;
        Some(Upload {
            results_url,
            token,
            template,
            expires_at,
            overwrite: i.bool("overwrite")?,
        })
    } else {
        None
    };
    if let Some(level) = i.opt_int("compression-level", 0..=9)? {
        notes.push(format!(
            "`compression-level: {level}` has nothing to do: artifacts are relayed as the zips they are, never re-compressed"
        ));
    }
    let if_none = match i.choice("if-no-artifact-found", &["warn", "error", "ignore"])? {
        "error" => NoneFound::Error,
        "ignore" => NoneFound::Ignore,
        _ => NoneFound::Warn,
    };
    let digest = match i.choice("verify-digest", &["error", "warn", "off"])? {
        "warn" => DigestPolicy::Warn,
        "off" => DigestPolicy::Off,
        _ => DigestPolicy::Error,
    };
    let limits = ExtractLimits {
        max_total_bytes: i.size("extract-max-size")?,
        max_entries: i.int("extract-max-files", 1..=u64::from(u32::MAX))? as usize,
    };
    Ok(Config {
        token: i.github_token().map(Token::from),
        repository,
        run_id,
        names,
        pattern,
        path,
        merge_multiple: i.bool("merge-multiple")?,
        extract: i.bool("extract")?,
        upload,
        placeholders,
        if_none,
        digest,
        limits,
        notes,
    })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}
