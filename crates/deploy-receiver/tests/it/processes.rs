//! A deploy's processes: the whole tree dies on timeout (a `setsid` child
//! included), leftovers die after a normal exit unless the hook keeps them.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::{SECRET, assert_gone, body, json, pid_in, process_gone, signed, start};

#[tokio::test]
async fn on_timeout_a_child_that_left_the_process_group_dies_too() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let (status, answer) = json(
        signed(&client, &r.url("/slow"), &body("8888888"), SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 504, "{answer}");
    assert!(
        answer["status"].as_str().unwrap().contains("process tree"),
        "{answer}"
    );
    assert_gone(pid_in(r.dir.path(), "escaped"), "the setsid child").await;
    // Orphaned at once (its parent subshell exited): only a subreaper still has it.
    assert_gone(pid_in(r.dir.path(), "orphan"), "the orphaned grandchild").await;
    r.stop().await;
}

#[tokio::test]
async fn after_a_normal_exit_leftovers_are_killed() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let (status, answer) = json(
        signed(&client, &r.url("/deploy"), &body("9999999"), SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["leftovers_killed"], 3, "{answer}");
    // Killed before the answer was made, not some time later.
    for name in ["leftover", "escaped", "orphan"] {
        let pid = pid_in(r.dir.path(), name);
        assert!(process_gone(pid), "{name} ({pid}) outlived the deploy");
    }
    r.stop().await;
}

#[tokio::test]
async fn keep_children_leaves_them_running() {
    let r = start("").await;
    let client = reqwest::Client::new();
    let (status, answer) = json(
        signed(&client, &r.url("/keep"), &body("9999999"), SECRET)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["leftovers_killed"], 0, "{answer}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    for name in ["leftover", "escaped", "orphan"] {
        let pid = pid_in(r.dir.path(), name);
        let alive = !process_gone(pid);
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        assert!(
            alive,
            "{name} ({pid}) was killed although the hook keeps children"
        );
    }
    r.stop().await;
}
