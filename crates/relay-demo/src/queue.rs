//! The queue scene: three runs of the platform repository meet on
//! `production` and none is dropped. Release 4's deploy is in its signed
//! call when a rollback requested by hand (examples/platform-repo's
//! `rollback.yml`) and release 5's deploy arrive. The deploy and rollback
//! jobs share one concurrency group per environment and app with
//! `queue: max`, so both wait and then run in the order they came: with
//! GitHub's default (`queue: single`) release 5's arrival would have
//! cancelled the pending rollback.
//! <https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency>
//!
//! The runner's scheduler plays the three runs with GitHub's concurrency
//! rules; the deploys reach the demo's real receiver one at a time.

use std::collections::BTreeMap;
use std::path::Path;

use relay_runner::{At, Run, Scheduler};
use serde_json::{Map, Value, json};

use crate::example;
use crate::github;
use crate::story::{self, Stage};

/// The rollback example of the platform repository.
pub const ROLLBACK_EXAMPLE: &str = "examples/platform-repo/.github/workflows/rollback.yml";

/// The releases the scene deploys; the rollback lands between them.
pub const FIRST: u64 = 4;
pub const SECOND: u64 = 5;

/// How the queued runs ended, in arrival order: (label, conclusion).
pub struct QueueScene {
    pub runs: Vec<(String, String)>,
}

impl QueueScene {
    /// `label conclusion · …`, as the end state compares it.
    pub fn line(&self) -> String {
        self.runs
            .iter()
            .map(|(l, c)| format!("{l} {c}"))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// What the scene should end with.
    pub fn expected() -> String {
        [
            format!("release {FIRST} success"),
            "rollback by hand success".to_owned(),
            format!("release {SECOND} success"),
        ]
        .join(" · ")
    }
}

impl Stage<'_> {
    /// Builds and relays releases [`FIRST`] and [`SECOND`], then plays
    /// their deploys and a rollback by hand as they arrive on GitHub.
    pub fn play_queue(&self) -> anyhow::Result<QueueScene> {
        let t = self.timeline;
        let mut events = Vec::new();
        for n in [FIRST, SECOND] {
            let (phase, event) = self.build_and_relay(story::release(n, false), None)?;
            let event = event.ok_or_else(|| {
                anyhow::anyhow!(
                    "release {n} was not dispatched: {}",
                    phase.surprises.join("; ")
                )
            })?;
            events.push(event);
        }
        t.say("");
        t.say(&format!(
            "━━ Queued on production: release {FIRST}'s deploy is in its signed call when a rollback by hand and release {SECOND}'s deploy arrive"
        ));
        t.say(
            "   deploy.yml and rollback.yml share one group per environment and app, `queue: max`: both wait, neither is cancelled",
        );
        self.masks.add(&self.vm.secret);
        let runner = |label: &str, event: &Value| {
            let (runner, _) = self.github.platform_runner(
                &self
                    .work
                    .join(format!("runner/queue/{}", label.replace(' ', "-"))),
                event,
                &self.vm.secret,
                &self.vm.network(),
                t.observer(),
            );
            runner
        };
        let deploy = |n: u64, event: &Value| {
            let label = format!("release {n}");
            Run::new(
                &label,
                runner(&label, event),
                Path::new(example::PLATFORM_EXAMPLE),
            )
        };
        let reason = format!("release {FIRST} misbehaves for some customers");
        let inputs: Map<String, Value> = [
            ("reason".to_owned(), Value::from(reason.clone())),
            ("confirm".to_owned(), Value::from("ROLLBACK")),
        ]
        .into_iter()
        .collect();
        let rollback = Run::new(
            "rollback by hand",
            runner("rollback by hand", &Value::Null).event(
                "workflow_dispatch",
                json!({"inputs": inputs, "ref": "refs/heads/main"}),
            ),
            Path::new(ROLLBACK_EXAMPLE),
        )
        .inputs(inputs)
        .secrets(BTreeMap::new());

        let mut s = Scheduler::new();
        let first = s.queue(deploy(FIRST, &events[0]));
        let arrive = At::step_running("deploy", "webhook");
        s.queue_when(first, arrive.clone(), rollback);
        s.queue_when(first, arrive, deploy(SECOND, &events[1]));
        let runs: Vec<(String, String)> = s
            .play()
            .into_iter()
            .map(|o| {
                if let Err(why) = &o.record {
                    t.at(&format!("✗ {}: {why}", o.label));
                }
                (o.label.clone(), o.conclusion().to_owned())
            })
            .collect();
        let scene = QueueScene { runs };
        t.at(&format!(
            "→ in arrival order: {} ({})",
            scene.line(),
            if scene.line() == QueueScene::expected() {
                "none dropped".to_owned()
            } else {
                format!("expected {}", QueueScene::expected())
            }
        ));
        let served = self.vm.supervisor.served().map_or_else(
            || "nothing answers".to_owned(),
            |(n, sha)| format!("release {n} ({})", github::short(&sha)),
        );
        t.at(&format!("→ the service answers: {served}"));
        Ok(scene)
    }
}
