//! The rollout: for each wave in order, its record, its calls (at most
//! `max-parallel` at once, no new one after a failure), its health gate,
//! then the next wave — or, when a target or the gate fails, the rollback
//! of exactly what the rollout left on the release, to each target's own
//! previous good release, and nothing more.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use relay_deployments::{
    Fleet as FleetObject, FleetKind, History, NewFleetRecord, Payload, Release, Standing,
    set_state, start_fleet_record,
};
use relay_github::{DeploymentState, GitHub};
use relay_runtime::Context;

use crate::config::Config;
use crate::file::{Target, Wave};
use crate::gate::{self, Depth};
use crate::target::{self, Called, Purpose};

/// How one target fared.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub name: String,
    pub wave: usize,
    /// Already on the release when its wave started: not called.
    pub skipped: bool,
    /// The deploy call, when one was made.
    pub call: Option<Called>,
    /// The gate's word on it.
    pub gate: Health,
    pub rollback: Rollback,
}

/// What a wave's health gate said of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Health {
    NotRun,
    Passed,
    /// Why not: redacted URLs and our own words.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rollback {
    /// Not asked for.
    None,
    /// Left on the release: no previous good release is known.
    NoPrevious,
    /// Put back on `sha`.
    Done { sha: String },
    /// The rollback to `sha` failed.
    Failed { sha: String, said: String },
}

/// How the step ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// Every wave from `from-wave` on passed.
    Done,
    /// Wave `next` waits for the reviewers of `approval`.
    Paused { next: usize, approval: String },
    /// Stopped at wave `wave`, why.
    Failed { wave: usize, why: String },
}

/// The rollout's state, for the report.
pub(crate) struct Rollout<'a> {
    ctx: &'a Context,
    config: &'a Config,
    gh: Arc<GitHub>,
    http: reqwest::Client,
    history: History,
    /// Per target, in the file's order.
    pub outcomes: Vec<Outcome>,
    standings: Vec<Standing>,
    /// Wave records this step made that passed: (wave, id).
    passed: Vec<(usize, u64)>,
    /// Records this step made, still `in_progress` (a cancel ends them).
    open: Arc<Mutex<Vec<u64>>>,
    /// Every record this step wrote.
    pub records: Vec<u64>,
    /// Waves whose gate ran, with its report (for the summary).
    pub gates: Vec<(usize, relay_health::Report)>,
}

impl<'a> Rollout<'a> {
    pub(crate) fn new(
        ctx: &'a Context,
        config: &'a Config,
        gh: GitHub,
        history: History,
    ) -> anyhow::Result<Self> {
        let outcomes: Vec<Outcome> = config
            .fleet
            .targets()
            .map(|(wave, t)| Outcome {
                name: t.name.clone(),
                wave,
                skipped: false,
                call: None,
                gate: Health::NotRun,
                rollback: Rollback::None,
            })
            .collect();
        let standings = outcomes
            .iter()
            .map(|o| history.standing(&o.name, &config.release.sha))
            .collect();
        let rollout = Self {
            ctx,
            config,
            gh: Arc::new(gh),
            http: target::client(config)?,
            history,
            outcomes,
            standings,
            passed: Vec::new(),
            open: Arc::default(),
            records: Vec::new(),
            gates: Vec::new(),
        };
        rollout.end_open_records_on_cancel();
        Ok(rollout)
    }

    /// A cancelled step leaves no record `in_progress`: each ends as
    /// `error` ("cancelled"), never `failure`, and nothing is rolled back.
    fn end_open_records_on_cancel(&self) {
        let (gh, open) = (self.gh.clone(), self.open.clone());
        let repo = self.config.repository.clone();
        let log_url = self.config.run_url.clone();
        self.ctx.cleanup.defer(move || async move {
            let ids: Vec<u64> = open
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain(..)
                .collect();
            for id in ids {
                let _ = set_state(
                    &gh,
                    &repo,
                    id,
                    DeploymentState::Error,
                    "cancelled before the wave ended; nothing was rolled back",
                    log_url.as_deref(),
                )
                .await;
            }
        });
    }

    /// The waves of this rollout that ran before this step (an approval
    /// job resumes after them): each must have passed in this run, and no
    /// other rollout may have written to the environment since.
    pub(crate) fn check_resume(&self) -> anyhow::Result<()> {
        let c = self.config;
        if c.from_wave == 0 {
            return Ok(());
        }
        if let Some(other) = self.history.newest_run()
            && other != c.run_id
        {
            anyhow::bail!(
                "another rollout (run {other}) deployed to `{}` after this run's earlier waves, so this one does not continue over it\nhint: start a new rollout of the release from its first wave",
                c.fleet.environment
            );
        }
        for (w, wave) in c.fleet.waves.iter().enumerate().take(c.from_wave) {
            let passed = self.history.waves_of_run(&c.run_id).any(|r| {
                r.fleet
                    .as_ref()
                    .is_some_and(|f| f.position as usize == w + 1)
                    && r.record.is_good()
                    && r.release().same_as(&c.release)
            });
            if !passed {
                anyhow::bail!(
                    "wave `{}` has no passed record of this release in this run, so `from-wave: {}` has nothing to continue\nhint: run the rollout from its first wave (a rolled-back rollout is started again, not resumed)",
                    wave.name,
                    c.fleet.waves[c.from_wave].name
                );
            }
        }
        Ok(())
    }

    /// Runs the waves from `from-wave` on.
    pub(crate) async fn run(&mut self) -> anyhow::Result<End> {
        let waves = &self.config.fleet.waves;
        for w in self.config.from_wave..waves.len() {
            let wave = &waves[w];
            if w > self.config.from_wave
                && let Some(approval) = &wave.approval
            {
                return Ok(End::Paused {
                    next: w,
                    approval: approval.clone(),
                });
            }
            if let Err(why) = self.wave(w).await? {
                self.roll_back(w, &why).await?;
                return Ok(End::Failed { wave: w, why });
            }
            let next_waits = waves.get(w + 1).is_some_and(|next| next.approval.is_some());
            if w + 1 < waves.len() && !next_waits && !wave.gate.pause.is_zero() {
                self.ctx.console.info(&format!(
                    "Pausing {} before wave `{}`",
                    relay_runtime::duration::format(wave.gate.pause),
                    waves[w + 1].name
                ));
                tokio::time::sleep(wave.gate.pause).await;
            }
        }
        Ok(End::Done)
    }

    fn indices(&self, w: usize) -> Vec<usize> {
        (0..self.outcomes.len())
            .filter(|i| self.outcomes[*i].wave == w)
            .collect()
    }

    fn on_release(&self, i: usize) -> bool {
        self.standings[i]
            .current
            .as_ref()
            .is_some_and(|(_, r)| r.same_as(&self.config.release))
    }

    /// One wave: `Ok(Err(why))` when a target or the gate failed.
    async fn wave(&mut self, w: usize) -> anyhow::Result<Result<(), String>> {
        let c = self.config;
        let wave = &c.fleet.waves[w];
        let members = self.indices(w);
        let mut to_call = Vec::new();
        for &i in &members {
            if self.on_release(i) {
                self.outcomes[i].skipped = true;
            } else {
                to_call.push(i);
            }
        }
        let label = format!("wave {}/{} `{}`", w + 1, c.fleet.waves.len(), wave.name);
        let id = self
            .start_record(
                FleetKind::Wave,
                w,
                &members,
                &c.release,
                &Payload {
                    repository: c.app.clone(),
                    sha: c.release.sha.clone(),
                    images: c.release.images.clone(),
                    dispatch_id: c.dispatch_id.clone(),
                    rollback: false,
                    reason: String::new(),
                    // What verify-provenance, run before this step, found.
                    provenance: c.provenance.clone(),
                },
                &format!(
                    "{label}: deploying {} to {} target(s)",
                    short(&c.release.sha),
                    to_call.len()
                ),
            )
            .await?;
        let ctx = self.ctx;
        let console = &ctx.console;
        console.info(&format!(
            "{label}: calling {} target(s), at most {} at once{}",
            to_call.len(),
            wave.max_parallel,
            match members.len() - to_call.len() {
                0 => String::new(),
                n => format!("; {n} already on the release"),
            }
        ));
        let calls = self
            .calls(wave, &to_call, Purpose::Deploy, &c.release)
            .await;
        let mut failed = Vec::new();
        for (i, called) in calls {
            match &called {
                Some(called) if called.ok() => {}
                Some(called) => {
                    failed.push(format!("`{}` {}", self.outcomes[i].name, called.describe()));
                }
                None => {}
            }
            self.outcomes[i].call = called;
        }
        if !failed.is_empty() {
            let why = format!("{label}: {}", failed.join("; "));
            self.end_record(
                id,
                DeploymentState::Failure,
                &format!("{label}: {} target(s) failed", failed.len()),
            )
            .await?;
            return Ok(Err(why));
        }
        let depth = if to_call.is_empty() {
            Depth::Once
        } else {
            Depth::Window
        };
        console.info(&format!(
            "{label}: health gate over {} URL(s){}",
            wave.targets.iter().map(|t| t.health.len()).sum::<usize>(),
            if depth == Depth::Once {
                ", one probe each (every target was already on the release)".to_owned()
            } else {
                format!(
                    " for {}",
                    relay_runtime::duration::format(wave.gate.duration)
                )
            }
        ));
        let verdict = gate::check(c, wave, depth, console).await?;
        for (k, &i) in members.iter().enumerate() {
            self.outcomes[i].gate = match &verdict.targets[k] {
                None => Health::Passed,
                Some(why) => Health::Failed(why.clone()),
            };
        }
        let passed = verdict.passed();
        let unhealthy: Vec<String> = members
            .iter()
            .zip(&verdict.targets)
            .filter_map(|(&i, v)| {
                v.as_ref()
                    .map(|v| format!("`{}` {v}", self.outcomes[i].name))
            })
            .collect();
        self.gates.push((w, verdict.report));
        if !passed {
            let why = format!("{label}: health gate failed: {}", unhealthy.join("; "));
            self.end_record(
                id,
                DeploymentState::Failure,
                &format!(
                    "{label}: health gate failed for {} target(s)",
                    unhealthy.len()
                ),
            )
            .await?;
            return Ok(Err(why));
        }
        self.end_record(
            id,
            DeploymentState::Success,
            &format!(
                "{label}: {} deployed, {} already on it; health gate passed",
                to_call.len(),
                members.len() - to_call.len()
            ),
        )
        .await?;
        self.passed.push((w, id));
        console.info(&format!("{label}: passed"));
        Ok(Ok(()))
    }

    /// Calls `targets` (indices) of `wave` at most `max-parallel` at once;
    /// after the first call that is not a success no new one starts.
    /// `None`: not called.
    async fn calls(
        &self,
        wave: &Wave,
        targets: &[usize],
        purpose: Purpose,
        release: &Release,
    ) -> Vec<(usize, Option<Called>)> {
        self.calls_to(
            targets.iter().map(|&i| (i, release.clone())).collect(),
            &wave.name,
            wave.max_parallel,
            purpose,
        )
        .await
    }

    async fn calls_to(
        &self,
        targets: Vec<(usize, Release)>,
        wave_name: &str,
        max_parallel: usize,
        purpose: Purpose,
    ) -> Vec<(usize, Option<Called>)> {
        let c = self.config;
        let stop = AtomicBool::new(false);
        let (stop, http, console) = (&stop, &self.http, &self.ctx.console);
        let by_name: BTreeMap<&str, &Target> = c
            .fleet
            .targets()
            .map(|(_, t)| (t.name.as_str(), t))
            .collect();
        let by_name = &by_name;
        futures::stream::iter(targets)
            .map(|(i, release)| async move {
                // Rollbacks go on whatever happens to the others.
                if purpose == Purpose::Deploy && stop.load(Ordering::SeqCst) {
                    return (i, None);
                }
                let name = &self.outcomes[i].name;
                let t = by_name[name.as_str()];
                let body = target::body(c, name, wave_name, &release.sha, &release.images, purpose);
                let call = target::call(c, t, &c.keys[name], body, purpose);
                let called = target::make(http, console, &call).await;
                if !called.ok() {
                    stop.store(true, Ordering::SeqCst);
                }
                // Our words, the receiver's cut to a line: `info` fences
                // it if it looks like a command.
                console.info(&format!(
                    "{} `{name}`: {}",
                    match purpose {
                        Purpose::Deploy => "deploy",
                        Purpose::Rollback => "rollback",
                    },
                    called.describe()
                ));
                (i, Some(called))
            })
            .buffer_unordered(max_parallel.max(1))
            .collect()
            .await
    }

    /// Rolls back what the rollout left on the release, up to wave `failed`.
    async fn roll_back(&mut self, failed: usize, why: &str) -> anyhow::Result<()> {
        let c = self.config;
        let ctx = self.ctx;
        let console = &ctx.console;
        let reason = format!("the rollout of {} stopped: {why}", short(&c.release.sha));
        // Earlier waves of this rollout stop being good for the release.
        let earlier: Vec<u64> = self
            .passed
            .iter()
            .map(|(_, id)| *id)
            .chain(
                self.history
                    .waves_of_run(&c.run_id)
                    .filter(|r| {
                        r.record.is_good()
                            && r.release().same_as(&c.release)
                            && r.fleet
                                .as_ref()
                                .is_some_and(|f| (f.position as usize) <= c.from_wave)
                    })
                    .map(|r| r.record.deployment.id),
            )
            .collect::<BTreeSet<u64>>()
            .into_iter()
            .collect();
        let failed_name = &c.fleet.waves[failed].name;
        for id in earlier {
            self.end_record(
                id,
                DeploymentState::Failure,
                &format!("rolled back: wave `{failed_name}` failed"),
            )
            .await?;
        }
        // What the rollout left on the release: every target of the waves
        // before (this step's and an earlier job's), and in the failed wave
        // those that may have changed or were on it already.
        let mut back: Vec<usize> = Vec::new();
        for (i, o) in self.outcomes.iter().enumerate() {
            // Waves before the failed one passed (in this step, or in an
            // earlier job of the run: `check_resume`), so they are on it.
            let left = match o.wave.cmp(&failed) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal => {
                    o.skipped || o.call.as_ref().is_some_and(Called::may_have_changed)
                }
                std::cmp::Ordering::Greater => false,
            };
            if left {
                back.push(i);
            }
        }
        // Grouped by the release each goes back to: one record per group.
        let mut groups: BTreeMap<String, (Release, Vec<usize>)> = BTreeMap::new();
        for &i in &back {
            match &self.standings[i].previous {
                None => self.outcomes[i].rollback = Rollback::NoPrevious,
                Some((_, release)) => {
                    let key = serde_json::to_string(release).unwrap_or_default();
                    groups
                        .entry(key)
                        .or_insert_with(|| (release.clone(), Vec::new()))
                        .1
                        .push(i);
                }
            }
        }
        if back.is_empty() {
            console.info("Nothing to roll back: no target was left on the release");
        }
        let max_parallel = c
            .fleet
            .waves
            .iter()
            .map(|w| w.max_parallel)
            .max()
            .unwrap_or(1);
        for (release, members) in groups.into_values() {
            let label = format!(
                "rollback of {} target(s) to {}",
                members.len(),
                short(&release.sha)
            );
            console.info(&format!("{}: {label}", c.fleet.environment));
            let id = self
                .start_record(
                    FleetKind::Rollback,
                    failed,
                    &members,
                    &release,
                    &Payload {
                        repository: c.app.clone(),
                        sha: release.sha.clone(),
                        images: release.images.clone(),
                        dispatch_id: c.dispatch_id.clone(),
                        rollback: true,
                        reason: reason.chars().take(500).collect(),
                        // The previous good release is not verified again
                        // here (deploy.yml's rollback does that).
                        provenance: serde_json::Value::Null,
                    },
                    &label,
                )
                .await?;
            let results = self
                .calls_to(
                    members.iter().map(|&i| (i, release.clone())).collect(),
                    failed_name,
                    max_parallel,
                    Purpose::Rollback,
                )
                .await;
            let mut bad = 0;
            for (i, called) in results {
                self.outcomes[i].rollback = match called {
                    Some(called) if called.ok() => Rollback::Done {
                        sha: release.sha.clone(),
                    },
                    Some(called) => {
                        bad += 1;
                        Rollback::Failed {
                            sha: release.sha.clone(),
                            said: called.describe(),
                        }
                    }
                    None => Rollback::Failed {
                        sha: release.sha.clone(),
                        said: "not called".into(),
                    },
                };
            }
            let (state, text) = if bad == 0 {
                (DeploymentState::Success, format!("{label}: done"))
            } else {
                (DeploymentState::Failure, format!("{label}: {bad} failed"))
            };
            self.end_record(id, state, &text).await?;
        }
        Ok(())
    }

    /// Writes a record of `kind` covering `members` and sets it `in_progress`.
    async fn start_record(
        &mut self,
        kind: FleetKind,
        w: usize,
        members: &[usize],
        release: &Release,
        payload: &Payload,
        description: &str,
    ) -> anyhow::Result<u64> {
        let c = self.config;
        let previous = members
            .iter()
            .filter_map(|&i| {
                self.standings[i]
                    .previous
                    .as_ref()
                    .map(|(_, r)| (self.outcomes[i].name.clone(), r.clone()))
            })
            .filter(|_| kind == FleetKind::Wave)
            .collect();
        let fleet = FleetObject {
            run_id: c.run_id.clone(),
            run_attempt: c.run_attempt,
            kind,
            wave: c.fleet.waves[w].name.clone(),
            position: if kind == FleetKind::Wave {
                u32::try_from(w + 1).unwrap_or(u32::MAX)
            } else {
                0
            },
            waves: u32::try_from(c.fleet.waves.len()).unwrap_or(u32::MAX),
            targets: members
                .iter()
                .map(|&i| self.outcomes[i].name.clone())
                .collect(),
            previous,
        };
        debug_assert!(release.same_as(&Release::of(payload)));
        let id = start_fleet_record(
            &self.gh,
            &NewFleetRecord {
                repo: &c.repository,
                environment: &c.fleet.environment,
                git_ref: &c.git_ref,
                payload,
                fleet: &fleet,
                description,
                log_url: c.run_url.as_deref(),
            },
        )
        .await?;
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(id);
        self.records.push(id);
        Ok(id)
    }

    async fn end_record(
        &self,
        id: u64,
        state: DeploymentState,
        description: &str,
    ) -> anyhow::Result<()> {
        set_state(
            &self.gh,
            &self.config.repository,
            id,
            state,
            description,
            self.config.run_url.as_deref(),
        )
        .await?;
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|open| *open != id);
        Ok(())
    }

    pub(crate) fn gh(&self) -> &GitHub {
        &self.gh
    }
}

pub(crate) fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}
