//! Rollouts against three real receivers: all healthy, a canary that fails
//! its gate, a receiver busy with another deploy, a target that times out.

use super::{APP, DEPLOY, RUN, SHA_A, SHA_B, World, image, report, target};

#[test]
fn all_healthy_every_wave_deploys_and_is_recorded() {
    let w = World::new();
    let out = w.run(w.action(SHA_A, 1, &w.fleet_file("")));
    out.assert_success();
    assert_eq!(out.output("state"), "success");
    assert_eq!(out.output("failed"), "");
    for vm in &w.vms {
        assert_eq!(vm.started(), [image(SHA_A)], "{}", vm.name);
        assert_eq!(vm.current(), Some(image(SHA_A)));
    }
    // The canary's deploy ended before the rest began.
    let report = report(&out);
    for t in ["vm-1", "vm-2", "vm-3"] {
        assert_eq!(target(&report, t)["call"], "deployed");
        assert_eq!(target(&report, t)["gate"], "passed");
    }
    // One record per wave, each `success`, its payload the app's and the fleet's.
    let records = w.records_of(RUN);
    assert_eq!(records.len(), 2, "{records:?}");
    let ids: Vec<String> = records.iter().map(|r| r.0.to_string()).collect();
    assert_eq!(out.output("deployment-ids"), ids.join(","));
    for (n, (_, states, payload)) in records.iter().enumerate() {
        assert_eq!(states.first().map(String::as_str), Some("in_progress"));
        assert!(states.contains(&"success".to_owned()), "{states:?}");
        assert_eq!(payload["repository"], APP);
        assert_eq!(payload["sha"], SHA_A);
        assert_eq!(payload["images"]["image"], image(SHA_A));
        assert_eq!(payload["fleet"]["kind"], "wave");
        assert_eq!(payload["fleet"]["position"], n + 1);
        assert_eq!(payload["fleet"]["waves"], 2);
    }
    assert_eq!(
        records[0].2["fleet"]["targets"],
        serde_json::json!(["vm-1"])
    );
    assert_eq!(
        records[1].2["fleet"]["targets"],
        serde_json::json!(["vm-2", "vm-3"])
    );
    assert!(w.gh.issues(DEPLOY).is_empty());
    assert!(out.summary.contains("Fleet deploy of"), "{}", out.summary);
    w.assert_never_overlapped();
}

#[test]
fn a_canary_that_fails_its_gate_is_rolled_back_alone_and_wave_2_is_never_called() {
    let w = World::new();
    w.on_a();
    w.down("vm-1");
    let out = w.run(w.action(SHA_B, 1, &w.fleet_file("")));
    out.assert_failure();
    assert_eq!(out.output("state"), "failure");
    assert_eq!(out.output("failed"), "vm-1");
    assert_eq!(out.output("rolled-back"), "vm-1");
    // The canary took B, then went back to A; the rest never heard of B.
    assert_eq!(
        w.vm("vm-1").started(),
        [image(SHA_A), image(SHA_B), image(SHA_A)]
    );
    assert_eq!(w.vm("vm-1").current(), Some(image(SHA_A)));
    for vm in ["vm-2", "vm-3"] {
        assert_eq!(w.vm(vm).started(), [image(SHA_A)], "{vm} was called");
    }
    let report = report(&out);
    let canary = target(&report, "vm-1");
    assert_eq!(canary["call"], "deployed");
    assert_eq!(canary["gate"], "failed");
    assert_eq!(canary["rollback"], "done");
    assert_eq!(canary["rolled_back_to"], SHA_A);
    assert_eq!(target(&report, "vm-2")["call"], "not-called");
    assert_eq!(target(&report, "vm-2")["rollback"], "none");
    // Records: the canary's wave failed; one rollback, to A, of vm-1 alone.
    let records = w.records_of(RUN);
    assert_eq!(records.len(), 2, "{records:?}");
    let (_, wave, payload) = &records[0];
    assert_eq!(payload["fleet"]["kind"], "wave");
    assert_eq!(wave.last().map(String::as_str), Some("failure"));
    assert_eq!(payload["fleet"]["previous"]["vm-1"]["sha"], SHA_A);
    let (_, rollback, payload) = &records[1];
    assert_eq!(payload["fleet"]["kind"], "rollback");
    assert_eq!(payload["rollback"], true);
    assert_eq!(payload["sha"], SHA_A);
    assert_eq!(payload["images"]["image"], image(SHA_A));
    assert_eq!(payload["fleet"]["targets"], serde_json::json!(["vm-1"]));
    assert_eq!(rollback.last().map(String::as_str), Some("success"));
    // One issue: what failed, what was rolled back, what was never called.
    let issues = w.gh.issues(DEPLOY);
    assert_eq!(issues.len(), 1, "{issues:?}");
    let body = issues[0]["body"].as_str().unwrap();
    assert!(
        body.contains("**Failed**") && body.contains("`vm-1`"),
        "{body}"
    );
    assert!(body.contains("**Rolled back**"), "{body}");
    assert!(body.contains("wave `rest`: never called"), "{body}");
    assert_eq!(
        out.output("issue-url"),
        issues[0]["html_url"].as_str().unwrap()
    );
    assert!(
        out.error().contains("health gate failed") && out.error().contains("rolled back: vm-1"),
        "{}",
        out.error()
    );

    // Partial rollout, previous good per target: deploying B again, each
    // target's previous is still A, and the canary's B record no longer counts.
    w.health
        .route("/vm-1/health", relay_testkit::health::Behavior::Up);
    let again = w.run(
        w.action(SHA_B, 1, &w.fleet_file(""))
            .env("GITHUB_RUN_ID", "6000"),
    );
    again.assert_success();
    for vm in &w.vms {
        assert_eq!(vm.current(), Some(image(SHA_B)), "{}", vm.name);
    }
    let records = w.records_of("6000");
    assert_eq!(records[0].2["fleet"]["previous"]["vm-1"]["sha"], SHA_A);
    assert_eq!(records[1].2["fleet"]["previous"]["vm-3"]["sha"], SHA_A);
    w.assert_never_overlapped();
}

#[test]
fn a_receiver_busy_with_another_deploy_is_waited_for_then_deployed() {
    let w = World::new();
    w.on_a();
    let vm2 = w.vm("vm-2");
    vm2.sleep(1.5);
    let by_hand = vm2.deploy_by_hand(&image(SHA_A));
    // The hand-made deploy holds vm-2's hook when the fleet reaches it.
    while !vm2.log().iter().any(|l| l.contains("by-hand-")) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = w.run(w.action(SHA_B, 1, &w.fleet_file("retries = 20")));
    assert_eq!(by_hand.join().unwrap(), 200);
    out.assert_success();
    assert!(
        out.stdout
            .contains("answered 409 without a deploy result; nothing ran, retrying"),
        "{}",
        out.stdout
    );
    assert_eq!(
        vm2.started(),
        [image(SHA_A), image(SHA_A), image(SHA_B)],
        "the hand-made deploy, then the fleet's"
    );
    assert_eq!(vm2.current(), Some(image(SHA_B)));
    w.assert_never_overlapped();
}

#[test]
fn a_target_that_times_out_stops_the_rollout_and_is_rolled_back_once_free() {
    let w = World::new();
    w.on_a();
    w.vm("vm-2").sleep(2.5);
    let out = w.run(w.action(SHA_B, 1, &w.fleet_file("timeout = \"1s\"\nretries = 20")));
    out.assert_failure();
    let report = report(&out);
    let slow = target(&report, "vm-2");
    assert_eq!(slow["call"], "unknown", "{slow}");
    assert!(
        slow["said"]
            .as_str()
            .unwrap()
            .contains("did not answer within"),
        "{slow}"
    );
    // Whatever may have changed went back to A: the canary (an earlier
    // wave), the slow one (once its deploy of B ended), and vm-3.
    for vm in ["vm-1", "vm-2", "vm-3"] {
        assert_eq!(target(&report, vm)["rollback"], "done", "{vm}: {report:#?}");
        assert_eq!(w.vm(vm).current(), Some(image(SHA_A)), "{vm}");
    }
    assert_eq!(
        w.vm("vm-2").started(),
        [image(SHA_A), image(SHA_B), image(SHA_A)]
    );
    // The canary's wave passed, then was rolled back: `failure` after `success`.
    let records = w.records_of(RUN);
    let canary = &records[0].1;
    assert_eq!(
        canary[canary.len() - 2..],
        ["success".to_owned(), "failure".to_owned()],
        "{canary:?}"
    );
    assert_eq!(w.gh.issues(DEPLOY).len(), 1);
    let body = w.gh.issues(DEPLOY)[0]["body"].as_str().unwrap().to_owned();
    assert!(body.contains("outcome unknown"), "{body}");
    w.assert_never_overlapped();
}

#[test]
fn a_release_with_no_previous_good_is_left_and_said_so() {
    let w = World::new();
    w.down("vm-1");
    let out = w.run(w.action(SHA_B, 1, &w.fleet_file("")));
    out.assert_failure();
    assert_eq!(out.output("rolled-back"), "");
    assert_eq!(
        target(&report(&out), "vm-1")["rollback"],
        "no-previous-release"
    );
    assert_eq!(
        w.vm("vm-1").started(),
        [image(SHA_B)],
        "nothing to go back to"
    );
    let body = w.gh.issues(DEPLOY)[0]["body"].as_str().unwrap().to_owned();
    assert!(body.contains("no previous good release"), "{body}");
}

#[test]
fn the_provenance_report_is_kept_in_every_wave_record_not_in_a_rollback() {
    let w = World::new();
    w.on_a();
    w.down("vm-2");
    let report_in = serde_json::json!({
        "mode": "require",
        "verified": true,
        "images": [{
            "key": "image",
            "ref": image(SHA_B),
            "verdict": "verified",
            "signer_workflow": "https://github.com/my-org/api/.github/workflows/build.yml@refs/heads/main",
            "log_index": 7,
        }],
    });
    let out = w.run(
        w.action(SHA_B, 1, &w.fleet_file(""))
            .input("provenance-report", &report_in.to_string()),
    );
    out.assert_failure();
    // Waves 1 and 2 carry the report as verify-provenance wrote it; the
    // rollback to A does not claim B's provenance, nor one it never checked.
    let records = w.records_of(RUN);
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r.2["fleet"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["wave", "wave", "rollback"], "{records:?}");
    for (_, _, payload) in &records[..2] {
        assert_eq!(payload["provenance"], report_in);
    }
    assert!(records[2].2["provenance"].is_null(), "{:?}", records[2].2);
}
