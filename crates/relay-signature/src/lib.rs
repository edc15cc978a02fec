//! Webhook signatures, shared by the sender (`sign-and-call-webhook`) and the
//! receiver (`deploy-receiver`) so both ends agree byte for byte. Two schemes:
//! GitHub's (`X-Hub-Signature-256: sha256=<lowercase hex>`, HMAC-SHA256 over
//! the exact body) and [Standard Webhooks](https://www.standardwebhooks.com)
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` over
//! `id.timestamp.body`, `whsec_` secrets, several signatures for key rotation,
//! a timestamp tolerance). Every comparison is constant-time, and a
//! [`SigningKey`] (made from the one secret type, [`relay_runtime::Secret`])
//! never prints its bytes. [`status`] is the signed status poll
//! of a deploy that answered `202`.

#![warn(unreachable_pub, missing_docs, clippy::pedantic)]
// The allow-list of [workspace.lints] (reasons there), repeated because a
// crate-level `warn` of the group overrides the workspace's `allow`s.
#![allow(
    clippy::must_use_candidate,
    clippy::missing_errors_doc,
    clippy::return_self_not_must_use,
    clippy::format_push_string,
    clippy::too_many_lines,
    clippy::similar_names,
    clippy::struct_excessive_bools,
    clippy::cast_precision_loss
)]

mod error;
pub mod github;
mod key;
pub mod standard;
pub mod status;

use std::fmt;
use std::str::FromStr;

pub use error::{SecretError, SignError, VerifyError};
pub use key::SigningKey;
/// The name `sign-and-call-webhook` still uses; to be removed once it
/// switches to [`SigningKey`].
#[doc(hidden)]
pub use key::SigningKey as Secret;

/// The signature schemes both ends understand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scheme {
    /// `X-Hub-Signature-256: sha256=<hex>` over the body.
    #[default]
    GitHub,
    /// `webhook-signature: v1,<base64>` over `id.timestamp.body`.
    StandardWebhooks,
}

impl Scheme {
    /// The name users write in configuration and action inputs.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::GitHub => "github",
            Scheme::StandardWebhooks => "standard-webhooks",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a scheme name that is neither `github` nor `standard-webhooks`.
#[derive(Debug, thiserror::Error)]
#[error("unknown signature scheme `{0}`; use `github` or `standard-webhooks`")]
pub struct UnknownScheme(pub String);

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "github" => Ok(Scheme::GitHub),
            "standard-webhooks" => Ok(Scheme::StandardWebhooks),
            other => Err(UnknownScheme(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for scheme in [Scheme::GitHub, Scheme::StandardWebhooks] {
            assert_eq!(scheme.name().parse::<Scheme>().unwrap(), scheme);
        }
        let err = "hmac".parse::<Scheme>().unwrap_err().to_string();
        assert!(err.contains("`hmac`"), "{err}");
    }
}
