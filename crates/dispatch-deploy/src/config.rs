//! The action's inputs, checked before any request, and the payload they make.

use std::time::Duration;

use relay_dispatch::DispatchKind;
use relay_github::Auth;
use relay_runtime::{Context, Environments, InputError, Placeholders, RepoName, Source, short_ref};
use serde_json::{Map, Value};

pub(crate) struct Config {
    pub auth: Auth,
    pub repository: RepoName,
    pub kind: DispatchKind,
    pub source: Source,
    pub environment: String,
    pub payload: Map<String, Value>,
    pub dispatch_id: String,
    pub require_success: bool,
    /// Why the triggering `workflow_run` is not deployed: a fork's (unless
    /// `allow-forks`), or one started by an event outside `trigger-events`.
    pub distrust: Option<String>,
    pub wait: bool,
    pub wait_timeout: Duration,
    pub wait_interval: Duration,
    pub dry_run: bool,
}

pub(crate) fn parse(ctx: &Context) -> Result<Config, InputError> {
    let i = &ctx.inputs;
    let repository = i.current_repository(
        "deploy-repository",
        "name the repository that receives the deploy, e.g. `my-org/deploy`",
    )?;
    let kind = match i.get("workflow") {
        Some(workflow) => DispatchKind::Workflow {
            workflow: workflow.to_owned(),
            git_ref: i.get("ref").map(short_ref),
        },
        None => DispatchKind::repository(i.value("event-type"))?,
    };
    let source = source(ctx)?;
    let environment = Environments::parse(&i.lines("environments"))?.for_branch(&source.ref_name);
    let placeholders = Placeholders::from_source(&source, &environment);
    let dispatch_id = uuid::Uuid::new_v4().to_string();
    let mut payload = relay_dispatch::computed_payload(&source, &environment, &dispatch_id);
    for (key, value) in relay_dispatch::render_images(&i.lines("images"), &placeholders)? {
        payload.insert(key, value.into());
    }
    if let Some(text) = i.get("client-payload") {
        relay_dispatch::merge_client_payload(&mut payload, text)?;
    }
    relay_dispatch::check_limits(&kind, &payload)?;
    let allow_forks = i.bool("allow-forks")?;
    let trigger_events =
        relay_runtime::trigger_events(&i.lines("trigger-events")).map_err(|why| {
            InputError::new(
                "trigger-events",
                &why,
                "list event names such as `push` and `workflow_dispatch`",
            )
        })?;
    let wait_interval = i.nonzero_duration("wait-interval", "10s")?;
    Ok(Config {
        auth: Auth::from_context(ctx, &[])?,
        repository,
        kind,
        source,
        environment,
        payload,
        dispatch_id,
        require_success: i.bool("require-success")?,
        distrust: ctx
            .event
            .distrust(&ctx.env)
            .filter(|_| !allow_forks)
            .map(|why| format!("{why} (set `allow-forks: true` to dispatch forks' runs)"))
            .or_else(|| {
                ctx.event.refused_trigger(&trigger_events).map(|why| {
                    format!("{why} (list its event in `trigger-events` to dispatch such runs)")
                })
            }),
        wait: i.bool("wait")?,
        wait_timeout: i.duration("wait-timeout")?,
        wait_interval,
        dry_run: i.bool("dry-run")?,
    })
}

/// What is deployed: the event's source with the overriding inputs; neither
/// repository nor sha may stay empty (on the command line they come from the
/// git checkout, or from these flags).
fn source(ctx: &Context) -> Result<Source, InputError> {
    let i = &ctx.inputs;
    let mut source = Source::from_event(&ctx.env, &ctx.event);
    if let Some(repo) = i.repository(
        "app-repository",
        "name the repository that built what is deployed, e.g. `my-org/app`",
    )? {
        source.repository = repo.to_string();
    }
    if let Some(sha) = i.get("sha") {
        if !sha.chars().all(|c| c.is_ascii_hexdigit()) || !(7..=64).contains(&sha.len()) {
            return Err(InputError::new(
                "sha",
                &format!("is not a commit sha: `{sha}`"),
                "pass a 7 to 64 character hex sha",
            ));
        }
        sha.clone_into(&mut source.sha);
    }
    if let Some(r) = i.get("app-ref") {
        source.ref_name = short_ref(r);
    }
    for (value, input, what) in [
        (&source.repository, "app-repository", "the app repository"),
        (&source.sha, "sha", "the commit to deploy"),
    ] {
        if value.is_empty() {
            return Err(InputError::new(
                input,
                &format!("is needed: {what} is not known here"),
                &format!(
                    "outside a runner pass `--{input} ...`, or run inside a git checkout (its `origin` remote, HEAD and branch are used)"
                ),
            ));
        }
    }
    Ok(source)
}
