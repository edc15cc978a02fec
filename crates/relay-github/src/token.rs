//! A GitHub token that cannot be printed by accident.

use std::fmt;

use relay_runtime::Secret;

/// A GitHub token. `Debug` and `Display` never show it; it reaches the wire
/// only as the `Authorization` header, marked sensitive.
#[derive(Clone)]
pub struct Token(Secret);

impl Token {
    pub fn new(secret: Secret) -> Self {
        Self(secret)
    }

    /// The token's text, as [`Secret::expose`]: for the wire, and for a
    /// test that must send it by hand.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The `Authorization` header value, marked sensitive so that hyper and
    /// reqwest never log it.
    pub(crate) fn header(&self) -> Option<http::HeaderValue> {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {}", self.0.expose())).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl From<Secret> for Token {
    fn from(secret: Secret) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let t = Token::new(Secret::new("ghp_secret123"));
        assert_eq!(format!("{t} {t:?} {t:#?}"), "*** Token(***) Token(***)");
        let h = t.header().unwrap();
        assert!(h.is_sensitive());
        assert_eq!(h.to_str().unwrap(), "Bearer ghp_secret123");
    }
}
