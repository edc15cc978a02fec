//! The wiring check: every call of one of our actions or reusable workflows
//! passes only what the callee declares and everything it requires, every
//! output referenced exists, `permissions:` are exactly what the job's steps
//! need, third-party actions are pinned by commit SHA, and no `run:` script
//! holds a `${{ }}` expression.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use regex::Regex;

use super::model::{self, Interface, Job, Workflow};

/// The repository our actions and reusable workflows are referenced by.
const OURS: &str = "deploy-relay/deploy-relay";

/// What a `uses:` names.
enum Target {
    Action(String),
    Reusable(String),
    ThirdParty,
    Local,
}

fn target(uses: &str) -> Target {
    let path = uses.split('@').next().unwrap_or(uses);
    if let Some(rest) = path.strip_prefix("./") {
        if let Some(w) = rest.strip_prefix(".github/workflows/") {
            return Target::Reusable(w.to_owned());
        }
        return rest
            .strip_prefix("actions/")
            .map(|a| Target::Action(a.to_owned()))
            .unwrap_or(Target::Local);
    }
    if path == OURS {
        return Target::Action(String::new());
    }
    if let Some(rest) = path.strip_prefix(&format!("{OURS}/")) {
        if let Some(a) = rest.strip_prefix("actions/") {
            return Target::Action(a.to_owned());
        }
        if let Some(w) = rest.strip_prefix(".github/workflows/") {
            return Target::Reusable(w.to_owned());
        }
    }
    Target::ThirdParty
}

/// Whether `value` is, or may fall back to, the job's token.
fn job_token(value: &str) -> bool {
    let v = value.replace(' ', "");
    v.contains("github.token") || v.contains("secrets.GITHUB_TOKEN")
}

/// GITHUB_TOKEN permissions a step of ours needs, given its `with:`.
fn step_needs(action: &str, with: &BTreeMap<String, String>) -> Vec<(&'static str, &'static str)> {
    // The token the step uses is the job's when neither input is given, or
    // when the one given is (or falls back to) the job's. With a GitHub App
    // and no token input the step mints its own tokens: the job's is not
    // used. (A reusable workflow that takes an App or a token names the
    // job's token beside the App, so its job keeps the permissions.)
    let app = with
        .get("github-app-id")
        .is_some_and(|v| !v.trim().is_empty());
    let default_token = |input: &str| {
        let given: Vec<&String> = [input, "token"]
            .iter()
            .filter_map(|i| with.get(*i))
            .filter(|v| !v.trim().is_empty())
            .collect();
        if given.is_empty() {
            !app
        } else {
            given.iter().any(|v| job_token(v))
        }
    };
    let flag = |name: &str, default: bool| {
        with.get(name)
            .map(|v| v.trim().eq_ignore_ascii_case("true") || v.contains("${{"))
            .unwrap_or(default)
    };
    let mut needs = Vec::new();
    match action {
        // The wave and rollback records; the issue of a failed rollout.
        "fleet-deploy" if default_token("github-token") => {
            needs.push(("deployments", "write"));
            if flag("create-issue", true) {
                needs.push(("issues", "write"));
            }
        }
        "dispatch-deploy" if default_token("github-token") => {
            needs.push(if with.contains_key("workflow") {
                ("actions", "write")
            } else {
                ("contents", "write")
            });
        }
        "download-and-reupload-artifacts" if default_token("github-token") => {
            needs.push(("actions", "read"));
        }
        "verify-ci-status" if default_token("github-token") => {
            needs.push(("checks", "read"));
            if flag("include-statuses", true) {
                needs.push(("statuses", "read"));
            }
            if with.contains_key("workflows") {
                needs.push(("actions", "read"));
            }
        }
        // Lists the app repository's attestations (and reads its default
        // branch, which `metadata: read` allows every token); nothing under `off`.
        "verify-provenance"
            if default_token("github-token")
                && with.get("provenance").is_none_or(|v| v.trim() != "off") =>
        {
            needs.push(("attestations", "read"));
        }
        "monitor-health" if flag("create-issue", false) && default_token("github-token") => {
            needs.push(("issues", "write"));
        }
        "record-deployment" => {
            if default_token("github-token") {
                match with.get("mode").map(|m| m.trim()) {
                    Some("check") => needs.push(("actions", "read")),
                    Some("previous" | "current") => needs.push(("deployments", "read")),
                    _ => needs.push(("deployments", "write")),
                }
                if with.contains_key("issue") {
                    needs.push(("issues", "write"));
                }
            }
            // The app commit's status, when the app is this repository.
            if with.get("app-token").is_some_and(|v| job_token(v)) {
                needs.push(("statuses", "write"));
            }
        }
        // The root action: lists the triggering run's artifacts with the
        // job's token; the dispatch goes out with `dispatch-token`.
        "" if default_token("github-token") => needs.push(("actions", "read")),
        _ => {}
    }
    needs
}

fn third_party_needs(
    uses: &str,
    with: &BTreeMap<String, String>,
) -> Vec<(&'static str, &'static str)> {
    if uses.starts_with("actions/checkout@") {
        // Another repository is read with the token given, not the job's.
        if with.get("token").is_some_and(|t| !job_token(t)) {
            Vec::new()
        } else {
            vec![("contents", "read")]
        }
    } else if uses.starts_with("docker/login-action@") {
        // The job's token logs in to GHCR to push (docker/build-push-action).
        if with.get("password").is_some_and(|p| job_token(p))
            && with.get("registry").is_some_and(|r| r.trim() == "ghcr.io")
        {
            vec![("packages", "write")]
        } else {
            Vec::new()
        }
    } else if uses.starts_with("actions/attest-build-provenance@") {
        // Sigstore's certificate from the job's OIDC token, the attestation
        // stored by the API; pushed beside an image, a registry write.
        let mut needs = vec![("id-token", "write"), ("attestations", "write")];
        if with
            .get("push-to-registry")
            .is_some_and(|v| v.trim() == "true")
        {
            needs.push(("packages", "write"));
        }
        needs
    } else {
        Vec::new()
    }
}

/// What a `run:` step handed the job's token (in its `env:`) does with it;
/// the scripts of release.yml and ci.yml: log in to GHCR to push an image,
/// create a GitHub Release.
fn run_needs(step: &model::Step) -> Vec<(&'static str, &'static str)> {
    let Some(run) = &step.run else {
        return Vec::new();
    };
    let handed = step.texts.iter().any(|t| {
        let t = t.replace(' ', "");
        t.contains("${{github.token}}") || t.contains("${{secrets.GITHUB_TOKEN}}")
    });
    let mut needs = Vec::new();
    if handed && run.contains("login ghcr.io") {
        needs.push(("packages", "write"));
    }
    if handed && run.contains("gh release create") {
        needs.push(("contents", "write"));
    }
    needs
}

fn level(l: &str) -> u8 {
    match l {
        "write" => 2,
        "read" => 1,
        _ => 0,
    }
}

/// All problems found under `root` (the repository), as `file: what` lines.
pub fn check(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut actions: BTreeMap<String, Option<Interface>> = BTreeMap::new();
    let mut action = |name: &str| -> Option<Interface> {
        actions
            .entry(name.to_owned())
            .or_insert_with(|| {
                let dir = if name.is_empty() {
                    root.to_owned()
                } else {
                    root.join("actions").join(name)
                };
                model::action(&dir.join("action.yml")).ok()
            })
            .clone()
    };
    let files = model::workflow_files(root);
    let mut workflows = Vec::new();
    for f in &files {
        match model::workflow(f) {
            Ok(w) => workflows.push(w),
            Err(e) => problems.push(e),
        }
    }
    let reusable: BTreeMap<String, &Workflow> = workflows
        .iter()
        .filter(|w| w.path.starts_with(root.join(".github/workflows")) && w.call.is_some())
        .map(|w| (file_name(&w.path), w))
        .collect();
    let steps_re = Regex::new(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)").unwrap();
    let needs_re = Regex::new(r"needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)").unwrap();
    let jobs_re = Regex::new(r"jobs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)").unwrap();
    let inputs_re = Regex::new(r"\binputs\.([A-Za-z0-9_-]+)").unwrap();
    let secrets_re = Regex::new(r"\bsecrets\.([A-Za-z0-9_-]+)").unwrap();
    let expr_re = Regex::new(r"\$\{\{(.*?)\}\}").unwrap();
    let sha_pin = Regex::new(r"^[^@\s]+@[0-9a-f]{40}$").unwrap();

    for w in &workflows {
        let file = rel(root, &w.path);
        let mut say = |what: String| problems.push(format!("{file}: {what}"));
        // Inputs any `inputs.X` may name: workflow_call's and workflow_dispatch's.
        let declared_inputs = declared_inputs(w);
        // Outputs each job offers to `needs`.
        let mut job_outputs: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for j in &w.jobs {
            let mut outs: BTreeSet<String> = j.outputs.keys().cloned().collect();
            if let Some(Target::Reusable(name)) = j.uses.as_deref().map(target)
                && let Some(callee) = reusable.get(&name)
            {
                outs.extend(callee.call.clone().unwrap_or_default().outputs);
            }
            job_outputs.insert(&j.id, outs);
        }
        if w.permissions.is_none() {
            say("no top-level `permissions:` (set `permissions: {}` and grant per job)".into());
        }
        for j in &w.jobs {
            let expr_texts: Vec<&String> = j
                .texts
                .iter()
                .chain(j.steps.iter().flat_map(|s| s.texts.iter()))
                .collect();
            for t in &expr_texts {
                for e in expr_re.captures_iter(t) {
                    let e = &e[1];
                    for c in needs_re.captures_iter(e) {
                        let (need, out) = (&c[1], &c[2]);
                        if !j.needs.iter().any(|n| n == need) {
                            say(format!(
                                "job `{}` reads `needs.{need}` but does not need `{need}`",
                                j.id
                            ));
                        } else if !job_outputs.get(need).is_some_and(|o| o.contains(out)) {
                            say(format!(
                                "job `{}` reads `needs.{need}.outputs.{out}`, which job `{need}` does not declare",
                                j.id
                            ));
                        }
                    }
                    for c in inputs_re.captures_iter(e) {
                        if !declared_inputs.contains(&c[1]) && w.call.is_some() {
                            say(format!(
                                "job `{}` reads `inputs.{}`, which the workflow does not declare",
                                j.id, &c[1]
                            ));
                        }
                    }
                    if let Some(call) = &w.call {
                        for c in secrets_re.captures_iter(e) {
                            if &c[1] != "GITHUB_TOKEN" && !call.secrets.contains_key(&c[1]) {
                                say(format!(
                                    "job `{}` reads `secrets.{}`, which `workflow_call` does not declare",
                                    j.id, &c[1]
                                ));
                            }
                        }
                    }
                }
            }
            check_steps(j, &mut action, &steps_re, &expr_re, &sha_pin, &mut say);
            check_permissions(w, j, &reusable, &mut action, &mut say);
            if let Some(uses) = &j.uses {
                check_reusable_call(j, uses, &reusable, &sha_pin, &mut say);
            }
        }
        for (name, value) in &w.call_output_values {
            for c in jobs_re.captures_iter(value) {
                let (job, out) = (&c[1], &c[2]);
                if !job_outputs.get(job).is_some_and(|o| o.contains(out)) {
                    say(format!(
                        "output `{name}` reads `jobs.{job}.outputs.{out}`, which does not exist"
                    ));
                }
            }
        }
    }
    problems
}

fn declared_inputs(w: &Workflow) -> BTreeSet<String> {
    let mut set: BTreeSet<String> = w
        .call
        .as_ref()
        .map(|c| c.inputs.keys().cloned().collect())
        .unwrap_or_default();
    // workflow_dispatch inputs are read the same way.
    if let Ok((_, y)) = model::load_yaml(&w.path)
        && let yaml_rust2::Yaml::Hash(h) = &y["on"]["workflow_dispatch"]["inputs"]
    {
        set.extend(h.keys().filter_map(|k| k.as_str().map(str::to_owned)));
    }
    set
}

fn check_steps(
    j: &Job,
    action: &mut impl FnMut(&str) -> Option<Interface>,
    steps_re: &Regex,
    expr_re: &Regex,
    sha_pin: &Regex,
    say: &mut impl FnMut(String),
) {
    let mut seen: BTreeMap<String, Option<Interface>> = BTreeMap::new();
    for (n, s) in j.steps.iter().enumerate() {
        let at = format!(
            "job `{}` step {}",
            j.id,
            s.id.clone().unwrap_or_else(|| (n + 1).to_string())
        );
        for t in &s.texts {
            for e in expr_re.captures_iter(t) {
                for c in steps_re.captures_iter(&e[1]) {
                    let (id, out) = (&c[1], &c[2]);
                    match seen.get(id) {
                        None => say(format!(
                            "{at} reads `steps.{id}`, which is no earlier step of the job"
                        )),
                        Some(Some(iface)) if !iface.outputs.contains(out) => {
                            say(format!(
                                "{at} reads `steps.{id}.outputs.{out}`, which that action does not output"
                            ));
                        }
                        _ => {}
                    }
                }
            }
        }
        if let Some(run) = &s.run
            && run.contains("${{")
        {
            say(format!(
                "{at} has a `${{{{ }}}}` expression inside `run:`; pass it through `env:`"
            ));
        }
        let mut iface = None;
        if let Some(uses) = &s.uses {
            match target(uses) {
                Target::Action(name) => match action(&name) {
                    Some(i) => {
                        for k in s.with.keys() {
                            if !i.inputs.contains_key(k) {
                                say(format!(
                                    "{at} passes `{k}`, which `{}` does not declare",
                                    shown(&name)
                                ));
                            }
                        }
                        for (k, required) in &i.inputs {
                            if *required && !s.with.contains_key(k) {
                                say(format!(
                                    "{at} does not pass `{k}`, which `{}` requires",
                                    shown(&name)
                                ));
                            }
                        }
                        iface = Some(i);
                    }
                    None => say(format!("{at} uses `{uses}`, which is no action of ours")),
                },
                Target::ThirdParty if !uses.starts_with("docker://") && !sha_pin.is_match(uses) => {
                    say(format!("{at} uses `{uses}`, not pinned by a commit SHA"));
                }
                Target::Reusable(_) => say(format!("{at} uses a workflow as a step")),
                _ => {}
            }
        }
        if let Some(id) = &s.id {
            seen.insert(id.clone(), iface);
        }
    }
    for (name, value) in &j.outputs {
        for c in steps_re.captures_iter(value) {
            let (id, out) = (&c[1], &c[2]);
            match seen.get(id) {
                None => say(format!(
                    "job `{}` output `{name}` reads `steps.{id}`, which is no step of the job",
                    j.id
                )),
                Some(Some(iface)) if !iface.outputs.contains(out) => {
                    say(format!(
                        "job `{}` output `{name}` reads `steps.{id}.outputs.{out}`, which that action does not output",
                        j.id
                    ));
                }
                _ => {}
            }
        }
    }
}

fn check_reusable_call(
    j: &Job,
    uses: &str,
    reusable: &BTreeMap<String, &Workflow>,
    sha_pin: &Regex,
    say: &mut impl FnMut(String),
) {
    let Target::Reusable(name) = target(uses) else {
        if !sha_pin.is_match(uses) {
            say(format!(
                "job `{}` calls `{uses}`, not pinned by a commit SHA",
                j.id
            ));
        }
        return;
    };
    let Some(callee) = reusable.get(&name) else {
        say(format!(
            "job `{}` calls `{uses}`, which is no reusable workflow of ours",
            j.id
        ));
        return;
    };
    let call = callee.call.clone().unwrap_or_default();
    for k in j.with.keys() {
        if !call.inputs.contains_key(k) {
            say(format!(
                "job `{}` passes `{k}` to `{name}`, which does not declare it",
                j.id
            ));
        }
    }
    for (k, required) in &call.inputs {
        if *required && !j.with.contains_key(k) {
            say(format!(
                "job `{}` does not pass `{k}`, which `{name}` requires",
                j.id
            ));
        }
    }
    if !j.secrets_inherit {
        for k in j.secrets.keys() {
            if !call.secrets.contains_key(k) {
                say(format!(
                    "job `{}` passes secret `{k}` to `{name}`, which does not declare it",
                    j.id
                ));
            }
        }
        for (k, required) in &call.secrets {
            if *required && !j.secrets.contains_key(k) {
                say(format!(
                    "job `{}` does not pass secret `{k}`, which `{name}` requires",
                    j.id
                ));
            }
        }
    }
}

fn check_permissions(
    w: &Workflow,
    j: &Job,
    reusable: &BTreeMap<String, &Workflow>,
    action: &mut impl FnMut(&str) -> Option<Interface>,
    say: &mut impl FnMut(String),
) {
    let granted = j.permissions.clone().or_else(|| w.permissions.clone());
    let Some(granted) = granted else {
        say(format!("job `{}` has no `permissions:`", j.id));
        return;
    };
    let mut needed: BTreeMap<String, u8> = BTreeMap::new();
    let mut need = |scope: &str, l: &str| {
        let e = needed.entry(scope.to_owned()).or_default();
        *e = (*e).max(level(l));
    };
    for s in &j.steps {
        for (scope, l) in run_needs(s) {
            need(scope, l);
        }
        let Some(uses) = &s.uses else { continue };
        match target(uses) {
            Target::Action(name) if action(&name).is_some() => {
                for (scope, l) in step_needs(&name, &s.with) {
                    need(scope, l);
                }
            }
            _ => {
                for (scope, l) in third_party_needs(uses, &s.with) {
                    need(scope, l);
                }
            }
        }
    }
    if let Some(Target::Reusable(name)) = j.uses.as_deref().map(target)
        && let Some(callee) = reusable.get(&name)
    {
        // A called workflow's jobs get at most what the calling job grants.
        for cj in &callee.jobs {
            for (scope, l) in cj.permissions.clone().unwrap_or_default() {
                need(&scope, &l);
            }
        }
    }
    if granted.contains_key("*") {
        say(format!(
            "job `{}` grants blanket permissions; grant each scope it needs",
            j.id
        ));
        return;
    }
    for (scope, l) in &needed {
        let has = granted.get(scope).map_or(0, |g| level(g));
        if has < *l {
            say(format!(
                "job `{}` needs `{scope}: {}` for its steps but grants `{}`",
                j.id,
                if *l == 2 { "write" } else { "read" },
                granted.get(scope).map_or("none", |s| s.as_str())
            ));
        }
    }
    for (scope, l) in &granted {
        if level(l) > needed.get(scope).copied().unwrap_or(0) {
            say(format!(
                "job `{}` grants `{scope}: {l}`, more than its steps need",
                j.id
            ));
        }
    }
}

fn shown(action: &str) -> String {
    if action.is_empty() {
        "the root action".to_owned()
    } else {
        action.to_owned()
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .and_then(|f| f.to_str())
        .unwrap_or_default()
        .to_owned()
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}
