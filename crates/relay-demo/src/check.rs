//! The end state, checked: which release the service serves, what the
//! deployment records say, how many issues are open, which releases the
//! supervisor started, that release 1's provenance verified, that release
//! 3 (built outside CI) was stopped before the webhook, and — with
//! `--break` — where the flow stopped. The demo exits 0 only when every
//! check holds.

use relay_runner::WorkflowRecord;
use std::collections::BTreeSet;

use serde_json::Value;

use crate::github::{self, Credentials, GitHub, Record};
use crate::service::Release;
use crate::steps::Break;
use crate::story::{self, Phase, Stop};
use crate::supervisor::Start;
use crate::vm::Vm;

/// One check of the end state.
#[derive(Debug, Clone)]
pub struct Check {
    pub what: String,
    pub expected: String,
    pub actual: String,
}

impl Check {
    fn new(what: &str, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    pub fn ok(&self) -> bool {
        self.expected == self.actual
    }
}

/// Everything the story promises, for `good` (release 1), `next`
/// (release 2) and, in the whole story, release 3 built outside CI.
pub fn end_state(
    github: &GitHub,
    vm: &Vm,
    starts: &[Start],
    phases: &[Phase],
    breaks: Option<Break>,
) -> Vec<Check> {
    let supervisor = &vm.supervisor;
    let (Some(good), Some(next)) = (phases.first(), phases.get(1)) else {
        return vec![Check::new(
            "both releases played",
            "2",
            phases.len().to_string(),
        )];
    };
    let mut checks = Vec::new();
    checks.push(Check::new(
        "release 1 deployed with",
        "provenance verified",
        provenance_of(good),
    ));
    let (good, next) = (&good.release, &next.release);

    let served = supervisor.served().map_or_else(
        || "nothing answers".to_owned(),
        |(n, sha)| release_line(n, &sha),
    );
    checks.push(Check::new(
        "served release",
        release_line(good.number, &good.sha),
        served,
    ));

    let record = |r: &Release, rollback: bool, end: &str| Record {
        id: 0,
        sha: r.sha.clone(),
        rollback,
        environment: "production".into(),
        states: vec!["in_progress".into(), end.into()],
    };
    let expected_records: Vec<Record> = match breaks {
        None => vec![
            record(good, false, "success"),
            record(next, false, "failure"),
            record(good, true, "success"),
        ],
        // The call was refused: the deploy is recorded as failed, nothing rolled back.
        Some(Break::WrongSecret | Break::UnpushedImage) => vec![
            record(good, false, "success"),
            record(next, false, "failure"),
        ],
        Some(_) => vec![record(good, false, "success")],
    };
    let lines = |v: &[Record]| {
        v.iter()
            .map(|r| format!("{} {}", r.environment, r.line()))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    checks.push(Check::new(
        "deployment records",
        lines(&expected_records),
        lines(&github.records()),
    ));

    checks.push(Check::new(
        "open issues",
        if breaks.is_none() { "1" } else { "0" },
        github.open_issues().len().to_string(),
    ));

    checks.push(Check::new(
        "releases the supervisor started",
        if breaks.is_none() { "1, 2, 1" } else { "1" },
        started_releases(starts),
    ));

    if let Some(b) = breaks {
        let (workflow, job, step) = b.stops_at();
        let stop = phases[1]
            .stop
            .as_ref()
            .map_or_else(|| "nowhere".to_owned(), Stop::place);
        checks.push(Check::new(
            "the flow stopped at",
            story::place(workflow, job, step),
            stop,
        ));
    }
    if breaks.is_none() {
        checks.extend(outside_ci(vm, phases));
    }
    for (n, phase) in phases.iter().enumerate() {
        checks.push(Check::new(
            &format!("release {}'s steps went as expected", n + 1),
            "yes",
            if phase.surprises.is_empty() {
                "yes".to_owned()
            } else {
                phase.surprises.join("; ")
            },
        ));
    }
    checks
}

/// What release `phase`'s deploy said of its provenance: `provenance
/// verified` when verify-provenance verified every image, its summary says
/// so, and so does the deploy job's summary.
fn provenance_of(phase: &Phase) -> String {
    let Some(rec) = phase.platform.as_ref().map(story::deploy_yml) else {
        return "no deploy played".into();
    };
    let step = |job: &str, id: &str| {
        rec.job(job)
            .and_then(|j| j.steps.iter().find(|s| s.id == id))
    };
    let Some(verify) = step("verify", "provenance") else {
        return "no verify-provenance step".into();
    };
    let verified = verify.outputs.get("verified").map(String::as_str) == Some("true");
    let said = verify
        .summary
        .contains("### Provenance verified: 1 of 1 image(s)");
    let deploy_said =
        step("deploy", "__11").is_some_and(|s| s.summary.contains("| provenance | verified |"));
    if verified && said && deploy_said {
        return "provenance verified".into();
    }
    format!(
        "verify-provenance {} (verified={}), its summary {}, the deploy summary {}",
        verify.outcome,
        verify.outputs.get("verified").map_or("", String::as_str),
        if said {
            "says verified"
        } else {
            "does not say verified"
        },
        if deploy_said {
            "says verified"
        } else {
            "does not say verified"
        },
    )
}

/// Release 3, built outside CI: stopped by verify-provenance, before the
/// webhook; its image never reached the VM.
fn outside_ci(vm: &Vm, phases: &[Phase]) -> Vec<Check> {
    let Some(phase) = phases
        .iter()
        .find(|p| p.release.number == story::OUTSIDE_CI)
    else {
        return vec![Check::new(
            "release 3 (built outside CI) played",
            "yes",
            "no",
        )];
    };
    let stop = phase
        .stop
        .as_ref()
        .map_or_else(|| "nowhere".to_owned(), Stop::place);
    let rec = phase.platform.as_ref().map(story::deploy_yml);
    let verdict = rec
        .and_then(|r| r.job("verify"))
        .and_then(|j| j.steps.iter().find(|s| s.id == "provenance"))
        .and_then(|s| s.outputs.get("report"))
        .and_then(|r| serde_json::from_str::<Value>(r).ok())
        .and_then(|r| r["images"][0]["verdict"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "none".into());
    let webhook = rec.map_or("not played", |r| webhook_outcome(r));
    vec![
        Check::new(
            "release 3 (built outside CI) stopped at",
            story::place("deploy.yml", "verify", "provenance"),
            stop,
        ),
        Check::new("release 3's provenance", "missing", verdict),
        Check::new(
            "release 3's deploy call",
            "never made (webhook skipped), image never pulled",
            format!(
                "{}, image {}",
                if webhook == "skipped" {
                    "never made (webhook skipped)".to_owned()
                } else {
                    format!("webhook {webhook}")
                },
                if vm.pulled(&phase.image) {
                    "pulled"
                } else {
                    "never pulled"
                }
            ),
        ),
    ]
}

fn webhook_outcome(rec: &WorkflowRecord) -> &str {
    rec.job("deploy")
        .and_then(|j| j.steps.iter().find(|s| s.id == "webhook"))
        .map_or("skipped", |s| s.outcome.as_str())
}

/// What the credentials Get started set up did: with the App, every step
/// minted its own installation tokens and revoked each; with fine-grained
/// PATs, CI was read without check runs, and the verify step said so.
pub fn credentials(github: &GitHub, phases: &[Phase]) -> Vec<Check> {
    match github.credentials {
        Credentials::App => {
            let issued = github.gh.issued_tokens();
            let revoked = issued.iter().filter(|t| t.revoked).count();
            vec![
                Check::new(
                    &format!(
                        "App installation tokens minted by the steps ({})",
                        issued.len()
                    ),
                    "some",
                    if issued.is_empty() { "none" } else { "some" },
                ),
                Check::new(
                    "App tokens revoked when their step ended",
                    "all",
                    if revoked == issued.len() {
                        "all".to_owned()
                    } else {
                        format!("{revoked} of {}", issued.len())
                    },
                ),
            ]
        }
        Credentials::FineGrainedPat => {
            let warned = phases
                .first()
                .and_then(|p| p.platform.as_ref())
                .and_then(|rec| rec.step("deploy.yml/verify", "__0"))
                .is_some_and(|s| {
                    s.log.contains("::warning") && s.log.contains("could not be seen")
                });
            vec![Check::new(
                "verify-ci-status warned that check runs could not be seen",
                "yes",
                if warned { "yes" } else { "no" },
            )]
        }
    }
}

/// The queue scene: every run that met on `production` ran, in the order
/// it arrived; the receiver started the api's releases one at a time
/// (release 4, release 1: the rollback's previous good, release 5) and
/// the web's one release beside them, on its own service.
pub fn queue(scene: &crate::queue::QueueScene, started: &[Start], web: &[Start]) -> Vec<Check> {
    vec![
        Check::new(
            "runs queued on production, in arrival order",
            crate::queue::QueueScene::expected(),
            scene.line(),
        ),
        Check::new(
            "releases the supervisor started while they queued",
            format!("{}, 1, {}", crate::queue::FIRST, crate::queue::SECOND),
            started_releases(started),
        ),
        Check::new(
            "releases the web's supervisor started",
            crate::queue::WEB_RELEASE.to_string(),
            started_releases(web),
        ),
    ]
}

/// The release numbers a supervisor started, in order: `4, 1, 5`.
fn started_releases(starts: &[Start]) -> String {
    starts
        .iter()
        .map(|s| {
            s.release
                .as_ref()
                .map_or_else(|| "?".to_owned(), |r| r.number.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn release_line(n: u64, sha: &str) -> String {
    format!("release {n} ({})", github::short(sha))
}

/// The fleet scene: release 1 reached every VM, wave by wave; release 2
/// stopped at the canary, which went back to release 1 while the second
/// wave was never called; one issue says so. Each VM's receiver took the
/// calls that story makes (the canary three: release 1, release 2, the
/// rollback), and each VM serves release 1.
pub fn fleet(github: &GitHub, scene: &crate::fleet::FleetScene) -> Vec<Check> {
    use crate::fleet::{BROKEN, GOOD};
    let (good, broken) = (story::sha_of(GOOD), story::sha_of(BROKEN));
    let names: Vec<&str> = scene.vms.iter().map(|f| f.target.name.as_str()).collect();
    let canary = scene.vms.first().map_or("", |f| f.target.wave.as_str());
    let first = names.first().copied().unwrap_or_default();
    let per_vm = |f: &dyn Fn(&crate::fleet::FleetVm) -> String| {
        scene
            .vms
            .iter()
            .map(|v| format!("{} {}", v.target.name, f(v)))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let outcome = |n: u64| {
        let Some(rec) = scene.fleet_yml(n) else {
            return "not played".to_owned();
        };
        let out = |k: &str| rec.outputs.get(k).map(String::as_str).unwrap_or_default();
        let report = crate::fleet::fleet_report(rec);
        let calls: Vec<String> = report
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["name"].as_str().unwrap_or_default(),
                    r["call"].as_str().unwrap_or_default()
                )
            })
            .collect();
        format!(
            "{} · failed [{}] · rolled back [{}] · {}",
            out("state"),
            out("failed"),
            out("rolled-back"),
            calls.join(", ")
        )
    };
    let mut checks = vec![
        Check::new(
            "fleet: release 1's rollout",
            format!(
                "success · failed [] · rolled back [] · {}",
                names
                    .iter()
                    .map(|n| format!("{n} deployed"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            outcome(GOOD),
        ),
        Check::new(
            "fleet: release 2's rollout",
            format!(
                "failure · failed [{first}] · rolled back [{first}] · {}",
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("{n} {}", if i == 0 { "deployed" } else { "not-called" }))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            outcome(BROKEN),
        ),
        Check::new(
            "fleet: the release each VM serves",
            names
                .iter()
                .map(|n| format!("{n} {}", release_line(GOOD, &good)))
                .collect::<Vec<_>>()
                .join(" · "),
            per_vm(&|v| v.served()),
        ),
        Check::new(
            "fleet: deploy calls each VM's receiver took",
            names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{n} {}", if i == 0 { 3 } else { 1 }))
                .collect::<Vec<_>>()
                .join(" · "),
            per_vm(&|v| v.deliveries().len().to_string()),
        ),
        Check::new(
            "fleet: releases each VM's supervisor started",
            names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{n} {}", if i == 0 { "1, 2, 1" } else { "1" }))
                .collect::<Vec<_>>()
                .join(" · "),
            per_vm(&|v| started_releases(&v.vm.supervisor.history())),
        ),
    ];
    // The one issue of release 2's rollout: what failed, what went back
    // to what, and the wave never called.
    let title = format!(
        "Fleet deploy failed: production at {}",
        github::short(&broken)
    );
    let issues: Vec<(u64, String, String)> = github
        .open_issues()
        .into_iter()
        .filter(|(_, t, _)| *t == title)
        .collect();
    let said = |body: &str| {
        let mut parts = Vec::new();
        for (label, needle) in [
            (
                format!("{first} failed"),
                format!("**Failed**\n\n- `{first}`: "),
            ),
            (
                format!("{first} rolled back to {}", github::short(&good)),
                format!("**Rolled back**\n\n- `{first}` to `{good}`"),
            ),
        ] {
            if body.contains(&needle) {
                parts.push(label);
            }
        }
        let untouched: Vec<&str> = scene
            .vms
            .iter()
            .map(|f| f.target.wave.as_str())
            .filter(|w| *w != canary)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|w| body.contains(&format!("- wave `{w}`: never called")))
            .collect();
        if !untouched.is_empty() {
            parts.push(format!("wave {} never called", untouched.join(", ")));
        }
        parts.join(", ")
    };
    let rest: BTreeSet<&str> = scene
        .vms
        .iter()
        .map(|f| f.target.wave.as_str())
        .filter(|w| *w != canary)
        .collect();
    checks.push(Check::new(
        "fleet: the issue of release 2's rollout",
        format!(
            "1 open: {first} failed, {first} rolled back to {}, wave {} never called",
            github::short(&good),
            rest.into_iter().collect::<Vec<_>>().join(", ")
        ),
        format!(
            "{} open: {}",
            issues.len(),
            issues.first().map_or_else(String::new, |(_, _, b)| said(b))
        ),
    ));
    checks
}
