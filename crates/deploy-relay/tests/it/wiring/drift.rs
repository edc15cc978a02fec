//! Every knob reachable: the reusable workflows are written by hand, so an
//! input added to an action (or to a workflow another one calls) is easily
//! left unreachable. This reads each reusable workflow and what it wraps,
//! and fails on an input a consumer cannot set — passed nowhere, or only as
//! a constant — unless it is on the short list below, each with its reason.
//! An input the workflow wires from its own steps or jobs (a deployment id,
//! a state) is plumbing, not a knob.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use regex::Regex;

use super::model::{self, Interface, Workflow};

/// (workflow, or `*` for every one; action, or `call:<workflow>` for a
/// called workflow; input) and why a consumer does not set it.
const OMITTED: &[Omission] = &[
    (
        "fleet.yml",
        "fleet-deploy",
        "secrets",
        "`toJSON(secrets)`: the receivers' keys come with `secrets: inherit`, each named by its target in the fleet file",
    ),
    (
        "fleet.yml",
        "fleet-deploy",
        "github-token",
        "the records and the issue live in the repository running the workflow: the job's token, or the App",
    ),
    (
        "fleet.yml",
        "fleet-deploy",
        "repository",
        "the records live in the repository running the workflow",
    ),
    (
        "fleet.yml",
        "fleet-deploy",
        "ref",
        "the deploy repository's own commit, `github.sha`",
    ),
    (
        "*",
        "*",
        "token",
        "the alias of `github-token`; one name is enough",
    ),
    (
        "*",
        "record-deployment",
        "mode",
        "the workflow's steps are the modes",
    ),
    (
        "*",
        "record-deployment",
        "rollback",
        "set by the workflow's own rollback steps",
    ),
    (
        "*",
        "record-deployment",
        "github-token",
        "the records live in the repository running the workflow: the job's token",
    ),
    (
        "*",
        "record-deployment",
        "deploy-repository",
        "the records live in the repository running the workflow",
    ),
    (
        "*",
        "record-deployment",
        "ref",
        "the deploy repository's own commit, `github.sha`",
    ),
    ("*", "record-deployment", "log-url", "this run"),
    (
        "*",
        "record-deployment",
        "description",
        "said from the record, one wording for every deploy",
    ),
    (
        "*",
        "monitor-health",
        "mode",
        "the workflow's steps are the modes",
    ),
    (
        "*",
        "monitor-health",
        "insecure",
        "tests only; a private CA's receiver is reached with `ca-cert`",
    ),
    (
        "*",
        "monitor-health",
        "github-token",
        "the issue is opened in the repository running the workflow: the job's token",
    ),
    (
        "*",
        "monitor-health",
        "rollback-repository",
        "the workflow rolls back itself; a rollback dispatch is for workflows of one's own",
    ),
    (
        "*",
        "monitor-health",
        "rollback-event-type",
        "as `rollback-repository`",
    ),
    (
        "*",
        "monitor-health",
        "rollback-token",
        "as `rollback-repository`",
    ),
    (
        "*",
        "sign-and-call-webhook",
        "payload",
        "the body is the computed payload; its parts (sha, environment, images) are inputs",
    ),
    ("*", "sign-and-call-webhook", "payload-file", "as `payload`"),
    (
        "*",
        "sign-and-call-webhook",
        "insecure",
        "tests only; a private CA is `ca-cert`",
    ),
    (
        "*",
        "sign-and-call-webhook",
        "dry-run",
        "the workflow's own check step",
    ),
    (
        "relay.yml",
        "",
        "github-token",
        "the build run's artifacts are this repository's: the job's token",
    ),
    (
        "relay.yml",
        "",
        "run-id",
        "the `workflow_run` that started the caller",
    ),
    (
        "pipeline.yml",
        "call:deploy.yml",
        "environment",
        "the stages are the environments `staging` and `production`, each with its own protection rules and secrets",
    ),
    (
        "rollback.yml",
        "monitor-health",
        "create-issue",
        "a manual rollback's window opens no issue; the person who asked watches it",
    ),
    (
        "rollback.yml",
        "monitor-health",
        "issue-title",
        "as `create-issue`",
    ),
    (
        "rollback.yml",
        "monitor-health",
        "issue-labels",
        "as `create-issue`",
    ),
    (
        "rollback.yml",
        "record-deployment",
        "dispatch-id",
        "no dispatch asks for a manual rollback",
    ),
    (
        "rollback.yml",
        "record-deployment",
        "issue",
        "no issue is open for a manual rollback",
    ),
    (
        "rollback.yml",
        "record-deployment",
        "production-environment",
        "the environment deploys already; its settings came with its records",
    ),
    (
        "rollback.yml",
        "record-deployment",
        "transient-environment",
        "as `production-environment`",
    ),
    (
        "rollback.yml",
        "record-deployment",
        "require-protection",
        "a rollback puts back what ran; the deploys before it were checked (an unprotected environment is still warned about)",
    ),
    (
        "*",
        "verify-provenance",
        "default-branch",
        "looked up through the API; `allowed-refs` replaces the default it feeds",
    ),
    (
        "*",
        "verify-provenance",
        "trusted-root",
        "paths of files on the runner, which a called workflow (no checkout) cannot have; the embedded roots, or the action used directly",
    ),
];

/// How a `with:` value reaches the callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    /// A constant: nobody can change it.
    Fixed,
    /// From the workflow's own steps, jobs or job: plumbing.
    Wired,
    /// From the consumer's inputs or secrets.
    Consumer,
}

fn reach(value: &str) -> Reach {
    let expr = Regex::new(r"\$\{\{(.*?)\}\}").unwrap();
    let consumer = Regex::new(r"\b(inputs|secrets)\.").unwrap();
    let wired = Regex::new(r"\b(steps|needs|jobs|job)\.").unwrap();
    let mut best = Reach::Fixed;
    for e in expr.captures_iter(value) {
        if consumer.is_match(&e[1]) {
            return Reach::Consumer;
        }
        if wired.is_match(&e[1]) {
            best = Reach::Wired;
        }
    }
    best
}

/// What a `uses:` of ours names: an action (`""` for the root one) or a
/// reusable workflow (`call:<file>`).
fn callee(uses: &str) -> Option<String> {
    let path = uses.split('@').next().unwrap_or(uses);
    let rest = path
        .strip_prefix("deploy-relay/deploy-relay")
        .or_else(|| path.strip_prefix("."))?;
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() {
        return Some(String::new());
    }
    if let Some(a) = rest.strip_prefix("actions/") {
        return Some(a.to_owned());
    }
    rest.strip_prefix(".github/workflows/")
        .map(|w| format!("call:{w}"))
}

/// The inputs of each callee a reusable workflow wraps, with the best way
/// any of its calls reaches each.
fn reachability(root: &Path, w: &Workflow) -> BTreeMap<String, BTreeMap<String, Reach>> {
    let mut out: BTreeMap<String, BTreeMap<String, Reach>> = BTreeMap::new();
    let mut record = |callee: String, iface: Option<Interface>, with: &BTreeMap<String, String>| {
        let entry = out.entry(callee).or_default();
        for name in iface
            .map(|i| i.inputs.into_keys().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let best = with.get(&name).map_or(Reach::Fixed, |v| reach(v));
            let e = entry.entry(name).or_insert(Reach::Fixed);
            *e = (*e).max(best);
        }
    };
    for j in &w.jobs {
        if let Some(c) = j.uses.as_deref().and_then(callee) {
            let file = c.trim_start_matches("call:");
            let iface = model::workflow(&root.join(".github/workflows").join(file))
                .ok()
                .and_then(|cw| cw.call);
            record(c, iface, &j.with);
        }
        for s in &j.steps {
            let Some(c) = s.uses.as_deref().and_then(callee) else {
                continue;
            };
            let dir = if c.is_empty() {
                root.to_owned()
            } else {
                root.join("actions").join(&c)
            };
            record(c, model::action(&dir.join("action.yml")).ok(), &s.with);
        }
    }
    out
}

/// One omission: (workflow or `*`, callee or `*`, input, why).
pub type Omission = (&'static str, &'static str, &'static str, &'static str);

/// Every input of what the reusable workflows under `root` wrap that a
/// consumer cannot set and that no omission explains; then every omission
/// that explains nothing (an input reachable after all, or gone).
pub fn problems(root: &Path) -> Vec<String> {
    problems_with(root, OMITTED)
}

pub fn problems_with(root: &Path, omitted: &[Omission]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    for path in model::workflow_files(root) {
        if !path.starts_with(root.join(".github/workflows")) {
            continue;
        }
        let Ok(w) = model::workflow(&path) else {
            continue;
        };
        if w.call.is_none() {
            continue;
        }
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for (callee, inputs) in reachability(root, &w) {
            let shown = if callee.is_empty() {
                "the root action".to_owned()
            } else {
                callee.clone()
            };
            for (input, how) in inputs {
                let matches = |(wf, c, i, _): &Omission| {
                    (*wf == "*" || *wf == file) && (*c == "*" || *c == callee) && *i == input
                };
                match how {
                    Reach::Fixed => match omitted.iter().position(matches) {
                        Some(n) => {
                            used.insert(n);
                        }
                        None => problems.push(format!(
                            "{file}: input `{input}` of {shown} cannot be set by a consumer: forward it as an input (or secret) of {file}, or list it in OMITTED with the reason"
                        )),
                    },
                    // An omission made for this very workflow and callee
                    // that the workflow now passes is stale.
                    _ => {
                        if omitted
                            .iter()
                            .any(|o| o.0 == file && o.1 == callee && o.2 == input)
                        {
                            problems.push(format!(
                                "{file}: `{input}` of {shown} is listed as omitted, but the workflow passes it: drop it from OMITTED"
                            ));
                        }
                    }
                }
            }
        }
    }
    for (n, (w, c, i, _)) in omitted.iter().enumerate() {
        if !used.contains(&n) {
            problems.push(format!(
                "OMITTED lists `{i}` of `{c}` in `{w}`, which no reusable workflow leaves unset: drop it"
            ));
        }
    }
    problems
}

#[test]
fn values_are_told_apart() {
    assert_eq!(reach("${{ inputs.x }}"), Reach::Consumer);
    assert_eq!(reach("${{ secrets.X || github.token }}"), Reach::Consumer);
    assert_eq!(reach("${{ steps.a.outputs.b }}"), Reach::Wired);
    assert_eq!(
        reach("${{ job.status == 'cancelled' && 'x' }}"),
        Reach::Wired
    );
    assert_eq!(reach("start"), Reach::Fixed);
    assert_eq!(reach("inputs.x"), Reach::Fixed, "only inside an expression");
    assert_eq!(
        callee("deploy-relay/deploy-relay/actions/x@main").as_deref(),
        Some("x")
    );
    assert_eq!(
        callee("deploy-relay/deploy-relay@main").as_deref(),
        Some("")
    );
    assert_eq!(
        callee("deploy-relay/deploy-relay/.github/workflows/deploy.yml@main").as_deref(),
        Some("call:deploy.yml")
    );
    assert_eq!(callee("actions/checkout@abc"), None);
}
