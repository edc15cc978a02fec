use crate::{ExtractError, NameError, TokenError};

/// Everything the artifacts protocol can fail with.
#[derive(Debug, thiserror::Error)]
// Each variant's `#[error]` text says when it happens and what its
// fields hold.
#[allow(missing_docs)]
pub enum ArtifactError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(
        "an artifact named `{name}` already exists in this run\nhint: pick another name, or set `overwrite: true` to replace it"
    )]
    AlreadyExists { name: String },
    #[error("artifacts service `{method}` failed with HTTP {status}: {msg}{}", service_hint(*status))]
    Service {
        method: &'static str,
        status: u16,
        msg: String,
    },
    #[error(
        "artifacts service `{method}` answered unexpectedly: {what}\nhint: re-run the job; if it goes on, report it with this message"
    )]
    BadResponse { method: &'static str, what: String },
    #[error(
        "{what} failed after {attempts} attempts: {last}\nhint: the service kept failing or stalling; re-run the job, and check https://www.githubstatus.com if it goes on"
    )]
    Exhausted {
        what: String,
        attempts: u32,
        last: String,
    },
    #[error("blob storage refused {what} with HTTP {status}{}", hint(*status))]
    Blob { what: String, status: u16 },
    #[error(transparent)]
    Rest(#[from] relay_github::Error),
    #[error(
        "artifact `{name}` has expired and can no longer be downloaded\nhint: re-run the workflow that built it, or raise its `retention-days`"
    )]
    Expired { name: String },
    #[error(
        "artifact `{name}` does not match its recorded digest: expected `{expected}`, got `{actual}`; nothing was re-uploaded\nhint: the download was corrupted or the artifact changed; run again, or set `verify-digest: warn`"
    )]
    DigestMismatch {
        name: String,
        expected: String,
        actual: String,
    },
    #[error(
        "the zips waiting to be extracted would take more than {limit} bytes of disk; refusing a possible zip bomb\nhint: raise `extract-max-size` if the artifacts are really this large (the zips and the extracted files each get that much)"
    )]
    SpoolTooLarge { limit: u64 },
    #[error(
        "ACTIONS_RESULTS_URL is not set, so artifacts cannot be uploaded\nhint: run this step as a container action in a GitHub Actions job (the runner sets it), or do not re-upload"
    )]
    NoResultsUrl,
    #[error("the re-upload name `{name}` for artifact `{artifact}` is refused: {source}")]
    BadNewName {
        artifact: String,
        name: String,
        #[source]
        source: NameError,
    },
    #[error(
        "artifacts `{first}` and `{second}` would get the same name `{name}`\nhint: put `{{name}}` in the re-upload name template"
    )]
    SameName {
        first: String,
        second: String,
        name: String,
    },
    #[error(
        "this run already has an artifact named {}\nhint: pick another re-upload name, or set `overwrite: true` to replace it",
        quoted(names)
    )]
    Taken { names: Vec<String> },
    #[error("stopped because another artifact failed")]
    Stopped,
    #[error("couldn't relay artifact `{name}`")]
    Artifact {
        name: String,
        #[source]
        source: Box<ArtifactError>,
    },
    #[error(
        "cannot write `{}`: {source}\nhint: check that `path` is writable and the disk has room", path.display()
    )]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// An input that cannot be used.
    #[error(transparent)]
    Input(#[from] relay_runtime::InputError),
    /// The run has none (or not all) of the artifacts asked for, under
    /// `if-no-artifact-found: error`.
    #[error(
        "{what}{undone}\nhint: check {check} against the run's artifacts, or set `if-no-artifact-found: warn`"
    )]
    NotFound {
        what: String,
        undone: String,
        check: String,
    },
}

fn service_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => {
            "\nhint: the service refused the runtime token; ACTIONS_RUNTIME_TOKEN is the job's own, so run this step inside that job on its runner, not with a token copied from elsewhere"
        }
        _ => "\nhint: re-run the job; if it goes on, report it with this message",
    }
}

fn hint(status: u16) -> &'static str {
    if status == 403 {
        "\nhint: the signed URL has probably expired; run the step again"
    } else {
        "\nhint: re-run the job; if it goes on, check https://www.githubstatus.com"
    }
}

pub(crate) fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
