//! The client against the fake GitHub: what is retried, what is not, how
//! long it waits, and what polling costs.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use relay_fakes::CheckScript;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub, Fault};
use relay_github::{GitHub, RunFilter, Token};
use relay_runtime::{Console, Env, RepoName, Secret, vars};

fn client(gh: &FakeGitHub, token: &str) -> (GitHub, relay_runtime::Captured) {
    let env = Env::from_pairs([
        (vars::GITHUB_API_URL, gh.url()),
        (vars::GITHUB_REPOSITORY, "octo/app"),
        (vars::DEPLOY_RELAY_BACKOFF_SCALE, "0.01"),
    ]);
    let (console, out) = Console::capture(true);
    console.add_mask(token);
    (
        GitHub::new(&env, console, Some(token_of(token))).unwrap(),
        out,
    )
}

fn token_of(t: &str) -> Token {
    Token::new(Secret::new(t))
}

fn deploy() -> RepoName {
    RepoName::parse("octo/deploy").unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn sends_the_headers_github_asks_for() {
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main");
    let (c, _) = client(&gh, DEFAULT_TOKEN);
    rt().block_on(c.default_branch(&deploy())).unwrap();
    let r = &gh.requests()[0];
    assert_eq!(
        r.headers["user-agent"],
        format!("deploy-relay/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(r.headers["x-github-api-version"], "2022-11-28");
    assert_eq!(r.headers["accept"], "application/vnd.github+json");
    assert_eq!(
        r.headers["authorization"], "<redacted>",
        "sent, and recorded redacted"
    );
}

#[test]
fn server_errors_are_retried_then_reported_with_the_call() {
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main");
    gh.fault(
        "GET",
        "/repos/octo/deploy",
        (0..6).map(|_| Fault::status(502)),
    );
    let (c, out) = client(&gh, DEFAULT_TOKEN);
    let e = rt().block_on(c.default_branch(&deploy())).unwrap_err();
    assert_eq!(e.status(), Some(502));
    assert!(
        e.to_string()
            .starts_with("couldn't read the default branch of `octo/deploy`: GitHub answered 502"),
        "{e}"
    );
    assert_eq!(gh.requests().len(), 6, "one try and five retries");
    assert_eq!(c.stats().retries, 5);
    assert_eq!(out.text().matches("::warning::").count(), 5);
}

#[test]
fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 409, 422] {
        let gh = FakeGitHub::start();
        gh.repo("octo/deploy", "main");
        gh.fault("GET", "/repos/octo/deploy", [Fault::status(status)]);
        let (c, _) = client(&gh, DEFAULT_TOKEN);
        let e = rt().block_on(c.default_branch(&deploy())).unwrap_err();
        assert_eq!(e.status(), Some(status));
        assert_eq!(gh.requests().len(), 1, "{status} must not be retried");
    }
}

#[test]
fn a_redirect_is_an_answer_only_where_one_is_asked_for() {
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main");
    let moved = || {
        Fault::status(301)
            .header("location", "https://api.github.com/repositories/42")
            .body(r#"{"message":"Moved Permanently"}"#)
    };
    gh.fault("GET", "/repos/octo/deploy", [moved()]);
    gh.fault(
        "GET",
        "/repos/octo/deploy/actions/artifacts/7/zip",
        [moved()],
    );
    let (c, _) = client(&gh, DEFAULT_TOKEN);
    // A JSON call meets the status, not a body it cannot decode.
    let e = rt().block_on(c.default_branch(&deploy())).unwrap_err();
    assert_eq!(e.status(), Some(301), "{e}");
    // The artifact download takes the target without following it.
    let artifact = relay_github::Artifact {
        id: 7,
        name: "web".into(),
        size_in_bytes: 1,
        digest: None,
        expired: false,
        created_at: None,
    };
    let to = rt()
        .block_on(c.artifact_zip_url(&deploy(), &artifact))
        .unwrap();
    assert_eq!(to, "https://api.github.com/repositories/42");
    assert_eq!(gh.requests().len(), 2, "nothing followed, nothing retried");
}

#[test]
fn primary_rate_limit_waits_for_the_reset() {
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main");
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    gh.fault(
        "GET",
        "/repos/octo/deploy",
        [Fault::status(403)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", &reset.to_string())
            .body(r#"{"message":"API rate limit exceeded"}"#)],
    );
    let (c, _) = client(&gh, DEFAULT_TOKEN);
    let start = Instant::now();
    rt().block_on(c.default_branch(&deploy())).unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "waited {:?}",
        start.elapsed()
    );
}

#[test]
fn a_reset_too_far_away_fails_at_once_with_advice() {
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main");
    gh.fault("GET", "/repos/octo/deploy", [Fault::too_many(3600)]);
    let (c, _) = client(&gh, DEFAULT_TOKEN);
    let e = rt().block_on(c.default_branch(&deploy())).unwrap_err();
    assert!(
        e.to_string()
            .contains("rate limit is used up for another 3600s"),
        "{e}"
    );
    assert_eq!(gh.requests().len(), 1);
}

#[test]
fn refused_connections_are_retried_then_named() {
    // A port nothing listens on: bind, learn it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = Env::from_pairs([
        (
            vars::GITHUB_API_URL,
            format!("http://127.0.0.1:{port}").as_str(),
        ),
        (vars::DEPLOY_RELAY_BACKOFF_SCALE, "0.001"),
    ]);
    let (console, out) = Console::capture(false);
    let c = GitHub::new(&env, console, Some(token_of("t"))).unwrap();
    let e = rt().block_on(c.default_branch(&deploy())).unwrap_err();
    assert!(e.to_string().contains("couldn't connect"), "{e}");
    assert_eq!(out.text().matches("retrying").count(), 5);
}

#[test]
fn unchanged_polls_are_free_with_etags() {
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main");
    let id = gh.add_run(
        "octo/deploy",
        "push",
        "run",
        relay_fakes::RunScript::succeeds_after(100),
    );
    let (c, _) = client(&gh, DEFAULT_TOKEN);
    let rt = rt();
    for _ in 0..5 {
        let run = rt.block_on(c.workflow_run(&deploy(), id)).unwrap();
        assert_eq!(run.id, id, "a 304 still returns the cached body");
    }
    assert_eq!(c.stats().requests, 5);
    assert!(c.stats().not_modified >= 1, "{:?}", c.stats());
    assert_eq!(
        gh.rate_limit_used(),
        5 - c.stats().not_modified,
        "a 304 costs no rate limit"
    );
}

#[test]
fn pagination_follows_link_headers() {
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main");
    for i in 0..205 {
        gh.add_run(
            "octo/deploy",
            "push",
            &format!("run {i}"),
            relay_fakes::RunScript::succeeds_after(1),
        );
    }
    let (c, _) = client(&gh, DEFAULT_TOKEN);
    let runs = rt()
        .block_on(c.workflow_runs(&deploy(), &RunFilter::default()))
        .unwrap();
    assert_eq!(runs.len(), 205);
    assert_eq!(gh.requests().len(), 3);
    assert!(
        gh.requests()[1].query.contains("page=2"),
        "{:?}",
        gh.requests()[1]
    );
}

#[test]
fn a_list_without_link_is_paged_by_its_count_and_cached_pages_keep_their_links() {
    let gh = FakeGitHub::start();
    gh.repo("octo/app", "main");
    let sha = "abcdef1234567890abcdef1234567890abcdef12";
    for i in 0..150 {
        gh.commit_status(
            "octo/app",
            sha,
            CheckScript::done(&format!("ctx-{i:03}"), "success"),
        );
    }
    for i in 0..150 {
        gh.check_run(
            "octo/app",
            sha,
            CheckScript::done(&format!("check-{i:03}"), "success"),
        );
    }
    let (c, _) = client(&gh, DEFAULT_TOKEN);
    let app = RepoName::parse("octo/app").unwrap();
    let rt = rt();
    // The combined status sends no Link: its total_count asks for page 2.
    let statuses = rt.block_on(c.commit_statuses(&app, sha)).unwrap();
    assert_eq!(statuses.len(), 150);
    // Check runs page by Link; polled again, every page is a 304 whose
    // cached headers still lead to the next page.
    for _ in 0..2 {
        let runs = rt.block_on(c.check_runs(&app, sha)).unwrap();
        assert_eq!(runs.len(), 150);
    }
    assert_eq!(c.stats().requests, 6);
    assert_eq!(c.stats().not_modified, 2);
}

#[test]
fn the_token_is_never_logged_even_in_debug() {
    let gh = FakeGitHub::start();
    let (c, out) = client(&gh, "ghp_neverLogMe123");
    let e = rt().block_on(c.default_branch(&deploy())).unwrap_err();
    assert!(!e.to_string().contains("ghp_neverLogMe123"));
    let text = out.text();
    assert!(
        text.lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .all(|l| !l.contains("ghp_neverLogMe123")),
        "{text}"
    );
}

#[test]
fn an_environment_is_read_with_its_rules_and_a_missing_one_is_none() {
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main");
    let (client, _) = client(&gh, DEFAULT_TOKEN);
    let rt = rt();
    assert!(
        rt.block_on(client.environment(&deploy(), "production"))
            .unwrap()
            .is_none(),
        "no job or deployment created it yet"
    );
    gh.environment("octo/deploy", "staging", &[]);
    let staging = rt
        .block_on(client.environment(&deploy(), "staging"))
        .unwrap()
        .unwrap();
    assert!(!staging.is_protected());
    gh.environment("octo/deploy", "prod/eu", &["octocat"]);
    let prod = rt
        .block_on(client.environment(&deploy(), "prod/eu"))
        .unwrap()
        .unwrap();
    assert_eq!(prod.name, "prod/eu", "a slash in the name is encoded");
    assert!(prod.is_protected());
    assert_eq!(prod.protection_rules[0].kind, "required_reviewers");
}

#[test]
fn attestations_are_listed_over_cursor_pages_as_github_documents_them() {
    let gh = FakeGitHub::start();
    gh.repo("octo/app", "main");
    let digest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    for n in 0..150 {
        gh.add_attestation(
            "octo/app",
            digest,
            serde_json::json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "n": n}),
        );
    }
    let (c, _) = client(&gh, DEFAULT_TOKEN);
    let app = RepoName::parse("octo/app").unwrap();
    let all = rt().block_on(c.attestations(&app, digest, None)).unwrap();
    assert_eq!(all.len(), 150);
    assert_eq!(all[149].bundle.as_ref().unwrap()["n"], 149);
    assert_eq!(all[0].initiator.as_deref(), Some("user"));
    let requests = gh.requests();
    assert_eq!(requests.len(), 2, "two pages of 100");
    assert!(
        requests[1].query.contains("after="),
        "{}",
        requests[1].query
    );
    if let Some(api) = relay_testkit::openapi::OpenApi::load() {
        for r in &requests {
            api.validate(r).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    let none = rt()
        .block_on(c.attestations(&app, "sha256:00", Some("provenance")))
        .unwrap_err();
    assert_eq!(none.status(), Some(404));
    assert!(none.to_string().contains("`attestations: read`"), "{none}");
}
