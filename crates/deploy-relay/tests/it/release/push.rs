//! release.yml's own scripts, run as the runner runs them (bash -eo
//! pipefail) on a git copy of this tree: the preflight's version and tag
//! decisions, the `pin` job's bundle, and the `push` job's push of that
//! bundle into a local bare repository standing in for GitHub
//! (`GITHUB_SERVER_URL=file://…`). The push must create the version tag
//! once at the release commit, move the major tag only from where the
//! preflight saw it, refuse a bundle that is not what this run built, run
//! no git hook, and never print the token.

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::YamlLoader;

use super::{FORK, commit_all, copy_of_main, image, release_with, root, run_git};

const TOKEN: &str = "ghp_releaseDryRunToken0123456789abcdef";
const TAG: &str = "v9.9.9";

/// The `run:` script of the step `id` of job `job` in release.yml.
fn step_script(job: &str, id: &str) -> String {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let doc = YamlLoader::load_from_str(&text).unwrap().remove(0);
    let steps = doc["jobs"][job]["steps"]
        .as_vec()
        .cloned()
        .unwrap_or_default();
    steps
        .iter()
        .find(|s| s["id"].as_str() == Some(id))
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("release.yml has no step `{id}` with `run:` in job `{job}`"))
        .to_owned()
}

struct Ran {
    ok: bool,
    out: String,
}

/// Runs `script` in `cwd` as a `run:` step with `env`; git reads `gitconfig`
/// as its global configuration.
fn run_step(script: &str, cwd: &Path, env: &[(&str, String)], gitconfig: &Path) -> Ran {
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(cwd)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", gitconfig)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run bash");
    Ran {
        ok: out.status.success(),
        out: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A bare repository at `<dir>/octo-fork/relay.git` holding `repo`'s `main`
/// (GitHub before the push), and the `GITHUB_SERVER_URL` naming it.
fn origin(repo: &Path, main: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join(format!("{FORK}.git"));
    std::fs::create_dir_all(&bare).unwrap();
    run_git(&bare, &["init", "-q", "--bare"]);
    run_git(
        repo,
        &[
            "push",
            "-q",
            &bare.display().to_string(),
            &format!("{main}:refs/heads/main"),
        ],
    );
    let url = format!("file://{}", dir.path().display());
    (dir, url)
}

fn bare_of(origin: &tempfile::TempDir) -> PathBuf {
    origin.path().join(format!("{FORK}.git"))
}

/// `git rev-parse <rev>` in `repo`, or `None`.
fn resolve(repo: &Path, rev: &str) -> Option<String> {
    super::check::git(repo, &["rev-parse", "-q", "--verify", rev]).map(|s| s.trim().to_owned())
}

/// A global git configuration whose hooks (every one the push could run)
/// write their name and the repository they ran in to `<dir>/hook-ran`;
/// and that file's path. The receiving side (GitHub's, here a local bare
/// repository) runs them too: only the pushing side's count.
fn planted_hooks(dir: &Path) -> (PathBuf, PathBuf) {
    let hooks = dir.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let marker = dir.join("hook-ran");
    for hook in [
        "pre-push",
        "reference-transaction",
        "post-checkout",
        "pre-auto-gc",
    ] {
        let path = hooks.join(hook);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"{hook} $PWD\" >>'{}'\n", marker.display()),
        )
        .unwrap();
        Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    }
    let config = dir.join("gitconfig");
    std::fs::write(
        &config,
        format!("[core]\n\thooksPath = {}\n", hooks.display()),
    )
    .unwrap();
    (config, marker)
}

/// A release run up to the push: the copy (A), its release commit (C), the
/// bundle as the push job downloads it, and GitHub before the push.
struct Run {
    repo: tempfile::TempDir,
    a: String,
    c: String,
    image: String,
    runner_temp: tempfile::TempDir,
    origin: tempfile::TempDir,
    server: String,
}

fn prepare(image: &str, tag: &str, tamper: impl FnOnce(&Path)) -> Run {
    let repo = copy_of_main();
    let a = run_git(repo.path(), &["rev-parse", "HEAD"])
        .trim()
        .to_owned();
    let (origin, server) = origin(repo.path(), &a);
    let (_, c) = release_with(repo.path(), image, tag);
    let mut c = c.unwrap();
    tamper(repo.path());
    if run_git(repo.path(), &["status", "--porcelain"]).trim() != "" {
        c = commit_all(repo.path(), "tampered");
    }
    let runner_temp = tempfile::tempdir().unwrap();
    let bundle = run_step(
        &step_script("pin", "bundle"),
        repo.path(),
        &[
            ("TAG", tag.to_owned()),
            ("COMMIT", c.clone()),
            ("RUNNER_TEMP", runner_temp.path().display().to_string()),
        ],
        Path::new("/dev/null"),
    );
    assert!(bundle.ok, "the bundle step failed:\n{}", bundle.out);
    Run {
        repo,
        a,
        c,
        image: image.to_owned(),
        runner_temp,
        origin,
        server,
    }
}

impl Run {
    /// The push job's push step; `major_was` is where the preflight saw the major tag.
    fn push(&self, move_major: bool, major_was: &str, gitconfig: &Path) -> Ran {
        self.push_as(TAG, &self.image, move_major, major_was, gitconfig)
    }

    fn push_as(
        &self,
        tag: &str,
        image: &str,
        move_major: bool,
        major_was: &str,
        gitconfig: &Path,
    ) -> Ran {
        let (name, digest) = image
            .trim_start_matches("docker://")
            .split_once('@')
            .unwrap();
        run_step(
            &step_script("push", "push"),
            self.runner_temp.path(),
            &[
                ("RELEASE_TOKEN", TOKEN.to_owned()),
                ("TAG", tag.to_owned()),
                ("MAJOR", tag.split('.').next().unwrap().to_owned()),
                ("MOVE_MAJOR", move_major.to_string()),
                ("MAJOR_WAS", major_was.to_owned()),
                ("COMMIT", self.c.clone()),
                ("IMAGE", name.to_owned()),
                ("DIGEST", digest.to_owned()),
                ("GITHUB_SHA", self.a.clone()),
                ("GITHUB_SERVER_URL", self.server.clone()),
                ("GITHUB_REPOSITORY", FORK.to_owned()),
                ("RUNNER_TEMP", self.runner_temp.path().display().to_string()),
            ],
            gitconfig,
        )
    }

    /// The hooks that ran in the push job's own repository (under RUNNER_TEMP).
    fn local_hooks(&self, marker: &Path) -> Vec<String> {
        let ran = std::fs::read_to_string(marker).unwrap_or_default();
        let temp = self.runner_temp.path().canonicalize().unwrap();
        ran.lines()
            .filter(|l| {
                l.contains(&*temp.to_string_lossy())
                    || l.contains(&*self.runner_temp.path().to_string_lossy())
            })
            .map(str::to_owned)
            .collect()
    }

    fn remote(&self, rev: &str) -> Option<String> {
        resolve(&bare_of(&self.origin), rev)
    }
}

/// Nothing of the token reaches the log but the runner's mask command.
fn assert_no_token(out: &str) {
    assert!(!out.contains(TOKEN), "the token was printed:\n{out}");
    for line in out.lines() {
        assert!(
            !line.contains("eC1hY2Nlc3MtdG9rZW46") || line.starts_with("::add-mask::"),
            "the encoded token was printed outside ::add-mask:::\n{out}"
        );
    }
}

#[test]
fn the_push_creates_the_version_tag_once_at_the_release_commit() {
    let run = prepare(&image(), TAG, |_| {});
    let hooks = tempfile::tempdir().unwrap();
    let (gitconfig, marker) = planted_hooks(hooks.path());
    let pushed = run.push(true, "", &gitconfig);
    assert!(pushed.ok, "{}", pushed.out);
    assert_no_token(&pushed.out);
    assert!(
        std::fs::read_to_string(&marker).is_ok_and(
            |r| r.contains(&*bare_of(&run.origin).file_name().unwrap().to_string_lossy())
        ),
        "the planted hooks did not run even on the receiving side: the test would see nothing: {:?}",
        std::fs::read_to_string(&marker)
    );
    assert_eq!(
        run.local_hooks(&marker),
        Vec::<String>::new(),
        "a git hook ran in the push job"
    );
    let bare = bare_of(&run.origin);
    assert_eq!(
        run.remote(&format!("refs/heads/releases/{TAG}")).as_deref(),
        Some(run.c.as_str())
    );
    assert_eq!(
        run.remote(&format!("{TAG}^{{commit}}")).as_deref(),
        Some(run.c.as_str())
    );
    assert_eq!(run.remote("v9^{commit}").as_deref(), Some(run.c.as_str()));
    assert_eq!(
        run_git(&bare, &["cat-file", "-t", TAG]).trim(),
        "tag",
        "an annotated tag"
    );
    assert_eq!(
        run.remote("main").as_deref(),
        Some(run.a.as_str()),
        "main is not touched"
    );

    // A re-run (or a second dispatch of the same version) moves nothing.
    let tag_object = run.remote(TAG).unwrap();
    let again = run.push(true, &run.remote("v9").unwrap(), &gitconfig);
    assert!(
        !again.ok,
        "the version tag was pushed twice:\n{}",
        again.out
    );
    assert_no_token(&again.out);
    assert_eq!(run.remote(TAG), Some(tag_object));
    assert_eq!(run.local_hooks(&marker), Vec::<String>::new());
}

#[test]
fn the_push_refuses_a_bundle_this_run_did_not_build() {
    // The release commit changes a file a release never changes.
    let run = prepare(&image(), TAG, |repo| {
        std::fs::write(repo.join("build.rs"), "fn main() {}\n").unwrap();
    });
    let ran = run.push(true, "", Path::new("/dev/null"));
    assert!(!ran.ok);
    assert!(
        ran.out
            .contains("::error title=Bundle::the release commit changes more than")
            && ran.out.contains("build.rs"),
        "{}",
        ran.out
    );
    assert_eq!(run.remote(TAG), None);
    assert_eq!(run.remote(&format!("refs/heads/releases/{TAG}")), None);

    // The release commit names another image than this run pushed.
    let run = prepare(&image(), TAG, |_| {});
    let other = image().replace("sha256:5f4d", "sha256:0000");
    let ran = run.push_as(TAG, &other, true, "", Path::new("/dev/null"));
    assert!(!ran.ok);
    assert!(
        ran.out.contains("release.toml at") && ran.out.contains("does not name"),
        "{}",
        ran.out
    );
    assert_eq!(run.remote(TAG), None);

    // No token: a clear error before anything is fetched or pushed.
    let script = step_script("push", "push");
    let ran = run_step(
        &script,
        run.runner_temp.path(),
        &[("RELEASE_TOKEN", String::new())],
        Path::new("/dev/null"),
    );
    assert!(!ran.ok);
    assert!(
        ran.out.contains("::error title=RELEASE_TOKEN::"),
        "{}",
        ran.out
    );
}

/// An annotated `v9` at commit A, pushed to the origin; its object id there.
fn existing_v9(run: &Run) -> String {
    let bare = bare_of(&run.origin);
    run_git(
        run.repo.path(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t.invalid",
            "tag",
            "-a",
            "v9",
            "-m",
            "v9",
            &run.a,
        ],
    );
    run_git(
        run.repo.path(),
        &["push", "-q", &bare.display().to_string(), "refs/tags/v9"],
    );
    run.remote("v9").unwrap()
}

#[test]
fn the_major_tag_moves_only_from_where_the_preflight_saw_it() {
    let run = prepare(&image(), TAG, |_| {});
    // v9 exists already, at A.
    let v9 = existing_v9(&run);

    // Moved by someone since the preflight looked: nothing is pushed at all.
    let stale = run.push(true, &run.a, Path::new("/dev/null"));
    assert!(!stale.ok, "{}", stale.out);
    assert_eq!(run.remote("v9").as_ref(), Some(&v9));
    assert_eq!(run.remote(TAG), None, "the push is atomic");
    assert_eq!(run.remote(&format!("refs/heads/releases/{TAG}")), None);

    // Not the highest v9.*.*: v9 stays, the version tag is created.
    let kept = run.push(false, &v9, Path::new("/dev/null"));
    assert!(kept.ok, "{}", kept.out);
    assert_eq!(run.remote("v9").as_ref(), Some(&v9));
    assert_eq!(
        run.remote(&format!("{TAG}^{{commit}}")).as_deref(),
        Some(run.c.as_str())
    );

    // Where the preflight saw it: moved to the release commit.
    let run = prepare(&image(), TAG, |_| {});
    let v9 = existing_v9(&run);
    let moved = run.push(true, &v9, Path::new("/dev/null"));
    assert!(moved.ok, "{}", moved.out);
    assert_eq!(run.remote("v9^{commit}").as_deref(), Some(run.c.as_str()));
}

/// The preflight step of release.yml on a checkout with `tags` (tag → commit).
fn preflight(version: &str, git_ref: &str, workspace: &str, tags: &[&str]) -> (Ran, String) {
    let repo = copy_of_main();
    std::fs::write(
        repo.path().join("Cargo.toml"),
        format!("[workspace.package]\nversion = \"{workspace}\"\n"),
    )
    .unwrap();
    let head = commit_all(repo.path(), "version");
    for t in tags {
        run_git(repo.path(), &["tag", t, &head]);
    }
    let output = repo.path().join("github-output");
    std::fs::write(&output, "").unwrap();
    let ran = run_step(
        &step_script("preflight", "version"),
        repo.path(),
        &[
            ("VERSION", version.to_owned()),
            ("GITHUB_REF", git_ref.to_owned()),
            ("OWNER", "Octo-Fork".to_owned()),
            ("GITHUB_OUTPUT", output.display().to_string()),
        ],
        Path::new("/dev/null"),
    );
    (ran, std::fs::read_to_string(&output).unwrap())
}

#[test]
fn the_preflight_decides_the_tag_and_whether_the_major_tag_moves() {
    let (ran, out) = preflight(
        "1.2.3",
        "refs/heads/main",
        "1.2.3",
        &["v1.2.2", "v1.1.9", "v2.0.0"],
    );
    assert!(ran.ok, "{}", ran.out);
    for line in [
        "tag=v1.2.3",
        "major=v1",
        "move-major=true",
        "major-was=",
        "version=1.2.3",
        "image=ghcr.io/octo-fork/deploy-relay",
    ] {
        assert!(out.lines().any(|l| l == line), "no `{line}` in:\n{out}");
    }

    // A patch of an older minor: v1 stays at v1.3.0's commit.
    let (ran, out) = preflight("1.2.4", "refs/heads/main", "1.2.4", &["v1.3.0", "v1"]);
    assert!(ran.ok, "{}", ran.out);
    assert!(out.lines().any(|l| l == "move-major=false"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("major-was=") && l.len() == "major-was=".len() + 40),
        "{out}"
    );

    for (version, git_ref, workspace, tags, error) in [
        (
            "v1.2.3",
            "refs/heads/main",
            "1.2.3",
            &[][..],
            "::error title=version::the input `version` is not X.Y.Z",
        ),
        (
            "1.2.3",
            "refs/heads/feature",
            "1.2.3",
            &[][..],
            "::error title=Not main::",
        ),
        (
            "1.2.3",
            "refs/heads/main",
            "1.2.4",
            &[][..],
            "::error title=version::the input says 1.2.3, main's Cargo.toml workspace version is 1.2.4",
        ),
        (
            "1.2.3",
            "refs/heads/main",
            "1.2.3",
            &["v1.2.3"][..],
            "::error title=Released already::tag v1.2.3 exists",
        ),
    ] {
        let (ran, out) = preflight(version, git_ref, workspace, tags);
        assert!(!ran.ok, "{version} {git_ref}: passed");
        assert!(ran.out.contains(error), "{version} {git_ref}: {}", ran.out);
        assert_eq!(out, "", "outputs written despite the error");
    }
}

/// scripts/release-dry-run.sh's release commit: with
/// `DEPLOY_RELAY_DRY_RUN_IMAGE` (the image it published, by digest) and
/// `DEPLOY_RELAY_DRY_RUN_TAG` set, the release commit made from that image
/// on a copy of this tree, checked, bundled and pushed as release.yml does.
/// Unset (every other run), it is skipped.
#[test]
fn dry_run_when_asked() {
    let env = relay_runtime::Env::from_process();
    let (Some(image), Some(tag)) = (
        env.get("DEPLOY_RELAY_DRY_RUN_IMAGE"),
        env.get("DEPLOY_RELAY_DRY_RUN_TAG"),
    ) else {
        eprintln!(
            "skipped: DEPLOY_RELAY_DRY_RUN_IMAGE is not set (scripts/release-dry-run.sh sets it)"
        );
        return;
    };
    let run = prepare(image, tag, |_| {});
    let problems = super::check::unpinned(run.repo.path(), &run.c, FORK);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let release_toml = run_git(
        run.repo.path(),
        &["show", &format!("{}:release.toml", run.c)],
    );
    assert!(
        release_toml.contains(&format!("image = \"{image}\"")),
        "{release_toml}"
    );
    let hooks = tempfile::tempdir().unwrap();
    let (gitconfig, marker) = planted_hooks(hooks.path());
    let pushed = run.push_as(tag, image, true, "", &gitconfig);
    assert!(pushed.ok, "{}", pushed.out);
    assert_no_token(&pushed.out);
    assert_eq!(
        run.local_hooks(&marker),
        Vec::<String>::new(),
        "a git hook ran in the push job"
    );
    assert_eq!(
        run.remote(&format!("{tag}^{{commit}}")).as_deref(),
        Some(run.c.as_str())
    );
    eprintln!(
        "release commit {} pushed as releases/{tag}, {tag} created there",
        run.c
    );
}
