//! The signing key: the HMAC key bytes a webhook secret stands for, kept
//! out of every `Debug`, `Display` and log line. The secret itself, as a
//! user or a file gives it, is a [`relay_runtime::Secret`]; a key is made
//! from it once, for the scheme in use ([`SigningKey::from_secret`]).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use relay_runtime::Secret;

use crate::{Scheme, SecretError};

const WHSEC_PREFIX: &str = "whsec_";

/// HMAC key bytes. Formatting prints `SigningKey(redacted)`, never the
/// bytes, and the memory is wiped on drop.
#[derive(Clone)]
pub struct SigningKey(Zeroizing<Vec<u8>>);

impl SigningKey {
    /// The key `secret` stands for under `scheme`: its bytes as they are
    /// for GitHub's signature, the base64 after `whsec_` for Standard
    /// Webhooks.
    pub fn from_secret(secret: &Secret, scheme: Scheme) -> Result<Self, SecretError> {
        match scheme {
            Scheme::GitHub => Self::new(secret.expose().as_bytes()),
            Scheme::StandardWebhooks => Self::from_whsec(secret.expose()),
        }
    }

    /// A secret used as raw bytes, as GitHub does with its webhook secret.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let bytes = Zeroizing::new(bytes.into());
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self(bytes))
    }

    /// A Standard Webhooks secret: `whsec_` followed by base64 of the key.
    /// Without the prefix the text is still read as base64, as the reference
    /// libraries do.
    pub fn from_whsec(text: &str) -> Result<Self, SecretError> {
        let encoded = text.trim();
        let encoded = encoded.strip_prefix(WHSEC_PREFIX).unwrap_or(encoded);
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        Self::new(bytes)
    }

    /// The secret as a `whsec_` string, for handing a generated key to a peer.
    pub fn to_whsec(&self) -> String {
        format!("{WHSEC_PREFIX}{}", STANDARD.encode(self.expose()))
    }

    /// Every form in which this secret may turn up in text, for masking:
    /// the bytes as text (when they are UTF-8), `whsec_<base64>`, the bare
    /// base64 key with and without padding. A script that prints the
    /// secret file of a `whsec_` key, or only the part after the prefix,
    /// is masked either way. Longest first, so a form that contains another
    /// is replaced whole.
    pub fn printed_forms(&self) -> Vec<Zeroizing<String>> {
        let bare = STANDARD.encode(self.expose());
        let mut forms = vec![
            Zeroizing::new(format!("{WHSEC_PREFIX}{bare}")),
            Zeroizing::new(bare.trim_end_matches('=').to_owned()),
        ];
        if let Ok(text) = std::str::from_utf8(self.expose()) {
            forms.push(Zeroizing::new(text.to_owned()));
        }
        forms.push(Zeroizing::new(bare));
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup_by(|a, b| a.as_str() == b.as_str());
        forms
    }

    /// The key bytes, for the HMAC and nothing else.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_bytes() {
        let secret = SigningKey::new("hunter2-very-secret").unwrap();
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn a_key_is_made_from_the_one_secret_type_per_scheme() {
        let text = Secret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
        let standard = SigningKey::from_secret(&text, Scheme::StandardWebhooks).unwrap();
        assert_eq!(standard.expose().len(), 24);
        let github = SigningKey::from_secret(&text, Scheme::GitHub).unwrap();
        assert_eq!(github.expose(), text.expose().as_bytes());
        let not_whsec = Secret::new("not base64!");
        assert_eq!(
            SigningKey::from_secret(&not_whsec, Scheme::StandardWebhooks).unwrap_err(),
            SecretError::NotBase64
        );
        assert_eq!(
            SigningKey::from_secret(&Secret::new(""), Scheme::GitHub).unwrap_err(),
            SecretError::Empty
        );
    }

    #[test]
    fn whsec_round_trip_and_errors() {
        let secret = SigningKey::from_whsec("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(secret.expose().len(), 24);
        assert_eq!(secret.to_whsec(), "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
        assert_eq!(
            SigningKey::from_whsec("whsec_not base64!").unwrap_err(),
            SecretError::NotBase64
        );
        assert_eq!(
            SigningKey::from_whsec("whsec_").unwrap_err(),
            SecretError::Empty
        );
        assert_eq!(SigningKey::new("").unwrap_err(), SecretError::Empty);
    }

    #[test]
    fn printed_forms_cover_the_bare_key() {
        let secret = SigningKey::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let forms: Vec<String> = secret
            .printed_forms()
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect();
        assert!(forms.contains(&"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()));
        assert!(forms.contains(&"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()));
        assert!(forms.windows(2).all(|w| w[0].len() >= w[1].len()));
        let padded = SigningKey::new(*b"0123456789").unwrap();
        let forms: Vec<String> = padded
            .printed_forms()
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect();
        assert!(forms.contains(&"MDEyMzQ1Njc4OQ==".to_owned()));
        assert!(forms.contains(&"MDEyMzQ1Njc4OQ".to_owned()));
        assert!(forms.contains(&"0123456789".to_owned()));
    }
}
