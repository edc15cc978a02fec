//! The inputs and the fleet file, all checked — every target's secret
//! found and turned into its signing key — before any request.

use std::collections::BTreeMap;

use relay_deployments::Release;
use relay_github::Auth;
use relay_runtime::{Context, InputError, RepoName, Secret, Source, check_repository, vars};
use relay_signature::{Scheme, SigningKey};

use crate::file::{self, Fleet};

pub(crate) struct Config {
    pub auth: Auth,
    /// The deploy repository, where the records and the issue live.
    pub repository: RepoName,
    /// The deploy repository's commit the records are made at.
    pub git_ref: String,
    pub fleet: Fleet,
    /// The fleet file as the log names it.
    pub file: String,
    /// The app repository deployed.
    pub app: String,
    pub release: Release,
    pub dispatch_id: String,
    /// verify-provenance's report on the images, kept in every wave's
    /// record (`null` when none was passed).
    pub provenance: serde_json::Value,
    /// The first wave this step runs (0-based).
    pub from_wave: usize,
    /// Each target's signing key, by target name.
    pub keys: BTreeMap<String, SigningKey>,
    pub ca_cert: Option<reqwest::Certificate>,
    pub create_issue: bool,
    pub issue_labels: Vec<String>,
    /// The run (`GITHUB_RUN_ID`, or a random id outside a runner) and its attempt.
    pub run_id: String,
    pub run_attempt: u32,
    pub run_url: Option<String>,
    pub backoff_scale: f64,
}

pub(crate) fn parse(ctx: &Context) -> Result<Config, InputError> {
    let i = &ctx.inputs;
    let environment = i.require("environment")?.to_owned();
    if environment.chars().count() > 255 || environment.chars().any(char::is_control) {
        return Err(InputError::new(
            "environment",
            "must be one line of at most 255 characters",
            "use the environment's name as GitHub shows it, e.g. `production`",
        ));
    }
    let secrets = secrets(ctx)?;
    let file = i.value("fleet-file").to_owned();
    let path = ctx
        .env
        .path(vars::GITHUB_WORKSPACE)
        .map_or_else(|| file.clone().into(), |w| w.join(&file));
    let text = std::fs::read_to_string(&path).map_err(|e| {
        InputError::new(
            "fleet-file",
            &format!("couldn't be read (`{}`: {e})", path.display()),
            "check out the deploy repository first (actions/checkout), and give the file's path relative to it",
        )
    })?;
    let fleet = file::parse(&file, &text, &environment)
        .map_err(|e| InputError::new("fleet-file", &format!("is not a fleet file: {e}"), ""))?;
    let keys = keys(&fleet, &secrets)?;
    let from_wave = match i.get("from-wave") {
        None => 0,
        Some(w) => fleet.wave_index(w).ok_or_else(|| {
            InputError::new(
                "from-wave",
                &format!("`{w}` names no wave of `{environment}`"),
                &format!(
                    "pass a wave's name or place: {}",
                    fleet
                        .waves
                        .iter()
                        .map(|w| format!("`{}`", w.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?,
    };
    let mut source = Source::from_event(&ctx.env, &ctx.event);
    let app = check_repository(
        "app-repository",
        i.get("app-repository").unwrap_or(&source.repository),
        "pass the app repository deployed, e.g. `app-repository: my-org/app`",
    )?;
    if let Some(sha) = i.get("sha") {
        sha.clone_into(&mut source.sha);
    }
    let sha = source.sha.to_ascii_lowercase();
    if sha.len() != 40 && sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(InputError::new(
            "sha",
            &format!("is not a full commit sha: `{sha}`"),
            "pass the app commit deployed, all 40 characters",
        ));
    }
    let images = images(i.get("images").unwrap_or_default())?;
    let dispatch_id = i.get("dispatch-id").unwrap_or_default().to_owned();
    if dispatch_id.chars().count() > 100 || dispatch_id.chars().any(char::is_control) {
        return Err(InputError::new(
            "dispatch-id",
            "must be one line of at most 100 characters",
            "pass the `dispatch_id` of the dispatch payload",
        ));
    }
    let provenance = i
        .get("provenance-report")
        .map(relay_deployments::provenance_report)
        .transpose()?
        .unwrap_or_default();
    let repository = i.current_repository(
        "repository",
        "name the deploy repository that holds the records, e.g. `my-org/deploy`",
    )?;
    let git_ref = i.value("ref").to_owned();
    if git_ref.is_empty() || git_ref.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InputError::new(
            "ref",
            &format!("must be a commit or branch of the deploy repository, got `{git_ref}`"),
            "leave it unset on a runner (the workflow's commit)",
        ));
    }
    // `secrets` holds the receivers' keys, not a token of GitHub's: it
    // stands beside App credentials (which `from_context` would refuse for
    // an input named here).
    let auth = Auth::from_context(ctx, &[])?;
    if auth.is_missing() {
        return Err(InputError::new(
            "github-token",
            "is empty",
            "pass `github-token: ${{ github.token }}` with `permissions: { deployments: write, issues: write }` on the job, or `github-app-id` and `github-app-private-key`",
        ));
    }
    let issue_labels = i
        .value("issue-labels")
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let (run_id, run_attempt) = match ctx.env.get(vars::GITHUB_RUN_ID) {
        Some(id) if !id.is_empty() => (
            id.to_owned(),
            ctx.env
                .get(vars::GITHUB_RUN_ATTEMPT)
                .and_then(|a| a.parse().ok())
                .unwrap_or(1),
        ),
        // By hand: a rollout of its own.
        _ => (
            format!("local{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            1,
        ),
    };
    Ok(Config {
        auth,
        repository,
        git_ref,
        fleet,
        file,
        app: app.to_string(),
        release: Release { sha, images },
        dispatch_id,
        provenance,
        from_wave,
        keys,
        ca_cert: i.get("ca-cert").map(relay_webhook::ca_cert).transpose()?,
        create_issue: i.bool("create-issue")?,
        issue_labels,
        run_id,
        run_attempt,
        run_url: ctx.env.run_url(),
        backoff_scale: ctx.env.backoff_scale(),
    })
}

/// `secrets`: the JSON object `${{ toJSON(secrets) }}` gives, name → value.
/// Every value is masked at once, in every form a key may be printed in.
fn secrets(ctx: &Context) -> Result<BTreeMap<String, Secret>, InputError> {
    let text = ctx.inputs.secret("secrets").ok_or_else(|| {
        InputError::new(
            "secrets",
            "is required but was not given",
            "pass `secrets: ${{ toJSON(secrets) }}` (with `secrets: inherit` from the caller, so the environment's secrets are there)",
        )
    })?;
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text.expose())
        .map_err(|_| {
            // serde's message could quote the text: say nothing of it.
            InputError::new(
                "secrets",
                "is not a JSON object of secret names and values",
                "pass `secrets: ${{ toJSON(secrets) }}`",
            )
        })?;
    let mut out = BTreeMap::new();
    for (name, value) in map {
        let serde_json::Value::String(value) = value else {
            return Err(InputError::new(
                "secrets",
                &format!("has a value for `{name}` that is not a string"),
                "pass `secrets: ${{ toJSON(secrets) }}`",
            ));
        };
        let secret = ctx.console.secret(&value);
        if let Ok(key) = SigningKey::from_secret(&secret, Scheme::StandardWebhooks) {
            for form in key.printed_forms() {
                // Short forms would mask ordinary words.
                if form.len() >= 8 {
                    ctx.console.add_mask(&form);
                }
            }
        }
        // GitHub keeps secret names upper-case, whatever they were written as
        // (https://docs.github.com/en/actions/reference/secrets-reference#naming-your-secrets).
        out.insert(name.to_ascii_uppercase(), secret);
    }
    Ok(out)
}

/// Each target's signing key: a target whose secret is missing or is not a
/// key of the scheme is an error here, before anything is called.
fn keys(
    fleet: &Fleet,
    secrets: &BTreeMap<String, Secret>,
) -> Result<BTreeMap<String, SigningKey>, InputError> {
    let mut missing = Vec::new();
    let mut keys = BTreeMap::new();
    for (_, target) in fleet.targets() {
        let Some(secret) = secrets.get(&target.secret).filter(|s| !s.is_empty()) else {
            missing.push(format!("`{}` (secret `{}`)", target.name, target.secret));
            continue;
        };
        let key = SigningKey::from_secret(secret, fleet.scheme).map_err(|e| {
            InputError::new(
                "secrets",
                &format!(
                    "has secret `{}` for target `{}`, which is no {} key: {e}",
                    target.secret, target.name, fleet.scheme
                ),
                "store the receiver's key as it is in its secret file (`whsec_…` for standard-webhooks)",
            )
        })?;
        keys.insert(target.name.clone(), key);
    }
    if !missing.is_empty() {
        return Err(InputError::new(
            "secrets",
            &format!(
                "has no value for {}, so nothing was called",
                missing.join(", ")
            ),
            "store each receiver's key as a secret of the environment (or the repository), named as the fleet file says, and pass `secrets: ${{ toJSON(secrets) }}` with `secrets: inherit` from the caller",
        ));
    }
    Ok(keys)
}

/// `images`: `key=reference` lines ([`relay_runtime::image_lines`]), each
/// sent to every target as a payload field of its own and recorded.
fn images(text: &str) -> Result<BTreeMap<String, String>, InputError> {
    let pairs = relay_runtime::image_lines(text)?;
    if let Some((key, _)) = pairs.iter().find(|(k, _)| RESERVED.contains(&k.as_str())) {
        return Err(InputError::new(
            "images",
            &format!("has key `{key}`, which is not a payload field of its own"),
            &format!(
                "use letters, digits and `_`, other than {}",
                RESERVED.join(", ")
            ),
        ));
    }
    Ok(pairs.into_iter().collect())
}

/// The payload fields a fleet deploy writes itself.
pub(crate) const RESERVED: &[&str] = &[
    "repository",
    "sha",
    "environment",
    "target",
    "wave",
    "rollback",
    "run_id",
    "run_url",
    "dispatch_id",
];
