//! What the wiring check reads: our action metadata, reusable workflows and
//! the workflows that call them, parsed with yaml-rust2 (YAML 1.2, so `on:`
//! stays a string key).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// An input of an action or a reusable workflow: required when it must be
/// given (required and no default).
#[derive(Debug, Clone, Default)]
pub struct Interface {
    pub inputs: BTreeMap<String, bool>,
    pub secrets: BTreeMap<String, bool>,
    pub outputs: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Step {
    pub id: Option<String>,
    pub uses: Option<String>,
    pub with: BTreeMap<String, String>,
    pub run: Option<String>,
    /// Every string of the step (`if`, `with`, `env`, `run`…), for expressions.
    pub texts: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Job {
    pub id: String,
    pub needs: Vec<String>,
    /// `None`: the job sets no `permissions:` of its own.
    pub permissions: Option<BTreeMap<String, String>>,
    /// A call of a reusable workflow.
    pub uses: Option<String>,
    pub with: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub secrets_inherit: bool,
    pub outputs: BTreeMap<String, String>,
    pub steps: Vec<Step>,
    /// Every string of the job outside its steps (`if`, `environment`, `with`…).
    pub texts: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Workflow {
    pub path: PathBuf,
    /// `on.workflow_call`, when the workflow is reusable.
    pub call: Option<Interface>,
    pub call_output_values: BTreeMap<String, String>,
    pub permissions: Option<BTreeMap<String, String>>,
    pub jobs: Vec<Job>,
}

pub fn load_yaml(path: &Path) -> Result<(String, Yaml), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut docs =
        YamlLoader::load_from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if docs.is_empty() {
        return Err(format!("{}: empty", path.display()));
    }
    Ok((text, docs.remove(0)))
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn map(y: &Yaml) -> Vec<(String, &Yaml)> {
    match y {
        Yaml::Hash(h) => h
            .iter()
            .filter_map(|(k, v)| scalar(k).map(|k| (k, v)))
            .collect(),
        _ => Vec::new(),
    }
}

fn get<'a>(y: &'a Yaml, key: &str) -> &'a Yaml {
    &y[key]
}

fn strings(y: &Yaml, out: &mut Vec<String>) {
    match y {
        Yaml::Hash(h) => {
            for (k, v) in h {
                strings(k, out);
                strings(v, out);
            }
        }
        Yaml::Array(a) => a.iter().for_each(|v| strings(v, out)),
        other => {
            if let Some(s) = scalar(other) {
                out.push(s);
            }
        }
    }
}

fn string_map(y: &Yaml) -> BTreeMap<String, String> {
    map(y)
        .into_iter()
        .map(|(k, v)| (k, scalar(v).unwrap_or_default()))
        .collect()
}

fn permissions(y: &Yaml) -> Option<BTreeMap<String, String>> {
    match y {
        Yaml::BadValue => None,
        // `permissions: read-all` and the like: a scalar for every scope.
        Yaml::String(s) => Some([("*".to_owned(), s.clone())].into_iter().collect()),
        other => Some(string_map(other)),
    }
}

/// An action's `action.yml`.
pub fn action(path: &Path) -> Result<Interface, String> {
    let (_, y) = load_yaml(path)?;
    let mut iface = Interface::default();
    for (name, spec) in map(get(&y, "inputs")) {
        let required = get(spec, "required").as_bool().unwrap_or(false)
            && matches!(get(spec, "default"), Yaml::BadValue);
        iface.inputs.insert(name, required);
    }
    for (name, _) in map(get(&y, "outputs")) {
        iface.outputs.insert(name);
    }
    Ok(iface)
}

pub fn workflow(path: &Path) -> Result<Workflow, String> {
    let (_, y) = load_yaml(path)?;
    let on = get(&y, "on");
    let call_y = get(on, "workflow_call");
    let (call, call_output_values) = if matches!(call_y, Yaml::BadValue)
        && !matches!(on, Yaml::String(s) if s == "workflow_call")
    {
        (None, BTreeMap::new())
    } else {
        let mut iface = Interface::default();
        let mut values = BTreeMap::new();
        for (name, spec) in map(get(call_y, "inputs")) {
            let required = get(spec, "required").as_bool().unwrap_or(false)
                && matches!(get(spec, "default"), Yaml::BadValue);
            iface.inputs.insert(name, required);
        }
        for (name, spec) in map(get(call_y, "secrets")) {
            iface
                .secrets
                .insert(name, get(spec, "required").as_bool().unwrap_or(false));
        }
        for (name, spec) in map(get(call_y, "outputs")) {
            values.insert(name.clone(), scalar(get(spec, "value")).unwrap_or_default());
            iface.outputs.insert(name);
        }
        (Some(iface), values)
    };
    let mut jobs = Vec::new();
    for (id, j) in map(get(&y, "jobs")) {
        let needs = match get(j, "needs") {
            Yaml::Array(a) => a.iter().filter_map(scalar).collect(),
            other => scalar(other).into_iter().collect(),
        };
        let mut steps = Vec::new();
        if let Yaml::Array(a) = get(j, "steps") {
            for s in a {
                let mut texts = Vec::new();
                strings(s, &mut texts);
                steps.push(Step {
                    id: scalar(get(s, "id")),
                    uses: scalar(get(s, "uses")),
                    with: string_map(get(s, "with")),
                    run: scalar(get(s, "run")),
                    texts,
                });
            }
        }
        let mut texts = Vec::new();
        for (k, v) in map(j) {
            if k != "steps" {
                strings(v, &mut texts);
            }
        }
        let secrets_y = get(j, "secrets");
        jobs.push(Job {
            id,
            needs,
            permissions: permissions(get(j, "permissions")),
            uses: scalar(get(j, "uses")),
            with: string_map(get(j, "with")),
            secrets_inherit: matches!(secrets_y, Yaml::String(s) if s == "inherit"),
            secrets: string_map(secrets_y),
            outputs: string_map(get(j, "outputs")),
            steps,
            texts,
        });
    }
    Ok(Workflow {
        path: path.to_owned(),
        call,
        call_output_values,
        permissions: permissions(get(&y, "permissions")),
        jobs,
    })
}

/// Every `.yml`/`.yaml` workflow under `.github/workflows` of `root` and of
/// every example repository under `root/examples`.
pub fn workflow_files(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join(".github/workflows")];
    if let Ok(entries) = std::fs::read_dir(root.join("examples")) {
        for e in entries.flatten() {
            dirs.push(e.path().join(".github/workflows"));
        }
    }
    let mut files = Vec::new();
    for dir in dirs {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let p = e.path();
                if matches!(p.extension().and_then(|x| x.to_str()), Some("yml" | "yaml")) {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
}
