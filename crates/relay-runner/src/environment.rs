//! Deployment environments as a runner setting: which exist, which are
//! protected by required reviewers, and the reviews a test gives.
//!
//! - "Running a workflow that references an environment that does not
//!   exist will create an environment with the referenced name. [...] the
//!   newly created environment will not have any protection rules or
//!   secrets configured."
//!   (<https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/manage-environments>)
//! - "All deployment protection rules must pass before a job referencing
//!   the environment is sent to a runner"
//!   (<https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idenvironment>);
//!   with required reviewers, "a job cannot access environment secrets
//!   until one of the required reviewers approves it"
//!   (<https://docs.github.com/en/actions/reference/workflows-and-actions/deployments-and-environments#required-reviewers>).
//! - "If a job is rejected, the workflow will fail."
//!   (<https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/review-deployments>)

use std::collections::BTreeMap;

/// An environment's protection rules, as far as the runner models them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// No rules: a job referencing it goes on at once.
    None,
    /// A reviewer must approve each job that references it.
    RequiredReviewers,
}

/// A job waiting for a review.
#[derive(Debug, Clone)]
pub struct ReviewRequest {
    /// The job, `file/job`.
    pub job: String,
    /// The environment the job deploys to, as the job names it.
    pub environment: String,
}

/// A reviewer's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    /// The job goes on.
    Approve,
    /// The job fails, saying a reviewer rejected it.
    Reject,
    /// Not yet: the job keeps waiting (holding any concurrency group it
    /// took) while other runs take their turns, and is asked again.
    Wait,
}

pub(crate) type Reviewer = Box<dyn FnMut(&ReviewRequest) -> Review + Send>;

/// The repository's environments.
#[derive(Default)]
pub(crate) struct Environments {
    /// Name (as first written) → protection.
    known: BTreeMap<String, Protection>,
}

impl Environments {
    pub(crate) fn set(&mut self, name: &str, protection: Protection) {
        let key = self.key(name).unwrap_or_else(|| name.to_owned());
        self.known.insert(key, protection);
    }

    /// An environment that exists (it holds secrets), unprotected unless
    /// declared otherwise.
    pub(crate) fn exists(&mut self, name: &str) {
        if self.key(name).is_none() {
            self.known.insert(name.to_owned(), Protection::None);
        }
    }

    /// GitHub's environment names are matched without regard to case.
    fn key(&self, name: &str) -> Option<String> {
        self.known
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// The protection of `name`, creating it unprotected on first use;
    /// `true` when this use created it.
    pub(crate) fn use_environment(&mut self, name: &str) -> (Protection, bool) {
        if let Some(k) = self.key(name) {
            (self.known[&k], false)
        } else {
            self.known.insert(name.to_owned(), Protection::None);
            (Protection::None, true)
        }
    }
}
