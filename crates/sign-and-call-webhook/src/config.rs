//! The inputs, checked before anything is sent, and the exact body to sign.

use std::time::Duration;

use relay_runtime::{Context, InputError, Source, StatusSet};
use relay_signature::{Scheme, SigningKey};
use reqwest::Url;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Post,
    Put,
    Patch,
}

impl Method {
    pub(crate) fn as_reqwest(self) -> reqwest::Method {
        match self {
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
        }
    }
}

pub(crate) struct Config {
    pub url: Url,
    pub secret: SigningKey,
    /// The exact bytes sent and signed.
    pub body: Vec<u8>,
    pub method: Method,
    pub headers: Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    pub signature_header: reqwest::header::HeaderName,
    pub scheme: Scheme,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retries: u32,
    pub expected: StatusSet,
    pub insecure: bool,
    pub ca_cert: Option<reqwest::Certificate>,
    pub delivery_id: String,
    /// Scales the back-off between tries (tests run it fast).
    pub backoff_scale: f64,
    /// Check, build and sign, send nothing.
    pub dry_run: bool,
}

impl Config {
    /// The URL as logs show it: user info and query values redacted
    /// (either may hold a token).
    pub(crate) fn shown_url(&self) -> String {
        relay_http::redact_url(self.url.as_str())
    }

    pub(crate) fn expects(&self, status: u16) -> bool {
        self.expected.contains(status)
    }

    /// The call as `relay-webhook` makes it.
    pub(crate) fn call(&self) -> relay_webhook::Call {
        relay_webhook::Call {
            url: self.url.clone(),
            key: self.secret.clone(),
            body: self.body.clone(),
            method: self.method.as_reqwest(),
            headers: self.headers.clone(),
            signature_header: self.signature_header.clone(),
            scheme: self.scheme,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            retries: self.retries,
            insecure: self.insecure,
            ca_cert: self.ca_cert.clone(),
            delivery_id: self.delivery_id.clone(),
            backoff_scale: self.backoff_scale,
            // A 409 is final here: the step fails and says so.
            retry_busy: false,
        }
    }
}

pub(crate) fn parse(ctx: &Context) -> Result<Config, InputError> {
    let i = &ctx.inputs;
    let url_text = i.require("url")?;
    let url = Url::parse(url_text).map_err(|e| {
        InputError::new(
            "url",
            &format!("is not a URL: {e}"),
            "write it like https://deploy.example.com/deploy",
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" if i.bool("allow-http")? => {}
        "http" => {
            return Err(InputError::new(
                "url",
                "uses plain http, which would send the deploy request readable on the wire",
                "use https, or set `allow-http: true` for a receiver behind a private network",
            ));
        }
        other => {
            return Err(InputError::new(
                "url",
                &format!("has scheme `{other}`"),
                "use an https:// URL",
            ));
        }
    }
    let scheme: Scheme =
        i.value("signature-scheme")
            .parse()
            .map_err(|e: relay_signature::UnknownScheme| {
                InputError::new(
                    "signature-scheme",
                    &e.to_string(),
                    "pick `standard-webhooks` (the default) or `github`",
                )
            })?;
    i.require("secret")?;
    let secret = i
        .secret("secret")
        .unwrap_or_else(|| relay_runtime::Secret::new(""));
    let secret = SigningKey::from_secret(&secret, scheme).map_err(|e| {
        let hint = match scheme {
            Scheme::StandardWebhooks => {
                "pass the receiver's `whsec_` key (`whsec_` and 32 random bytes in base64), or set `signature-scheme: github` for a receiver that takes a plain shared secret"
            }
            Scheme::GitHub => "pass the receiver's shared secret",
        };
        InputError::new("secret", &e.to_string(), hint)
    })?;
    let body = body(ctx)?;
    let method = match i.value("method").to_ascii_uppercase().as_str() {
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        other => {
            return Err(InputError::new(
                "method",
                &format!("is `{other}`"),
                "use POST, PUT or PATCH",
            ));
        }
    };
    let signature_header = header_name("signature-header", i.value("signature-header"))?;
    // Values may be credentials: the reader marks them sensitive and never
    // echoes one in an error.
    let headers = i.headers("headers")?;
    let timeout = i.duration("timeout")?;
    let connect_timeout = i.duration("connect-timeout")?;
    for (name, d) in [("timeout", timeout), ("connect-timeout", connect_timeout)] {
        if d.is_zero() {
            return Err(InputError::new(name, "must be more than 0", "use e.g. 30s"));
        }
    }
    let ca_cert = i.get("ca-cert").map(relay_webhook::ca_cert).transpose()?;
    Ok(Config {
        url,
        secret,
        body,
        method,
        headers,
        signature_header,
        scheme,
        timeout,
        connect_timeout,
        retries: u32::try_from(i.int("retries", 0..=10)?).unwrap_or(10),
        expected: i.statuses("expected-status")?,
        insecure: i.bool("insecure")?,
        ca_cert,
        delivery_id: uuid::Uuid::new_v4().to_string(),
        backoff_scale: ctx.env.backoff_scale(),
        dry_run: i.bool("dry-run")?,
    })
}

fn header_name(input: &str, name: &str) -> Result<reqwest::header::HeaderName, InputError> {
    reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        InputError::new(
            input,
            &format!("`{name}` is not a valid header name"),
            "use letters, digits and `-`",
        )
    })
}

/// `payload` or `payload-file` byte for byte (after checking it is JSON), or
/// the computed payload.
fn body(ctx: &Context) -> Result<Vec<u8>, InputError> {
    let i = &ctx.inputs;
    if i.get("images").is_some() && (i.get("payload").is_some() || i.get("payload-file").is_some())
    {
        return Err(InputError::new(
            "images",
            "adds fields to the computed payload, but `payload` or `payload-file` replaces it",
            "put the image references in your own payload, or drop `payload`",
        ));
    }
    let (input, bytes) = match (i.get("payload"), i.get("payload-file")) {
        (Some(_), Some(_)) => {
            return Err(InputError::new(
                "payload",
                "and `payload-file` are both set",
                "set one of them",
            ));
        }
        // The raw value, not the trimmed one: the body is sent exactly as given.
        (Some(_), None) => ("payload", raw_input(ctx, "payload")),
        (None, Some(path)) => {
            let path = ctx
                .env
                .path(relay_runtime::vars::GITHUB_WORKSPACE)
                .map_or_else(|| path.into(), |w| w.join(path));
            let bytes = std::fs::read(&path).map_err(|e| {
                InputError::new(
                    "payload-file",
                    &format!("couldn't be read (`{}`: {e})", path.display()),
                    "give a path relative to the workspace",
                )
            })?;
            ("payload-file", bytes)
        }
        (None, None) => return computed(ctx),
    };
    serde_json::from_slice::<Value>(&bytes).map_err(|e| {
        InputError::new(
            input,
            &format!("is not valid JSON: {e}"),
            "the body is sent as application/json; check its quoting",
        )
    })?;
    Ok(bytes)
}

/// The input as the runner passed it (`--payload` or `INPUT_PAYLOAD`),
/// untrimmed, falling back to the parsed value.
fn raw_input(ctx: &Context, name: &str) -> Vec<u8> {
    ctx.env
        .get(&relay_runtime::env_name(name))
        .filter(|v| !v.trim().is_empty())
        .or(ctx.inputs.get(name))
        .unwrap_or_default()
        .as_bytes()
        .to_vec()
}

/// `repository`, `ref`, `sha`, `run_id`, `run_url`, `environment` when
/// given, and each image of `images` as a top-level field of its own
/// holding the reference as it is (`image=<ref>` is the field deploy-receiver
/// passes on by default): what the VM pulls is what the build pushed.
fn computed(ctx: &Context) -> Result<Vec<u8>, InputError> {
    let mut source = Source::from_event(&ctx.env, &ctx.event);
    if let Some(sha) = ctx.inputs.get("sha") {
        sha.clone_into(&mut source.sha);
    }
    let mut p = Map::new();
    p.insert("repository".into(), source.repository.clone().into());
    p.insert("ref".into(), source.ref_name.clone().into());
    p.insert("sha".into(), source.sha.clone().into());
    p.insert(
        "run_id".into(),
        ctx.env
            .get(relay_runtime::vars::GITHUB_RUN_ID)
            .unwrap_or_default()
            .into(),
    );
    p.insert(
        "run_url".into(),
        ctx.env.run_url().unwrap_or_default().into(),
    );
    if let Some(env) = ctx.inputs.get("environment") {
        p.insert("environment".into(), env.into());
    }
    for (key, reference) in
        relay_runtime::image_lines(ctx.inputs.get("images").unwrap_or_default())?
    {
        if p.contains_key(&key) {
            return Err(InputError::new(
                "images",
                &format!("has key `{key}`, which the payload already has"),
                "name the image field something else, e.g. `image`",
            ));
        }
        p.insert(key, reference.into());
    }
    Ok(serde_json::to_vec(&Value::Object(p)).unwrap_or_default())
}
