//! The queue scene: four runs of the platform repository, for two apps,
//! meet on `production` and none is dropped. Release 4 of the api is in
//! its signed call when a deploy of the second app (the web:
//! examples/web-repo dispatches it, the platform's `deploy-web.yml` takes
//! it), a rollback of the api requested by hand (examples/platform-repo's
//! `rollback.yml`) and release 5's deploy arrive. The deploy and rollback
//! jobs share one concurrency group per environment and app with
//! `queue: max`: the web's deploy is in a group of its own and runs at
//! once, to its own hook on the same VM; the api's rollback and release 5
//! wait and then run in the order they came. With one group per
//! environment and GitHub's default (`queue: single`), each arrival would
//! have cancelled the one pending before it: the web's deploy by the
//! rollback, the rollback by release 5.
//! <https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency>
//!
//! The runner's scheduler plays the four runs with GitHub's concurrency
//! rules; they reach the demo's real receiver, the api's one at a time.

use std::collections::BTreeMap;
use std::path::Path;

use relay_runner::{At, Run, Scheduler};
use serde_json::{Map, Value, json};

use crate::example;
use crate::github;
use crate::service::Release;
use crate::story::{self, Stage};

/// The rollback example of the platform repository.
pub const ROLLBACK_EXAMPLE: &str = "examples/platform-repo/.github/workflows/rollback.yml";
/// The platform repository's workflow for the second app.
pub const WEB_EXAMPLE: &str = "examples/platform-repo/.github/workflows/deploy-web.yml";
/// The second app's repository's relay.
pub const WEB_APP_EXAMPLE: &str = "examples/web-repo/.github/workflows/deploy-dispatch.yaml";
/// The second app's one release in the scene.
pub const WEB_RELEASE: u64 = 1;

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
            format!("web release {WEB_RELEASE} success"),
            "rollback by hand success".to_owned(),
            format!("release {SECOND} success"),
        ]
        .join(" · ")
    }
}

/// The second app's release: its commit in the web repository.
pub fn web_release() -> Release {
    Release {
        number: WEB_RELEASE,
        sha: crate::vm::hex(&github::sha256(
            format!("xtp-tour-web release {WEB_RELEASE}").as_bytes(),
        ))[..40]
            .to_owned(),
        title: "web: new landing page".into(),
        degrades_after_checks: None,
        degraded_reason: String::new(),
    }
}

/// The `repository_dispatch` types a workflow file starts on.
fn dispatch_types(workflow: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(workflow)
        .map_err(|e| anyhow::anyhow!("couldn't read `{}`: {e}", workflow.display()))?;
    let docs = yaml_rust2::YamlLoader::load_from_str(&text)
        .map_err(|e| anyhow::anyhow!("`{}`: {e}", workflow.display()))?;
    Ok(docs
        .first()
        .and_then(|doc| doc["on"]["repository_dispatch"]["types"].as_vec())
        .map(|types| {
            types
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

impl Stage<'_> {
    /// The second app's build and relay: the web repository's `Main`
    /// pushes and attests its image, and its `Deploy Dispatch`
    /// ([`WEB_APP_EXAMPLE`], as it is) dispatches `deploy-web`. Returns
    /// that dispatch as the platform's event.
    fn build_and_relay_web(&self) -> anyhow::Result<Value> {
        let t = self.timeline;
        let r = web_release();
        t.say("");
        t.say(&format!(
            "━━ Web release {} · {} · {} · the second app ({}), on the api's VM",
            r.number,
            github::short(&r.sha),
            r.title,
            github::WEB
        ));
        let html = format!(
            "<!doctype html><title>xtp-tour</title><h1>xtp-tour web — release {}</h1>\n",
            r.number
        );
        let images = self.vm.push_web(&r, &html)?;
        let run_id = 7500 + r.number;
        let attested = self
            .github
            .attest(github::WEB, run_id, &r.sha, &images[0].1)?;
        let build = self.github.build(
            github::WEB,
            run_id,
            &r.sha,
            None,
            &images,
            &[("build", "success"), ("test", "success")],
            false,
            false,
        )?;
        t.at(&format!(
            "build: Main run {run_id} on main finished, success · web image {}… attested by {} (log index {}) · checks build ✓ test ✓",
            attested.digest.get(..19).unwrap_or(&attested.digest),
            attested.signer,
            attested.log_index
        ));
        t.at(&format!(
            "web repo {}: {WEB_APP_EXAMPLE} (workflow_run: Main completed)",
            github::WEB
        ));
        let sent_before = self.github.dispatches().len();
        let mut runner = self.github.app_runner(
            &self.work.join("runner/queue/web-relay"),
            &build,
            8500 + r.number,
            t.observer(),
        );
        runner
            .run(
                Path::new(WEB_APP_EXAMPLE),
                &Default::default(),
                &self.github.app_secrets(),
            )
            .map_err(|e| anyhow::anyhow!("couldn't play `{WEB_APP_EXAMPLE}`: {e}"))?;
        let dispatch = self
            .github
            .dispatches()
            .get(sent_before)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the web's release {} was not dispatched", r.number))?;
        // The runner does not filter events (its README): the demo checks
        // that the workflow it plays is the one GitHub would start.
        let kind = dispatch["event_type"].as_str().unwrap_or_default();
        let takes = dispatch_types(&self.github.root().join(WEB_EXAMPLE))?;
        if !takes.iter().any(|t| t == kind) {
            anyhow::bail!(
                "the web's relay dispatched `{}`, which {WEB_EXAMPLE} does not take ({takes:?})",
                relay_runtime::escape_controls(kind)
            );
        }
        // Printed only once it is one of the example's own types.
        t.at(&format!(
            "→ dispatched `{kind}` to {}: {WEB_EXAMPLE} takes it, the api's deploy.yml does not",
            github::PLATFORM
        ));
        Ok(relay_runner::events::repository_dispatch(
            kind,
            dispatch["client_payload"].clone(),
        ))
    }

    /// Builds and relays releases [`FIRST`] and [`SECOND`] and the web's
    /// release, then plays their deploys and a rollback by hand as they
    /// arrive on GitHub.
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
        let web = self.build_and_relay_web()?;
        t.say("");
        t.say(&format!(
            "━━ Queued on production: release {FIRST}'s deploy is in its signed call when the web's deploy, a rollback by hand and release {SECOND}'s deploy arrive"
        ));
        t.say(
            "   one group per environment and app, `queue: max`: the web's deploy takes a group of its own at once; the api's rollback and release 5 wait, neither is cancelled",
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

        let label = format!("web release {WEB_RELEASE}");
        let web = Run::new(
            &label,
            runner(&label, &web).env(relay_runtime::vars::GITHUB_WORKFLOW, "Deploy Web"),
            Path::new(WEB_EXAMPLE),
        );

        let mut s = Scheduler::new();
        let first = s.queue(deploy(FIRST, &events[0]));
        let arrive = At::step_running("deploy", "webhook");
        s.queue_when(first, arrive.clone(), web);
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
        let web = self.vm.web.served().map_or_else(
            || "nothing answers".to_owned(),
            |(n, sha)| format!("web release {n} ({})", github::short(&sha)),
        );
        t.at(&format!("→ the web answers: {web}"));
        Ok(scene)
    }
}
