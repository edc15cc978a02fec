//! download-and-reupload-artifacts run as the runner runs it, against the
//! fake GitHub (REST: list, `/zip` redirect) and the fake results service
//! with its blob store (Twirp, block blobs).
#![allow(clippy::unwrap_used)] // test support code outside #[test] fns

mod failures;
mod hardening;
mod inputs;
mod interop;
mod select;
mod tokens;

use std::io::{Cursor, Write as _};
use std::path::Path;

use relay_fakes::ArtifactSeed;
use relay_fakes::FakeArtifacts;
use relay_fakes::{DEFAULT_TOKEN, FakeGitHub};
use relay_testkit::openapi::OpenApi;
use relay_testkit::{ActionRun, Outcome, events};
use serde_json::Value;
use zip::write::SimpleFileOptions;

pub const BIN: &str = env!("CARGO_BIN_EXE_download-and-reupload-artifacts");
/// The build repository and its run that made the artifacts.
pub const SOURCE: &str = "octo/build";
pub const RUN: u64 = 9001;
pub const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
/// Backend ids: the source run's artifacts live under `SRC_RUN`; the
/// current run (the runtime token's) is `CUR_RUN`.
pub const SRC_RUN: &str = "src-run";
pub const CUR_RUN: &str = "cur-run";

pub struct World {
    pub gh: FakeGitHub,
    pub art: FakeArtifacts,
}

pub fn world() -> World {
    let gh = FakeGitHub::start();
    gh.repo(SOURCE, "main");
    gh.repo("octo/app", "main");
    World {
        gh,
        art: FakeArtifacts::start(),
    }
}

impl World {
    /// An artifact of the source run, on both sides; returns its REST id.
    pub fn artifact(&self, name: &str, zip: Vec<u8>) -> u64 {
        let size = zip.len() as u64;
        let (_, url, digest) = self.art.seed(SRC_RUN, name, zip);
        self.gh.add_artifact(
            SOURCE,
            RUN,
            ArtifactSeed::new(name, &url, size).digest(&digest),
        )
    }

    /// The action under a `workflow_run` event for `SOURCE`'s run `RUN`,
    /// debug on (so every test also checks that no secret leaks).
    pub fn action(&self) -> ActionRun {
        ActionRun::new(BIN)
            .api(self.gh.url())
            .input("github-token", DEFAULT_TOKEN)
            .env("ACTIONS_RESULTS_URL", self.art.url())
            .env(
                "ACTIONS_RUNTIME_TOKEN",
                &FakeArtifacts::runtime_token(CUR_RUN, "cur-job"),
            )
            .env("RUNNER_DEBUG", "1")
            .event(
                "workflow_run",
                events::workflow_run(SOURCE, SHA, "main", RUN, "success"),
            )
    }

    /// Names of the finalized artifacts of the current run.
    pub fn reuploaded(&self) -> Vec<String> {
        self.art
            .artifacts(CUR_RUN)
            .into_iter()
            .filter(|a| a.finalized)
            .map(|a| a.name)
            .collect()
    }
}

pub fn run(a: ActionRun) -> Outcome {
    let out = a.run();
    out.assert_secret_hidden(DEFAULT_TOKEN);
    out.assert_secret_hidden(&FakeArtifacts::runtime_token(CUR_RUN, "cur-job"));
    if out.code != 0 {
        // Every failure says what went wrong and what to do.
        assert!(out.error().contains("\nhint: "), "no hint\n{}", out.log());
    }
    out
}

/// A zip entry for [`zip_of`].
pub enum E<'a> {
    File(&'a str, &'a [u8]),
    Mode(&'a str, &'a [u8], u32),
    Link(&'a str, &'a str),
}

pub fn zip_of(entries: &[E<'_>]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for e in entries {
        match e {
            E::File(name, data) => {
                w.start_file(*name, SimpleFileOptions::default()).unwrap();
                w.write_all(data).unwrap();
            }
            E::Mode(name, data, mode) => {
                w.start_file(*name, SimpleFileOptions::default().unix_permissions(*mode))
                    .unwrap();
                w.write_all(data).unwrap();
            }
            E::Link(name, target) => w
                .add_symlink(*name, *target, SimpleFileOptions::default())
                .unwrap(),
        }
    }
    w.finish().unwrap().into_inner()
}

pub fn artifacts_output(out: &Outcome) -> Vec<Value> {
    serde_json::from_str(out.output("artifacts")).unwrap()
}

pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Every REST request was one GitHub documents.
pub fn assert_documented(w: &World) {
    if let Some(api) = OpenApi::load() {
        for r in w.gh.requests() {
            api.validate(&r).unwrap();
        }
    }
}

#[test]
fn relays_every_artifact_of_the_triggering_run_and_extracts_it() {
    let w = world();
    let web = zip_of(&[
        E::File("index.html", b"<h1>v2</h1>"),
        E::File("assets/app.js", b"console.log(2)"),
        E::Link("latest.html", "index.html"),
    ]);
    let api = zip_of(&[E::Mode("bin/server", b"#!/bin/sh\necho ok\n", 0o755)]);
    let web_id = w.artifact("web", web.clone());
    let api_id = w.artifact("api", api.clone());
    let out = run(w.action().input("retention-days", "5"));
    out.assert_success();

    // Re-uploaded byte for byte under the deployment names, with the
    // source run's head sha (not the runner's GITHUB_SHA).
    let mut names = w.reuploaded();
    names.sort();
    assert_eq!(names, ["deploy-api-9f86d08", "deploy-web-9f86d08"]);
    assert_eq!(w.art.content(CUR_RUN, "deploy-web-9f86d08").unwrap(), web);
    assert_eq!(w.art.content(CUR_RUN, "deploy-api-9f86d08").unwrap(), api);
    assert!(
        !w.art.blob_saw_authorization(),
        "a token went to blob storage"
    );
    let creates: Vec<Value> = w
        .art
        .calls()
        .into_iter()
        .filter(|(m, _)| m == "CreateArtifact")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(creates.len(), 2);
    assert_eq!(creates[0]["version"], 7);
    assert!(
        creates[0]["expires_at"].as_str().is_some(),
        "{:?}",
        creates[0]
    );

    // Extracted safely into path/<name>/, modes and inner links kept.
    let root = out.workspace.join("artifacts");
    assert_eq!(read(root.join("web/index.html")), "<h1>v2</h1>");
    assert_eq!(read(root.join("web/assets/app.js")), "console.log(2)");
    assert_eq!(read(root.join("web/latest.html")), "<h1>v2</h1>");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(root.join("api/bin/server"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    let spools: Vec<_> = std::fs::read_dir(&out.workspace)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(spools, ["artifacts"], "spool files are removed");

    // Outputs a later dispatch-deploy can use.
    assert_eq!(out.output("found"), "true");
    assert_eq!(out.output("count"), "2");
    assert_eq!(out.output("download-path"), root.display().to_string());
    let list = artifacts_output(&out);
    assert_eq!(list[0]["name"], "api");
    assert_eq!(list[0]["id"], api_id);
    assert_eq!(list[1]["id"], web_id);
    assert_eq!(list[1]["size"], web.len());
    assert_eq!(list[1]["reupload_name"], "deploy-web-9f86d08");
    assert!(list[1]["reupload_id"].as_i64().is_some());
    assert_eq!(
        list[1]["path"],
        root.join("web").display().to_string().as_str()
    );
    let digest = list[1]["digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    // The summary is a table with sizes, digests and new names.
    assert!(out.summary.contains("| `web` |"), "{}", out.summary);
    assert!(out.summary.contains("`deploy-web-9f86d08`"));
    assert!(out.summary.contains("matches"));
    assert!(out.summary.contains(&digest[7..23]));
    assert_documented(&w);
    for r in w.gh.requests() {
        assert!(r.headers["user-agent"].starts_with("deploy-relay/"));
    }
}

#[test]
fn no_artifacts_is_found_false_and_a_warning_by_default() {
    let w = world();
    let out = run(w.action());
    out.assert_success();
    assert_eq!(out.output("found"), "false");
    assert_eq!(out.output("count"), "0");
    assert_eq!(out.output("artifacts"), "[]");
    let warnings = out.commands("warning");
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("no artifact of run 9001")),
        "{warnings:?}"
    );
    assert!(out.summary.contains("No artifacts matched"));
}

#[test]
fn no_artifacts_fails_under_if_no_artifact_found_error_and_is_quiet_under_ignore() {
    let w = world();
    let out = run(w.action().input("if-no-artifact-found", "error"));
    out.assert_failure();
    assert!(
        out.error().contains("no artifact of run 9001"),
        "{}",
        out.error()
    );
    assert!(out.error().contains("hint:"));

    let quiet = run(w.action().input("if-no-artifact-found", "ignore"));
    quiet.assert_success();
    assert!(quiet.commands("warning").is_empty());
    assert_eq!(quiet.output("found"), "false");
}

#[test]
fn reupload_false_extracts_only_and_never_calls_the_results_service() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("a.txt", b"a")]));
    let out = run(w
        .action()
        .input("reupload", "false")
        .without_env("ACTIONS_RUNTIME_TOKEN")
        .without_env("ACTIONS_RESULTS_URL"));
    out.assert_success();
    assert_eq!(read(out.workspace.join("artifacts/web/a.txt")), "a");
    assert!(w.art.calls().is_empty());
    let list = artifacts_output(&out);
    assert_eq!(list[0]["reupload_name"], Value::Null);
}

#[test]
fn extract_false_without_reupload_keeps_the_zip() {
    let w = world();
    let zip = zip_of(&[E::File("a.txt", b"a")]);
    w.artifact("web", zip.clone());
    let out = run(w
        .action()
        .input("reupload", "false")
        .input("extract", "false")
        .input("path", "out"));
    out.assert_success();
    assert_eq!(
        std::fs::read(out.workspace.join("out/web.zip")).unwrap(),
        zip
    );
    assert_eq!(
        artifacts_output(&out)[0]["path"],
        out.workspace
            .join("out/web.zip")
            .display()
            .to_string()
            .as_str()
    );
}

#[test]
fn extract_false_relays_without_writing_files() {
    let w = world();
    let zip = zip_of(&[E::File("a.txt", b"a")]);
    w.artifact("web", zip.clone());
    let out = run(w.action().input("extract", "false"));
    out.assert_success();
    assert_eq!(w.art.content(CUR_RUN, "deploy-web-9f86d08").unwrap(), zip);
    let root = out.workspace.join("artifacts");
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    assert_eq!(artifacts_output(&out)[0]["path"], Value::Null);
}

#[test]
fn merge_multiple_puts_every_artifact_in_path() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("web.txt", b"w")]));
    w.artifact("api", zip_of(&[E::File("api.txt", b"a")]));
    let out = run(w
        .action()
        .input("merge-multiple", "true")
        .input("path", "dist"));
    out.assert_success();
    assert_eq!(read(out.workspace.join("dist/web.txt")), "w");
    assert_eq!(read(out.workspace.join("dist/api.txt")), "a");
}

#[test]
fn a_repository_dispatch_names_the_run_in_its_payload() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("a.txt", b"a")]));
    let payload = serde_json::json!({
        "repository": SOURCE, "sha": SHA, "ref": "refs/heads/main",
        "workflow_run_id": RUN.to_string(), "environment": "production",
    });
    let out = run(w
        .action()
        .event(
            "repository_dispatch",
            events::repository_dispatch("deploy", payload),
        )
        .input("reupload-name", "{environment}-{name}-{run_id}"));
    out.assert_success();
    assert_eq!(w.reuploaded(), ["production-web-9001"]);
}

#[test]
fn the_same_binary_runs_from_the_command_line() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("a.txt", b"a")]));
    let out = run(w
        .action()
        .without_output_file()
        .arg("--name")
        .arg("web")
        .arg("--reupload-name")
        .arg("cli-{name}"));
    out.assert_success();
    assert!(out.stdout.contains("found=true"), "{}", out.stdout);
    assert_eq!(w.reuploaded(), ["cli-web"]);
}

#[test]
fn retention_is_capped_by_the_repository_and_compression_level_is_a_no_op() {
    let w = world();
    w.artifact("web", zip_of(&[E::File("a.txt", b"a")]));
    let out = run(w
        .action()
        .input("retention-days", "30")
        .env("GITHUB_RETENTION_DAYS", "3")
        .input("compression-level", "6"));
    out.assert_success();
    let warnings = out.commands("warning");
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("capped at the repository's maximum of 3 days")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("`compression-level: 6`") && m.contains("never re-compressed")),
        "{warnings:?}"
    );
    let create = w
        .art
        .calls()
        .into_iter()
        .find(|(m, _)| m == "CreateArtifact")
        .unwrap()
        .1;
    let at = time::OffsetDateTime::parse(
        create["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let hours = (at - time::OffsetDateTime::now_utc()).whole_hours();
    assert!(
        (71..=72).contains(&hours),
        "expires in {hours} h, not 3 days"
    );
}

/// A zip as `upload-artifact` writes one at `compression-level: 0`: every
/// entry stored, with data descriptors.
fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new_stream(Vec::new());
    for (name, data) in entries {
        let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        w.start_file(*name, o).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_stored_artifact_is_extracted_and_reuploaded_byte_for_byte() {
    // The first entry spans several upload blocks; its bytes become the
    // extracted file without a second write, the rest is extracted as usual.
    let big: Vec<u8> = (0..9 * (1 << 20) + 7)
        .map(|i: u32| (i * 31 % 251) as u8)
        .collect();
    let zip = stored_zip(&[("app.tar", &big), ("VERSION", b"2.0.1\n")]);
    for overwrite in [false, true] {
        let w = world();
        w.artifact("web", zip.clone());
        let mut a = w.action();
        if overwrite {
            // Replacing an artifact of this run uploads from the spool
            // after extraction, so the spool must stay whole.
            let first = run(w.action());
            first.assert_success();
            a = a.input("overwrite", "true");
        }
        let out = run(a);
        out.assert_success();
        assert_eq!(
            w.art.content(CUR_RUN, "deploy-web-9f86d08").unwrap(),
            zip,
            "overwrite {overwrite}"
        );
        let root = out.workspace.join("artifacts/web");
        assert!(
            std::fs::read(root.join("app.tar")).unwrap() == big,
            "overwrite {overwrite}"
        );
        assert_eq!(read(root.join("VERSION")), "2.0.1\n");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(root.join("app.tar"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o644);
        let left: Vec<_> = std::fs::read_dir(&out.workspace)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, ["artifacts"], "spool files are removed");
    }
}
