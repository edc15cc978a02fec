use super::*;
use std::time::Duration;

const SPEC_EXAMPLE: &str = r#"
listen = "0.0.0.0:8443"
secret_file = "/etc/deploy-receiver/secret"   # or secret_env = "DEPLOY_SECRET"
max_body = "1MiB"

[[hooks]]
path = "/deploy"
command = ["/opt/deploy/deploy.sh"]
args = ["image_sha"]
timeout = "10m"
queue = false
[hooks.validate]
image_sha = "^[0-9a-f]{7,64}$"
[hooks.exit_codes]
0 = 200
2 = 422
3 = 503
"#;

#[test]
fn spec_example_reads() {
    let c = Config::parse(SPEC_EXAMPLE).unwrap();
    assert_eq!(c.listen.port(), 8443);
    assert_eq!(c.max_body, 1 << 20);
    assert_eq!(c.body_budget, 8 << 20);
    assert_eq!(c.max_connections_per_peer, Some(16));
    assert_eq!(
        c.secret,
        Some(SecretSource::File("/etc/deploy-receiver/secret".into()))
    );
    let hook = &c.hooks[0];
    assert_eq!(hook.timeout, Duration::from_mins(10));
    assert_eq!(hook.mode, Mode::Sync);
    assert!(!hook.keep_children && hook.secret.is_none());
    assert_eq!(
        (
            hook.status_for(0),
            hook.status_for(2),
            hook.status_for(3),
            hook.status_for(1)
        ),
        (200, 422, 503, 500)
    );
    let (field, re) = &hook.args[0];
    assert_eq!(field, "image_sha");
    assert!(re.is_match("0123abc"));
    assert!(!re.is_match("abc;rm -rf /"));
}

#[test]
fn patterns_match_in_full_even_without_anchors() {
    let text = SPEC_EXAMPLE.replace("^[0-9a-f]{7,64}$", "[0-9a-f]{7}");
    let c = Config::parse(&text).unwrap();
    let re = &c.hooks[0].args[0].1;
    assert!(re.is_match("abcdef0"));
    assert!(!re.is_match("abcdef0$(id)"));
    assert!(!re.is_match("x abcdef0"));
}

#[test]
fn image_sha_has_a_default_pattern_other_fields_need_one() {
    let no_validate =
        SPEC_EXAMPLE.replace("[hooks.validate]\nimage_sha = \"^[0-9a-f]{7,64}$\"\n", "");
    let c = Config::parse(&no_validate).unwrap();
    assert_eq!(c.hooks[0].args[0].1.as_str(), "^(?:^[0-9a-f]{7,64}$)$");
    let other = no_validate.replace("args = [\"image_sha\"]", "args = [\"image_sha\", \"env\"]");
    let err = Config::parse(&other).unwrap_err().to_string();
    assert!(err.contains("`env`") && err.contains("no pattern"), "{err}");
}

#[test]
fn mistakes_are_named() {
    let cases = [
        (
            "listen = \"0.0.0.0:8443\"",
            "listen = \"nowhere\"",
            "listen",
        ),
        ("max_body = \"1MiB\"", "max_body = \"1 parsec\"", "max_body"),
        (
            "timeout = \"10m\"",
            "timeout = \"soon\"",
            "hooks[0].timeout",
        ),
        ("0 = 200", "0 = 99", "exit_codes.0"),
        ("3 = 503", "x = 503", "exit_codes"),
        (
            "image_sha = \"^[0-9a-f]{7,64}$\"",
            "image_sha = \"(\"",
            "validate.image_sha",
        ),
        ("path = \"/deploy\"", "path = \"deploy\"", "hooks[0].path"),
        (
            "secret_file = \"/etc/deploy-receiver/secret\"",
            "",
            "secret_file",
        ),
        (
            "queue = false",
            "queue = false\nshell = true",
            "unknown field `shell`",
        ),
    ];
    for (from, to, expect) in cases {
        let text = SPEC_EXAMPLE.replace(from, to);
        let err = Config::parse(&text).unwrap_err().to_string();
        assert!(err.contains(expect), "{from} -> {to}: {err}");
    }
}

#[test]
fn sizes() {
    assert_eq!(parse_size("1MiB"), Ok(1 << 20));
    assert_eq!(parse_size("64KiB"), Ok(65536));
    assert_eq!(parse_size("2048"), Ok(2048));
    assert_eq!(parse_size("1 MB"), Ok(1_000_000));
    assert!(parse_size("0").is_err());
    assert!(parse_size("MiB").is_err());
    assert!(parse_size("99999999999999999999GiB").is_err());
}

#[test]
fn defaults_of_the_new_keys() {
    let text = SPEC_EXAMPLE.replace("max_body = \"1MiB\"\n", "");
    let c = Config::parse(&text).unwrap();
    assert_eq!(c.max_body, 64 * 1024, "SPEC: 64 KiB");
    assert_eq!(c.result_ttl, Duration::from_hours(1));
    assert_eq!(c.replay_state, None);
    let off = Config::parse(&format!("max_connections_per_peer = 0\n{text}")).unwrap();
    assert_eq!(off.max_connections_per_peer, None);
}

#[test]
fn max_body_cannot_exceed_the_budget() {
    let text = SPEC_EXAMPLE.replace("max_body = \"1MiB\"", "max_body = \"16MiB\"");
    let err = Config::parse(&text).unwrap_err().to_string();
    assert!(err.contains("`body_budget`"), "{err}");
    let raised = text.replace("max_body", "body_budget = \"32MiB\"\nmax_body");
    assert_eq!(Config::parse(&raised).unwrap().max_body, 16 << 20);
}

#[test]
fn hooks_may_have_their_own_secret_and_mode() {
    let text = SPEC_EXAMPLE
        .replace("secret_file = \"/etc/deploy-receiver/secret\"", "")
        .replace(
            "path = \"/deploy\"",
            "path = \"/deploy\"\nsecret_env = \"STAGING\"\nmode = \"async\"\nkeep_children = true",
        );
    let c = Config::parse(&text).unwrap();
    assert_eq!(c.secret, None);
    let hook = &c.hooks[0];
    assert_eq!(hook.secret, Some(SecretSource::Env("STAGING".into())));
    assert_eq!(hook.mode, Mode::Async);
    assert!(hook.keep_children);
    assert_eq!(c.secret_sources(), [&SecretSource::Env("STAGING".into())]);
    // Without a hook secret nor a global one, the hook could not verify anything.
    let none = SPEC_EXAMPLE.replace("secret_file = \"/etc/deploy-receiver/secret\"", "");
    let err = Config::parse(&none).unwrap_err().to_string();
    assert!(err.contains("no secret of its own"), "{err}");
    let bad_mode = text.replace("mode = \"async\"", "mode = \"later\"");
    let err = Config::parse(&bad_mode).unwrap_err().to_string();
    assert!(err.contains("hooks[0].mode"), "{err}");
}

#[test]
fn a_hook_cannot_sit_on_another_hooks_status_paths() {
    let text = format!(
        "{SPEC_EXAMPLE}\n[[hooks]]\npath = \"/deploy/deliveries/x\"\ncommand = [\"/bin/true\"]\n"
    );
    let err = Config::parse(&text).unwrap_err().to_string();
    assert!(err.contains("overlap"), "{err}");
    let text = SPEC_EXAMPLE.replace("0 = 200", "0 = 202");
    let err = Config::parse(&text).unwrap_err().to_string();
    assert!(err.contains("not 202"), "{err}");
}

#[test]
fn hook_paths_have_one_form() {
    for (written, normal) in [
        ("/deploy", "/deploy"),
        ("/deploy/", "/deploy"),
        ("/deploy/api", "/deploy/api"),
        ("/a.b_c~d-e/f", "/a.b_c~d-e/f"),
    ] {
        assert_eq!(crate::hook::normalise_path(written).as_deref(), Ok(normal));
    }
    for bad in [
        "",
        "/",
        "//",
        "deploy",
        "/a//b",
        "/a//",
        "/./a",
        "/a/..",
        "/a%2Fb",
        "/{id}",
        "/:a",
        "/*a",
        "/a b",
        "/ä",
        "/a?b",
        "/a#b",
        "/healthz",
        "/healthz/",
    ] {
        assert!(crate::hook::normalise_path(bad).is_err(), "{bad:?}");
    }
}

fn two_hooks(a: &str, b: &str, extra: &str) -> String {
    format!(
        "listen = \"127.0.0.1:0\"\nsecret_env = \"S\"\n{extra}\n[[hooks]]\npath = {a:?}\ncommand = [\"/bin/true\"]\nmode = \"async\"\n[[hooks]]\npath = {b:?}\ncommand = [\"/bin/true\"]\nqueue = true\n"
    )
}

#[test]
fn a_trailing_slash_names_the_same_hook() {
    let err = Config::parse(&two_hooks("/a", "/a/", ""))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hooks[1].path") && err.contains("same hook as `hooks[0]` (`/a`)"),
        "{err}"
    );
    let c = Config::parse(&two_hooks("/d/", "/e", "")).unwrap();
    assert_eq!(c.hooks[0].path, "/d");
}

#[test]
fn queue_limit_and_output_tail_have_bounds() {
    let c = Config::parse(&two_hooks("/a", "/b", "")).unwrap();
    assert_eq!(c.hooks[1].queue_limit, crate::hook::DEFAULT_QUEUE_LIMIT);
    let text = two_hooks("/a", "/b", "").replace("queue = true", "queue = true\nqueue_limit = 0");
    assert!(
        Config::parse(&text)
            .unwrap_err()
            .to_string()
            .contains("queue_limit")
    );
    let text = two_hooks("/a", "/b", "").replace("mode = \"async\"", "queue_limit = 3");
    let err = Config::parse(&text).unwrap_err().to_string();
    assert!(err.contains("`queue` is not `true`"), "{err}");
    let err = Config::parse(&two_hooks("/a", "/b", "output_tail = \"25KiB\""))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("output_tail") && err.contains("32768"),
        "{err}"
    );
    assert!(Config::parse(&two_hooks("/a", "/b", "output_tail = \"24KiB\"")).is_ok());
}

#[test]
fn image_has_a_digest_reference_as_its_default_pattern() {
    let text = SPEC_EXAMPLE
        .replace("args = [\"image_sha\"]", "args = [\"image\"]")
        .replace("image_sha = \"^[0-9a-f]{7,64}$\"\n", "");
    let c = Config::parse(&text).unwrap();
    let re = &c.hooks[0].args[0].1;
    let digest = "0123456789abcdef".repeat(4);
    for good in [
        format!("ghcr.io/o/api@sha256:{digest}"),
        format!("registry.local:5000/team/my-app_x/api@sha256:{digest}"),
        format!("api@sha256:{digest}"),
        format!("localhost:5000/a__b@sha256:{digest}"),
    ] {
        assert!(re.is_match(&good), "{good}");
    }
    for bad in [
        "ghcr.io/o/api:latest".to_owned(),
        format!("ghcr.io/o/api@sha256:{}", &digest[..63]),
        format!("ghcr.io/o/API@sha256:{digest}"),
        format!("-rf@sha256:{digest}"),
        format!("ghcr.io/o/api@sha256:{digest};id"),
        format!("ghcr.io/o/api:tag@sha512:{digest}"),
        format!("sha256:{digest}"),
        format!("ghcr.io//api@sha256:{digest}"),
    ] {
        assert!(!re.is_match(&bad), "{bad}");
    }
}

proptest::proptest! {
    /// No config panics the parser or a start built from it; an accepted
    /// config's paths are in their one form and distinct.
    #[test]
    fn no_config_panics(
        a in "[/a-d.{}:*%~_ -]{0,8}",
        b in "[/a-d.{}:*%~_ -]{0,8}",
        extra in proptest::sample::select(vec![
            "", "output_tail = \"24KiB\"", "max_connections = 0", "replay_capacity = 0",
            "timestamp_tolerance = \"0s\"", "max_connections_per_peer = 0",
        ]),
    ) {
        if let Ok(c) = Config::parse(&two_hooks(&a, &b, extra)) {
            proptest::prop_assert_ne!(&c.hooks[0].path, &c.hooks[1].path);
            for h in &c.hooks {
                let again = crate::hook::normalise_path(&h.path);
                proptest::prop_assert_eq!(again.as_deref(), Ok(h.path.as_str()));
            }
            crate::fuzzing::start_offline(c);
        }
    }
}
