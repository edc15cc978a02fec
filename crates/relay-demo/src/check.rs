//! The end state, checked: which release the service serves, what the
//! deployment records say, how many issues are open, which releases the
//! supervisor started, and — with `--break` — where the flow stopped. The
//! demo exits 0 only when every check holds.

use crate::github::{self, Credentials, GitHub, Record};
use crate::service::Release;
use crate::steps::Break;
use crate::story::{self, Phase, Stop};
use crate::supervisor::{Start, Supervisor};

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

/// Everything the story promises, for `good` (release 1) and `next` (release 2).
pub fn end_state(
    github: &GitHub,
    supervisor: &Supervisor,
    starts: &[Start],
    phases: &[Phase],
    breaks: Option<Break>,
) -> Vec<Check> {
    let (Some(good), Some(next)) = (phases.first(), phases.get(1)) else {
        return vec![Check::new(
            "both releases played",
            "2",
            phases.len().to_string(),
        )];
    };
    let (good, next) = (&good.release, &next.release);
    let mut checks = Vec::new();

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

    let started: Vec<String> = starts
        .iter()
        .map(|s| {
            s.release
                .as_ref()
                .map_or_else(|| "?".to_owned(), |r| r.number.to_string())
        })
        .collect();
    checks.push(Check::new(
        "releases the supervisor started",
        if breaks.is_none() { "1, 2, 1" } else { "1" },
        started.join(", "),
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

fn release_line(n: u64, sha: &str) -> String {
    format!("release {n} ({})", github::short(sha))
}
