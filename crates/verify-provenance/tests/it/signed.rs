//! Bundles `@sigstore/sign` signed against `@sigstore/mock`, served by the
//! fake GitHub: what verifies, what is refused and why, per mode.

use relay_testkit::oracle::assert_inert_markdown;

use super::*;

/// The fake lists `case`'s bundle for the digest it is judged for.
fn serve(gh: &FakeGitHub, s: &Signed, case: &str) -> String {
    let digest = s.case(case).digest.clone();
    gh.add_attestation(APP, &digest, s.bundle(case));
    digest
}

#[test]
fn a_good_image_verifies_and_the_summary_says_provenance_verified() {
    let Some(s) = signed() else { return };
    let gh = fake();
    let digest = serve(&gh, s, "good");
    let out = run(action(&gh)
        .input("trusted-root", &s.root())
        .input("environment", "production")
        .input(
            "images",
            &format!("api={}\nworker={}", image(&digest), image(&digest)),
        ));
    out.assert_success();
    assert_eq!(out.output("verified"), "true");
    assert_eq!(out.output("mode"), "require", "production is protected");
    let report = report(&out);
    assert_eq!(report["mode"], "require");
    assert_eq!(report["verified"], true);
    let api = &report["images"][0];
    assert_eq!(api["key"], "api");
    assert_eq!(api["ref"], image(&digest));
    assert_eq!(api["digest"], digest);
    assert_eq!(api["verdict"], "verified");
    assert_eq!(
        api["signer_workflow"],
        "https://github.com/octo/app/.github/workflows/build.yml@refs/heads/main"
    );
    assert_eq!(api["source_ref"], "refs/heads/main");
    assert_eq!(api["source_commit"], COMMIT);
    assert!(api["log_index"].is_u64(), "{api}");
    assert_eq!(api["timestamped"], false);
    assert!(api["reason"].is_null());
    assert_eq!(report["images"][1]["key"], "worker");

    let summary = &out.summary;
    assert!(
        summary.contains("### Provenance verified: 2 of 2 image(s)"),
        "{summary}"
    );
    assert!(
        summary.contains("| `api` `ghcr.io/octo/app@sha256:")
            && summary.contains("| `https://github.com/octo/app/.github/workflows/build.yml@refs/heads/main` | `refs/heads/main` | `8c1f0b7d2e4a6c8e0f1a3b5c7d9e1f2a3b4c5d6e` |")
            && summary.contains("| ✅ verified |"),
        "{summary}"
    );
    assert!(out.log().contains("provenance verified"), "{}", out.log());

    // One listing per distinct digest, filtered to provenance; the default
    // branch looked up because neither it nor `allowed-refs` was given.
    let listed = listings(&gh);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(
        listed[0].query.contains("predicate_type=provenance"),
        "{listed:?}"
    );
    assert!(
        gh.requests().iter().any(|r| r.path == "/repos/octo/app"),
        "default branch looked up"
    );
    if let Some(api) = relay_testkit::openapi::OpenApi::load() {
        for r in gh.requests() {
            api.validate(&r).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn a_timestamped_bundle_without_a_log_entry_verifies_as_github_private_ones_do() {
    let Some(s) = signed() else { return };
    let gh = fake();
    let digest = serve(&gh, s, "good-timestamp-only");
    let out = run(action(&gh)
        .input("trusted-root", &s.root())
        .input("default-branch", "main")
        .input("provenance", "require")
        .input("images", &format!("api={}", image(&digest))));
    out.assert_success();
    let api = &report(&out)["images"][0];
    assert!(api["log_index"].is_null(), "{api}");
    assert_eq!(api["timestamped"], true);
    assert!(out.summary.contains("| timestamp `"), "{}", out.summary);
    assert!(
        !gh.requests().iter().any(|r| r.path == "/repos/octo/app"),
        "`default-branch` given: no lookup"
    );
}

#[test]
fn a_wrong_digest_workflow_ref_or_commit_stops_the_deploy_under_require() {
    let Some(s) = signed() else { return };
    for (case, says) in [
        ("wrong-digest", "not for the image digest"),
        (
            "wrong-workflow",
            "signed by workflow `https://github.com/evil/tools/",
        ),
        ("wrong-ref", "built from ref `refs/heads/feature`"),
        (
            "wrong-commit",
            "built from commit `0000000000000000000000000000000000000000`",
        ),
        (
            "tampered-envelope",
            "does not verify with the signing certificate",
        ),
        ("another-ca", "does not chain"),
    ] {
        let gh = fake();
        let digest = serve(&gh, s, case);
        let out = run(action(&gh)
            .input("trusted-root", &s.root())
            .input("environment", "production")
            .input("images", &format!("api={}", image(&digest))));
        out.assert_failure();
        let error = out.error();
        assert!(error.contains(says), "{case}: {error}");
        assert!(
            error.contains("`provenance: require` stops the deploy"),
            "{case}: {error}"
        );
        assert!(
            error.contains("actions/attest-build-provenance"),
            "{case}: {error}"
        );
        assert_eq!(out.output("verified"), "false", "{case}");
        let api = &report(&out)["images"][0];
        assert_eq!(api["verdict"], "refused", "{case}");
        assert!(
            api["reason"].as_str().unwrap().contains(says),
            "{case}: {api}"
        );
        assert!(
            out.summary
                .contains("### Provenance NOT verified: 0 of 1 image(s)")
                && out.summary.contains("| ❌ refused |"),
            "{case}: {}",
            out.summary
        );
    }
}

#[test]
fn a_ref_the_environments_map_sends_to_the_environment_is_allowed() {
    let Some(s) = signed() else { return };
    // `wrong-ref` was built from `refs/heads/feature`.
    let run_for = |environment: &str| {
        let gh = fake();
        let digest = serve(&gh, s, "wrong-ref");
        run(action(&gh)
            .input("trusted-root", &s.root())
            .input("provenance", "require")
            .input("environments", "main=production\nfeature=preview")
            .input("environment", environment)
            .input("images", &format!("api={}", image(&digest))))
    };
    let out = run_for("preview");
    out.assert_success();
    assert_eq!(
        report(&out)["images"][0]["source_ref"],
        "refs/heads/feature"
    );
    run_for("production").assert_failure();
}

#[test]
fn allowed_signer_workflows_and_refs_replace_the_defaults() {
    let Some(s) = signed() else { return };
    let gh = fake();
    let digest = serve(&gh, s, "wrong-workflow");
    let out = run(action(&gh)
        .input("trusted-root", &s.root())
        .input("provenance", "require")
        .input(
            "allowed-signer-workflows",
            "evil/tools/.github/workflows/*.yml",
        )
        .input("allowed-refs", "main")
        .input("images", &format!("api={}", image(&digest))));
    out.assert_success();
    assert!(
        !gh.requests().iter().any(|r| r.path == "/repos/octo/app"),
        "`allowed-refs` given: no default-branch lookup"
    );

    let gh = fake();
    let digest = serve(&gh, s, "good");
    let out = run(action(&gh)
        .input("trusted-root", &s.root())
        .input("provenance", "require")
        .input("allowed-refs", "refs/tags/v*")
        .input("images", &format!("api={}", image(&digest))));
    out.assert_failure();
    assert!(
        out.error()
            .contains("matches none of the allowed refs (refs/tags/v*)"),
        "{}",
        out.error()
    );
}

#[test]
fn a_refusal_under_warn_is_a_warning_and_the_step_passes() {
    let Some(s) = signed() else { return };
    let gh = fake();
    let digest = serve(&gh, s, "wrong-commit");
    let out = run(action(&gh)
        .input("trusted-root", &s.root())
        .input("environment", "staging")
        .input("images", &format!("api={}", image(&digest))));
    out.assert_success();
    assert_eq!(out.output("mode"), "warn", "staging is not protected");
    assert_eq!(out.output("verified"), "false");
    let warnings = out.commands("warning");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("`api`") && warnings[0].contains("built from commit `0000"),
        "{warnings:?}"
    );
    assert!(
        out.summary
            .contains("Provenance not verified: 0 of 1 image(s) (`provenance: warn`"),
        "{}",
        out.summary
    );
}

#[test]
fn one_good_and_one_missing_image_fail_together_under_require() {
    let Some(s) = signed() else { return };
    let gh = fake();
    let digest = serve(&gh, s, "good");
    let other = format!("sha256:{}", "ab".repeat(32));
    let out = run(action(&gh)
        .input("trusted-root", &s.root())
        .input("provenance", "require")
        .input(
            "images",
            &format!("api={}\nweb={}", image(&digest), image(&other)),
        ));
    out.assert_failure();
    let error = out.error();
    assert!(error.contains("1 of 2 image(s)"), "{error}");
    assert!(
        error.contains("`web`") && !error.contains("`api` ("),
        "{error}"
    );
    let report = report(&out);
    assert_eq!(report["images"][0]["verdict"], "verified");
    assert_eq!(report["images"][1]["verdict"], "missing");
    assert_eq!(report["verified"], false);
}

#[test]
fn hostile_text_in_a_certificate_reaches_the_log_and_summary_escaped() {
    let Some(s) = signed() else { return };
    // Refused: the hostile ref is quoted in the reason.
    let gh = fake();
    let digest = serve(&gh, s, "hostile-ref");
    let out = run(action(&gh)
        .input("trusted-root", &s.root())
        .input("provenance", "require")
        .input("images", &format!("api={}", image(&digest))));
    out.assert_failure();
    assert!(
        out.error().contains("::error::pwned"),
        "quoted as data: {}",
        out.error()
    );
    assert!(
        !out.stdout.lines().any(|l| l.starts_with("::error::pwned")),
        "{}",
        out.stdout
    );
    assert_inert_markdown(&out.summary, 7);

    // Allowed (the ref glob lets it through): the hostile ref sits in the
    // table and the log line of a verified image.
    let gh = fake();
    let digest = serve(&gh, s, "hostile-ref");
    let out = run(action(&gh)
        .input("trusted-root", &s.root())
        .input("provenance", "require")
        .input("allowed-refs", "refs/heads/main*")
        .input("images", &format!("api={}", image(&digest))));
    out.assert_success();
    assert!(out.commands("error").is_empty() && out.commands("warning").is_empty());
    assert!(
        !out.stdout.lines().any(|l| l.starts_with("::error::pwned")),
        "{}",
        out.stdout
    );
    assert!(out.summary.contains("onerror"), "{}", out.summary);
    assert_inert_markdown(&out.summary, 7);
    let api = &report(&out)["images"][0];
    assert!(
        api["source_ref"].as_str().unwrap().contains('\n'),
        "raw in the JSON output"
    );
}
