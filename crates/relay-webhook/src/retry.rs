//! What to do after one try — the whole retry rule in one pure function, so
//! the two ends' agreement is written down once (and the loop around it can
//! move to a shared retry helper without carrying the policy along).
//!
//! deploy-receiver puts `exit_code` in every answer of a deploy that ran
//! (`null` after a timeout), and never in its "nothing ran" answers. So:
//! an answer with `exit_code` is final; only what certainly did not run is
//! tried again; what may have run is reported as an unknown outcome.

use std::time::Duration;

/// What one try came to, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tried {
    /// No connection was made: the request never left the runner.
    NotSent,
    /// The request went out and no answer came (broken connection, timeout):
    /// the deploy may be running.
    NoAnswer,
    /// An answer came (perhaps one cut short).
    Answered {
        /// Its HTTP status.
        status: u16,
        /// The answer carries a verdict (`Deploy-Exit-Code`, or `exit_code`
        /// in the JSON body): the deploy ran.
        exit_code: bool,
        /// The body was cut before it could be read, and no header carried
        /// the verdict.
        verdict_unread: bool,
        /// A `202` naming a status path: an async deploy was accepted.
        status_path: bool,
        /// The server's `Retry-After`, if it sent one: how long to wait
        /// before a retry.
        retry_after: Option<Duration>,
    },
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing ran: the same delivery may be sent again (after the server's
    /// `retry-after`, when it gave one).
    Retry {
        /// The server's asked-for wait; `None` means the usual back-off.
        after: Option<Duration>,
    },
    /// Accepted asynchronously: follow its status path.
    Follow,
    /// A final answer: report it as it is.
    Final,
    /// The deploy may or may not have run; retrying could deploy twice.
    Unknown,
}

/// The rule itself: what to do after a try that came to `tried`. Both ends
/// rely on it — deploy-receiver answers so that this reading is right.
#[allow(clippy::match_same_arms)] // one arm per case of the rule, each with its why
pub fn next(tried: Tried) -> Next {
    match tried {
        Tried::NotSent => Next::Retry { after: None },
        Tried::NoAnswer => Next::Unknown,
        Tried::Answered {
            exit_code: true, ..
        } => Next::Final,
        // The statuses whose meaning hangs on the body — "nothing ran" or
        // "rolled back", busy or duplicate, accepted or not — with a body
        // cut before it could be read: never guessed.
        Tried::Answered {
            status: 202 | 409 | 429 | 503,
            verdict_unread: true,
            ..
        } => Next::Unknown,
        Tried::Answered {
            status: 202,
            status_path: true,
            ..
        } => Next::Follow,
        // Busy or not ready (deploy-receiver's budget or connection limit,
        // a proxy whose backend is restarting), and nothing ran.
        Tried::Answered {
            status: 429 | 503,
            retry_after,
            ..
        } => Next::Retry { after: retry_after },
        // A proxy that gave up waiting, or lost its backend mid-request.
        Tried::Answered {
            status: 502 | 504, ..
        } => Next::Unknown,
        Tried::Answered { .. } => Next::Final,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, exit_code: bool) -> Tried {
        Tried::Answered {
            status,
            exit_code,
            verdict_unread: false,
            status_path: false,
            retry_after: None,
        }
    }

    #[test]
    fn a_cut_body_is_never_read_as_nothing_ran_or_accepted() {
        for status in [202, 409, 429, 503] {
            let cut = Tried::Answered {
                status,
                exit_code: false,
                verdict_unread: true,
                status_path: status == 202,
                retry_after: None,
            };
            assert_eq!(next(cut), Next::Unknown, "{status}");
        }
        for (status, expect) in [(200, Next::Final), (500, Next::Final), (502, Next::Unknown)] {
            let cut = Tried::Answered {
                status,
                exit_code: false,
                verdict_unread: true,
                status_path: false,
                retry_after: None,
            };
            assert_eq!(next(cut), expect, "{status}");
        }
    }

    #[test]
    fn the_rule() {
        assert_eq!(next(Tried::NotSent), Next::Retry { after: None });
        assert_eq!(next(Tried::NoAnswer), Next::Unknown);
        // deploy-receiver's "unhealthy, rolled back" and "timed out": they ran.
        assert_eq!(next(answered(503, true)), Next::Final);
        assert_eq!(next(answered(504, true)), Next::Final);
        assert_eq!(next(answered(500, true)), Next::Final);
        // Busy before anything ran.
        assert_eq!(next(answered(503, false)), Next::Retry { after: None });
        let later = Tried::Answered {
            status: 429,
            exit_code: false,
            verdict_unread: false,
            status_path: false,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            next(later),
            Next::Retry {
                after: Some(Duration::from_secs(3))
            }
        );
        // A proxy's 502/504: unknown, never retried.
        assert_eq!(next(answered(502, false)), Next::Unknown);
        assert_eq!(next(answered(504, false)), Next::Unknown);
        // Refusals and everything else are final.
        for status in [200, 204, 400, 401, 409, 422, 500] {
            assert_eq!(next(answered(status, false)), Next::Final, "{status}");
        }
        let accepted = Tried::Answered {
            status: 202,
            exit_code: false,
            verdict_unread: false,
            status_path: true,
            retry_after: None,
        };
        assert_eq!(next(accepted), Next::Follow);
        assert_eq!(
            next(answered(202, false)),
            Next::Final,
            "a plain 202 is an answer"
        );
    }
}
