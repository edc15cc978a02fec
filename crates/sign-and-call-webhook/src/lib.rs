//! `sign-and-call-webhook`: the signed deploy call, without curl. It signs
//! the exact body it sends (GitHub's `X-Hub-Signature-256` or Standard
//! Webhooks), refuses plain http unless allowed, retries only what cannot
//! have run the deploy — with the same delivery id — follows an async
//! deploy's status path to its end, reports an answer that leaves the
//! outcome open as exactly that, and fails on any unexpected answer with a
//! message that says which kind of failure it was. The receiver's answer is
//! masked, then shown fenced, so it can neither leak the secret nor issue
//! workflow commands.

#![warn(unreachable_pub, missing_docs, clippy::pedantic)]
// The allow-list of [workspace.lints] (reasons there), repeated because a
// crate-level `warn` of the group overrides the workspace's `allow`s.
#![allow(
    clippy::must_use_candidate,
    clippy::missing_errors_doc,
    clippy::return_self_not_must_use,
    clippy::format_push_string,
    clippy::too_many_lines,
    clippy::similar_names,
    clippy::struct_excessive_bools,
    clippy::cast_precision_loss
)]

mod config;

use relay_runtime::{ActionSpec, Console, Context, InputSpec, OutputSpec, md_cell};

use relay_webhook::{Delivery, Ending};

/// The action: its inputs and outputs, `--help` and `action.yml`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "sign-and-call-webhook",
    description: "POST a JSON body signed with HMAC-SHA256 to a deployment endpoint and fail on an unexpected answer",
    context: "the commit and repository for the computed payload (the workflow_run's head_sha, else GITHUB_SHA; GITHUB_REPOSITORY, GITHUB_REF_NAME), GITHUB_RUN_ID and GITHUB_SERVER_URL (run_url), GITHUB_WORKSPACE for payload-file. On the command line pass --sha, or a whole --payload.",
    inputs: &[
        InputSpec::new("url", "The endpoint, e.g. https://vm.example.com:8443/deploy/api (https unless allow-http)").required(),
        InputSpec::new("secret", "The shared secret (a `whsec_` key for standard-webhooks)").required().secret(),
        InputSpec::new("payload", "JSON body, sent byte for byte as signed (default: computed repository, ref, sha, run_id, run_url, environment, and one field per image)"),
        InputSpec::new("payload-file", "File with the JSON body, relative to the workspace; sent byte for byte"),
        InputSpec::new("environment", "Added to the computed payload"),
        InputSpec::new("sha", "The commit being deployed, `sha` of the computed payload (default: from the event)"),
        InputSpec::new("images", "Lines of `key=reference`, each added to the computed payload as a top-level field holding the whole reference the VM pulls: by digest (`image=ghcr.io/o/api@sha256:<64 hex>`, what the build pushed) or by a tag the build pushed. One image is `image=<ref>`, the field deploy-receiver's hook passes to deploy.sh"),
        InputSpec::new("method", "POST, PUT or PATCH").default("POST"),
        InputSpec::new("headers", "Extra headers, one `Name: value` per line"),
        InputSpec::new("signature-header", "Header carrying the github-scheme signature").default("X-Hub-Signature-256"),
        InputSpec::new("signature-scheme", "`standard-webhooks` (webhook-id/-timestamp/-signature, a `whsec_` secret; the timestamp gives the receiver a replay window) or `github` (sha256=<hex> over the body, for receivers such as adnanh/webhook)").default("standard-webhooks"),
        InputSpec::new("timeout", "Time for one try, answer included — for an async deploy (202), following it to its end. Longer than deploy-receiver's default hook timeout (10m), so its own answer is heard").default("15m"),
        InputSpec::new("connect-timeout", "Time to establish the connection").default("10s"),
        InputSpec::new("retries", "Extra tries, with the same delivery id (0-10), only where nothing ran: a connection error before the request was sent, or a 429/503 without `exit_code`. An answer with `exit_code` is final; a proxy's 502/504 is an unknown outcome, never retried").default("0"),
        InputSpec::new("expected-status", "Statuses that count as success: ranges, lists or classes (200-299, 200,204, 2xx)").default("200-299"),
        InputSpec::new("allow-http", "Allow a plain http:// URL").default("false"),
        InputSpec::new("insecure", "Skip TLS certificate verification (tests only)").default("false"),
        InputSpec::new("ca-cert", "PEM of the CA that signed the receiver's certificate, or a path to it"),
        InputSpec::new("dry-run", "Check every input, build and sign the body, print it; send nothing").default("false"),
    ],
    outputs: &[
        OutputSpec { name: "status", description: "HTTP status of the answer" },
        OutputSpec { name: "response", description: "Body of the answer (at most 64 KiB)" },
        OutputSpec { name: "delivery-id", description: "The X-Deploy-Delivery id sent on every try" },
        OutputSpec { name: "duration-ms", description: "Milliseconds from the first try to the final answer" },
    ],
};

/// A `whsec_` secret's bare base64 key (and its other printed forms) is
/// masked too: the runner only knows the input's whole text.
fn mask_secret_forms(ctx: &Context) {
    let Some(text) = ctx.inputs.get("secret") else {
        return;
    };
    if !text.trim().starts_with("whsec_") {
        return;
    }
    let secret = relay_runtime::Secret::new(text);
    if let Ok(secret) =
        relay_signature::SigningKey::from_secret(&secret, relay_signature::Scheme::StandardWebhooks)
    {
        for form in secret.printed_forms() {
            // Short forms would mask ordinary words.
            if form.len() >= 8 {
                ctx.console.add_mask(&form);
            }
        }
    }
}

/// Runs the action.
pub async fn run(ctx: Context) -> anyhow::Result<()> {
    mask_secret_forms(&ctx);
    let config = config::parse(&ctx)?;
    let url = config.shown_url();
    ctx.outputs.set("delivery-id", &config.delivery_id)?;
    if config.insecure {
        ctx.console
            .warning("insecure: true, the receiver's TLS certificate is not verified");
    }
    ctx.console.info(&format!(
        "{} {url} ({} bytes, {} signature, delivery {})",
        config.method.as_reqwest(),
        config.body.len(),
        config.scheme,
        config.delivery_id
    ));
    if config.dry_run {
        {
            let _group = ctx.console.group("Body (dry run: not sent)");
            ctx.console
                .untrusted(&String::from_utf8_lossy(&config.body));
        }
        ctx.summary.append(&format!(
            "### 🔎 Webhook checked, nothing sent\n\n{} {} with a {} signature, {} bytes.\n",
            config.method.as_reqwest(),
            relay_runtime::md_code(&url),
            config.scheme,
            config.body.len()
        ))?;
        return Ok(());
    }
    let delivery = match relay_webhook::deliver(&config.call(), &ctx.console).await {
        Ok(delivery) => delivery,
        Err(e) => {
            ctx.summary
                .append(&summary(&url, &config.delivery_id, None))?;
            return Err(e.into());
        }
    };
    let reply = match &delivery.ending {
        Ending::Final(reply) => Some(reply),
        Ending::Unknown { reply, .. } => reply.as_ref(),
    };
    if let Some(reply) = reply {
        ctx.outputs.set("status", &reply.status.to_string())?;
        ctx.outputs.set("response", &reply.body)?;
        show(&ctx.console, &url, reply);
    }
    ctx.outputs
        .set("duration-ms", &delivery.elapsed.as_millis().to_string())?;
    ctx.summary
        .append(&summary(&url, &config.delivery_id, Some(&delivery)))?;
    match &delivery.ending {
        Ending::Final(reply) if config.expects(reply.status) => Ok(()),
        Ending::Final(reply) => anyhow::bail!("{}", failure(reply, &url)),
        Ending::Unknown { why, .. } => anyhow::bail!(
            "the outcome of delivery {} is unknown: {why}",
            config.delivery_id
        ),
    }
}

/// The answer in a log group, fenced (it is the server's text).
fn show(console: &Console, url: &str, reply: &relay_webhook::Reply) {
    let _group = console.group(&format!("Response {} from {url}", reply.status));
    console.untrusted(&reply.body);
    if reply.truncated {
        console.info(&format!("(cut at {} bytes)", relay_webhook::MAX_RESPONSE));
    }
}

fn failure(reply: &relay_webhook::Reply, url: &str) -> String {
    let status = reply.status;
    let excerpt: String = reply
        .body
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let said = if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    };
    match status {
        409 => format!(
            "{url} refused the deploy (409){said}\nhint: nothing was deployed for this delivery (deploy-receiver answers 409 while another deploy of the hook runs); run the step again, or set `queue = true` on the hook"
        ),
        429 | 503 if !reply.exit_code => format!(
            "{url} was busy ({status}){said}\nhint: nothing was deployed; set `retries` to try again with the same delivery id"
        ),
        401 | 403 => format!(
            "{url} refused the signature ({status}){said}\nhint: check that `secret` is the receiver's secret and that `signature-scheme` and `signature-header` match its configuration"
        ),
        300..=399 => format!(
            "{url} answered a redirect ({status}); a signed deploy call is not followed elsewhere\nhint: use the final URL"
        ),
        400..=499 => format!(
            "{url} refused the deploy ({status}){said}\nhint: nothing was deployed; the response says which field"
        ),
        500..=599 => format!(
            "the deploy failed on {url} ({status}){said}\nhint: read the receiver's output in the `Response` group above"
        ),
        _ => format!("{url} answered {status}, which is not in `expected-status`"),
    }
}

fn summary(url: &str, delivery: &str, done: Option<&Delivery>) -> String {
    let (headline, status, tries, ms) = match done {
        Some(d) => (
            match &d.ending {
                Ending::Final(r) if (200..300).contains(&r.status) => "✅ Deploy endpoint answered",
                Ending::Final(_) => "❌ Deploy endpoint answered",
                Ending::Unknown { .. } => "⚠️ Deploy outcome unknown",
            },
            match &d.ending {
                Ending::Final(r) | Ending::Unknown { reply: Some(r), .. } => r.status.to_string(),
                Ending::Unknown { reply: None, .. } => "no answer".into(),
            },
            if d.polls > 0 {
                format!("{} (then {} status polls)", d.attempts, d.polls)
            } else {
                d.attempts.to_string()
            },
            d.elapsed.as_millis().to_string(),
        ),
        None => (
            "❌ Deploy endpoint not reached",
            "—".into(),
            "—".into(),
            "—".into(),
        ),
    };
    format!(
        "### {headline}\n\n| | |\n|---|---|\n| URL | `{}` |\n| Status | {status} |\n| Tries | {tries} |\n| Duration | {ms} ms |\n| Delivery | `{delivery}` |\n",
        md_cell(url)
    )
}

/// What the fuzz target reaches that a user never calls: how an answer is
/// read, and what the step does next because of it.
#[doc(hidden)]
pub mod fuzzing {
    pub use relay_webhook::{MAX_RESPONSE, Next, Reply, Tried, interpret, next};
}
