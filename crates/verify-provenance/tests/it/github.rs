//! What GitHub answers when there is nothing to verify: no attestation, a
//! token without `attestations: read`, a plan without attestations, a
//! GitHub Enterprise Server without the API; and `off`.

use relay_fakes::Fault;
use relay_testkit::oracle::assert_inert_markdown;

use super::*;

fn hex(byte: &str) -> String {
    byte.repeat(32)
}

fn digest() -> String {
    format!("sha256:{}", hex("ab"))
}

/// The path the listing of `digest()` is asked at (the digest's `:` encoded).
fn listing_path() -> String {
    format!("/repos/{APP}/attestations/sha256%3A{}", hex("ab"))
}

fn missing(mode: &str) -> Outcome {
    let gh = fake();
    let out = run(action(&gh)
        .input("provenance", mode)
        .input("images", &format!("api={}", image(&digest()))));
    assert_eq!(listings(&gh).len(), 1);
    assert_eq!(listings(&gh)[0].status, 404);
    out
}

#[test]
fn no_attestation_under_require_fails_and_says_how_to_attest() {
    let out = missing("require");
    out.assert_failure();
    let error = out.error();
    for says in [
        "no attestation found for `sha256:abab",
        "actions/attest-build-provenance",
        "id-token: write, attestations: write",
        "`provenance: off`",
    ] {
        assert!(error.contains(says), "{says}: {error}");
    }
    assert_eq!(report(&out)["images"][0]["verdict"], "missing");
    assert!(
        out.summary.contains("| ❌ no attestation |"),
        "{}",
        out.summary
    );
}

#[test]
fn no_attestation_under_warn_is_a_warning_and_the_step_passes() {
    let out = missing("warn");
    out.assert_success();
    let warnings = out.commands("warning");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("no attestation found")
            && warnings[0].contains("actions/attest-build-provenance"),
        "{warnings:?}"
    );
    assert_eq!(out.output("verified"), "false");
    assert!(
        out.summary.contains("| ⚠️ no attestation |"),
        "{}",
        out.summary
    );
}

#[test]
fn off_reads_nothing_and_says_so() {
    let gh = fake();
    let out = run(action(&gh)
        .input("provenance", "off")
        .input("environment", "production")
        .input("images", "api=ghcr.io/octo/app:latest"));
    out.assert_success();
    assert!(gh.requests().is_empty(), "{:?}", gh.requests());
    assert_eq!(out.output("mode"), "off");
    assert_eq!(out.output("verified"), "false");
    assert_eq!(report(&out)["images"][0]["verdict"], "skipped");
    assert!(out.log().contains("provenance: off"), "{}", out.log());
    assert!(
        out.summary
            .contains("### Provenance not checked (`provenance: off`)"),
        "{}",
        out.summary
    );
}

#[test]
fn a_token_without_attestations_read_is_named() {
    let gh = fake();
    gh.fault(
        "GET",
        &listing_path(),
        [Fault::status(403).body(r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/repos/attestations#list-attestations"}"#)],
    );
    let out = run(action(&gh)
        .input("provenance", "require")
        .input("images", &format!("api={}", image(&digest()))));
    out.assert_failure();
    let error = out.error();
    assert!(
        error.contains("GitHub answered 403") && error.contains("attestations: read"),
        "{error}"
    );
    assert_eq!(report(&out)["images"][0]["verdict"], "unavailable");
}

#[test]
fn a_private_repository_whose_plan_lacks_attestations_is_reported() {
    let gh = fake();
    gh.fault(
        "GET",
        &listing_path(),
        [Fault::status(404).body(r#"{"message":"Feature not available for user-owned private repositories. To enable this feature, please make this repository public."}"#)],
    );
    let out = run(action(&gh)
        .input("provenance", "require")
        .input("images", &format!("api={}", image(&digest()))));
    out.assert_failure();
    let error = out.error();
    assert!(
        error.contains("GitHub does not offer artifact attestations for `octo/app`")
            && error.contains("GitHub Enterprise Cloud")
            && error.contains("`provenance: off`"),
        "{error}"
    );
    assert_eq!(report(&out)["images"][0]["verdict"], "unavailable");
}

#[test]
fn an_enterprise_server_without_the_api_is_reported() {
    let gh = fake();
    // GHES's API lives under /api/v3; the fake has no route there, so every
    // request is a 404, as on a server without the attestations API.
    let out = run(action(&gh)
        .api(&format!("{}/api/v3", gh.url()))
        .input("provenance", "require")
        .input("default-branch", "main")
        .input(
            "images",
            &format!(
                "api={}\nweb={}",
                image(&digest()),
                image(&format!("sha256:{}", hex("cd")))
            ),
        ));
    out.assert_failure();
    let error = out.error();
    assert!(
        error.contains("GitHub Enterprise Server may not have the artifact attestations API")
            && error.contains("`provenance: off`"),
        "{error}"
    );
    assert_eq!(gh.requests().len(), 2, "one listing per digest");
}

#[test]
fn an_unreadable_default_branch_names_the_way_around() {
    let gh = FakeGitHub::start(); // no repositories: GET /repos/octo/app is a 404
    let out = run(action(&gh)
        .input("provenance", "require")
        .input("images", &format!("api={}", image(&digest()))));
    out.assert_failure();
    let error = out.error();
    assert!(
        error.contains("read the default branch of `octo/app`")
            && error.contains("pass `default-branch`"),
        "{error}"
    );
    assert!(listings(&gh).is_empty());
}

#[test]
fn hostile_text_from_github_reaches_the_log_escaped() {
    let gh = fake();
    gh.fault(
        "GET",
        &listing_path(),
        [Fault::status(403).body(r#"{"message":"nope\n::warning::forged\n::add-mask::x <img src=x onerror=alert(1)> | @admin ##[error]v1"}"#)],
    );
    let out = run(action(&gh)
        .input("provenance", "warn")
        .input("images", &format!("api={}", image(&digest()))));
    out.assert_success();
    let warnings = out.commands("warning");
    assert_eq!(warnings.len(), 1, "only ours: {warnings:?}\n{}", out.stdout);
    assert!(
        warnings[0].contains("::warning::forged"),
        "as data: {warnings:?}"
    );
    assert!(
        out.commands("add-mask").iter().all(|m| m != "x"),
        "{}",
        out.stdout
    );
    assert!(out.commands("error").is_empty(), "{}", out.stdout);
    assert_inert_markdown(&out.summary, 7);
    assert!(out.summary.contains("onerror"), "{}", out.summary);
}
