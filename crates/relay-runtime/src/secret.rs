//! The one secret type: a token, a webhook secret, a credential-bearing
//! header value — anything that must never reach a log.

use std::fmt;

use zeroize::Zeroizing;

/// A secret string. It has no `Display`, and `Debug` shows `Secret(***)`:
/// the only way to the text is [`Secret::expose`], at the one place that
/// puts it on the wire. The memory is wiped when it is dropped.
///
/// In an action a secret is masked as it is made: [`crate::Inputs::secret`]
/// hands out only inputs the spec marks secret (masked before anything is
/// printed), and [`crate::Console::secret`] masks a secret from elsewhere
/// (an env variable) before wrapping it. [`Secret::new`] masks nothing:
/// it is for a server's own secrets, which never reach a workflow log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps `value` without masking it (see the type's documentation).
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The text, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("ghp_abc%:,\n");
        assert_eq!(
            format!("{s:?} {s:#?} {:?}", Some(&s)),
            "Secret(***) Secret(***) Some(Secret(***))"
        );
        assert_eq!(s.expose(), "ghp_abc%:,\n");
    }
}
