//! The inputs, checked before any request.

use relay_deployments::Payload;
use relay_github::{Auth, DeploymentState, MAX_STATUS_DESCRIPTION};
use relay_runtime::{
    Context, ImageRef, InputError, Placeholders, RepoName, Secret, Source, check_repository,
};

pub(crate) struct Config {
    /// `github-token`, or the App (which also mints the app commit's commit status token).
    pub auth: Auth,
    pub repository: RepoName,
    pub mode: Mode,
    pub description: Option<String>,
    pub environment_url: Option<String>,
    pub log_url: Option<String>,
    pub app_token: Option<Secret>,
}

pub(crate) enum Mode {
    Start(Box<Start>),
    Finish {
        id: u64,
        state: DeploymentState,
        /// `state: cancelled`: recorded as `error`, said to be a cancel.
        cancelled: bool,
        /// When given, the record must be of it.
        environment: Option<String>,
        /// An issue of the deploy repository to comment the outcome on.
        issue: Option<u64>,
    },
    Previous {
        environment: String,
        /// Only records of this app (any, when `None`).
        app: Option<String>,
        /// The commit being replaced; `None`: the newest record's.
        replaced: Option<String>,
    },
    Current {
        environment: String,
        app: Option<String>,
    },
    Check(Box<Check>),
}

/// `mode: check`: the record a deploy would start, checked; and the
/// environment's protection.
pub(crate) struct Check {
    pub start: Start,
    /// Environments that must have protection rules.
    pub protected: Vec<String>,
    pub require_protection: bool,
}

pub(crate) struct Start {
    pub environment: String,
    pub git_ref: String,
    pub payload: Payload,
    pub production_environment: Option<bool>,
    pub transient_environment: bool,
}

/// Which modes read an input that is not read by all.
const ONLY: &[(&str, &[&str])] = &[
    ("app-repository", &["start", "check", "previous", "current"]),
    ("sha", &["start", "check", "previous"]),
    ("images", &["start", "check"]),
    ("provenance-report", &["start", "check"]),
    ("dispatch-id", &["start", "check"]),
    ("rollback", &["start", "check"]),
    ("reason", &["start", "check"]),
    ("production-environment", &["start", "check"]),
    ("transient-environment", &["start", "check"]),
    ("deployment-id", &["finish"]),
    ("state", &["finish"]),
    ("issue", &["finish"]),
    ("environment-url", &["start", "finish", "check"]),
    ("description", &["start", "finish", "check"]),
    ("app-token", &["start", "finish"]),
    ("protected-environments", &["check"]),
    ("require-protection", &["check"]),
];

/// The modes, in the order `--help` names them.
pub(crate) const MODES: &[&str] = &["check", "start", "finish", "previous", "current"];

pub(crate) fn parse(ctx: &Context) -> Result<Config, InputError> {
    let i = &ctx.inputs;
    let mode = i.choice("mode", MODES)?;
    let repository = i.current_repository(
        "deploy-repository",
        "name the deploy repository that holds the records, e.g. `my-org/deploy`",
    )?;
    let auth = Auth::from_context(ctx, &["app-token"])?;
    if auth.is_missing() {
        return Err(InputError::new(
            "github-token",
            "is empty",
            "pass `github-token: ${{ github.token }}` with `permissions: { deployments: write }` on the job, or `github-app-id` and `github-app-private-key`",
        ));
    }
    let description = i.get("description").map(str::to_owned);
    if let Some(d) = &description
        && d.chars().count() > MAX_STATUS_DESCRIPTION
    {
        return Err(InputError::new(
            "description",
            &format!(
                "is {} characters long; GitHub takes at most {MAX_STATUS_DESCRIPTION}",
                d.chars().count()
            ),
            "shorten it",
        ));
    }
    let environment_url = url(i.get("environment-url"), "environment-url")?;
    let log_url = url(i.get("log-url"), "log-url")?.or_else(|| ctx.env.run_url());
    let app_token = i.secret("app-token");
    for (input, modes) in ONLY {
        if i.get(input).is_some() && !modes.contains(&mode) && !is_default(ctx, input) {
            ctx.console.warning(&format!(
                "input `{input}` is not read with `mode: {mode}` (only with {}); it was left alone",
                modes.join(", ")
            ));
        }
    }
    let mode = match mode {
        "start" => Mode::Start(Box::new(start(ctx)?)),
        "check" => Mode::Check(Box::new(Check {
            start: start(ctx)?,
            protected: names(&i.lines("protected-environments")),
            require_protection: i.bool("require-protection")?,
        })),
        "finish" => {
            let state = i.choice("state", &["success", "failure", "error", "cancelled"])?;
            Mode::Finish {
                id: i
                    .int("deployment-id", 1..=u64::MAX)
                    .map_err(|e| InputError {
                        hint: "pass the `deployment-id` output of the `mode: start` step".into(),
                        ..e
                    })?,
                state: match state {
                    "success" => DeploymentState::Success,
                    "failure" => DeploymentState::Failure,
                    // GitHub has no cancelled state: `error` neither
                    // qualifies nor disqualifies a record as previous good.
                    _ => DeploymentState::Error,
                },
                cancelled: state == "cancelled",
                environment: i
                    .get("environment")
                    .is_some()
                    .then(|| environment(ctx))
                    .transpose()?,
                issue: i.get("issue").map(issue).transpose()?,
            }
        }
        "current" => Mode::Current {
            environment: environment(ctx)?,
            app: app(ctx)?,
        },
        _ => Mode::Previous {
            environment: environment(ctx)?,
            app: app(ctx)?,
            replaced: i.get("sha").map(|sha| commit("sha", sha, 7)).transpose()?,
        },
    };
    Ok(Config {
        auth,
        repository,
        mode,
        description,
        environment_url,
        log_url,
        app_token,
    })
}

/// Whether `input` holds its spec default (not something the user wrote).
fn is_default(ctx: &Context, input: &str) -> bool {
    let default = crate::SPEC
        .inputs
        .iter()
        .find(|s| s.name == input)
        .and_then(relay_runtime::InputSpec::default_text);
    default.is_some() && ctx.inputs.get(input) == default
}

fn start(ctx: &Context) -> Result<Start, InputError> {
    let i = &ctx.inputs;
    let environment = environment(ctx)?;
    let mut source = Source::from_event(&ctx.env, &ctx.event);
    let app = check_repository(
        "app-repository",
        i.get("app-repository").unwrap_or(&source.repository),
        "pass the app repository deployed, e.g. `app-repository: my-org/app`",
    )?;
    let sha = match i.get("sha") {
        Some(sha) => sha.to_owned(),
        None if source.sha.is_empty() => {
            return Err(InputError::new(
                "sha",
                "is needed: the app commit deployed is not known here",
                "pass `sha:` (the repository_dispatch payload's `sha` is used when there is one)",
            ));
        }
        None => source.sha.clone(),
    };
    let sha = commit("sha", &sha, 40)?;
    source.repository = app.to_string();
    source.sha.clone_from(&sha);
    let placeholders = Placeholders::from_source(&source, &environment);
    let images = images(i.get("images").unwrap_or_default(), &placeholders)?;
    let dispatch_id = match i.get("dispatch-id") {
        Some(id) => id.to_owned(),
        None => ctx
            .event
            .repository_dispatch()
            .and_then(|d| d.field("dispatch_id").map(str::to_owned))
            .unwrap_or_default(),
    };
    if dispatch_id.chars().count() > 100 || dispatch_id.chars().any(char::is_control) {
        return Err(InputError::new(
            "dispatch-id",
            "must be one line of at most 100 characters",
            "pass the `dispatch_id` of the dispatch payload",
        ));
    }
    let git_ref = i.get("ref").unwrap_or_default().to_owned();
    if git_ref.is_empty()
        || git_ref.len() > 255
        || git_ref.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(InputError::new(
            "ref",
            &format!("must be a commit or branch of the deploy repository, got `{git_ref}`"),
            "leave it unset on a runner (the workflow's commit); on the command line pass `--ref <sha>`",
        ));
    }
    let rollback = i.bool("rollback")?;
    let reason = i.get("reason").unwrap_or_default().to_owned();
    if reason.chars().count() > 500 || reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err(InputError::new(
            "reason",
            "must be at most 500 characters of text",
            "say why in a sentence; link the issue or run for the rest",
        ));
    }
    let provenance = i
        .get("provenance-report")
        .map(relay_deployments::provenance_report)
        .transpose()?
        .unwrap_or_default();
    let production_environment = i
        .get("production-environment")
        .map(|_| i.bool("production-environment"))
        .transpose()?;
    Ok(Start {
        environment,
        git_ref,
        payload: Payload {
            repository: app.to_string(),
            sha,
            images,
            dispatch_id,
            rollback,
            reason,
            provenance,
        },
        production_environment,
        transient_environment: i.bool("transient-environment")?,
    })
}

/// `app-repository` for `previous` and `current`: only that app's records.
fn app(ctx: &Context) -> Result<Option<String>, InputError> {
    ctx.inputs
        .get("app-repository")
        .map(|a| {
            check_repository(
                "app-repository",
                a,
                "pass the app repository, e.g. `app-repository: my-org/app`",
            )
            .map(|r| r.to_string())
        })
        .transpose()
}

/// `protected-environments`: names, one per line or comma-separated.
fn names(lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `issue`: a number, or the issue's URL (`monitor-health`'s `issue-url`).
fn issue(text: &str) -> Result<u64, InputError> {
    let number = text
        .trim_end_matches('/')
        .rsplit_once("/issues/")
        .map_or(text, |(_, n)| n);
    number
        .trim_start_matches('#')
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            InputError::new(
                "issue",
                &format!("must be an issue number or URL, got `{text}`"),
                "pass monitor-health's `issue-url` output, or the number",
            )
        })
}

fn environment(ctx: &Context) -> Result<String, InputError> {
    let env = ctx.inputs.get("environment").ok_or_else(|| {
        InputError::new(
            "environment",
            "is required with this mode but was not given",
            "add `environment: staging` (the environment deployed to) under `with:`",
        )
    })?;
    if env.chars().count() > 255 || env.chars().any(char::is_control) {
        return Err(InputError::new(
            "environment",
            "must be one line of at most 255 characters",
            "use the environment's name as GitHub shows it, e.g. `production`",
        ));
    }
    Ok(env.to_owned())
}

/// A hex commit sha of `min` to 64 characters, lower-cased.
fn commit(input: &str, sha: &str, min: usize) -> Result<String, InputError> {
    if (min..=64).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(sha.to_ascii_lowercase());
    }
    Err(InputError::new(
        input,
        &format!("is not a commit sha: `{sha}`"),
        &if min == 40 {
            "pass the full 40-character sha of the app commit".to_owned()
        } else {
            format!("pass a sha of {min} to 64 hex characters")
        },
    ))
}

fn url(value: Option<&str>, input: &str) -> Result<Option<String>, InputError> {
    let Some(v) = value else { return Ok(None) };
    let lower = v.to_ascii_lowercase();
    let ok = (lower.starts_with("https://") || lower.starts_with("http://"))
        && v.len() > "https://".len()
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(Some(v.to_owned()))
    } else {
        Err(InputError::new(
            input,
            &format!("must be an http(s) URL, got `{v}`"),
            "write it like https://staging.example.com",
        ))
    }
}

/// `images`: `key=template` lines (what another record-deployment step
/// outputs as `previous-images`, so a rollback records the images of the
/// deploy it puts back), or a JSON object of them.
fn images(
    text: &str,
    placeholders: &Placeholders,
) -> Result<std::collections::BTreeMap<String, String>, InputError> {
    if text.trim_start().starts_with('{') {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| {
                InputError::new(
                    "images",
                    &format!("looks like a JSON object but is not one: {e}"),
                    "pass `key=template` lines, or a `previous-images` output as it is",
                )
            })?;
        let images = object
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => Ok((k, s)),
                _ => Err(InputError::new(
                    "images",
                    &format!("has a non-string value for `{k}`"),
                    "every image is a string",
                )),
            })
            .collect::<Result<_, _>>()?;
        return checked(images);
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let rendered: std::collections::BTreeMap<String, String> =
        relay_dispatch::render_images(&lines, placeholders)?
            .into_iter()
            .collect();
    checked(rendered)
}

/// Every image a valid reference, every key a payload word: what the
/// record keeps is what the VM is asked to pull, now and at a rollback.
fn checked(
    images: std::collections::BTreeMap<String, String>,
) -> Result<std::collections::BTreeMap<String, String>, InputError> {
    for (key, value) in &images {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(InputError::new(
                "images",
                &format!("has key `{key}`, which is not a word"),
                "use letters, digits and `_`, e.g. `image` or `api_image`",
            ));
        }
        ImageRef::parse(value).map_err(|why| {
            InputError::new(
                "images",
                &format!("`{key}` {why}: `{value}`"),
                "pass what the build pushed, e.g. `image=ghcr.io/my-org/api@sha256:<digest>` or a tag the build pushed",
            )
        })?;
    }
    Ok(images)
}
