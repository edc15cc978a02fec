use super::*;

const GOOD: &str = r#"# three VMs, a canary first
[environments.production]
max-parallel = 2
timeout = "5m"

[environments.production.gate]
duration = "2m"
interval = "10s"
conditions = ["[BODY].status == UP"]

[[environments.production.waves]]
name = "canary"
gate = { duration = "10m", pause = "1m" }
targets = [
  { name = "vm-1", url = "https://vm-1.example.com:8443/deploy/api", secret = "deploy_vm_1", health = ["https://vm-1.example.com/healthz"] },
]

[[environments.production.waves]]
name = "rest"
approval = "production-approval"

[[environments.production.waves.targets]]
name = "vm-2"
url = "https://vm-2.example.com:8443/deploy/api"
secret = "DEPLOY_VM_2"
health = ["https://vm-2.example.com/healthz"]

[[environments.production.waves.targets]]
name = "vm-3"
url = "https://vm-3.example.com:8443/deploy/api"
secret = "DEPLOY_VM_3"
health = ["https://vm-3.example.com/healthz", "https://vm-3.example.com/ready"]

[environments.staging]
allow-http = true
signature-scheme = "github"
[[environments.staging.waves]]
name = "all"
targets = [{ name = "s-1", url = "http://10.0.0.5:8080/deploy", secret = "S1", health = ["http://10.0.0.5/h"] }]
"#;

#[test]
fn a_good_file_reads_with_its_defaults() {
    let f = parse("fleet.toml", GOOD, "production").unwrap();
    assert_eq!(f.scheme, Scheme::StandardWebhooks, "the SPEC's default");
    assert_eq!(f.timeout, Duration::from_mins(5));
    assert_eq!(f.retries, defaults::RETRIES);
    assert_eq!(f.waves.len(), 2);
    let canary = &f.waves[0];
    assert_eq!((canary.name.as_str(), canary.max_parallel), ("canary", 2));
    assert_eq!(
        canary.gate.duration,
        Duration::from_mins(10),
        "the wave's own"
    );
    assert_eq!(
        canary.gate.interval,
        Duration::from_secs(10),
        "the environment's"
    );
    assert_eq!(canary.gate.pause, Duration::from_mins(1));
    assert_eq!(canary.gate.consecutive_failures, 3, "the default");
    assert_eq!(canary.gate.conditions.len(), 1);
    assert_eq!(
        canary.targets[0].secret, "DEPLOY_VM_1",
        "GitHub keeps names upper-case"
    );
    let rest = &f.waves[1];
    assert_eq!(rest.approval.as_deref(), Some("production-approval"));
    assert_eq!(rest.gate.duration, Duration::from_mins(2));
    assert_eq!(rest.targets.len(), 2);
    assert_eq!(rest.targets[1].health.len(), 2);
    assert_eq!(f.wave_index("rest"), Some(1));
    assert_eq!(f.wave_index("2"), Some(1));
    assert_eq!(f.wave_index("3"), None);
    let staging = parse("fleet.toml", GOOD, "staging").unwrap();
    assert_eq!(staging.scheme, Scheme::GitHub);
    assert_eq!(
        staging.waves[0].max_parallel,
        defaults::MAX_PARALLEL as usize
    );
}

/// The error of `GOOD` with `from` replaced by `to`, for `environment`.
fn error_of(from: &str, to: &str) -> FileError {
    assert!(GOOD.contains(from), "{from}");
    let text = GOOD.replacen(from, to, 1);
    parse("deploy-relay.fleet.toml", &text, "production").unwrap_err()
}

fn line_of(text: &str) -> usize {
    GOOD.lines().position(|l| l.contains(text)).unwrap() + 1
}

#[test]
fn every_mistake_names_file_line_and_key() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // (replace, with, line holding, key, message part)
        (
            "timeout = \"5m\"",
            "timeout = \"soon\"",
            "timeout = \"5m\"",
            "environments.production.timeout",
            "`soon`: it does not start with a number",
        ),
        (
            "max-parallel = 2",
            "max-parallel = \"two\"",
            "max-parallel = 2",
            "environments.production.max-parallel",
            "wrong type",
        ),
        (
            "max-parallel = 2",
            "max-paralel = 2",
            "max-parallel = 2",
            "environments.production.max-paralel",
            "unknown field `max-paralel`",
        ),
        (
            "url = \"https://vm-2.example.com:8443/deploy/api\"",
            "url = \"http://vm-2.example.com:8443/deploy/api\"",
            "url = \"https://vm-2.example.com:8443/deploy/api\"",
            "environments.production.waves[1].targets[0].url",
            "plain http",
        ),
        (
            "name = \"vm-3\"",
            "name = \"vm-2\"",
            "name = \"vm-3\"",
            "environments.production.waves[1].targets[1].name",
            "`vm-2` names two targets",
        ),
        (
            "secret = \"DEPLOY_VM_2\"",
            "secret = \"GITHUB_TOKEN\"",
            "secret = \"DEPLOY_VM_2\"",
            "environments.production.waves[1].targets[0].secret",
            "not a secret name",
        ),
        (
            "secret = \"DEPLOY_VM_2\"",
            "secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"",
            "secret = \"DEPLOY_VM_2\"",
            "environments.production.waves[1].targets[0].secret",
            "looks like a key",
        ),
        (
            "health = [\"https://vm-2.example.com/healthz\"]",
            "health = [\"vm-2/healthz\"]",
            "health = [\"https://vm-2.example.com/healthz\"]",
            "environments.production.waves[1].targets[0].health[0]",
            "not an http(s) URL",
        ),
        (
            "conditions = [\"[BODY].status == UP\"]",
            "conditions = [\"[BODY].status === UP\"]",
            "conditions = [\"[BODY].status == UP\"]",
            "environments.production.gate.conditions[0]",
            "cannot parse condition",
        ),
        (
            "interval = \"10s\"",
            "interval = \"5m\"",
            "interval = \"10s\"",
            "environments.production.gate.interval",
            "does not fit in the 2m window",
        ),
        (
            "name = \"rest\"",
            "name = \"canary\"",
            "name = \"rest\"",
            "environments.production.waves[1].name",
            "names two waves",
        ),
        (
            "gate = { duration = \"10m\", pause = \"1m\" }",
            "gate = { duration = \"10m\", pause = \"1m\" }\napproval = \"production\"",
            "gate = { duration = \"10m\", pause = \"1m\" }",
            "environments.production.waves[0].approval",
            "first wave",
        ),
    ];
    for (from, to, line_text, key, message) in cases {
        let e = error_of(from, to);
        let want_line =
            line_of(line_text) + usize::from(from.contains("pause") && to.contains("approval"));
        assert_eq!(e.file, "deploy-relay.fleet.toml");
        assert_eq!((e.line, e.key.as_str()), (want_line, *key), "{to}: {e}");
        assert!(e.message.contains(message), "{to}: {e}");
        assert!(!e.hint.is_empty(), "{to}: {e}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("deploy-relay.fleet.toml:{want_line}:")),
            "{shown}"
        );
        assert!(
            !shown.contains("whsec_MfKQ"),
            "a value is never echoed: {shown}"
        );
    }
}

#[test]
fn a_missing_key_names_the_table_that_lacks_it() {
    let e = error_of("secret = \"DEPLOY_VM_3\"\n", "");
    assert!(e.message.contains("missing field `secret`"), "{e}");
    assert!(
        e.key
            .starts_with("environments.production.waves[1].targets"),
        "{e}"
    );
}

#[test]
fn syntax_errors_and_unknown_environments() {
    let e = parse("f.toml", "[environments.production\nx = 1\n", "production").unwrap_err();
    assert_eq!(e.line, 1, "{e}");
    let e = parse("f.toml", GOOD, "prod").unwrap_err();
    assert_eq!(e.key, "environments");
    assert!(e.message.contains("has no `prod`"), "{e}");
    assert!(
        e.hint.contains("`production`") && e.hint.contains("`staging`"),
        "{e}"
    );
}

#[test]
fn too_many_approvals_are_refused() {
    let mut text = String::from("[environments.p]\n");
    for i in 0..5 {
        text.push_str(&format!(
            "[[environments.p.waves]]\nname = \"w{i}\"\n{}targets = [{{ name = \"t{i}\", url = \"https://h/d\", secret = \"S\", health = [\"https://h/h\"] }}]\n",
            if i > 0 { "approval = \"ok\"\n" } else { "" }
        ));
    }
    let e = parse("f.toml", &text, "p").unwrap_err();
    assert!(e.message.contains("more than 3 waves"), "{e}");
    assert_eq!(e.key, "environments.p.waves[4].approval", "{e}");
}

#[test]
fn positions_count_characters() {
    assert_eq!(line_column("ab\ncdé\nx", 0), (1, 1));
    assert_eq!(line_column("ab\ncdé\nx", 3), (2, 1));
    assert_eq!(line_column("ab\ncdé\nx", 8), (3, 1));
}

/// The repository's root, from this crate.
fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_example_fleet_reads_with_the_real_parser_canary_first() {
    let path = repo_root().join("examples/fleet/deploy-relay.fleet.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let f = parse(DEFAULT_FILE, &text, "production").unwrap_or_else(|e| panic!("{e}"));
    let waves: Vec<(&str, Vec<&str>)> = f
        .waves
        .iter()
        .map(|w| {
            (
                w.name.as_str(),
                w.targets.iter().map(|t| t.name.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        waves,
        [("canary", vec!["vm-1"]), ("rest", vec!["vm-2", "vm-3"])]
    );
    let secrets: Vec<&str> = f.targets().map(|(_, t)| t.secret.as_str()).collect();
    assert_eq!(secrets, ["DEPLOY_VM_1", "DEPLOY_VM_2", "DEPLOY_VM_3"]);
    assert_eq!(f.waves[0].gate.duration, Duration::from_mins(10));
    assert_eq!(f.waves[1].gate.duration, Duration::from_mins(5));
    assert_eq!(f.waves[1].max_parallel, 2);
    // The example workflow's header names the secrets the file names.
    let workflow =
        std::fs::read_to_string(repo_root().join("examples/fleet/.github/workflows/deploy.yml"))
            .unwrap();
    for s in secrets {
        assert!(workflow.contains(s), "the example workflow names {s}");
    }
}

#[test]
fn the_readme_shows_the_fleet_example_as_it_is() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    for file in [
        "examples/fleet/deploy-relay.fleet.toml",
        "examples/fleet/.github/workflows/deploy.yml",
    ] {
        let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
        assert!(
            readme.contains(&text),
            "README's \"Fleets: waves with a canary\" shows `{file}` as it is"
        );
    }
}
