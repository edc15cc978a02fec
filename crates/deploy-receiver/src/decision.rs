//! The decision on one request, as a pure function of the hook, the headers,
//! the raw body and the clock, so it can be unit-tested and fuzzed without a
//! socket. Order matters: method and size are visible to anyone; the
//! signature is checked over the raw bytes before the body is looked at, so
//! an unsigned request learns nothing about what a signed one would need.

use http::{HeaderMap, Method, StatusCode};
use relay_signature::Scheme;
use relay_signature::standard;

use crate::auth::Auth;
use crate::config::Hook;

/// Headers a delivery id is read from, most specific first.
pub const DELIVERY_HEADERS: [&str; 3] = ["x-deploy-delivery", "x-github-delivery", "webhook-id"];
/// The longest delivery id (SPEC).
pub(crate) const MAX_DELIVERY_ID: usize = 128;
/// What a delivery id may be, as refusals say it.
pub(crate) const DELIVERY_ID_RULE: &str = "1-128 of `A-Z a-z 0-9 - . _ ~`";

/// A request that passed every check: what to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The delivery id the sender gave, checked against the id rule.
    pub delivery_id: Option<String>,
    /// The validated payload fields, in the hook's `args` order.
    pub args: Vec<String>,
}

/// A refusal: the status, the message the client sees, and the reason for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status of the answer.
    pub status: StatusCode,
    /// What the client is told.
    pub message: String,
    /// What the log says: for a signature, more than the client is told.
    pub reason: String,
}

impl Rejection {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            reason: message.clone(),
            message,
        }
    }
}

/// Everything [`decide`] reads besides the hook.
pub struct Limits<'a> {
    /// The hook's verifier.
    pub auth: &'a Auth,
    /// The largest body, in bytes (`max_body`).
    pub max_body: usize,
    /// Whether a request without a delivery id is refused.
    pub require_delivery_id: bool,
}

/// Decides whether `body` sent with `headers` to `hook` may run its command.
pub fn decide(
    hook: &Hook,
    limits: &Limits<'_>,
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Accepted, Rejection> {
    if method != Method::POST {
        return Err(Rejection::new(StatusCode::METHOD_NOT_ALLOWED, "use POST"));
    }
    if body.len() > limits.max_body {
        return Err(Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {} bytes", limits.max_body),
        ));
    }
    // Before anything else reads it: the id names the status path and
    // reaches the command as `DEPLOY_DELIVERY_ID`, and under the `github`
    // scheme no signature covers it.
    let delivery_id = delivery_id(headers, limits.auth.scheme())?;
    if let Err(why) = limits.auth.verify(headers, body, now) {
        // The client is told nothing about which part was wrong.
        return Err(Rejection {
            status: StatusCode::UNAUTHORIZED,
            message: "unauthorized".into(),
            reason: why.to_string(),
        });
    }
    if !is_json(headers) {
        return Err(Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send `Content-Type: application/json`",
        ));
    }
    if limits.require_delivery_id && delivery_id.is_none() {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "a delivery id header (`X-Deploy-Delivery`, `X-GitHub-Delivery` or `webhook-id`) is required",
        ));
    }
    let payload: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Rejection::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })?;
    if !payload.is_object() {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        ));
    }
    let mut args = Vec::with_capacity(hook.args.len());
    for (field, pattern) in &hook.args {
        let value = field_value(&payload, field).ok_or_else(|| {
            Rejection::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the payload has no string field `{field}`"),
            )
        })?;
        if !pattern.is_match(value) {
            return Err(Rejection::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("field `{field}` does not match `{}`", pattern.as_str()),
            ));
        }
        args.push(value.to_owned());
    }
    Ok(Accepted { delivery_id, args })
}

/// `application/json`, with or without parameters, or a `+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    // Exactly one Content-Type: two could be read differently by a proxy.
    let mut values = headers.get_all(http::header::CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The delivery id. Under Standard Webhooks it is the signed `webhook-id`,
/// so a replay cannot dodge the memory by changing it; under the GitHub
/// scheme it is whatever header the sender set. Either way it must be
/// [`DELIVERY_ID_RULE`] — the characters a status path takes as they are,
/// none a shell or a log would read as anything but text — and given once.
fn delivery_id(headers: &HeaderMap, scheme: Scheme) -> Result<Option<String>, Rejection> {
    let names: &[&str] = match scheme {
        Scheme::StandardWebhooks => &[standard::ID_HEADER],
        Scheme::GitHub => &DELIVERY_HEADERS,
    };
    let Some(name) = names.iter().find(|n| headers.contains_key(**n)) else {
        return Ok(None);
    };
    let mut values = headers.get_all(*name).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            format!("send one `{name}` header, not several"),
        ));
    };
    let text = value.to_str().unwrap_or("");
    if !(text.len() <= MAX_DELIVERY_ID && relay_signature::status::path_safe(text)) {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            format!("the delivery id (`{name}`) must be {DELIVERY_ID_RULE}"),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// A string field, `a.b` descending into objects.
fn field_value<'a>(payload: &'a serde_json::Value, field: &str) -> Option<&'a str> {
    let mut at = payload;
    for part in field.split('.') {
        at = at.as_object()?.get(part)?;
    }
    at.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use relay_signature::{SigningKey, github};

    fn fixture() -> (Config, Auth) {
        let config = Config::parse(
            "listen = \"127.0.0.1:0\"\nsecret_env = \"S\"\n[[hooks]]\npath = \"/deploy\"\ncommand = [\"/bin/true\"]\nargs = [\"image_sha\", \"meta.env\"]\n[hooks.validate]\n\"meta.env\" = \"staging|production\"\n",
        )
        .unwrap();
        let auth = Auth::new(&config, vec![SigningKey::new("s3cret").unwrap()]);
        (config, auth)
    }

    fn signed(body: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "content-type",
            "application/json; charset=utf-8".parse().unwrap(),
        );
        let sig = github::sign(&SigningKey::new("s3cret").unwrap(), body);
        h.insert("x-hub-signature-256", sig.parse().unwrap());
        h.insert("x-github-delivery", "d-1".parse().unwrap());
        h
    }

    fn run(headers: &HeaderMap, body: &[u8], method: &Method) -> Result<Accepted, Rejection> {
        let (config, auth) = fixture();
        let limits = Limits {
            auth: &auth,
            max_body: 1024,
            require_delivery_id: false,
        };
        decide(&config.hooks[0], &limits, method, headers, body, 0)
    }

    #[test]
    fn accepted_fields_in_order() {
        let body = br#"{"image_sha":"0123abc","meta":{"env":"staging"}}"#;
        let ok = run(&signed(body), body, &Method::POST).unwrap();
        assert_eq!(ok.args, ["0123abc", "staging"]);
        assert_eq!(ok.delivery_id.as_deref(), Some("d-1"));
    }

    #[test]
    fn each_refusal_has_its_status() {
        let body = br#"{"image_sha":"0123abc","meta":{"env":"staging"}}"#;
        let status =
            |h: &HeaderMap, b: &[u8], m: Method| run(h, b, &m).unwrap_err().status.as_u16();
        assert_eq!(status(&signed(body), body, Method::GET), 405);
        assert_eq!(
            status(&signed(&[b' '; 2000]), &[b' '; 2000], Method::POST),
            413
        );
        assert_eq!(status(&HeaderMap::new(), body, Method::POST), 401);
        let mut text = signed(body);
        text.insert("content-type", "text/plain".parse().unwrap());
        assert_eq!(status(&text, body, Method::POST), 415);
        let not_json = b"image_sha=0123abc";
        assert_eq!(status(&signed(not_json), not_json, Method::POST), 400);
        for bad in [
            &br#"{"image_sha":"abc;rm -rf /","meta":{"env":"staging"}}"#[..],
            br#"{"image_sha":"$(id)","meta":{"env":"staging"}}"#,
            br#"{"image_sha":"0123abc","meta":{"env":"staging;x"}}"#,
            br#"{"image_sha":1234567,"meta":{"env":"staging"}}"#,
            br#"{"meta":{"env":"staging"}}"#,
        ] {
            assert_eq!(
                status(&signed(bad), bad, Method::POST),
                422,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn unauthorized_says_nothing_but_logs_why() {
        let body = br#"{"image_sha":"0123abc"}"#;
        let mut h = signed(body);
        h.insert(
            "x-hub-signature-256",
            github::sign(&SigningKey::new("nope").unwrap(), body)
                .parse()
                .unwrap(),
        );
        let r = run(&h, body, &Method::POST).unwrap_err();
        assert_eq!(r.message, "unauthorized");
        assert_eq!(r.reason, "no signature matches");
    }

    proptest::proptest! {
        #[test]
        fn a_field_is_passed_exactly_when_its_pattern_matches(sha in "[ -~]{0,70}|[0-9a-f]{5,66}") {
            let payload = serde_json::json!({"image_sha": sha, "meta": {"env": "production"}});
            let body = serde_json::to_vec(&payload).unwrap();
            let result = run(&signed(&body), &body, &Method::POST);
            let valid = (7..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            match result {
                Ok(accepted) => {
                    proptest::prop_assert!(valid, "accepted {sha:?}");
                    proptest::prop_assert_eq!(&accepted.args[0], &sha);
                }
                Err(r) => {
                    proptest::prop_assert!(!valid, "refused {sha:?}: {r:?}");
                    proptest::prop_assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
                }
            }
        }
    }
}
