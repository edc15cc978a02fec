//! Errors every action shares, and how they reach the user.

use std::fmt;

/// A bad input, found before any network request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The input's name.
    pub input: String,
    /// What is wrong, with the value where it can be shown.
    pub problem: String,
    /// What to do.
    pub hint: String,
}

impl InputError {
    /// Input `input` is wrong: `problem`; `hint` says what to do.
    pub fn new(input: &str, problem: &str, hint: &str) -> Self {
        Self {
            input: input.to_owned(),
            problem: problem.to_owned(),
            hint: hint.to_owned(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input `{}` {}", self.input, self.problem)?;
        if !self.hint.is_empty() {
            write!(f, "\nhint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// The text of the one `::error::` line a failure prints: the error and its
/// causes, outermost first.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        // thiserror sources are often repeated in the outer message.
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// The innermost cause of an error, as text: what a transport library
/// says actually went wrong (`connection refused`) under its wrappers.
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last: &dyn std::error::Error = err;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn input_error_names_input_problem_and_hint() {
        let e = InputError::new("event-type", "is 101 characters long", "use at most 100");
        assert_eq!(
            e.to_string(),
            "input `event-type` is 101 characters long\nhint: use at most 100"
        );
    }

    #[test]
    fn root_cause_walks_to_the_innermost_error() {
        let io = std::io::Error::other("connection refused");
        let outer = anyhow::Error::new(io).context("couldn't send");
        assert_eq!(root_cause(outer.as_ref()), "connection refused");
    }

    #[test]
    fn error_text_joins_causes_once() {
        let err = Err::<(), _>(InputError::new("a", "b", ""))
            .context("couldn't dispatch")
            .unwrap_err();
        assert_eq!(error_text(&err), "couldn't dispatch: input `a` b");
    }
}
