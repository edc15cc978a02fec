//! The attestations fake answers as GitHub documents `repos/list-attestations`:
//! the documented shape, cursor pages in the `Link` header, the
//! `predicate_type` filter, and 404 for a digest without attestations.

#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use relay_fakes::{Access, DEFAULT_TOKEN, FakeGitHub};
use relay_testkit::openapi::OpenApi;
use serde_json::{Value, json};

const REPO: &str = "octo/app";
const DIGEST: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn bundle(predicate_type: &str, n: usize) -> Value {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/octo/app", "digest": {"sha256": &DIGEST[7..]}}],
        "predicateType": predicate_type,
        "predicate": {"n": n},
    });
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": "AA=="}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": "AA==", "keyid": ""}],
        },
    })
}

fn get(gh: &FakeGitHub, path: &str, token: &str) -> (u16, Option<String>, Value) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let client = reqwest::Client::builder()
                .user_agent("testkit-test")
                .build()
                .unwrap();
            let url = if path.starts_with("http") {
                path.to_owned()
            } else {
                format!("{}{path}", gh.url())
            };
            let resp = client.get(url).bearer_auth(token).send().await.unwrap();
            let link = resp
                .headers()
                .get("link")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                resp.status().as_u16(),
                link,
                resp.json().await.unwrap_or(Value::Null),
            )
        })
}

fn next(link: &str) -> String {
    link.split(';')
        .next()
        .unwrap()
        .trim_matches(['<', '>', ' '])
        .to_owned()
}

#[test]
fn lists_a_digests_attestations_by_cursor_pages_in_the_documented_shape() {
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    for n in 0..45 {
        gh.add_attestation(REPO, DIGEST, bundle("https://slsa.dev/provenance/v1", n));
    }
    gh.add_attestation(REPO, DIGEST, bundle("https://spdx.dev/Document/v2.3", 99));
    gh.add_attestation(
        "octo/other",
        DIGEST,
        bundle("https://slsa.dev/provenance/v1", 7),
    );
    let path = format!(
        "/repos/{REPO}/attestations/{}?per_page=20&predicate_type=provenance",
        DIGEST.replace(':', "%3A")
    );
    let (status, link, first) = get(&gh, &path, DEFAULT_TOKEN);
    assert_eq!(status, 200);
    let api = OpenApi::load();
    if let Some(api) = &api {
        api.check_response(
            "GET",
            &format!("/repos/{REPO}/attestations/{DIGEST}"),
            200,
            &first,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut seen: Vec<u64> = Vec::new();
    let mut page = first;
    let mut link = link;
    loop {
        for a in page["attestations"].as_array().unwrap() {
            let payload = base64::engine::general_purpose::STANDARD
                .decode(a["bundle"]["dsseEnvelope"]["payload"].as_str().unwrap())
                .unwrap();
            let st: Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(st["predicateType"], "https://slsa.dev/provenance/v1");
            seen.push(st["predicate"]["n"].as_u64().unwrap());
        }
        let Some(l) = link else { break };
        assert!(
            l.contains("after=") && l.contains("predicate_type=provenance"),
            "{l}"
        );
        let (status, l2, p) = get(&gh, &next(&l), DEFAULT_TOKEN);
        assert_eq!(status, 200);
        page = p;
        link = l2;
    }
    assert_eq!(
        seen,
        (0..45).collect::<Vec<_>>(),
        "every page, in order, once"
    );
    let (_, _, all) = get(
        &gh,
        &format!("/repos/{REPO}/attestations/{DIGEST}?per_page=100"),
        DEFAULT_TOKEN,
    );
    assert_eq!(
        all["attestations"].as_array().unwrap().len(),
        46,
        "no filter: the SBOM too"
    );
}

#[test]
fn a_digest_without_attestations_or_a_hidden_repository_is_not_found() {
    let gh = FakeGitHub::start();
    gh.repo(REPO, "main");
    gh.repo("octo/secret", "main");
    gh.add_attestation(
        "octo/secret",
        DIGEST,
        bundle("https://slsa.dev/provenance/v1", 0),
    );
    gh.token("ghs_OnlyApp", Access::ReadOnly(vec![REPO.into()]));
    let (status, _, body) = get(
        &gh,
        &format!("/repos/{REPO}/attestations/{DIGEST}"),
        DEFAULT_TOKEN,
    );
    assert_eq!((status, body["message"].as_str()), (404, Some("Not Found")));
    let (status, _, _) = get(
        &gh,
        &format!("/repos/octo/secret/attestations/{DIGEST}"),
        "ghs_OnlyApp",
    );
    assert_eq!(status, 404);
    let (status, _, _) = get(
        &gh,
        &format!("/repos/octo/secret/attestations/{DIGEST}"),
        DEFAULT_TOKEN,
    );
    assert_eq!(status, 200);
}
