//! A token that cannot be printed by accident.

use std::fmt;

/// A GitHub token. `Debug` and `Display` never show it; the only way to the
/// text is [`Token::expose`], used when building the `Authorization` header
/// (which is then marked sensitive).
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `Authorization` header value, marked sensitive so that hyper and
    /// reqwest never log it.
    pub fn header(&self) -> Option<http::HeaderValue> {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {}", self.0)).ok()?;
        value.set_sensitive(true);
        Some(value)
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
        let t = Token::new("ghp_secret123");
        assert_eq!(format!("{t} {t:?} {t:#?}"), "*** Token(***) Token(***)");
        assert_eq!(t.expose(), "ghp_secret123");
        assert!(t.header().unwrap().is_sensitive());
    }
}
