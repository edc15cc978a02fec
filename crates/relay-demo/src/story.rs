//! The story, release by release: the build finishes, the app repository
//! plays its example (which calls `relay.yml`), and when a deploy was
//! dispatched the platform repository plays `deploy.yml` with what its
//! example would pass. Each release ends with where the flow stopped, if
//! it did, and whether every step went as that part of the story expects.

use std::path::Path;

use relay_runner::{StepRecord, WorkflowRecord};

use crate::example;
use crate::github::{self, Build, GitHub};
use crate::logs::{self, Masks};
use crate::service::Release;
use crate::steps::{self, Break, DeployCase};
use crate::timeline::Timeline;
use crate::vm::Vm;

/// The release whose image was built outside CI (on a laptop, pushed to
/// the registry by hand): nothing attested it, and verify-provenance stops
/// its deploy before the webhook.
pub const OUTSIDE_CI: u64 = 3;

/// How many times faster the demo's clock runs a health window: the
/// example's 5 minutes at 30 s take 6 s at 600 ms, the same ten probes per
/// URL (see `network`).
pub const TIME_LAPSE: u32 = 50;

/// One release's part of the story.
pub struct Phase {
    pub release: Release,
    pub build: Build,
    /// The api image the build handed over (`name@sha256:…`).
    pub image: String,
    pub breaks: Option<Break>,
    pub app: Option<WorkflowRecord>,
    pub platform: Option<WorkflowRecord>,
    /// Where the flow stopped: (workflow, job, step id, one-line reason).
    pub stop: Option<Stop>,
    /// Steps that did not end as this part of the story expects.
    pub surprises: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Stop {
    pub workflow: String,
    pub job: String,
    pub step: String,
    pub reason: String,
}

impl Stop {
    /// `deploy.yml verify/verify`: the step as the timeline names it.
    pub fn place(&self) -> String {
        place(&self.workflow, &self.job, &self.step)
    }
}

/// A step of a played workflow as the timeline names it.
pub fn place(workflow: &str, job: &str, step: &str) -> String {
    let label = steps::find(workflow, job, step).map_or(step, |k| k.label);
    format!("{workflow} {job}/{label}")
}

/// The shared pieces a release is played with.
pub struct Stage<'a> {
    pub work: &'a Path,
    pub github: &'a GitHub,
    pub vm: &'a Vm,
    pub masks: &'a Masks,
    pub timeline: &'a Timeline,
}

/// The app commit of release `n`: a stable, made-up sha.
pub fn sha_of(n: u64) -> String {
    crate::vm::hex(&github::sha256(format!("xtp-tour release {n}").as_bytes()))[..40].to_owned()
}

/// Release `n`; `broken`: it degrades after its first health check.
pub fn release(n: u64, broken: bool) -> Release {
    Release {
        number: n,
        sha: sha_of(n),
        title: match n {
            1 => "tour list".into(),
            OUTSIDE_CI => "hotfix built on a laptop".into(),
            _ => "new booking flow".into(),
        },
        degrades_after_checks: broken.then_some(1),
        degraded_reason: "database connection pool exhausted".into(),
    }
}

impl Stage<'_> {
    /// Plays release `r` from its build to the end of its deploy.
    pub fn play(&self, r: Release, breaks: Option<Break>) -> anyhow::Result<Phase> {
        let (mut phase, event) = self.build_and_relay(r, breaks)?;
        let Some(event) = event else {
            return Ok(phase);
        };
        let t = self.timeline;
        let work = self
            .work
            .join(format!("runner/release-{}", phase.release.number));
        let secret = if breaks == Some(Break::WrongSecret) {
            // A key of the right shape, just not the receiver's.
            format!("whsec_{}", base64_of(&crate::vm::random_bytes(32)?))
        } else {
            self.vm.secret.clone()
        };
        self.masks.add(&secret);
        let (mut runner, run_id) = self.github.platform_runner(
            &work.join("platform"),
            &event,
            &secret,
            &self.vm.network(),
            t.observer(),
        );
        t.at(&format!(
            "platform repo {}: {} (repository_dispatch deploy, run {run_id})",
            github::PLATFORM,
            example::PLATFORM_EXAMPLE,
        ));
        let platform = runner
            .run(
                Path::new(example::PLATFORM_EXAMPLE),
                &Default::default(),
                &Default::default(),
            )
            .map_err(|e| anyhow::anyhow!("couldn't play `{}`: {e}", example::PLATFORM_EXAMPLE))?;
        phase.stop = first_failure(&platform).map(|(job, s)| {
            let job = job.rsplit('/').next().unwrap_or(job).to_owned();
            self.stop_at("deploy.yml", &job, &s)
        });
        let case = match breaks {
            Some(Break::WrongSecret | Break::UnpushedImage) => DeployCase::WebhookRefused,
            Some(Break::RedCheck) => DeployCase::CiFailed,
            _ if phase.release.number == OUTSIDE_CI => DeployCase::ProvenanceRefused,
            _ if phase.release.degrades_after_checks.is_some() => DeployCase::RolledBack,
            _ => DeployCase::Healthy,
        };
        phase.platform = Some(platform);
        self.expect_deploy(&mut phase, case);
        Ok(phase)
    }

    /// Release `r`'s build, and the app repository's example played for
    /// it: the phase so far, and the `repository_dispatch` event the relay
    /// sent, if it sent one.
    pub fn build_and_relay(
        &self,
        r: Release,
        breaks: Option<Break>,
    ) -> anyhow::Result<(Phase, Option<serde_json::Value>)> {
        let t = self.timeline;
        t.say("");
        t.say(&format!(
            "━━ Release {} · {} · {}{}",
            r.number,
            github::short(&r.sha),
            r.title,
            match (breaks, r.degrades_after_checks) {
                (Some(b), _) => format!(" · --break {}: {}", b.name(), b.what()),
                (None, Some(_)) => {
                    " · broken: passes its first health check, then reports DOWN".into()
                }
                (None, None) if r.number == OUTSIDE_CI => {
                    " · its api image built outside CI and pushed by hand: nothing attested it"
                        .into()
                }
                (None, None) => String::new(),
            }
        ));
        let html = format!(
            "<!doctype html><title>xtp-tour</title><h1>xtp-tour — release {} ({})</h1>\n",
            r.number, r.title
        );
        let mut images = self.vm.push(&r, &html)?;
        if breaks == Some(Break::UnpushedImage) {
            // The build hands over a digest it never pushed.
            images[0].1 = format!(
                "{}@sha256:{}",
                crate::vm::IMAGE,
                crate::vm::hex(&github::sha256(b"an image nobody pushed"))
            );
        }
        let red = breaks == Some(Break::RedCheck);
        let checks = [
            ("build", "success"),
            ("test", if red { "failure" } else { "success" }),
        ];
        let run_id = 7000 + r.number;
        // The build's attest step signs what it hands over (the api image,
        // as examples/app-repo's main.yaml attests it); an image built
        // outside CI has no such step behind it.
        let attested = if r.number == OUTSIDE_CI {
            None
        } else {
            Some(
                self.github
                    .attest(github::APP, run_id, &r.sha, &images[0].1)?,
            )
        };
        let build = self.github.build(
            github::APP,
            run_id,
            &r.sha,
            Some(&html),
            &images,
            &checks,
            breaks == Some(Break::DigestMismatch),
            breaks == Some(Break::Fork),
        )?;
        t.at(&format!(
            "build: Main run {} on main finished, success · artifact frontend-build ({} B) · {} · checks {}{}",
            build.run_id,
            build.artifact_size,
            match &attested {
                Some(a) => format!(
                    "api image {}… attested by {} (log index {})",
                    a.digest.get(..19).unwrap_or(&a.digest),
                    a.signer,
                    a.log_index
                ),
                None => format!(
                    "api image {}… pushed from a laptop, not attested",
                    images[0].1.split_once('@').map_or("", |(_, d)| d).get(..19).unwrap_or_default()
                ),
            },
            build
                .checks
                .iter()
                .map(|(n, c)| format!("{n} {}", if c == "success" { "✓" } else { "✗" }))
                .collect::<Vec<_>>()
                .join(" "),
            if breaks == Some(Break::Fork) {
                format!(" · for a pull request from {}", github::FORK)
            } else {
                String::new()
            }
        ));

        let mut phase = Phase {
            release: r,
            build,
            image: images[0].1.clone(),
            breaks,
            app: None,
            platform: None,
            stop: None,
            surprises: Vec::new(),
        };
        let sent_before = self.github.dispatches().len();
        t.at(&format!(
            "app repo {}: {} (workflow_run: Main completed)",
            github::APP,
            example::APP_EXAMPLE
        ));
        let work = self
            .work
            .join(format!("runner/release-{}", phase.release.number));
        let mut runner = self.github.app_runner(
            &work.join("app"),
            &phase.build,
            8000 + phase.release.number,
            t.observer(),
        );
        let app = runner
            .run(
                Path::new(example::APP_EXAMPLE),
                &Default::default(),
                &self.github.app_secrets(),
            )
            .map_err(|e| anyhow::anyhow!("couldn't play `{}`: {e}", example::APP_EXAMPLE))?;
        let dispatched = self.github.dispatches().get(sent_before).cloned();
        let relay = app.step("relay", "relay").cloned();
        phase.app = Some(app);
        let Some(dispatch) = dispatched else {
            phase.stop = relay
                .as_ref()
                .map(|s| self.stop_at("relay.yml", "relay", s));
            self.expect_relay(&mut phase, false);
            return Ok((phase, None));
        };
        self.expect_relay(&mut phase, true);

        let event = relay_runner::events::repository_dispatch(
            dispatch["event_type"].as_str().unwrap_or("deploy"),
            dispatch["client_payload"].clone(),
        );
        Ok((phase, Some(event)))
    }

    fn stop_at(&self, workflow: &str, job: &str, step: &StepRecord) -> Stop {
        let reason = logs::reason(&logs::view(&step.log, self.masks))
            .unwrap_or_else(|| format!("the step ended with `{}`", step.outcome));
        Stop {
            workflow: workflow.to_owned(),
            job: job.to_owned(),
            step: step.id.clone(),
            reason,
        }
    }

    fn expect_relay(&self, phase: &mut Phase, dispatched: bool) {
        let want_dispatch = !matches!(phase.breaks, Some(Break::DigestMismatch | Break::Fork));
        let want_outcome = if phase.breaks == Some(Break::DigestMismatch) {
            "failure"
        } else {
            "success"
        };
        let got = phase
            .app
            .as_ref()
            .and_then(|a| a.step("relay", "relay"))
            .map_or("absent", |s| s.outcome.as_str())
            .to_owned();
        if got != want_outcome {
            phase.surprises.push(format!(
                "relay.yml relay/relay: expected {want_outcome}, got {got}"
            ));
        }
        if dispatched != want_dispatch {
            phase.surprises.push(format!(
                "the deploy was {}dispatched, expected {}",
                if dispatched { "" } else { "not " },
                if want_dispatch { "a dispatch" } else { "none" }
            ));
        }
    }

    fn expect_deploy(&self, phase: &mut Phase, case: DeployCase) {
        let Some(rec) = &phase.platform else { return };
        let rec = deploy_yml(rec);
        let want = steps::deploy_outcomes(case);
        for (known, want) in steps::DEPLOY.iter().zip(want) {
            let got = rec
                .job(known.job)
                .and_then(|j| j.steps.iter().find(|s| s.id == known.id))
                .map_or("skipped", |s| s.outcome.as_str());
            if got != want {
                phase.surprises.push(format!(
                    "deploy.yml {}/{}: expected {want}, got {got}",
                    known.job, known.label
                ));
            }
        }
    }
}

/// The reusable `deploy.yml` as the platform example called it (its jobs,
/// its outputs); the record itself when it is that workflow.
pub fn deploy_yml(rec: &WorkflowRecord) -> &WorkflowRecord {
    rec.jobs
        .iter()
        .find_map(|j| j.called.as_deref())
        .unwrap_or(rec)
}

/// The first step of the run whose outcome was `failure`, with its job.
fn first_failure(rec: &WorkflowRecord) -> Option<(&str, StepRecord)> {
    rec.steps()
        .into_iter()
        .find(|(_, s)| s.outcome == "failure")
        .map(|(j, s)| (j, s.clone()))
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
