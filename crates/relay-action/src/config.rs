//! The inputs, and the payload they make, checked before any request — the
//! payload's key count included, with the availability flags counted
//! before anything is downloaded.

use relay_artifacts::{DigestPolicy, IfNone, RetryPolicy, ReuploadNames, Selection, Upload};
use relay_dispatch::DispatchKind;
use relay_github::Auth;
use relay_runtime::{
    Context, Environments, InputError, Placeholders, RepoName, Secret, Source, check_repository,
    vars,
};
use serde_json::{Map, Value};

/// An artifact to relay, and the payload key that says whether it was.
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    pub name: String,
    pub flag: Option<String>,
}

pub(crate) struct Config {
    /// `github-token`, or the App (which also mints the dispatch's token).
    pub auth: Auth,
    /// `dispatch-token` when given; else `auth` dispatches too.
    pub dispatch_token: Option<Secret>,
    /// The deploy repository that receives the dispatch.
    pub repository: RepoName,
    pub kind: DispatchKind,
    /// The build run and its repository.
    pub source: Source,
    pub source_repository: RepoName,
    pub run_id: u64,
    pub wanted: Vec<Wanted>,
    /// Where the flags go: top-level keys, or one object under this key.
    pub flags_object: Option<String>,
    pub names: ReuploadNames,
    pub environment: String,
    /// The payload with every flag `"false"`; the flags are set once the
    /// artifacts have moved.
    pub payload: Map<String, Value>,
    pub dispatch_id: String,
    pub upload: Upload,
    pub digest: DigestPolicy,
    pub retry: RetryPolicy,
    pub if_none: IfNone,
    pub require_success: bool,
    pub distrust: Option<String>,
    /// The build run was started by an event we do not deploy from.
    pub refused_trigger: Option<String>,
    /// The build's artifact of image references.
    pub images_artifact: String,
    /// Whether `images` gave templates (the tag handover).
    pub image_templates: bool,
    pub notes: Vec<String>,
}

impl Config {
    pub(crate) fn selection(&self) -> Selection {
        if self.wanted.is_empty() {
            Selection::All
        } else {
            Selection::Names(self.wanted.iter().map(|w| w.name.clone()).collect())
        }
    }

    /// `payload` with each flag set: `"true"` for the artifacts relayed.
    pub(crate) fn with_flags(
        &self,
        payload: &Map<String, Value>,
        relayed: &[String],
    ) -> Map<String, Value> {
        let mut payload = payload.clone();
        let flags: Map<String, Value> = self
            .wanted
            .iter()
            .filter_map(|w| {
                let on = relayed.contains(&w.name);
                w.flag
                    .clone()
                    .map(|k| (k, Value::from(if on { "true" } else { "false" })))
            })
            .collect();
        match &self.flags_object {
            Some(key) if !flags.is_empty() => {
                payload.insert(key.clone(), Value::Object(flags));
            }
            _ => payload.extend(flags),
        }
        payload
    }
}

pub(crate) fn parse(ctx: &Context) -> anyhow::Result<Config> {
    let i = &ctx.inputs;
    let env = &ctx.env;
    let mut notes = Vec::new();
    let repository = i.current_repository(
        "deploy-repository",
        "name the repository that deploys, e.g. `my-org/deploy`",
    )?;
    let kind = DispatchKind::repository(i.value("event-type"))?;
    let source = Source::from_event(env, &ctx.event);
    let run_id = match relay_artifacts::run_id_input(i, "pass the id from the build run's URL")? {
        Some(id) => id,
        None if ctx.event.workflow_run().is_some() => source.run_id.parse().unwrap_or_default(),
        None => {
            return Err(InputError::new(
                "run-id",
                &format!(
                    "is required under a `{}` event, which names no build run",
                    ctx.event.name
                ),
                "run this action in a workflow triggered by `workflow_run` (as its README shows), or set `run-id`",
            )
            .into());
        }
    };
    let source_repository = check_repository(
        "run-id",
        &source.repository,
        "run this action under the build's `workflow_run` event",
    )?;
    let wanted = wanted(&i.lines("artifacts"))?;
    let flags_object = i.get("artifacts-object").map(str::to_owned);
    let environment = Environments::parse(&i.lines("environments"))?.for_branch(&source.ref_name);
    let placeholders = Placeholders::from_source(&source, &environment);
    let names = ReuploadNames::from_input(i, placeholders.clone())?;
    // The artifacts land in this run: the deploy repository fetches them
    // from here (`run-id: artifacts_run_id`), not from the build run.
    let this_run = env.get(vars::GITHUB_RUN_ID).unwrap_or_default().to_owned();
    let dispatch_id = uuid::Uuid::new_v4().to_string();
    let mut payload = relay_dispatch::computed_payload(&source, &environment, &dispatch_id);
    payload.insert("artifacts_run_id".into(), this_run.into());
    let templates = relay_dispatch::render_images(&i.lines("images"), &placeholders)?;
    let image_templates = !templates.is_empty();
    for (key, value) in templates {
        payload.insert(key, value.into());
    }
    let images_artifact = i.value("images-artifact").to_owned();
    relay_artifacts::validate_artifact_name(&images_artifact).map_err(|e| {
        InputError::new(
            "images-artifact",
            &format!(
                "is no artifact name: {}",
                e.to_string().lines().next().unwrap_or_default()
            ),
            "name the artifact the build uploads its image references in (default `deploy-relay-images`)",
        )
    })?;
    let trigger_events =
        relay_runtime::trigger_events(&i.lines("trigger-events")).map_err(|why| {
            InputError::new(
                "trigger-events",
                &why,
                "list event names such as `push` and `workflow_dispatch`",
            )
        })?;
    if let Some(text) = i.get("client-payload") {
        relay_dispatch::merge_client_payload(&mut payload, text)?;
    }
    let config_flags = Config::flags_only(&wanted, flags_object.as_deref());
    let mut counted = payload.clone();
    counted.extend(config_flags);
    if let Err(e) = relay_dispatch::check_limits(&kind, &counted) {
        let flags = wanted.iter().filter(|w| w.flag.is_some()).count();
        if flags > 0
            && flags_object.is_none()
            && counted.len() > relay_dispatch::MAX_CLIENT_PAYLOAD_KEYS
        {
            return Err(InputError::new(
                "artifacts",
                &format!(
                    "adds {flags} availability flag(s), making a payload of {} top-level keys; GitHub accepts at most {}",
                    counted.len(),
                    relay_dispatch::MAX_CLIENT_PAYLOAD_KEYS
                ),
                "put the flags in one nested object with `artifacts-object: artifacts` (the deploy repository reads `client_payload.artifacts.<key>`), or drop some `images`",
            )
            .into());
        }
        return Err(e.into());
    }
    let (upload, note) = Upload::from_inputs(i, env)?;
    notes.extend(note);
    let if_none = IfNone::from_input(i, "if-no-artifact-found")?;
    let digest = DigestPolicy::from_input(i, "verify-digest")?;
    let allow_forks = i.bool("allow-forks")?;
    Ok(Config {
        auth: Auth::from_context(ctx, &["dispatch-token"])?,
        dispatch_token: i.secret("dispatch-token"),
        repository,
        kind,
        source,
        source_repository,
        run_id,
        wanted,
        flags_object,
        names,
        environment,
        payload,
        dispatch_id,
        upload,
        digest,
        retry: RetryPolicy::scaled(env.backoff_scale()),
        if_none,
        require_success: i.bool("require-success")?,
        distrust: ctx.event.distrust(env).filter(|_| !allow_forks),
        refused_trigger: ctx.event.refused_trigger(&trigger_events),
        images_artifact,
        image_templates,
        notes,
    })
}

impl Config {
    /// The flags as they will appear, every one `"false"` for now.
    fn flags_only(wanted: &[Wanted], object: Option<&str>) -> Map<String, Value> {
        let flags: Map<String, Value> = wanted
            .iter()
            .filter_map(|w| w.flag.clone().map(|k| (k, Value::from("false"))))
            .collect();
        match object {
            Some(key) if !flags.is_empty() => [(key.to_owned(), Value::Object(flags))]
                .into_iter()
                .collect(),
            _ => flags,
        }
    }
}

/// `artifacts` lines: `name` or `name=payload_key`.
fn wanted(lines: &[&str]) -> Result<Vec<Wanted>, InputError> {
    let mut out: Vec<Wanted> = Vec::new();
    for line in lines {
        let (name, flag) = match line.split_once('=') {
            Some((n, k)) => (n.trim(), Some(k.trim())),
            None => (line.trim(), None),
        };
        relay_artifacts::validate_artifact_name(name).map_err(|e| {
            InputError::new(
                "artifacts",
                &format!(
                    "line `{line}` names no valid artifact: {}",
                    e.to_string().lines().next().unwrap_or_default()
                ),
                "write one `artifact-name` or `artifact-name=payload_key` per line",
            )
        })?;
        if let Some(k) = flag
            && (k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(InputError::new(
                "artifacts",
                &format!("line `{line}` has a payload key that is not a word: `{k}`"),
                "use letters, digits and `_`, e.g. `frontend-build=frontend_artifacts_available`",
            ));
        }
        if out.iter().any(|w| w.name == name) {
            return Err(InputError::new(
                "artifacts",
                &format!("names `{name}` twice"),
                "list each artifact once",
            ));
        }
        out.push(Wanted {
            name: name.to_owned(),
            flag: flag.map(str::to_owned),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_lines_name_flags() {
        let w = wanted(&["frontend-build=frontend_artifacts_available", "docs"]).unwrap();
        assert_eq!(w[0].flag.as_deref(), Some("frontend_artifacts_available"));
        assert_eq!(w[1].flag, None);
        assert!(wanted(&["a=b c"]).is_err());
        assert!(wanted(&["a", "a"]).is_err());
        assert!(wanted(&["../x=f"]).is_err());
    }
}
