//! What can go wrong with a record, said so a user can fix it.

/// A failed record operation. GitHub's refusals keep their call and hint.
#[derive(Debug, thiserror::Error)]
// Each variant's `#[error]` text says when it happens and what its
// fields hold.
#[allow(missing_docs)]
pub enum Error {
    #[error(transparent)]
    GitHub(#[from] relay_github::Error),
    #[error(
        "deployment {id} of `{repo}` is not a deploy-relay record (task `{task}`)\nhint: pass the `deployment-id` output of the step that ran `mode: start`"
    )]
    NotARecord { id: u64, repo: String, task: String },
    #[error(
        "deployment {id} of `{repo}` names no app commit in its payload, so it cannot be finished or its commit status set\nhint: pass the `deployment-id` output of the step that ran `mode: start`"
    )]
    NoPayload { id: u64, repo: String },
    #[error(
        "deployment {id} of `{repo}` is a deploy to `{environment}`, not `{expected}`, so it was left alone\nhint: pass the `deployment-id` of the `mode: start` step of this environment"
    )]
    WrongEnvironment {
        id: u64,
        repo: String,
        environment: String,
        expected: String,
    },
    #[error(
        "the record names the app repository `{repository}`, which is not `owner/repo`, so no commit status was set"
    )]
    BadRepository { repository: String },
}
