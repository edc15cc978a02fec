//! The token on the wire: the one place a GitHub token becomes a header.

use relay_runtime::Secret;

/// The `Authorization` header value for `token`, marked sensitive so that
/// hyper and reqwest never log it.
pub(crate) fn authorization(token: &Secret) -> Option<http::HeaderValue> {
    let mut value = http::HeaderValue::from_str(&format!("Bearer {}", token.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// What `deploy-relay`'s operator commands still call (`Token::new(secret)`);
/// the client takes the [`Secret`] itself. To be removed once they pass it.
#[doc(hidden)]
#[derive(Debug)]
pub struct Token;

impl Token {
    /// The secret, unchanged.
    #[doc(hidden)]
    #[allow(clippy::new_ret_no_self)] // a shim for one call site, removed with it
    pub fn new(secret: Secret) -> Secret {
        secret
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_sensitive() {
        let h = authorization(&Secret::new("ghp_secret123")).unwrap();
        assert!(h.is_sensitive());
        assert_eq!(h.to_str().unwrap(), "Bearer ghp_secret123");
        assert!(!format!("{h:?}").contains("ghp_secret123"));
    }
}
