//! The public API as the root `relay` action uses it: select a run's
//! artifacts by pattern, re-upload them under deployment names, and read
//! back what was relayed — against the test kit's fake GitHub and fake
//! results service.

#![allow(clippy::unwrap_used)] // test support code outside #[test] fns

use std::time::Duration;

use relay_artifacts::{
    ArtifactError, ArtifactMove, Destination, DigestCheck, DigestPolicy, RetryPolicy, RuntimeToken,
    Selection, Transfer, TransferConfig, Upload,
};
use relay_fakes::ArtifactSeed;
use relay_fakes::BlobFault;
use relay_fakes::FakeArtifacts;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_runtime::{Console, RepoName};

struct World {
    gh: FakeGitHub,
    art: FakeArtifacts,
}

fn world(names: &[&str]) -> World {
    let w = World {
        gh: FakeGitHub::start(),
        art: FakeArtifacts::start(),
    };
    w.gh.repo("o/app", "main");
    for name in names {
        let (_, url, digest) = w
            .art
            .seed("build-run", name, format!("zip of {name}").into());
        w.gh.add_artifact(
            "o/app",
            7,
            ArtifactSeed::new(name, &url, 8 + name.len() as u64).digest(&digest),
        );
    }
    w
}

fn github(w: &World) -> relay_github::GitHub {
    let env = relay_runtime::Env::from_pairs([
        ("GITHUB_API_URL", w.gh.url()),
        ("DEPLOY_RELAY_BACKOFF_SCALE", "0.01"),
    ]);
    let token = relay_runtime::Secret::new(DEFAULT_TOKEN);
    relay_github::GitHub::new(&env, Console::capture().0, Some(token)).unwrap()
}

fn fast() -> RetryPolicy {
    let mut retry = RetryPolicy::scaled(0.001);
    retry.stall_timeout = Duration::from_secs(5);
    retry
}

fn config(w: &World) -> TransferConfig {
    TransferConfig {
        upload: Some(Upload {
            results_url: w.art.url().to_owned(),
            token: RuntimeToken::new(Some(FakeArtifacts::runtime_token("deploy-run", "job")))
                .unwrap(),
            expires_at: None,
            overwrite: false,
        }),
        destination: Destination::Nothing,
        digest: DigestPolicy::Error,
        retry: fast(),
    }
}

fn repo() -> RepoName {
    RepoName::parse("o/app").unwrap()
}

fn pattern(glob: &str) -> Selection {
    Selection::Pattern {
        glob: glob.into(),
        matcher: globset::Glob::new(glob).unwrap().compile_matcher(),
    }
}

#[tokio::test]
async fn relays_the_artifacts_a_pattern_selects_under_deployment_names() {
    let w = world(&["frontend-web", "frontend-admin", "backend"]);
    let gh = github(&w);
    let listing = relay_artifacts::list(&gh, &repo(), 7, &pattern("frontend-*"))
        .await
        .unwrap();
    assert!(listing.found());
    let moves: Vec<ArtifactMove> = listing
        .selected
        .into_iter()
        .map(|a| ArtifactMove {
            new_name: Some(format!("deploy-{}-production", a.name)),
            source: a,
        })
        .collect();
    let (console, log) = Console::capture();
    let http = relay_artifacts::http_client().unwrap();
    let relayed = Transfer::new(&gh, &repo(), http, config(&w), console)
        .unwrap()
        .run(&moves)
        .await
        .unwrap();
    let names: Vec<_> = relayed
        .iter()
        .map(|r| (r.name.as_str(), r.reupload.as_ref().unwrap().name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("frontend-admin", "deploy-frontend-admin-production"),
            ("frontend-web", "deploy-frontend-web-production"),
        ]
    );
    for r in &relayed {
        let content = format!("zip of {}", r.name).into_bytes();
        assert_eq!(r.size, content.len() as u64);
        assert_eq!(r.check, DigestCheck::Match);
        assert_eq!(r.path, None);
        let stored = w
            .art
            .content("deploy-run", &r.reupload.as_ref().unwrap().name);
        assert_eq!(stored.unwrap(), content);
        assert!(r.digest.starts_with("sha256:") && r.digest.len() == 71);
    }
    assert!(log.text().is_empty(), "{}", log.text());

    let none = relay_artifacts::list(&gh, &repo(), 7, &pattern("docs-*"))
        .await
        .unwrap();
    assert!(!none.found());
}

#[tokio::test]
async fn a_failed_relay_names_the_artifact_hides_the_signature_and_leaves_nothing() {
    let w = world(&["web"]);
    let gh = github(&w);
    let listing = relay_artifacts::list(&gh, &repo(), 7, &Selection::All)
        .await
        .unwrap();
    let moves = vec![ArtifactMove {
        new_name: Some("deploy-web".into()),
        source: listing.selected[0].clone(),
    }];
    for _ in 0..5 {
        w.art.blob_fault(BlobFault::Status(503));
    }
    let http = relay_artifacts::http_client().unwrap();
    let err = Transfer::new(&gh, &repo(), http, config(&w), Console::capture().0)
        .unwrap()
        .run(&moves)
        .await
        .unwrap_err();
    let ArtifactError::Artifact { name, source } = &err else {
        panic!("{err}");
    };
    assert_eq!(name, "web");
    let msg = source.to_string();
    assert!(
        msg.contains("5 attempts") && msg.contains("HTTP 503"),
        "{msg}"
    );
    assert!(msg.contains("sig=***"), "the URL is shown redacted: {msg}");
    let real = w.art.blob_url("build-run", "web");
    let sig = real.split("sig=").nth(1).unwrap();
    assert!(!msg.contains(sig), "the SAS signature leaked: {msg}");
    assert!(w.art.artifacts("deploy-run").iter().all(|a| !a.finalized));
}
