//! The states GitHub reports as strings, parsed once into enums: a workflow
//! run's or check run's run status and conclusion. They live here, beside
//! [`crate::WorkflowRun`], because the `workflow_run` event carries the same
//! object the REST API answers; `relay-github` re-exports them and adds the
//! commit status and deployment status states with [`github_state!`].
//!
//! A value this version does not know is kept as `Other(text)`, so a state
//! GitHub adds one day never fails a run; it prints and serializes as GitHub
//! spelled it.
//!
//! The values: <https://docs.github.com/en/rest/actions/workflow-runs> and
//! <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-run-statuses>
//! (runs), <https://docs.github.com/en/rest/checks/runs> (check runs).

/// Declares an enum of the values GitHub spells as `snake_case` strings,
/// with an `Other(String)` variant for the rest: `as_str`, `Display`,
/// `FromStr` (never fails) and serde both ways as the string.
///
/// ```
/// relay_runtime::github_state! {
///     /// A light.
///     pub enum Light { Red = "red", Green = "green" }
/// }
/// assert_eq!("green".parse::<Light>(), Ok(Light::Green));
/// assert_eq!(Light::Other("blue".into()).as_str(), "blue");
/// ```
#[macro_export]
macro_rules! github_state {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, as GitHub spelled it.
            Other(String),
        }

        impl $name {
            /// The value as GitHub spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Other(text) => text.as_str(),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(match text {
                    $( $text => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(d)?;
                Ok(match text.parse() {
                    Ok(state) => state,
                    Err(never) => match never {},
                })
            }
        }
    };
}

github_state! {
    /// Where a workflow run or check run is in its life (its run status).
    pub enum RunStatus {
        /// Created, not yet queued (check runs an app requested).
        Requested = "requested",
        /// Waiting for a runner.
        Queued = "queued",
        /// Waiting on a concurrency group.
        Pending = "pending",
        /// Waiting on a protection rule (a reviewer, a wait timer).
        Waiting = "waiting",
        /// Running.
        InProgress = "in_progress",
        /// Over: the conclusion says how it ended.
        Completed = "completed",
    }
}

github_state! {
    /// How a completed workflow run or check run ended.
    pub enum Conclusion {
        /// Passed.
        Success = "success",
        /// Failed.
        Failure = "failure",
        /// Neither passed nor failed (an informational check).
        Neutral = "neutral",
        /// Stopped before it ended.
        Cancelled = "cancelled",
        /// Not run (its condition was false).
        Skipped = "skipped",
        /// Ran longer than allowed.
        TimedOut = "timed_out",
        /// Waiting on a person (details at the check's `details_url`).
        ActionRequired = "action_required",
        /// Set by GitHub on a check run left incomplete too long.
        Stale = "stale",
        /// The workflow file could not start (workflow runs only).
        StartupFailure = "startup_failure",
    }
}

impl RunStatus {
    /// Whether the run is over.
    pub fn is_completed(&self) -> bool {
        *self == Self::Completed
    }
}

impl Conclusion {
    /// Whether it is `success`.
    pub fn is_success(&self) -> bool {
        *self == Self::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_parse_and_print_as_github_spells_them() {
        for (text, status) in [
            ("queued", RunStatus::Queued),
            ("in_progress", RunStatus::InProgress),
            ("completed", RunStatus::Completed),
            ("waiting", RunStatus::Waiting),
        ] {
            assert_eq!(text.parse::<RunStatus>(), Ok(status.clone()));
            assert_eq!(status.to_string(), text);
        }
        let c: Vec<Conclusion> =
            serde_json::from_str(r#"["success","timed_out","action_required"]"#).unwrap();
        assert_eq!(
            c,
            [
                Conclusion::Success,
                Conclusion::TimedOut,
                Conclusion::ActionRequired
            ]
        );
        assert_eq!(
            serde_json::to_value(Conclusion::StartupFailure).unwrap(),
            "startup_failure"
        );
    }

    #[test]
    fn an_unknown_value_is_kept_not_refused() {
        let c: Conclusion = serde_json::from_str(r#""exploded""#).unwrap();
        assert_eq!(c, Conclusion::Other("exploded".into()));
        assert_eq!(serde_json::to_string(&c).unwrap(), r#""exploded""#);
        assert!(!c.is_success());
        let s: RunStatus = serde_json::from_value(serde_json::json!("paused")).unwrap();
        assert!(!s.is_completed());
        assert_eq!(s.as_str(), "paused");
    }
}
