//! A cancelled rollout, and its re-run.

use super::{RUN, SHA_B, World, image, report, target};

#[test]
fn a_rerun_after_a_cancel_skips_what_is_on_the_release_and_never_deploys_twice_at_once() {
    let w = World::new();
    w.on_a();
    // vm-2's deploy of B takes a while; the step is cancelled meanwhile.
    w.vm("vm-2").sleep(2.0);
    let logs = w.vm("vm-2").log().len();
    let started_b = {
        let dir_log = w.vm("vm-2").log_path();
        move || {
            std::fs::read_to_string(&dir_log)
                .unwrap_or_default()
                .lines()
                .skip(logs)
                .any(|l| l.starts_with("start ") && l.contains("bbbbbbbbbb"))
        }
    };
    let cancelled = w.run(
        w.action(SHA_B, 1, &w.fleet_file("retries = 20"))
            .cancel_when(started_b),
    );
    cancelled.assert_failure();
    assert!(
        cancelled.error().contains("cancelled"),
        "{}",
        cancelled.error()
    );
    let records = w.records_of(RUN);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0].1.last().map(String::as_str), Some("success"));
    assert_eq!(
        records[1].1.last().map(String::as_str),
        Some("error"),
        "a cancel is recorded as `error`, never `failure`"
    );
    assert!(
        w.gh.issues(super::DEPLOY).is_empty(),
        "no rollback, no issue"
    );

    // The re-run, while vm-2 may still be running the first attempt's deploy.
    w.vm("vm-2").awake();
    let rerun = w.run(w.action(SHA_B, 2, &w.fleet_file("retries = 20")));
    rerun.assert_success();
    let report = report(&rerun);
    assert_eq!(target(&report, "vm-1")["call"], "already-on-release");
    assert_eq!(target(&report, "vm-1")["gate"], "passed");
    assert_eq!(
        w.vm("vm-1").started().len(),
        2,
        "the canary was not called again"
    );
    assert_eq!(target(&report, "vm-2")["call"], "deployed");
    for vm in &w.vms {
        assert_eq!(vm.current(), Some(image(SHA_B)), "{}", vm.name);
    }
    w.assert_never_overlapped();
    // The second attempt's deliveries are its own: the receiver ran both.
    let ids: Vec<String> = w
        .vm("vm-2")
        .log()
        .iter()
        .filter(|l| l.starts_with("start ") && l.contains("bbbbbbbbbb"))
        .map(|l| l.rsplit(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(
        ids[0].contains(&format!("fleet-{RUN}-1-")) && ids[1].contains(&format!("fleet-{RUN}-2-"))
    );
}
