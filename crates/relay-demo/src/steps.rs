//! The steps of the reusable workflows the demo plays, as its timeline
//! names them, and what each part of the story expects of them. The
//! workflows themselves are played (their `if:`s decide what runs); these
//! tables only name the steps and say what should have happened, and a
//! test fails when they and the workflow files drift apart.

/// One step of a played workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// The job's id in the workflow file.
    pub job: &'static str,
    /// The step's `id:`, or `__<index>` as the local runner names a step without one.
    pub id: &'static str,
    /// Short, for the timeline.
    pub label: &'static str,
    /// What the step does.
    pub what: &'static str,
}

const fn k(job: &'static str, id: &'static str, label: &'static str, what: &'static str) -> Known {
    Known {
        job,
        id,
        label,
        what,
    }
}

/// `.github/workflows/relay.yml`, the app repository's side.
pub const RELAY: &[Known] = &[
    k(
        "relay",
        "__0",
        "credentials",
        "one way to the deploy repository: an App or a token",
    ),
    k(
        "relay",
        "relay",
        "relay",
        "the build's images, its artifacts relayed, the deploy dispatched",
    ),
];

/// `.github/workflows/deploy.yml`, the platform repository's side.
pub const DEPLOY: &[Known] = &[
    k(
        "check",
        "__0",
        "credentials",
        "one way to GitHub: an App or a token",
    ),
    k(
        "check",
        "__1",
        "gate",
        "is the app one this platform deploys?",
    ),
    k(
        "check",
        "current",
        "current",
        "what runs now (a redeploy only)",
    ),
    k(
        "check",
        "record",
        "check",
        "every input, the environment's protection (record-deployment)",
    ),
    k(
        "check",
        "__4",
        "health-check",
        "the health inputs (monitor-health)",
    ),
    k(
        "verify",
        "__0",
        "verify",
        "did the commit's CI pass? (verify-ci-status)",
    ),
    k(
        "verify",
        "provenance",
        "provenance",
        "was each image built by the app's CI from this commit? (verify-provenance)",
    ),
    k(
        "deploy",
        "__0",
        "secret",
        "is the environment's webhook secret here?",
    ),
    k(
        "deploy",
        "__1",
        "dry-run",
        "the call checked and signed, nothing sent",
    ),
    k(
        "deploy",
        "before",
        "before",
        "health before the deploy, one probe each",
    ),
    k(
        "deploy",
        "record",
        "record",
        "record the deployment, in_progress (record-deployment)",
    ),
    k(
        "deploy",
        "webhook",
        "webhook",
        "signed call to deploy-receiver (sign-and-call-webhook)",
    ),
    k(
        "deploy",
        "health",
        "health",
        "health window (monitor-health)",
    ),
    k(
        "deploy",
        "rollback-provenance",
        "rollback-provenance",
        "does the previous good deploy's provenance still verify?",
    ),
    k("deploy", "finish", "finish", "record how the deploy ended"),
    k(
        "deploy",
        "rollback-record",
        "rollback-record",
        "record a rollback to the previous good deploy",
    ),
    k(
        "deploy",
        "rollback",
        "rollback",
        "signed call with the previous good images",
    ),
    k(
        "deploy",
        "rollback-finish",
        "rollback-finish",
        "record how the rollback ended, tell the issue",
    ),
    k(
        "deploy",
        "__11",
        "summary",
        "the job's summary (fails unless the deploy succeeded)",
    ),
];

/// `.github/workflows/fleet.yml`, a deploy to a fleet in waves (the fleet
/// scene).
pub const FLEET: &[Known] = &[
    k(
        "check",
        "__0",
        "gate",
        "is the app one this platform deploys?",
    ),
    k(
        "verify",
        "__0",
        "verify",
        "did the commit's CI pass? (verify-ci-status)",
    ),
    k(
        "verify",
        "provenance",
        "provenance",
        "was each image built by the app's CI from this commit? (verify-provenance)",
    ),
    k(
        "waves",
        "__0",
        "checkout",
        "the fleet file (actions/checkout: the demo's copy, see above)",
    ),
    k(
        "waves",
        "fleet",
        "fleet",
        "every wave in order, a health gate between (fleet-deploy)",
    ),
    k("approved-1", "__0", "checkout", "the fleet file"),
    k(
        "approved-1",
        "fleet",
        "fleet",
        "the waves after an approval",
    ),
    k("approved-2", "__0", "checkout", "the fleet file"),
    k(
        "approved-2",
        "fleet",
        "fleet",
        "the waves after an approval",
    ),
    k("approved-3", "__0", "checkout", "the fleet file"),
    k(
        "approved-3",
        "fleet",
        "fleet",
        "the waves after an approval",
    ),
    k("approved-3", "__2", "paused", "no wave is left waiting"),
];

/// `.github/workflows/rollback.yml`, a rollback asked for by hand (the
/// queue scene).
pub const ROLLBACK: &[Known] = &[
    k(
        "check",
        "__0",
        "credentials",
        "one way to GitHub: an App or a token",
    ),
    k("check", "__1", "confirm", "is `confirm` ROLLBACK?"),
    k(
        "check",
        "previous",
        "previous",
        "the previous good deploy of the app (record-deployment)",
    ),
    k(
        "check",
        "record",
        "check",
        "every input, the environment's protection (record-deployment)",
    ),
    k("check", "__4", "images", "a sha target names its images"),
    k(
        "check",
        "provenance",
        "provenance",
        "does the target's provenance still verify? (verify-provenance)",
    ),
    k(
        "check",
        "__6",
        "health-check",
        "the health inputs (monitor-health)",
    ),
    k(
        "rollback",
        "__0",
        "secret",
        "is the environment's webhook secret here?",
    ),
    k(
        "rollback",
        "__1",
        "dry-run",
        "the call checked and signed, nothing sent",
    ),
    k(
        "rollback",
        "before",
        "before",
        "health before the rollback, one probe each",
    ),
    k(
        "rollback",
        "record",
        "record",
        "record the rollback, in_progress (record-deployment)",
    ),
    k(
        "rollback",
        "webhook",
        "webhook",
        "signed call with the target's images (sign-and-call-webhook)",
    ),
    k(
        "rollback",
        "health",
        "health",
        "health window (monitor-health)",
    ),
    k(
        "rollback",
        "finish",
        "finish",
        "record how the rollback ended",
    ),
    k("rollback", "__7", "summary", "the job's summary"),
];

/// The known step of `workflow`'s `job` with `id`.
pub fn find(workflow: &str, job: &str, id: &str) -> Option<&'static Known> {
    let table = match workflow {
        "relay.yml" => RELAY,
        "deploy.yml" => DEPLOY,
        "rollback.yml" => ROLLBACK,
        "fleet.yml" => FLEET,
        _ => return None,
    };
    table.iter().find(|s| s.job == job && s.id == id)
}

/// A link the `--break` flag breaks, on release 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    /// The platform repository signs with a secret the receiver does not hold.
    WrongSecret,
    /// One of the commit's checks failed.
    RedCheck,
    /// The build's artifact does not match the digest GitHub recorded.
    DigestMismatch,
    /// The build ran for a fork's pull request.
    Fork,
    /// The build hands over an image digest it never pushed.
    UnpushedImage,
}

impl Break {
    pub const ALL: [Break; 5] = [
        Break::WrongSecret,
        Break::RedCheck,
        Break::DigestMismatch,
        Break::Fork,
        Break::UnpushedImage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Break::WrongSecret => "wrong-secret",
            Break::RedCheck => "red-check",
            Break::DigestMismatch => "digest-mismatch",
            Break::Fork => "fork",
            Break::UnpushedImage => "unpushed-image",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// What the flag does, for `--help` and the timeline.
    pub fn what(self) -> &'static str {
        match self {
            Break::WrongSecret => "production's DEPLOY_WEBHOOK_SECRET is not the receiver's key",
            Break::RedCheck => "the commit's `test` check failed",
            Break::DigestMismatch => {
                "the build's artifact is not the one GitHub recorded (digest mismatch)"
            }
            Break::Fork => "the build ran for a fork's pull request",
            Break::UnpushedImage => "the build hands over an image digest it never pushed",
        }
    }

    /// Where the flow must stop: workflow file, job, step id.
    pub fn stops_at(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Break::WrongSecret | Break::UnpushedImage => ("deploy.yml", "deploy", "webhook"),
            Break::RedCheck => ("deploy.yml", "verify", "__0"),
            Break::DigestMismatch | Break::Fork => ("relay.yml", "relay", "relay"),
        }
    }
}

/// The outcome each step of `deploy.yml` should end with, in table order.
pub fn deploy_outcomes(case: DeployCase) -> Vec<&'static str> {
    use DeployCase::*;
    let s = "success";
    let f = "failure";
    let x = "skipped";
    match case {
        // check: credentials, gate, current, check, health-check ·
        // verify: ci, provenance ·
        // deploy: secret, dry-run, before, record, webhook, health,
        // rb-provenance, finish, rb-record, rollback, rb-finish, summary
        Healthy => vec![s, s, x, s, s, s, s, s, s, s, s, s, s, x, s, x, x, x, s],
        RolledBack => vec![s, s, x, s, s, s, s, s, s, s, s, s, f, s, s, s, s, s, f],
        WebhookRefused => vec![s, s, x, s, s, s, s, s, s, s, s, f, x, x, s, x, x, x, f],
        CiFailed => vec![s, s, x, s, s, f, x, x, x, x, x, x, x, x, x, x, x, x, x],
        ProvenanceRefused => vec![s, s, x, s, s, s, f, x, x, x, x, x, x, x, x, x, x, x, x],
    }
}

/// How a play of `deploy.yml` is meant to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployCase {
    /// Deployed, the window passed.
    Healthy,
    /// Deployed, the window failed, the previous good sha redeployed.
    RolledBack,
    /// The receiver refused the call: nothing deployed, nothing rolled back.
    WebhookRefused,
    /// CI did not pass: the deploy job never ran.
    CiFailed,
    /// An image's build provenance did not verify: the deploy job never
    /// ran, the receiver was never called.
    ProvenanceRefused,
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::{Yaml, YamlLoader};

    /// Every step of the workflow at `path`, in file order: (job, id),
    /// with `__<index>` for a step without an id, as the runner names it.
    fn steps_of(path: &str) -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        let doc = YamlLoader::load_from_str(&text).unwrap().remove(0);
        let mut out = Vec::new();
        let Yaml::Hash(jobs) = &doc["jobs"] else {
            panic!("{path} has no jobs")
        };
        for (job, spec) in jobs {
            let job = job.as_str().unwrap().to_owned();
            if let Yaml::Array(steps) = &spec["steps"] {
                for (n, step) in steps.iter().enumerate() {
                    let id = step["id"]
                        .as_str()
                        .map_or_else(|| format!("__{n}"), str::to_owned);
                    out.push((job.clone(), id));
                }
            }
        }
        out
    }

    fn table(known: &[Known]) -> Vec<(String, String)> {
        known
            .iter()
            .map(|s| (s.job.to_owned(), s.id.to_owned()))
            .collect()
    }

    /// The demo's step sequence is deploy.yml's: a step added, removed,
    /// renamed or moved in the workflow fails this until the demo (its
    /// timeline and its expectations) follows.
    #[test]
    fn the_demo_knows_every_step_of_deploy_yml_in_order() {
        assert_eq!(
            table(DEPLOY),
            steps_of(".github/workflows/deploy.yml"),
            "deploy.yml and the demo's DEPLOY table drifted apart"
        );
        for case in [
            DeployCase::Healthy,
            DeployCase::RolledBack,
            DeployCase::WebhookRefused,
            DeployCase::CiFailed,
            DeployCase::ProvenanceRefused,
        ] {
            assert_eq!(deploy_outcomes(case).len(), DEPLOY.len(), "{case:?}");
        }
    }

    #[test]
    fn the_demo_knows_every_step_of_fleet_yml_in_order() {
        assert_eq!(
            table(FLEET),
            steps_of(".github/workflows/fleet.yml"),
            "fleet.yml and the demo's FLEET table drifted apart"
        );
    }

    #[test]
    fn the_demo_knows_every_step_of_rollback_yml_in_order() {
        assert_eq!(
            table(ROLLBACK),
            steps_of(".github/workflows/rollback.yml"),
            "rollback.yml and the demo's ROLLBACK table drifted apart"
        );
    }

    #[test]
    fn the_demo_knows_every_step_of_relay_yml_in_order() {
        assert_eq!(
            table(RELAY),
            steps_of(".github/workflows/relay.yml"),
            "relay.yml and the demo's RELAY table drifted apart"
        );
    }

    #[test]
    fn every_break_stops_at_a_known_step() {
        for b in Break::ALL {
            let (workflow, job, id) = b.stops_at();
            assert!(find(workflow, job, id).is_some(), "{b:?}");
            assert_eq!(Break::parse(b.name()), Some(b));
        }
    }
}
