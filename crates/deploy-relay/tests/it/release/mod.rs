//! The release rewrite (`scripts/release-pin.sh`, run by
//! `.github/workflows/release.yml`), run on a git copy of this tree as the
//! release runs it: the image digest into release.toml, every action.yml
//! rendered from it (B), then the reusable workflows pinned in rounds. The
//! last commit must pin everything, down to the image (see `check.rs`);
//! and the check must catch each way a rewrite can miss one.

mod check;
mod push;
mod rules;

use std::path::{Path, PathBuf};
use std::process::Command;

use check::{git, unpinned};

const FORK: &str = "octo-fork/relay";
const DIGEST: &str = "sha256:5f4dcc3b5aa765d61d8327deb882cf992b95f4e5a8b1b2d3c4d5e6f708192a3b";

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn image() -> String {
    format!("docker://ghcr.io/octo-fork/deploy-relay@{DIGEST}")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A git repository holding what the release rewrites, as on main: one commit (A).
fn copy_of_main() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["actions", ".github"] {
        copy_dir(&root().join(d), &dir.path().join(d));
    }
    for f in ["release.toml", "action.yml"] {
        if root().join(f).is_file() {
            std::fs::copy(root().join(f), dir.path().join(f)).unwrap();
        }
    }
    run_git(dir.path(), &["init", "-q", "-b", "main"]);
    commit_all(dir.path(), "A");
    dir
}

fn run_git(repo: &Path, args: &[&str]) -> String {
    git(repo, args).unwrap_or_else(|| panic!("git {args:?} failed in {}", repo.display()))
}

fn commit_all(repo: &Path, message: &str) -> String {
    run_git(repo, &["add", "-A"]);
    run_git(
        repo,
        &[
            "-c",
            "user.name=release test",
            "-c",
            "user.email=release@test.invalid",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
        ],
    );
    run_git(repo, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// `scripts/release-pin.sh <args>` in `repo`: (exit code, stdout, stderr).
fn pin(repo: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("bash")
        .arg(root().join("scripts/release-pin.sh"))
        .args(args)
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "release test")
        .env("GIT_AUTHOR_EMAIL", "release@test.invalid")
        .env("GIT_COMMITTER_NAME", "release test")
        .env("GIT_COMMITTER_EMAIL", "release@test.invalid")
        .output()
        .expect("run scripts/release-pin.sh");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Where the metadata test writes an action's action.yml: the root action
/// (entry point `relay`) at the root, the others under actions/.
fn action_yml_path(repo: &Path, name: &str) -> PathBuf {
    if name == "relay" {
        repo.join("action.yml")
    } else {
        repo.join("actions").join(name).join("action.yml")
    }
}

/// What `UPDATE_ACTION_YML=1 cargo test -p deploy-relay --test it metadata`
/// does to the real tree, done to the copy: every action.yml rendered from
/// the copy's release.toml.
fn render(repo: &Path) {
    let release = deploy_relay::Release::read(&repo.join("release.toml")).unwrap();
    for action in deploy_relay::actions() {
        let path = action_yml_path(repo, action.spec.name);
        std::fs::write(path, deploy_relay::action_yml(action.spec, &release)).unwrap();
    }
}

/// The release up to B: the digest written and every action.yml rendered, committed.
fn release_commit_b(repo: &Path) -> String {
    release_commit_b_with(repo, &image())
}

/// [`release_commit_b`] with another image (`docker://…@sha256:…`).
fn release_commit_b_with(repo: &Path, image: &str) -> String {
    let (code, _, err) = pin(repo, &["image", image]);
    assert_eq!(code, 0, "{err}");
    render(repo);
    commit_all(repo, "B")
}

/// The whole rewrite: B, then the workflow rounds; returns (B, the release commit).
fn release(repo: &Path) -> (String, Result<String, String>) {
    release_with(repo, &image(), "v9.9.9")
}

/// [`release`] with another image and tag.
fn release_with(repo: &Path, image: &str, tag: &str) -> (String, Result<String, String>) {
    let b = release_commit_b_with(repo, image);
    let (code, out, err) = pin(repo, &["workflows", FORK, tag]);
    let c = if code == 0 {
        Ok(out.trim().to_owned())
    } else {
        Err(err)
    };
    (b, c)
}

fn edit(repo: &Path, file: &str, from: &str, to: &str) {
    let path = repo.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn main_moves_and_the_check_says_where() {
    let repo = copy_of_main();
    let problems = unpinned(repo.path(), "HEAD", FORK).join("\n");
    for action in deploy_relay::actions() {
        let file = action_yml_path(Path::new(""), action.spec.name);
        assert!(
            problems.contains(&format!("{}: runs image `docker://", file.display())),
            "{problems}"
        );
    }
    assert!(
        problems.contains("pipeline.yml: uses `deploy-relay/deploy-relay/.github/workflows/deploy.yml@main`, by `@main`, which moves"),
        "{problems}"
    );
}

#[test]
fn a_release_pins_every_reference_down_to_the_image() {
    let repo = copy_of_main();
    let a = run_git(repo.path(), &["rev-parse", "HEAD"])
        .trim()
        .to_owned();
    let (b, c) = release(repo.path());
    let c = c.unwrap();
    assert_eq!(c, run_git(repo.path(), &["rev-parse", "HEAD"]).trim());
    let problems = unpinned(repo.path(), &c, FORK);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Our actions at B, whose action.yml runs the digest; the fork names itself.
    let release_toml = run_git(repo.path(), &["show", &format!("{c}:release.toml")]);
    assert!(
        release_toml.contains(&format!("image = \"{}\"", image())),
        "{release_toml}"
    );
    for action in deploy_relay::actions() {
        let file = action_yml_path(Path::new(""), action.spec.name);
        let text = run_git(repo.path(), &["show", &format!("{b}:{}", file.display())]);
        assert!(
            text.contains(&format!("  image: \"{}\"\n", image())),
            "{text}"
        );
    }
    let workflows = run_git(
        repo.path(),
        &["grep", "-h", "uses:", &c, "--", ".github/workflows/"],
    );
    assert!(
        !workflows.contains("deploy-relay/deploy-relay"),
        "{workflows}"
    );
    assert!(
        workflows.contains(&format!("{FORK}/actions/monitor-health@{b}")),
        "{workflows}"
    );
    // pipeline.yml calls deploy.yml at the round that pinned deploy.yml's actions.
    let rounds = run_git(
        repo.path(),
        &["rev-list", "--reverse", &format!("{b}..{c}")],
    );
    let rounds: Vec<&str> = rounds.lines().collect();
    assert!(rounds.len() >= 2, "{rounds:?}");
    assert!(
        workflows.contains(&format!(
            "{FORK}/.github/workflows/deploy.yml@{}",
            rounds[0]
        )),
        "{workflows}"
    );
    // Nothing but release.toml, action.yml files and workflows changed since A.
    let changed = run_git(repo.path(), &["diff", "--name-only", &a, &c]);
    for f in changed.lines() {
        assert!(
            f == "release.toml" || f.ends_with("action.yml") || f.starts_with(".github/workflows/"),
            "the release changed `{f}`"
        );
    }
}

#[test]
fn the_check_catches_what_the_rewrite_misses() {
    // A workflow calls our action by a tag the rewrite does not know: the
    // rewrite refuses, and the check names it.
    let repo = copy_of_main();
    edit(
        repo.path(),
        ".github/workflows/rollback.yml",
        "deploy-relay/deploy-relay/actions/monitor-health@main",
        "deploy-relay/deploy-relay/actions/monitor-health@v1",
    );
    commit_all(repo.path(), "A with @v1");
    let (_, c) = release(repo.path());
    let err = c.unwrap_err();
    assert!(
        err.contains("rollback.yml") && err.contains("monitor-health@v1"),
        "{err}"
    );
    let problems = unpinned(repo.path(), "HEAD", FORK).join("\n");
    assert!(
        problems.contains("monitor-health@v1`, by `@v1`, which moves"),
        "{problems}"
    );

    // A step runs an image by tag: the rewrite leaves it, the check names it.
    let repo = copy_of_main();
    edit(
        repo.path(),
        ".github/workflows/deploy.yml",
        "      - uses: deploy-relay/deploy-relay/actions/verify-ci-status@main",
        "      - uses: docker://ghcr.io/deploy-relay/deploy-relay:main\n      - uses: deploy-relay/deploy-relay/actions/verify-ci-status@main",
    );
    commit_all(repo.path(), "A with an image by tag");
    let (_, c) = release(repo.path());
    let problems = unpinned(repo.path(), &c.unwrap(), FORK).join("\n");
    assert!(
        problems.contains(
            "deploy.yml: uses `docker://ghcr.io/deploy-relay/deploy-relay:main`, an image by tag"
        ),
        "{problems}"
    );

    // The root action.yml was not re-rendered: the rewrite refuses to go
    // on from B, and the check names it.
    let repo = copy_of_main();
    let (code, _, err) = pin(repo.path(), &["image", &image()]);
    assert_eq!(code, 0, "{err}");
    render(repo.path());
    let stale = "runs:\n  using: docker\n  image: \"docker://ghcr.io/deploy-relay/deploy-relay:main\"\n  entrypoint: \"/usr/local/bin/relay\"\n";
    std::fs::write(
        repo.path().join("action.yml"),
        format!("name: relay\ndescription: d\n{stale}"),
    )
    .unwrap();
    commit_all(repo.path(), "B with a stale root action.yml");
    let (code, _, err) = pin(repo.path(), &["workflows", FORK]);
    assert_ne!(code, 0);
    assert!(err.contains("action.yml at HEAD does not run"), "{err}");
    let problems = unpinned(repo.path(), "HEAD", FORK).join("\n");
    assert!(
        problems
            .contains(":action.yml: runs image `docker://ghcr.io/deploy-relay/deploy-relay:main`"),
        "{problems}"
    );

    // Every reference rewritten to B in one go: each names a SHA, but
    // pipeline.yml then calls deploy.yml as B holds it, which still uses
    // `@main`. Only following the reference shows it.
    let repo = copy_of_main();
    let b = release_commit_b(repo.path());
    for entry in std::fs::read_dir(repo.path().join(".github/workflows"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let text = text.replace("deploy-relay/deploy-relay/", &format!("{FORK}/"));
        std::fs::write(entry.path(), text.replace("@main", &format!("@{b}"))).unwrap();
    }
    let c = commit_all(repo.path(), "one round");
    let problems = unpinned(repo.path(), &c, FORK).join("\n");
    assert!(
        problems.contains(&format!("pipeline.yml: uses `{FORK}/.github/workflows/deploy.yml@{b}`, whose `.github/workflows/deploy.yml` moves")),
        "{problems}"
    );
    assert!(
        problems.contains("verify-ci-status@main`, by `@main`, which moves"),
        "{problems}"
    );
}

#[test]
fn the_image_must_be_named_by_digest() {
    let repo = copy_of_main();
    for bad in [
        "docker://ghcr.io/octo-fork/deploy-relay:v1.2.3",
        "ghcr.io/octo-fork/deploy-relay@sha256:5f4dcc3b5aa765d61d8327deb882cf992b95f4e5a8b1b2d3c4d5e6f708192a3b",
        "docker://ghcr.io/Octo-Fork/deploy-relay@sha256:5f4dcc3b5aa765d61d8327deb882cf992b95f4e5a8b1b2d3c4d5e6f708192a3b",
        "docker://ghcr.io/octo-fork/deploy-relay@sha256:5f4d",
    ] {
        let (code, _, err) = pin(repo.path(), &["image", bad]);
        assert_eq!(code, 1, "{bad}: {err}");
        assert!(
            err.contains(&format!(
                "image `{bad}` is not a docker:// reference by digest"
            )),
            "{err}"
        );
        assert!(err.contains("hint: "), "{err}");
    }
    let (code, _, err) = pin(repo.path(), &["workflows", FORK]);
    assert_eq!(code, 1);
    assert!(err.contains("not an image by digest"), "{err}");
}

/// release.yml's gate before it pushes: with `DEPLOY_RELAY_RELEASE_REPOSITORY`
/// set to the releasing `owner/repo`, this checkout's HEAD must be a release
/// commit. Unset (every other run), it is skipped.
#[test]
fn this_checkout_is_a_release_commit_when_asked() {
    let env = relay_runtime::Env::from_process();
    let Some(repository) = env.get("DEPLOY_RELAY_RELEASE_REPOSITORY") else {
        eprintln!("skipped: DEPLOY_RELAY_RELEASE_REPOSITORY is not set (release.yml sets it)");
        return;
    };
    let problems = unpinned(root(), "HEAD", repository);
    assert!(
        problems.is_empty(),
        "HEAD is not a release commit:\n{}",
        problems.join("\n")
    );
}
