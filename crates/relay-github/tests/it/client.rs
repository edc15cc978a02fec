//! The client against the fake GitHub: what is retried, what is not, how
//! long it waits, and what polling costs.

use std::time::{Duration, Instant};

use relay_fakes::CheckScript;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub, Fault};
use relay_github::{GitHub, RunFilter};
use relay_runtime::{Console, Env, RepoName, Secret, vars};

fn client(gh: &FakeGitHub, token: &str) -> (GitHub, relay_runtime::Captured) {
    let env = Env::from_pairs([
        (vars::GITHUB_API_URL, gh.url()),
        (vars::GITHUB_REPOSITORY, "octo/app"),
        (vars::DEPLOY_RELAY_BACKOFF_SCALE, "0.01"),
    ]);
    let (console, out) = Console::capture_debug();
    console.add_mask(token);
    (
        GitHub::new(&env, console, Some(token_of(token))).unwrap(),
        out,
    )
}

fn token_of(t: &str) -> Secret {
    Secret::new(t)
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
    assert_eq!(
        to.expose().as_str(),
        "https://api.github.com/repositories/42"
    );
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
    let (console, out) = Console::capture();
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

// --- GitHub App tokens minted per access -------------------------------

mod app {
    use super::*;
    use relay_github::{Access, App, Auth, Error, Permission};
    use relay_runtime::{AppCredentials, AppId, AppKey, Cleanup};
    use relay_testkit::app_keys::TestApp;

    struct Minting {
        gh: FakeGitHub,
        app: TestApp,
        auth: Auth,
        cleanup: Cleanup,
        env: Env,
        console: Console,
        out: relay_runtime::Captured,
    }

    /// A fake with `octo/deploy`, the App installed on it with
    /// `permissions`; `None` when a peer (openssl, PyJWT) is missing.
    fn minting(permissions: &[(&str, &str)]) -> Option<Minting> {
        let gh = FakeGitHub::start();
        gh.repo("octo/deploy", "main").repo("octo/app", "main");
        let app = TestApp::register(&gh)?;
        app.install(&gh, "octo", &["octo/deploy"], permissions);
        let env = Env::from_pairs([
            (vars::GITHUB_API_URL, gh.url()),
            (vars::GITHUB_REPOSITORY, "octo/app"),
            (vars::DEPLOY_RELAY_BACKOFF_SCALE, "0.01"),
        ]);
        let (console, out) = Console::capture_debug();
        let cleanup = Cleanup::default();
        let auth = Auth::app(
            signer(&app, &app.keys.pkcs1),
            &env,
            console.clone(),
            &cleanup,
        );
        Some(Minting {
            gh,
            app,
            auth,
            cleanup,
            env,
            console,
            out,
        })
    }

    fn signer(app: &TestApp, pem: &str) -> App {
        App::new(&AppCredentials {
            id: AppId::parse(&app.client_id).unwrap(),
            key: AppKey::parse(pem).unwrap(),
        })
        .unwrap()
    }

    fn dispatch_access() -> Access {
        Access::new(&deploy(), &[Permission::CONTENTS_WRITE])
    }

    #[test]
    fn a_token_has_exactly_the_access_asked_is_masked_first_and_revoked_at_the_end() {
        let Some(m) = minting(&[
            ("contents", "write"),
            ("actions", "write"),
            ("issues", "write"),
        ]) else {
            return;
        };
        let rt = rt();
        let c = rt
            .block_on(m.auth.client(&m.env, &m.console, &dispatch_access()))
            .unwrap();
        rt.block_on(c.repository_dispatch(&deploy(), "deploy", &serde_json::Map::new()))
            .unwrap();
        // The same access again reuses the token.
        let again = rt
            .block_on(m.auth.client(&m.env, &m.console, &dispatch_access()))
            .unwrap();
        rt.block_on(again.default_branch(&deploy())).unwrap();
        let issued = m.gh.issued_tokens();
        assert_eq!(issued.len(), 1, "{issued:?}");
        assert_eq!(issued[0].repos, ["octo/deploy"]);
        assert_eq!(
            issued[0].permissions.iter().collect::<Vec<_>>(),
            [(&"contents".to_owned(), &"write".to_owned())]
        );
        // Outside the access: another permission is refused by GitHub.
        let e = rt
            .block_on(c.workflow_runs(&deploy(), &RunFilter::default()))
            .unwrap_err();
        assert_eq!(e.status(), Some(403), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("the token deploy-relay minted for this step has contents: write")
                && text.contains("needs `actions: read`"),
            "{text}"
        );
        let log = m.out.text();
        let mask = log
            .find(&format!("::add-mask::{}", issued[0].token))
            .expect("masked");
        let minted = log.find("Minted a token").expect("said");
        assert!(mask < minted, "{log}");
        assert_eq!(
            log.matches(&issued[0].token).count(),
            1,
            "only in ::add-mask::\n{log}"
        );
        rt.block_on(m.cleanup.run());
        assert!(m.gh.issued_tokens()[0].revoked);
        assert!(m.out.text().contains("Revoked 1 installation token"));
        let e = rt.block_on(c.default_branch(&deploy())).unwrap_err();
        assert_eq!(e.status(), Some(401), "a revoked token is dead: {e}");
        // What the App sent is what GitHub documents.
        let _ = &m.app;
        let requests = m.gh.requests();
        let create = requests
            .iter()
            .find(|r| r.path.ends_with("/access_tokens"))
            .unwrap();
        assert_eq!(
            create.body.as_ref().unwrap(),
            &serde_json::json!({"repositories": ["deploy"], "permissions": {"contents": "write"}})
        );
        if let Some(api) = relay_testkit::openapi::OpenApi::load() {
            for r in requests
                .iter()
                .filter(|r| r.path.contains("installation") || r.path.ends_with("/access_tokens"))
            {
                api.validate(r).unwrap();
            }
        }
    }

    #[test]
    fn an_app_not_installed_on_the_repository_says_so() {
        let Some(m) = minting(&[("contents", "write")]) else {
            return;
        };
        let app_repo = RepoName::parse("octo/app").unwrap();
        let access = Access::new(&app_repo, &[Permission::STATUSES_WRITE]);
        let e = rt()
            .block_on(m.auth.client(&m.env, &m.console, &access))
            .err()
            .unwrap();
        assert!(matches!(e, Error::AppNotInstalled { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("is not installed on `octo/app`"), "{text}");
        assert!(text.contains("hint: install it there"), "{text}");
    }

    #[test]
    fn a_permission_the_app_was_not_granted_is_named() {
        let Some(m) = minting(&[("contents", "write"), ("deployments", "read")]) else {
            return;
        };
        let access = Access::new(
            &deploy(),
            &[Permission::DEPLOYMENTS_WRITE, Permission::CONTENTS_WRITE],
        );
        let e = rt()
            .block_on(m.auth.client(&m.env, &m.console, &access))
            .err()
            .unwrap();
        let text = e.to_string();
        assert!(matches!(e, Error::AppPermissionMissing { .. }), "{e:?}");
        assert!(
            text.contains("was not granted `deployments: write`"),
            "{text}"
        );
        assert!(!text.contains("contents"), "only the missing one: {text}");
    }

    #[test]
    fn a_wrong_key_and_a_wrong_clock_are_told_apart() {
        let Some(m) = minting(&[("contents", "write")]) else {
            return;
        };
        let Some(other) = relay_testkit::app_keys::AppKeys::generate() else {
            return;
        };
        let wrong = Auth::app(
            signer(&m.app, &other.pkcs8),
            &m.env,
            m.console.clone(),
            &m.cleanup,
        );
        let e = rt()
            .block_on(wrong.client(&m.env, &m.console, &dispatch_access()))
            .err()
            .unwrap();
        match &e {
            Error::AppJwtRejected { clock, message, .. } => {
                assert!(!clock);
                assert_eq!(message, "A JSON web token could not be decoded");
            }
            e => panic!("{e:?}"),
        }
        assert!(e.to_string().contains("is not a key of the App"), "{e}");
        assert_eq!(
            m.gh.refused_jwts(),
            ["A JSON web token could not be decoded"]
        );
        // GitHub's answer to a runner clock ahead of its own.
        let m = minting(&[("contents", "write")]).unwrap();
        m.gh.fault(
            "GET",
            "/repos/octo/deploy/installation",
            [Fault::status(401)
                .body(r#"{"message":"'Expiration time' claim ('exp') is too far in the future"}"#)],
        );
        let e = rt()
            .block_on(m.auth.client(&m.env, &m.console, &dispatch_access()))
            .err()
            .unwrap();
        assert!(
            matches!(e, Error::AppJwtRejected { clock: true, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("clock"), "{e}");
    }

    #[test]
    fn app_calls_retry_as_every_call_does() {
        let Some(m) = minting(&[("contents", "write")]) else {
            return;
        };
        m.gh.fault(
            "GET",
            "/repos/octo/deploy/installation",
            [Fault::status(502)],
        );
        rt().block_on(m.auth.client(&m.env, &m.console, &dispatch_access()))
            .unwrap();
        assert!(m.out.text().contains("retrying"), "{}", m.out.text());
    }

    #[test]
    fn a_wait_longer_than_the_token_lives_mints_a_new_one() {
        let Some(m) = minting(&[("contents", "write")]) else {
            return;
        };
        m.gh.token_lifetime(Duration::from_secs(3));
        let rt = rt();
        let c = rt
            .block_on(m.auth.client(&m.env, &m.console, &dispatch_access()))
            .unwrap();
        rt.block_on(c.default_branch(&deploy())).unwrap();
        std::thread::sleep(Duration::from_millis(3200));
        // The first token is dead by now: the client must not send it.
        rt.block_on(c.default_branch(&deploy())).unwrap();
        let issued = m.gh.issued_tokens();
        assert_eq!(issued.len(), 2, "{issued:?}");
        assert!(issued.iter().all(|t| t.repos == ["octo/deploy"]));
        assert!(m.gh.requests().iter().all(|r| r.status != 401));
        rt.block_on(m.cleanup.run());
        assert!(m.gh.issued_tokens()[1].revoked, "the live one is revoked");
    }
}

// --- The cost of minting, for BENCHMARKS.md ----------------------------

/// The added latency of minting per step, against the fake on loopback:
/// a step with a plain token (one `repository_dispatch`) against the same
/// step with an App (the key loaded, one JWT signed per App request, the
/// installation looked up, a token created, the dispatch, the token
/// revoked), alternating, medians of `BENCH_ROUNDS` (default 41). Run by
/// `scripts/bench-minting.sh`; figures in BENCHMARKS.md.
#[test]
#[ignore = "a benchmark: scripts/bench-minting.sh"]
fn bench_minting_latency() {
    use relay_github::{Access, App, Auth, Permission};
    use relay_runtime::{AppCredentials, AppId, AppKey, Cleanup};
    use relay_testkit::app_keys::TestApp;

    let rounds: usize = relay_runtime::Env::from_process()
        .get("BENCH_ROUNDS")
        .and_then(|r| r.parse().ok())
        .unwrap_or(41);
    let gh = FakeGitHub::start();
    gh.repo("octo/deploy", "main");
    let Some(app) = TestApp::register(&gh) else {
        return;
    };
    app.install(&gh, "octo", &["octo/deploy"], &[("contents", "write")]);
    let env = Env::from_pairs([
        (vars::GITHUB_API_URL, gh.url()),
        (vars::GITHUB_REPOSITORY, "octo/app"),
    ]);
    let creds = AppCredentials {
        id: AppId::parse(&app.client_id).unwrap(),
        key: AppKey::parse(&app.keys.pkcs1).unwrap(),
    };
    let access = Access::new(&deploy(), &[Permission::CONTENTS_WRITE]);
    let payload = serde_json::Map::new();
    let rt = rt();
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (mut plain, mut minted, mut sign, mut load, mut jwt_get, mut token_get) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        let (console, _) = Console::capture();
        let plain_step = || {
            let t = Instant::now();
            let c = GitHub::new(&env, console.clone(), Some(token_of(DEFAULT_TOKEN))).unwrap();
            rt.block_on(c.repository_dispatch(&deploy(), "deploy", &payload))
                .unwrap();
            t.elapsed()
        };
        let app_step = || {
            let t = Instant::now();
            let cleanup = Cleanup::default();
            let signer = App::new(&creds).unwrap();
            let auth = Auth::app(signer, &env, console.clone(), &cleanup);
            let c = rt.block_on(auth.client(&env, &console, &access)).unwrap();
            rt.block_on(c.repository_dispatch(&deploy(), "deploy", &payload))
                .unwrap();
            rt.block_on(cleanup.run());
            t.elapsed()
        };
        // Alternate which goes first, so neither always runs on a warm cache.
        if round % 2 == 0 {
            plain.push(plain_step());
            minted.push(app_step());
        } else {
            minted.push(app_step());
            plain.push(plain_step());
        }
        let t = Instant::now();
        let signer = App::new(&creds).unwrap();
        load.push(t.elapsed());
        let t = Instant::now();
        let jwt = signer.jwt(std::time::SystemTime::now()).unwrap();
        sign.push(t.elapsed());
        // One GET as the App (the fake checks the JWT with PyJWT) against
        // one GET with a token: the fake's own cost of a JWT check.
        let client = reqwest::Client::new();
        let t = Instant::now();
        rt.block_on(
            client
                .get(format!("{}/repos/octo/deploy/installation", gh.url()))
                .header("user-agent", "bench")
                .bearer_auth(jwt.expose())
                .send(),
        )
        .unwrap();
        jwt_get.push(t.elapsed());
        let t = Instant::now();
        rt.block_on(
            client
                .get(format!("{}/repos/octo/deploy", gh.url()))
                .header("user-agent", "bench")
                .bearer_auth(DEFAULT_TOKEN)
                .send(),
        )
        .unwrap();
        token_get.push(t.elapsed());
    }
    let issued = gh.issued_tokens();
    assert!(
        issued.iter().all(|t| t.revoked),
        "every minted token revoked"
    );
    let (p, m) = (median(plain), median(minted));
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    println!(
        "rounds: {rounds}; tokens minted and revoked: {}",
        issued.len()
    );
    println!("| step | median ms |");
    println!("|---|---|");
    println!("| plain token: one repository_dispatch | {} |", ms(p));
    println!(
        "| App: load key, lookup, create, dispatch, revoke | {} |",
        ms(m)
    );
    println!(
        "| added by minting | {} (×{:.1}) |",
        ms(m.saturating_sub(p)),
        m.as_secs_f64() / p.as_secs_f64()
    );
    println!(
        "| of which: loading and checking the key (ring) | {} |",
        ms(median(load))
    );
    println!(
        "| of which: one JWT signature (RS256, ring) | {} |",
        ms(median(sign))
    );
    println!(
        "| fake: GET as the App (PyJWT check) | {} |",
        ms(median(jwt_get))
    );
    println!("| fake: GET with a token | {} |", ms(median(token_get)));
}
