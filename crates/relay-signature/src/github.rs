//! GitHub's scheme: `X-Hub-Signature-256: sha256=<lowercase hex>` where the
//! hex is HMAC-SHA256 of the exact body bytes under the shared secret
//! (<https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries>).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{SigningKey, VerifyError};

/// The header GitHub (and `sign-and-call-webhook` by default) sends.
pub const HEADER: &str = "X-Hub-Signature-256";
const PREFIX: &str = "sha256=";

/// The raw 32-byte tag of `body` under `secret`.
pub fn tag(secret: &SigningKey, body: &[u8]) -> [u8; 32] {
    // new_from_slice only fails for fixed-size keys; HMAC takes any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The header value for `body`: `sha256=` and 64 lowercase hex digits.
pub fn sign(secret: &SigningKey, body: &[u8]) -> String {
    let mut out = String::with_capacity(PREFIX.len() + 64);
    out.push_str(PREFIX);
    for byte in tag(secret, body) {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Reads a header value into the 32-byte tag it carries. Hex digits of
/// either case are accepted (some senders upper-case them); anything else,
/// including surrounding junk, is malformed.
pub fn parse(header: &str) -> Result<[u8; 32], VerifyError> {
    let malformed = VerifyError::Malformed(HEADER);
    let hex = header
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(malformed)?
        .as_bytes();
    if hex.len() != 64 {
        return Err(malformed);
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (nibble(pair[0]).ok_or(malformed)? << 4) | nibble(pair[1]).ok_or(malformed)?;
    }
    Ok(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Checks `header` (the value of [`HEADER`], or `None` when it was absent)
/// against `body` under any of `secrets` (more than one while a secret is
/// being rotated). The comparison is constant-time and every secret is tried,
/// so timing says nothing about which one matched or how close a guess was.
pub fn verify(
    secrets: &[SigningKey],
    header: Option<&str>,
    body: &[u8],
) -> Result<(), VerifyError> {
    let given = parse(header.ok_or(VerifyError::Missing(HEADER))?)?;
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        matched |= tag(secret, body).ct_eq(&given);
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs_secret() -> SigningKey {
        SigningKey::new("It's a Secret to Everybody").unwrap()
    }

    // GitHub's documented example, "Testing the webhook payload validation".
    #[test]
    fn github_documented_vector() {
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(&docs_secret(), b"Hello, World!"), expected);
        verify(&[docs_secret()], Some(expected), b"Hello, World!").unwrap();
    }

    #[test]
    fn upper_case_hex_is_read_but_never_written() {
        let upper = "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17";
        verify(&[docs_secret()], Some(upper), b"Hello, World!").unwrap();
    }

    #[test]
    fn refusals_say_which_kind() {
        let secret = [docs_secret()];
        let body = b"Hello, World!";
        assert_eq!(
            verify(&secret, None, body),
            Err(VerifyError::Missing(HEADER))
        );
        for bad in [
            "",
            "sha256=",
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17a",
            "sha256=z57107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ] {
            assert_eq!(
                verify(&secret, Some(bad), body),
                Err(VerifyError::Malformed(HEADER)),
                "{bad}"
            );
        }
        let other = "sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            verify(&secret, Some(other), body),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&[], Some(&sign(&docs_secret(), body)), body),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn any_rotated_secret_verifies() {
        let old = SigningKey::new("old").unwrap();
        let new = SigningKey::new("new").unwrap();
        let header = sign(&old, b"{}");
        verify(&[new.clone(), old], Some(&header), b"{}").unwrap();
        assert!(verify(&[new], Some(&header), b"{}").is_err());
    }
}
