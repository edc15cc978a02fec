//! `sign-and-call-webhook`: the deploy call of seed 003 without curl. It
//! signs the exact body it sends (GitHub's `X-Hub-Signature-256` or Standard
//! Webhooks), refuses plain http unless allowed, retries only what cannot
//! have run the deploy twice — with the same delivery id — and fails on any
//! unexpected answer with a message that says which kind of failure it was.
//! The receiver's answer is shown fenced, so it cannot issue workflow commands.

mod config;
mod send;

use relay_runtime::{ActionSpec, Context, InputSpec, OutputSpec, md_cell};

pub use config::parse_statuses;
pub use send::MAX_RESPONSE;

pub static SPEC: ActionSpec = ActionSpec {
    name: "sign-and-call-webhook",
    description: "POST a JSON body signed with HMAC-SHA256 to a deployment endpoint and fail on an unexpected answer",
    context: "the commit and repository for the computed payload (the workflow_run's head_sha, else GITHUB_SHA; GITHUB_REPOSITORY, GITHUB_REF_NAME), GITHUB_RUN_ID and GITHUB_SERVER_URL (run_url), GITHUB_WORKSPACE for payload-file. On the command line pass --sha, or a whole --payload.",
    inputs: &[
        InputSpec::new("url", "The endpoint, e.g. https://vm.example.com/deploy (https unless allow-http)").required(),
        InputSpec::new("secret", "The shared secret (a `whsec_` key for standard-webhooks)").required().secret(),
        InputSpec::new("payload", "JSON body, sent byte for byte as signed (default: computed repository, ref, sha, image_sha, run_id, run_url, environment)"),
        InputSpec::new("payload-file", "File with the JSON body, relative to the workspace; sent byte for byte"),
        InputSpec::new("environment", "Added to the computed payload"),
        InputSpec::new("sha", "The commit being deployed, `sha` and `image_sha` of the computed payload (default: from the event)"),
        InputSpec::new("method", "POST, PUT or PATCH").default("POST"),
        InputSpec::new("headers", "Extra headers, one `Name: value` per line"),
        InputSpec::new("signature-header", "Header carrying the github-scheme signature").default("X-Hub-Signature-256"),
        InputSpec::new("signature-scheme", "`github` (sha256=<hex> over the body) or `standard-webhooks` (webhook-id/-timestamp/-signature)").default("github"),
        InputSpec::new("timeout", "Total time for one try, answer included (a deploy can take minutes)").default("10m"),
        InputSpec::new("connect-timeout", "Time to establish the connection").default("10s"),
        InputSpec::new("retries", "Extra tries after a connection error or a 429/502/503/504, with the same delivery id (0-10)").default("0"),
        InputSpec::new("expected-status", "Statuses that count as success: ranges, lists or classes (200-299, 200,204, 2xx)").default("200-299"),
        InputSpec::new("allow-http", "Allow a plain http:// URL").default("false"),
        InputSpec::new("insecure", "Skip TLS certificate verification (tests only)").default("false"),
        InputSpec::new("ca-cert", "PEM of the CA that signed the receiver's certificate, or a path to it"),
    ],
    outputs: &[
        OutputSpec { name: "status", description: "HTTP status of the answer" },
        OutputSpec { name: "response", description: "Body of the answer (at most 64 KiB)" },
        OutputSpec { name: "delivery-id", description: "The X-Deploy-Delivery id sent on every try" },
        OutputSpec { name: "duration-ms", description: "Milliseconds from the first try to the final answer" },
    ],
};

pub async fn run(ctx: Context) -> anyhow::Result<()> {
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
    let answer = match send::deliver(&config, &ctx.console).await {
        Ok(answer) => answer,
        Err(e) => {
            ctx.summary
                .append(&summary(&url, &config.delivery_id, None))?;
            return Err(e.into());
        }
    };
    ctx.outputs.set("status", &answer.status.to_string())?;
    ctx.outputs.set("response", &answer.body)?;
    ctx.outputs
        .set("duration-ms", &answer.elapsed.as_millis().to_string())?;
    {
        let _group = ctx
            .console
            .group(&format!("Response {} from {url}", answer.status));
        ctx.console.untrusted(&answer.body);
        if answer.truncated {
            ctx.console.info(&format!("(cut at {MAX_RESPONSE} bytes)"));
        }
    }
    ctx.summary
        .append(&summary(&url, &config.delivery_id, Some(&answer)))?;
    if config.expects(answer.status) {
        return Ok(());
    }
    anyhow::bail!("{}", failure(answer.status, &url, &answer.body));
}

fn failure(status: u16, url: &str, body: &str) -> String {
    let excerpt: String = body
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

fn summary(url: &str, delivery: &str, answer: Option<&send::Answer>) -> String {
    let (headline, status, tries, ms) = match answer {
        Some(a) => (
            if (200..300).contains(&a.status) {
                "✅ Deploy endpoint answered"
            } else {
                "❌ Deploy endpoint answered"
            },
            a.status.to_string(),
            a.attempts.to_string(),
            a.elapsed.as_millis().to_string(),
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
