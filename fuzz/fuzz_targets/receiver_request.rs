//! The receiver's whole decision on one request — method, headers, raw body
//! — without a socket. Half the inputs are signed with the right key so the
//! fuzzer gets past the signature into content type, JSON and the field
//! patterns; some are taken as status polls instead. Invariants: no panic;
//! nothing unsigned is accepted; an accepted request's arguments match their
//! patterns in full; a status poll's body is never accepted as a deploy, and
//! a poll is accepted only signed, for its own delivery, on time.

#![no_main]

use std::sync::LazyLock;

use deploy_receiver::{Auth, Config, Limits, decide};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use relay_signature::{SigningKey, github, status};

const CONFIG: &str = r#"
listen = "127.0.0.1:0"
secret_env = "UNUSED"
max_body = "4KiB"

[[hooks]]
path = "/deploy"
command = ["/bin/true"]
args = ["image_sha", "meta.env"]
[hooks.validate]
"meta.env" = "staging|production"
"#;

static FIXTURE: LazyLock<(Config, Auth)> = LazyLock::new(|| {
    let config = Config::parse(CONFIG).expect("the fuzz config is valid");
    let auth = Auth::new(&config, vec![SigningKey::new(b"fuzz secret".to_vec()).expect("non-empty")]);
    (config, auth)
});

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    // Headers as `name: value` lines, a blank line, then the body.
    let split = rest.windows(2).position(|w| w == b"\n\n").unwrap_or(rest.len());
    let (head, body) = rest.split_at(split);
    let body = body.get(2..).unwrap_or(&[]);
    let mut headers = HeaderMap::new();
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    let signed = flags & 1 == 1;
    if signed {
        let key = SigningKey::new(b"fuzz secret".to_vec()).expect("non-empty");
        let value = HeaderValue::from_str(&github::sign(&key, body)).expect("hex is a valid header");
        headers.insert("x-hub-signature-256", value);
    }
    if flags & 2 == 2 {
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let method = if flags & 4 == 4 { Method::GET } else { Method::POST };

    let (config, auth) = &*FIXTURE;
    if flags & 16 == 16 {
        // A status poll for delivery `d-1` at unix time 1000.
        let signed_ok = auth.verify(&headers, body, 1000).is_ok();
        if status::check(body, "d-1", 1000, 300).is_ok() {
            assert!(body.starts_with(b"deploy-relay-status d-1 "));
            assert!(!signed || signed_ok, "a body signed with the key must verify");
        }
        return;
    }
    let hook = &config.hooks[0];
    let limits = Limits { auth, max_body: config.max_body, require_delivery_id: flags & 8 == 8 };
    if let Ok(accepted) = decide(hook, &limits, &method, &headers, body, 0) {
        assert!(method == Method::POST);
        assert!(auth.verify(&headers, body, 0).is_ok(), "accepted without a valid signature");
        assert!(!body.starts_with(b"deploy-relay-status"), "a status poll taken for a deploy");
        assert_eq!(accepted.args.len(), hook.args.len());
        for (value, (_, pattern)) in accepted.args.iter().zip(&hook.args) {
            assert!(pattern.is_match(value));
            assert!(!value.contains([';', '$', '`', ' ', '\n', '(', '|', '&']));
        }
    }
});
