//! What stops the step before any request: a target whose secret is
//! missing, a fleet file with a mistake.

use super::{DEPLOY, SHA_B, World};

#[test]
fn a_target_whose_secret_is_missing_stops_the_step_before_any_call() {
    let w = World::new();
    let secrets: serde_json::Value = serde_json::from_str(&w.secrets()).unwrap();
    let mut secrets = secrets.as_object().unwrap().clone();
    secrets.remove("VM_3_KEY");
    let out = w.run(
        w.action(SHA_B, 1, &w.fleet_file(""))
            .input("secrets", &serde_json::to_string(&secrets).unwrap()),
    );
    out.assert_failure();
    let error = out.error();
    assert!(
        error.contains(
            "input `secrets` has no value for `vm-3` (secret `VM_3_KEY`), so nothing was called"
        ),
        "{error}"
    );
    for vm in &w.vms {
        assert!(vm.log().is_empty(), "{} was called", vm.name);
    }
    assert!(w.gh.requests().is_empty(), "no request reached GitHub");
    assert_eq!(w.health.total_hits(), 0);
}

#[test]
fn a_key_that_is_no_key_of_the_scheme_is_named_by_target_never_shown() {
    let w = World::new();
    let secrets: serde_json::Value = serde_json::from_str(&w.secrets()).unwrap();
    let mut secrets = secrets.as_object().unwrap().clone();
    secrets.insert("VM_2_KEY".into(), "not base64 at all %%".into());
    let out = w.run(
        w.action(SHA_B, 1, &w.fleet_file(""))
            .input("secrets", &serde_json::to_string(&secrets).unwrap()),
    );
    out.assert_failure();
    assert!(
        out.error()
            .contains("secret `VM_2_KEY` for target `vm-2`, which is no standard-webhooks key"),
        "{}",
        out.error()
    );
    assert!(
        out.stdout
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .all(|l| !l.contains("not base64 at all")),
        "{}",
        out.stdout
    );
    assert!(w.gh.requests().is_empty());
}

#[test]
fn a_mistake_in_the_fleet_file_is_named_by_file_line_and_key() {
    let w = World::new();
    let file = w
        .fleet_file("")
        .replace("interval = \"200ms\"", "interval = 200");
    let line = file
        .lines()
        .position(|l| l.starts_with("interval = 200"))
        .unwrap()
        + 1;
    let out = w.run(w.action(SHA_B, 1, &file));
    out.assert_failure();
    let error = out.error();
    assert!(
        error.contains(&format!(
            "input `fleet-file` is not a fleet file: deploy-relay.fleet.toml:{line}:12: `environments.production.gate.interval` has the wrong type"
        )),
        "{error}"
    );
    assert!(error.contains("hint: "), "{error}");
    for vm in &w.vms {
        assert!(vm.log().is_empty());
    }
    assert!(w.gh.requests().is_empty());
    assert!(w.gh.issues(DEPLOY).is_empty());
}

#[test]
fn an_image_that_names_no_tag_or_digest_stops_the_step_before_any_call() {
    let w = World::new();
    let out = w.run(
        w.action(SHA_B, 1, &w.fleet_file(""))
            .input("images", "image=ghcr.io/my-org/api"),
    );
    out.assert_failure();
    let error = out.error();
    assert!(
        error.contains("input `images`") && error.contains("names no tag or digest"),
        "{error}"
    );
    for vm in &w.vms {
        assert!(vm.log().is_empty(), "{} was called", vm.name);
    }
    assert!(w.gh.requests().is_empty(), "no request reached GitHub");
}

#[test]
fn a_provenance_report_that_is_not_one_stops_the_step_before_any_call() {
    for (bad, why) in [
        ("not json", "is not JSON"),
        (
            r#"{"mode": "require", "images": []}"#,
            "is not a provenance report",
        ),
    ] {
        let w = World::new();
        let out = w.run(
            w.action(SHA_B, 1, &w.fleet_file(""))
                .input("provenance-report", bad),
        );
        out.assert_failure();
        let error = out.error();
        assert!(
            error.contains("input `provenance-report`") && error.contains(why),
            "{bad}: {error}"
        );
        for vm in &w.vms {
            assert!(vm.log().is_empty(), "{} was called", vm.name);
        }
        assert!(w.gh.requests().is_empty(), "no request reached GitHub");
    }
}
