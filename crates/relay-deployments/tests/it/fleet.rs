//! Fleet records against the fake GitHub: a wave and a rollback written as
//! a fleet deploy writes them, read back per target, with statuses read
//! only where a target is still open.

use std::collections::BTreeMap;

use relay_deployments::{
    Fleet, FleetKind, History, NewFleetRecord, Payload, Release, set_state, start_fleet_record,
};
use relay_github::{DeploymentState, GitHub};

use super::{A, APP, B, C, REF, client, fake, payload, repo, rt};

fn fleet(kind: FleetKind, targets: &[&str], previous: &[(&str, &str)]) -> Fleet {
    Fleet {
        run_id: "900".into(),
        run_attempt: 1,
        kind,
        wave: "canary".into(),
        position: 1,
        waves: 2,
        targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        previous: previous
            .iter()
            .map(|(t, sha)| {
                (
                    (*t).to_owned(),
                    Release {
                        sha: (*sha).to_owned(),
                        images: BTreeMap::new(),
                    },
                )
            })
            .collect(),
    }
}

/// Writes a fleet record of `p` that ends in `states`.
fn write(gh: &GitHub, p: &Payload, f: &Fleet, states: &[DeploymentState]) -> u64 {
    let repo = repo();
    let id = rt()
        .block_on(start_fleet_record(
            gh,
            &NewFleetRecord {
                repo: &repo,
                environment: "production",
                git_ref: REF,
                payload: p,
                fleet: f,
                description: "wave 1/2 canary: deploying",
                log_url: None,
            },
        ))
        .unwrap();
    for state in states {
        rt().block_on(set_state(gh, &repo, id, state.clone(), "done", None))
            .unwrap();
    }
    id
}

#[test]
fn each_target_reads_its_own_current_and_previous() {
    let fake = fake();
    let gh = client(&fake);
    // The whole fleet on A (a single-target deploy of the environment).
    super::deploy(&gh, "production", &payload(A), DeploymentState::Success);
    // B: the canary passed, wave 2 failed, the canary was rolled back.
    let canary = write(
        &gh,
        &payload(B),
        &fleet(FleetKind::Wave, &["vm-1"], &[("vm-1", A)]),
        &[DeploymentState::Success, DeploymentState::Failure],
    );
    write(
        &gh,
        &payload(B),
        &fleet(
            FleetKind::Wave,
            &["vm-2", "vm-3"],
            &[("vm-2", A), ("vm-3", A)],
        ),
        &[DeploymentState::Failure],
    );
    let rollback = write(
        &gh,
        &Payload {
            rollback: true,
            ..payload(A)
        },
        &fleet(FleetKind::Rollback, &["vm-1", "vm-2"], &[]),
        &[DeploymentState::Success],
    );
    // C: the canary passed and nothing else ran yet.
    let c_canary = write(
        &gh,
        &payload(C),
        &fleet(FleetKind::Wave, &["vm-1"], &[("vm-1", A)]),
        &[DeploymentState::Success],
    );
    let stored = fake
        .deployments("octo/deploy")
        .into_iter()
        .find(|d| d["id"] == canary)
        .unwrap();
    assert_eq!(stored["payload"]["fleet"]["targets"][0], "vm-1");
    assert_eq!(stored["payload"]["sha"], B, "a record's payload as ever");

    let history = rt()
        .block_on(History::read(
            &gh,
            &repo(),
            "production",
            APP,
            &["vm-1", "vm-2", "vm-3"],
            C,
            "elsewhere",
        ))
        .unwrap();
    let vm1 = history.standing("vm-1", C);
    assert_eq!(vm1.current.map(|c| c.0), Some(c_canary), "vm-1 runs C");
    assert_eq!(
        vm1.previous.map(|p| (p.0, p.1.sha)),
        Some((rollback, A.to_owned()))
    );
    let vm2 = history.standing("vm-2", C);
    assert_eq!(vm2.current.map(|c| c.1.sha).as_deref(), Some(A));
    // vm-3 never got B or C: the environment's own record.
    let vm3 = history.standing("vm-3", C);
    assert_eq!(vm3.previous.map(|p| p.1.sha).as_deref(), Some(A));
    assert!(
        history
            .records
            .iter()
            .all(|r| r.record.deployment.id != canary),
        "the walk ended before B's canary: every target was settled"
    );
    let another_app = rt()
        .block_on(History::read(
            &gh,
            &repo(),
            "production",
            "octo/other",
            &["vm-1"],
            C,
            "elsewhere",
        ))
        .unwrap();
    assert!(another_app.records.is_empty(), "records are per app");
}
