//! The inputs, checked before any request: the source run, what to select,
//! where to put it, and how the re-uploaded artifacts are named.

use std::path::PathBuf;

use globset::Glob;
use relay_artifacts::{
    Destination, DigestPolicy, ExtractLimits, IfNone, ReuploadNames, Selection, Upload,
    validate_artifact_name,
};
use relay_github::Auth;
use relay_runtime::{
    Context, Environments, InputError, Placeholders, RepoName, Source, check_repository, vars,
};

pub(crate) struct Config {
    pub auth: Auth,
    pub repository: RepoName,
    pub run_id: u64,
    pub selection: Selection,
    /// `path`, made absolute against the workspace.
    pub path: PathBuf,
    pub destination: Destination,
    /// `None` when `reupload: false`.
    pub upload: Option<Upload>,
    /// The re-upload names, when re-uploading.
    pub names: Option<ReuploadNames>,
    pub if_none: IfNone,
    pub digest: DigestPolicy,
    /// Why the triggering `workflow_run` is not trusted, unless
    /// `allow-forks` says to relay it anyway; or one started by an event
    /// outside `trigger-events`. Says why, and what to set.
    pub distrust: Option<String>,
    /// Warnings found while reading the inputs, printed once the run starts.
    pub notes: Vec<String>,
}

pub(crate) fn parse(ctx: &Context) -> anyhow::Result<Config> {
    let i = &ctx.inputs;
    let env = &ctx.env;
    let source = Source::from_event(env, &ctx.event);
    let mut notes = Vec::new();

    let run_id = match relay_artifacts::run_id_input(
        i,
        "pass `${{ github.event.workflow_run.id }}` or the id from a run's URL",
    )? {
        Some(id) => id,
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

    let selection = selection(ctx, &mut notes)?;
    let workspace = env
        .path(vars::GITHUB_WORKSPACE)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    let path = workspace.join(i.value("path"));

    let environment = Environments::parse(&i.lines("environments"))?.for_branch(&source.ref_name);
    let placeholders = Placeholders::from_source(&source, &environment);

    let (upload, names) = if i.bool("reupload")? {
        let names = ReuploadNames::from_input(i, placeholders)?;
        let (upload, note) = Upload::from_inputs(i, env).map_err(|e| match e {
            relay_artifacts::ArtifactError::NoResultsUrl => {
                anyhow::anyhow!("{e}\nhint: or set `reupload: false`")
            }
            other => other.into(),
        })?;
        notes.extend(note);
        (Some(upload), Some(names))
    } else {
        (None, None)
    };
    if let Some(level) = i.opt_int("compression-level", 0..=9)? {
        notes.push(format!(
            "`compression-level: {level}` has nothing to do: artifacts are relayed as the zips they are, never re-compressed"
        ));
    }
    let if_none = IfNone::from_input(i, "if-no-artifact-found")?;
    let digest = DigestPolicy::from_input(i, "verify-digest")?;
    let limits = ExtractLimits {
        max_total_bytes: i.size("extract-max-size")?,
        max_entries: usize::try_from(i.int("extract-max-files", 1..=u64::from(u32::MAX))?)
            .unwrap_or(usize::MAX),
    };
    let merge_multiple = i.bool("merge-multiple")?;
    // As download-artifact v4: one exact `name` lands in `path` itself.
    let single = matches!(&selection, Selection::Names(n) if n.len() == 1);
    let destination = match (i.bool("extract")?, &upload) {
        (true, _) => Destination::Extract {
            dir: path.clone(),
            together: merge_multiple || single,
            limits,
        },
        (false, None) => Destination::Zips { dir: path.clone() },
        (false, Some(_)) => Destination::Nothing,
    };
    let allow_forks = i.bool("allow-forks")?;
    let trigger_events =
        relay_runtime::trigger_events(&i.lines("trigger-events")).map_err(|why| {
            InputError::new(
                "trigger-events",
                &why,
                "list event names such as `push` and `workflow_dispatch`",
            )
        })?;
    let distrust = ctx
        .event
        .distrust(env)
        .filter(|_| !allow_forks)
        .map(|why| format!("it is not trusted: {why}; set `allow-forks: true` to relay it anyway"))
        .or_else(|| {
            ctx.event
                .refused_trigger(&trigger_events)
                .map(|why| format!("{why}; list its event in `trigger-events` to relay such runs"))
        });
    Ok(Config {
        auth: Auth::from_context(ctx, &[])?,
        repository,
        run_id,
        selection,
        path,
        destination,
        upload,
        names,
        if_none,
        digest,
        distrust,
        notes,
    })
}

/// `name` lines, `artifact-ids`, or `pattern`, in that order of precedence
/// (`name` and `artifact-ids` together are an error, as in download-artifact).
fn selection(ctx: &Context, notes: &mut Vec<String>) -> Result<Selection, InputError> {
    let i = &ctx.inputs;
    let names: Vec<String> = i.lines("name").into_iter().map(str::to_owned).collect();
    for n in &names {
        validate_artifact_name(n).map_err(|e| {
            InputError::new("name", &first_line(&e.to_string()), "fix the artifact name")
        })?;
    }
    let ids = i.get("artifact-ids").map(parse_ids).transpose()?;
    if !names.is_empty() && ids.is_some() {
        return Err(InputError::new(
            "artifact-ids",
            "cannot be used together with `name`",
            "select the artifacts by `name` or by `artifact-ids`, not both",
        ));
    }
    if let Some(p) = i.get("pattern") {
        let why = if !names.is_empty() {
            Some("`name`")
        } else if ids.is_some() {
            Some("`artifact-ids`")
        } else {
            None
        };
        if let Some(by) = why {
            notes.push(format!(
                "`pattern` (`{p}`) is ignored because {by} selects the artifacts"
            ));
        } else {
            let matcher = Glob::new(p)
                .map_err(|e| {
                    InputError::new(
                        "pattern",
                        &format!("is not a valid glob `{p}`: {e}"),
                        "use `*`, `?`, `[abc]` and `{a,b}`, e.g. `frontend-*`",
                    )
                })?
                .compile_matcher();
            return Ok(Selection::Pattern {
                glob: p.to_owned(),
                matcher,
            });
        }
    }
    Ok(match ids {
        Some(ids) => Selection::Ids(ids),
        None if !names.is_empty() => Selection::Names(names),
        None => Selection::All,
    })
}

/// `123, 456`: comma-separated artifact ids.
fn parse_ids(text: &str) -> Result<Vec<u64>, InputError> {
    let mut ids = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = part.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            InputError::new(
                "artifact-ids",
                &format!("has `{part}`, which is not an artifact id (a positive number)"),
                "write ids separated by commas, e.g. `123, 456`",
            )
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(InputError::new(
            "artifact-ids",
            "names no artifact id",
            "write ids separated by commas, e.g. `123, 456`, or remove the input",
        ));
    }
    Ok(ids)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use relay_artifacts::ExtractLimits;

    #[test]
    fn the_default_extraction_limit_fits_a_hosted_runner_twice() {
        let spec = crate::SPEC
            .inputs
            .iter()
            .find(|i| i.name == "extract-max-size")
            .and_then(relay_runtime::InputSpec::default_text)
            .unwrap_or_default();
        let limit = relay_runtime::size::parse(spec).unwrap_or_default();
        assert_eq!(limit, ExtractLimits::default().max_total_bytes);
        // The extracted files and the zips waiting for extraction each get
        // the limit; a standard GitHub-hosted runner has 14 GB of disk.
        assert!(2 * limit < 14_000_000_000 - 1_000_000_000, "{limit}");
    }
}
