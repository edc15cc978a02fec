//! The build's image references, handed over as an artifact.
//!
//! The relay runs in a run of its own (`workflow_run`), which cannot read
//! the build's step outputs, so what the build pushed comes as a small
//! artifact of the build run (default name `deploy-relay-images`): lines of
//! `key=reference`, written from `docker/build-push-action`'s `digest`
//! output, e.g. `image=ghcr.io/o/api@sha256:<64 hex>`. Each key becomes a
//! top-level field of the dispatch payload holding the full reference, so
//! what the VM pulls is exactly what the build pushed.

use std::collections::BTreeMap;
use std::path::Path;

use relay_artifacts::{
    ArtifactMove, Destination, DigestPolicy, ExtractLimits, RestArtifact, RetryPolicy, Transfer,
    TransferConfig,
};
use relay_github::GitHub;
use relay_runtime::{Console, ImageRef, RepoName};

/// The artifact's name when `images-artifact` is not set.
pub(crate) const DEFAULT_NAME: &str = "deploy-relay-images";

/// A few references fit in a few KiB; anything much larger is not one.
const MAX_BYTES: u64 = 64 * 1024;
const MAX_FILES: usize = 16;

/// Payload keys the relay computes itself; an image may not take one.
const RESERVED: &[&str] = &[
    "repository",
    "ref",
    "sha",
    "workflow_run_id",
    "environment",
    "dispatch_id",
    "artifacts_run_id",
];

/// `key=reference` lines of one file (`file` names it in messages):
/// blank lines and `#` comments skipped, every key a payload word used
/// once, every reference one a VM can pull.
pub(crate) fn parse(
    file: &str,
    text: &str,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("`{file}` line {}", n + 1);
        let (key, reference) = line
            .split_once('=')
            .ok_or_else(|| format!("{at} is not `key=reference`"))?;
        let (key, reference) = (key.trim(), reference.trim());
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "{at} has key `{key}`, which is not a word (letters, digits, `_`)"
            ));
        }
        if RESERVED.contains(&key) {
            return Err(format!("{at} has key `{key}`, which the relay sets itself"));
        }
        ImageRef::parse(reference).map_err(|why| format!("{at}: `{key}` {why}"))?;
        if out.insert(key.to_owned(), reference.to_owned()).is_some() {
            return Err(format!("{at} names `{key}` a second time"));
        }
    }
    Ok(())
}

/// Downloads `artifact` (digest-checked, extracted safely into a folder of
/// its own under the working directory, removed again) and reads its files
/// in name order.
pub(crate) async fn read(
    gh: &GitHub,
    repo: &RepoName,
    artifact: &RestArtifact,
    digest: DigestPolicy,
    retry: RetryPolicy,
    console: Console,
) -> anyhow::Result<BTreeMap<String, String>> {
    if artifact.size_in_bytes > MAX_BYTES {
        anyhow::bail!(
            "artifact `{}` is {} bytes; image references fit in {MAX_BYTES}\nhint: upload only the `key=reference` lines",
            artifact.name,
            artifact.size_in_bytes
        );
    }
    let dir = tempfile::Builder::new()
        .prefix(".deploy-relay-images-")
        .tempdir_in(".")?;
    let config = TransferConfig {
        upload: None,
        destination: Destination::Extract {
            dir: dir.path().to_owned(),
            together: true,
            limits: ExtractLimits {
                max_total_bytes: MAX_BYTES,
                max_entries: MAX_FILES,
            },
        },
        digest,
        retry,
    };
    Transfer::new(gh, repo, relay_artifacts::http_client()?, config, console)?
        .run(&[ArtifactMove {
            source: artifact.clone(),
            new_name: None,
        }])
        .await?;
    let mut images = BTreeMap::new();
    for (name, text) in files(dir.path())? {
        parse(&name, &text, &mut images).map_err(|why| {
            anyhow::anyhow!(
                "artifact `{}` of the build: {why}\nhint: write one `key=reference` line per image, e.g. `image=ghcr.io/my-org/api@sha256:<digest>` from docker/build-push-action's `digest` output",
                artifact.name
            )
        })?;
    }
    Ok(images)
}

/// Every file under `dir` (relative name, text), in name order.
fn files(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let kind = e.file_type()?;
            if kind.is_dir() {
                stack.push(e.path());
            } else if kind.is_file() {
                let name = e
                    .path()
                    .strip_prefix(dir)
                    .unwrap_or(&e.path())
                    .display()
                    .to_string();
                let text = std::fs::read_to_string(e.path()).map_err(|_| {
                    anyhow::anyhow!("file `{name}` of the images artifact is not text")
                })?;
                out.push((name, text));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn lines_become_payload_fields() {
        let mut out = BTreeMap::new();
        let text = format!(
            "# written by the build\napi_image=ghcr.io/o/api@{D}\n\n api_test_image = ghcr.io/o/api:abc-test \n"
        );
        parse("images.txt", &text, &mut out).unwrap();
        assert_eq!(out["api_image"], format!("ghcr.io/o/api@{D}"));
        assert_eq!(out["api_test_image"], "ghcr.io/o/api:abc-test");
    }

    #[test]
    fn what_is_refused_names_the_file_and_line() {
        for (text, needle) in [
            ("image ghcr.io/o/api:1", "line 1 is not `key=reference`"),
            ("api-image=ghcr.io/o/api:1", "not a word"),
            ("sha=ghcr.io/o/api:1", "the relay sets itself"),
            ("image=ghcr.io/o/api", "names no tag or digest"),
            ("image=ghcr.io/o/api@sha256:12", "64 hex"),
            ("a=x/y:1\na=x/y:2", "line 2 names `a` a second time"),
            ("image=$(curl evil)", "image"),
        ] {
            let err = parse("f", text, &mut BTreeMap::new()).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
            assert!(err.starts_with("`f` line"), "{err}");
        }
    }
}
