//! What "pinned" means for a release commit, read from git: every
//! `action.yml` (the root one included) runs its image by digest, and every
//! `uses:` of every workflow names a commit SHA, an image digest, or a path
//! of the same commit. A reference into the releasing repository is
//! followed to the file it names at the commit it names, which must be
//! pinned too: a workflow that calls ours at a SHA whose copy still uses
//! `@main` fixes nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use regex::Regex;
use yaml_rust2::{Yaml, YamlLoader};

/// `git -C <repo> <args>`: stdout, or `None` when git fails.
pub fn git(repo: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every reference at `rev` of `repo` that moves, as `<rev>:<file>: what`
/// lines; empty on a release commit. `ours` is the releasing repository
/// (`owner/repo`), whose references are followed.
pub fn unpinned(repo: &Path, rev: &str, ours: &str) -> Vec<String> {
    let mut c = Checker {
        repo,
        ours: ours.to_ascii_lowercase(),
        seen: BTreeMap::new(),
        problems: Vec::new(),
        sha: Regex::new("^[0-9a-f]{40}$").unwrap(),
        digest: Regex::new(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$").unwrap(),
    };
    let files = git(repo, &["ls-tree", "-r", "--name-only", rev])
        .unwrap_or_else(|| panic!("`{rev}` is not a commit of {}", repo.display()));
    for file in files.lines() {
        if is_action(file) || is_workflow(file) {
            c.file(rev, file);
        }
    }
    c.problems
}

fn is_action(file: &str) -> bool {
    file == "action.yml" || {
        let parts: Vec<&str> = file.split('/').collect();
        parts.len() == 3 && parts[0] == "actions" && parts[2] == "action.yml"
    }
}

fn is_workflow(file: &str) -> bool {
    file.strip_prefix(".github/workflows/")
        .is_some_and(|f| !f.contains('/') && (f.ends_with(".yml") || f.ends_with(".yaml")))
}

struct Checker<'a> {
    repo: &'a Path,
    ours: String,
    /// `(rev, file)` already checked: whether it was pinned.
    seen: BTreeMap<(String, String), bool>,
    problems: Vec<String>,
    sha: Regex,
    digest: Regex,
}

impl Checker<'_> {
    fn say(&mut self, rev: &str, file: &str, what: String) {
        self.problems
            .push(format!("{}:{file}: {what}", &rev[..rev.len().min(12)]));
    }

    /// Checks `file` at `rev` once; whether nothing in it moves.
    fn file(&mut self, rev: &str, file: &str) -> bool {
        let key = (rev.to_owned(), file.to_owned());
        if let Some(pinned) = self.seen.get(&key) {
            return *pinned;
        }
        let before = self.problems.len();
        match git(self.repo, &["show", &format!("{rev}:{file}")]) {
            None => self.say(rev, file, "no such file at that commit".into()),
            Some(text) => match YamlLoader::load_from_str(&text) {
                Ok(mut docs) if !docs.is_empty() => {
                    let doc = docs.remove(0);
                    if is_workflow(file) {
                        self.workflow(rev, file, &doc);
                    } else {
                        self.action(rev, file, &doc);
                    }
                }
                _ => self.say(rev, file, "not YAML".into()),
            },
        }
        let pinned = self.problems.len() == before;
        self.seen.insert(key, pinned);
        pinned
    }

    fn action(&mut self, rev: &str, file: &str, doc: &Yaml) {
        let runs = &doc["runs"];
        match runs["using"].as_str() {
            Some("docker") => {
                let image = runs["image"].as_str().unwrap_or_default().to_owned();
                if !self.digest.is_match(&image) {
                    self.say(
                        rev,
                        file,
                        format!("runs image `{image}`, not `docker://…@sha256:<digest>`"),
                    );
                }
            }
            Some("composite") => {
                for step in runs["steps"].as_vec().cloned().unwrap_or_default() {
                    if let Some(uses) = step["uses"].as_str() {
                        self.uses(rev, file, uses, false);
                    }
                }
            }
            other => self.say(
                rev,
                file,
                format!("runs `{other:?}`, which is not pinned here"),
            ),
        }
    }

    fn workflow(&mut self, rev: &str, file: &str, doc: &Yaml) {
        let on = &doc["on"];
        let reusable = on["workflow_call"] != Yaml::BadValue
            || on.as_str() == Some("workflow_call")
            || on
                .as_vec()
                .is_some_and(|v| v.iter().any(|e| e.as_str() == Some("workflow_call")));
        let Some(jobs) = doc["jobs"].as_hash() else {
            return;
        };
        for job in jobs.values() {
            if let Some(uses) = job["uses"].as_str() {
                self.uses(rev, file, uses, reusable);
            }
            for step in job["steps"].as_vec().cloned().unwrap_or_default() {
                if let Some(uses) = step["uses"].as_str() {
                    self.uses(rev, file, uses, reusable);
                }
            }
        }
    }

    /// One `uses:` value met in `file` at `rev`.
    fn uses(&mut self, rev: &str, file: &str, uses: &str, reusable: bool) {
        if uses.starts_with("docker://") {
            if !self.digest.is_match(uses) {
                self.say(rev, file, format!("uses `{uses}`, an image by tag"));
            }
            return;
        }
        if uses.starts_with("./") {
            if reusable {
                // Called from another repository, `./` is that repository.
                self.say(
                    rev,
                    file,
                    format!("uses `{uses}`, which resolves in the caller's repository"),
                );
            }
            return;
        }
        let Some((path, reference)) = uses.split_once('@') else {
            return self.say(rev, file, format!("uses `{uses}` without a ref"));
        };
        if !self.sha.is_match(reference) {
            return self.say(
                rev,
                file,
                format!("uses `{uses}`, by `@{reference}`, which moves"),
            );
        }
        let mut parts = path.splitn(3, '/');
        let (owner, name, sub) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        if format!("{owner}/{name}").to_ascii_lowercase() != self.ours {
            return; // Someone else's, by SHA: fixed bytes.
        }
        if git(
            self.repo,
            &["cat-file", "-e", &format!("{reference}^{{commit}}")],
        )
        .is_none()
        {
            return self.say(
                rev,
                file,
                format!("uses `{uses}`, a commit this repository does not have"),
            );
        }
        let target = if is_workflow(sub) {
            sub.to_owned()
        } else if sub.is_empty() {
            "action.yml".to_owned()
        } else {
            format!("{sub}/action.yml")
        };
        if !self.file(reference, &target) {
            self.say(
                rev,
                file,
                format!("uses `{uses}`, whose `{target}` moves (above)"),
            );
        }
    }
}
