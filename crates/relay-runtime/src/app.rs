//! GitHub credentials as inputs: a token, or a GitHub App's id and private
//! key from which an action mints its own installation tokens.
//!
//! Read once per run by [`Inputs::github_credentials`], which checks the
//! App inputs before any request: the id must be a numeric App id or a
//! client id (`Iv…`), the key a PEM RSA private key (PKCS#1 `RSA PRIVATE
//! KEY` or PKCS#8 `PRIVATE KEY`), whole. A key pasted into a secret with
//! literal `\n` escapes, with or without a trailing newline, or wrapped in
//! quotes is accepted. The key never appears in an error: errors say what
//! is wrong with it, never what it holds.
//!
//! Which token input counts as "given" beside App credentials:
//! `github-token` defaults to `${{ github.token }}` in every `action.yml`, so
//! the runner always passes a value and a default cannot be told from a
//! `github-token: ${{ github.token }}` written out. The job's token (and any
//! other installation token) is a `ghs_` token; a personal token
//! (`ghp_`, `github_pat_`, `gho_`, `ghu_`) can only have been put there on
//! purpose. So with App credentials the App wins over an installation
//! token in `github-token` (it is not used), while a personal token there,
//! the `token` alias (it has no default) or an action's other token inputs
//! are an input error: two credentials for one call is a mistake, not a
//! preference. Token prefixes: <https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats>.

use std::fmt;

use base64::Engine as _;

use crate::error::InputError;
use crate::inputs::{InputSpec, Inputs};
use crate::secret::Secret;

/// The input that names the App.
pub const APP_ID_INPUT: &str = "github-app-id";
/// The input that holds the App's private key.
pub const APP_KEY_INPUT: &str = "github-app-private-key";

/// Where a user finds the App's id and key, for hints.
const KEY_HINT: &str = "paste the whole `.pem` file GitHub downloaded when you generated a private key for the App (App settings → Private keys), `-----BEGIN` to `-----END` lines included, into the secret";

/// A GitHub App's identifier as `iss` of its JWT: the numeric App id or
/// the App's client id (`Iv1.…`, `Iv23…`); GitHub recommends the client id.
/// Not a secret (it is shown in the App's public settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppId(String);

impl AppId {
    /// Parses an id; the error says what an id looks like.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let numeric = !text.is_empty()
            && text.len() <= 20
            && text.bytes().all(|b| b.is_ascii_digit())
            && text.parse::<u64>().is_ok_and(|n| n > 0);
        let client = text.strip_prefix("Iv").is_some_and(|rest| {
            (4..=40).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        });
        if numeric || client {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "is neither a numeric App id nor a client id (`Iv…`): `{}`",
                text.escape_debug()
            ))
        }
    }

    /// The id as given: digits, or the client id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The PEM encoding of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// `-----BEGIN RSA PRIVATE KEY-----`: what GitHub downloads.
    Pkcs1,
    /// `-----BEGIN PRIVATE KEY-----`: after `openssl pkcs8 -topk8 -nocrypt`.
    Pkcs8,
}

/// An App's private key, normalised to a PEM document with real line
/// breaks and checked to be one whole PEM private key. Whether the RSA key
/// inside is sound is the signer's to check (`relay-github`), before any
/// request too.
#[derive(Clone)]
pub struct AppKey {
    pem: Secret,
    format: KeyFormat,
}

impl AppKey {
    /// Normalises and checks `text`; the error never quotes it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let pem = normalise(text);
        let format = check_pem(&pem)?;
        Ok(Self {
            pem: Secret::new(pem),
            format,
        })
    }

    /// The PEM document, for the signer.
    pub fn pem(&self) -> &Secret {
        &self.pem
    }

    /// Which PEM form the key came in.
    pub fn format(&self) -> KeyFormat {
        self.format
    }
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppKey({:?}, ***)", self.format)
    }
}

/// Both App inputs, checked.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    /// `github-app-id`.
    pub id: AppId,
    /// `github-app-private-key`.
    pub key: AppKey,
}

/// What an action authenticates to GitHub with.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A token (`token` when set, else `github-token`); `None` when neither
    /// is set (outside a runner without `GITHUB_TOKEN`).
    Token(Option<Secret>),
    /// A GitHub App: the action mints installation tokens itself.
    App(AppCredentials),
}

impl InputSpec {
    /// `github-app-id`: with `github-app-private-key`, instead of a token.
    pub const GITHUB_APP_ID: Self = Self::new(
        APP_ID_INPUT,
        "A GitHub App's id or client id (`Iv…`), with `github-app-private-key`, instead of a token: the action mints installation tokens for exactly the repositories and permissions it needs, and revokes them when it ends",
    );
    /// `github-app-private-key`: the App's PEM key, masked.
    pub const GITHUB_APP_PRIVATE_KEY: Self = Self::new(
        APP_KEY_INPUT,
        "The GitHub App's private key (the downloaded `.pem`, PKCS#1 or PKCS#8; `\\n` escapes accepted), with `github-app-id`",
    )
    .secret();
}

/// Token prefixes only a person puts into an input: classic and
/// fine-grained PATs, OAuth and user-to-server tokens.
const PERSONAL_PREFIXES: &[&str] = &["ghp_", "github_pat_", "gho_", "ghu_"];

impl Inputs {
    /// The credentials of this run: App credentials when `github-app-id`
    /// or `github-app-private-key` is set (both must be, and no other
    /// token input given, see the module doc), else the token.
    /// `other_tokens` names an action's further token inputs
    /// (`rollback-token`), which App credentials replace too.
    pub fn github_credentials(&self, other_tokens: &[&str]) -> Result<Credentials, InputError> {
        let has = |name: &str| self.spec().inputs.iter().any(|i| i.name == name);
        let id = has(APP_ID_INPUT).then(|| self.get(APP_ID_INPUT)).flatten();
        let key = has(APP_KEY_INPUT)
            .then(|| self.get(APP_KEY_INPUT))
            .flatten();
        let (id, key) = match (id, key) {
            (None, None) => return Ok(Credentials::Token(self.github_token())),
            (Some(_), None) => {
                return Err(InputError::new(
                    APP_KEY_INPUT,
                    "is not set, but `github-app-id` is",
                    "pass both: `github-app-id: ${{ secrets.DEPLOY_RELAY_APP_ID }}` and `github-app-private-key: ${{ secrets.DEPLOY_RELAY_APP_PRIVATE_KEY }}`",
                ));
            }
            (None, Some(_)) => {
                return Err(InputError::new(
                    APP_ID_INPUT,
                    "is not set, but `github-app-private-key` is",
                    "pass both: `github-app-id: ${{ secrets.DEPLOY_RELAY_APP_ID }}` and `github-app-private-key: ${{ secrets.DEPLOY_RELAY_APP_PRIVATE_KEY }}`",
                ));
            }
            (Some(id), Some(key)) => (id, key),
        };
        let id = AppId::parse(id).map_err(|why| {
            InputError::new(
                APP_ID_INPUT,
                &why,
                "use the App ID or Client ID shown on the App's settings page (General → About)",
            )
        })?;
        let key =
            AppKey::parse(key).map_err(|why| InputError::new(APP_KEY_INPUT, &why, KEY_HINT))?;
        let both = "pass either a token or `github-app-id` with `github-app-private-key`, not both";
        if has(InputSpec::TOKEN_ALIAS.name) && self.get(InputSpec::TOKEN_ALIAS.name).is_some() {
            return Err(InputError::new(
                "token",
                "is set together with GitHub App credentials",
                both,
            ));
        }
        if self
            .get("github-token")
            .is_some_and(|t| PERSONAL_PREFIXES.iter().any(|p| t.starts_with(p)))
        {
            return Err(InputError::new(
                "github-token",
                "holds a personal access token, and GitHub App credentials are set too",
                both,
            ));
        }
        for name in other_tokens {
            if self.get(name).is_some() {
                return Err(InputError::new(
                    name,
                    "is set together with GitHub App credentials, which mint that token too",
                    both,
                ));
            }
        }
        Ok(Credentials::App(AppCredentials { id, key }))
    }
}

/// The key as a PEM document: surrounding quotes dropped, literal `\n`
/// (and `\r\n`) escapes turned into line breaks, CRLF into LF, each line
/// trimmed, one trailing newline.
fn normalise(text: &str) -> String {
    let mut t = text.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t = &t[1..t.len() - 1];
    }
    let unescaped = t.replace("\\r\\n", "\n").replace("\\n", "\n");
    let mut out = String::with_capacity(unescaped.len() + 1);
    for line in unescaped.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Checks that `pem` is exactly one whole PEM private key of a format an
/// App key comes in, and says what it is otherwise.
fn check_pem(pem: &str) -> Result<KeyFormat, String> {
    let lines: Vec<&str> = pem.lines().collect();
    let Some(first) = lines.first() else {
        return Err("is empty".to_owned());
    };
    let Some(label) = first
        .strip_prefix("-----BEGIN ")
        .and_then(|l| l.strip_suffix("-----"))
    else {
        return Err(
            "is not a PEM key: it does not start with a `-----BEGIN … PRIVATE KEY-----` line"
                .to_owned(),
        );
    };
    let format = match label {
        "RSA PRIVATE KEY" => KeyFormat::Pkcs1,
        "PRIVATE KEY" => KeyFormat::Pkcs8,
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {
            return Err(
                "is a public key; the App's private key is needed to sign its requests".to_owned(),
            );
        }
        "CERTIFICATE" => {
            return Err("is a certificate, not the App's private key".to_owned());
        }
        "ENCRYPTED PRIVATE KEY" => {
            return Err("is an encrypted private key; GitHub App keys are not encrypted, so decrypt it first (`openssl pkcs8 -in key.pem -out plain.pem`)".to_owned());
        }
        "OPENSSH PRIVATE KEY" | "EC PRIVATE KEY" | "DSA PRIVATE KEY" => {
            return Err(format!(
                "is a `{label}`, not an RSA key; GitHub App keys are RSA"
            ));
        }
        _ => {
            return Err(format!(
                "is a PEM `{}`, not a private key",
                label.escape_debug()
            ));
        }
    };
    let end = format!("-----END {label}-----");
    let Some(end_at) = lines.iter().position(|l| *l == end) else {
        return Err(format!(
            "is truncated: it has no `{end}` line (copy the whole file)"
        ));
    };
    if end_at + 1 != lines.len() {
        return Err(format!(
            "holds more than one key: something follows the `{end}` line"
        ));
    }
    let body: String = lines[1..end_at].concat();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| {
            "is damaged: the lines between `-----BEGIN` and `-----END` are not base64".to_owned()
        })?;
    if der_length(&der) != Some(der.len()) {
        return Err(
            "is truncated or damaged: the key inside is not as long as its encoding says"
                .to_owned(),
        );
    }
    Ok(format)
}

/// The total length a DER `SEQUENCE` at the start of `der` declares.
fn der_length(der: &[u8]) -> Option<usize> {
    let (&tag, rest) = der.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 || rest.len() < n {
        return None;
    }
    let len = rest[..n]
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Some(2 + n + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small DER `SEQUENCE` in PEM armour: enough for the structural checks.
    fn pem(label: &str, der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    fn seq(len: usize) -> Vec<u8> {
        let [hi, lo] = u16::try_from(len).expect("a short test key").to_be_bytes();
        let mut der = vec![0x30, 0x82, hi, lo];
        der.extend(std::iter::repeat_n(0x42, len));
        der
    }

    #[test]
    fn ids_are_numbers_or_client_ids() {
        for ok in ["12345", "Iv1.0123456789abcdef", "Iv23liAbCdEf0123456789"] {
            assert_eq!(AppId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "0",
            "12a",
            "my-app",
            "Iv",
            "-1",
            "Iv1 x",
            "123456789012345678901",
        ] {
            assert!(AppId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pkcs1_and_pkcs8_with_escapes_newlines_and_quotes() {
        let one = pem("RSA PRIVATE KEY", &seq(300));
        let eight = pem("PRIVATE KEY", &seq(300));
        for (text, format) in [
            (one.clone(), KeyFormat::Pkcs1),
            (one.trim_end().to_owned(), KeyFormat::Pkcs1),
            (one.replace('\n', "\\n"), KeyFormat::Pkcs1),
            (one.replace('\n', "\r\n"), KeyFormat::Pkcs1),
            (
                format!("\"{}\"", one.trim_end().replace('\n', "\\n")),
                KeyFormat::Pkcs1,
            ),
            (eight.clone(), KeyFormat::Pkcs8),
            (
                format!("  {}  \n\n", eight.replace('\n', "\\n")),
                KeyFormat::Pkcs8,
            ),
        ] {
            let key = AppKey::parse(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
            assert_eq!(key.format(), format);
            assert_eq!(
                key.pem().expose(),
                if format == KeyFormat::Pkcs1 {
                    &one
                } else {
                    &eight
                }
            );
        }
    }

    #[test]
    fn wrong_kinds_of_pem_say_what_they_are() {
        let cases = [
            (pem("PUBLIC KEY", &seq(200)), "is a public key"),
            (pem("RSA PUBLIC KEY", &seq(200)), "is a public key"),
            (pem("CERTIFICATE", &seq(200)), "certificate"),
            (pem("ENCRYPTED PRIVATE KEY", &seq(200)), "encrypted"),
            (pem("OPENSSH PRIVATE KEY", &seq(200)), "not an RSA key"),
            ("ghp_notakey".to_owned(), "is not a PEM key"),
        ];
        for (text, want) in cases {
            let e = AppKey::parse(&text).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn truncated_keys_are_found_without_quoting_them() {
        let whole = pem("RSA PRIVATE KEY", &seq(600));
        let no_end: String = whole.lines().take(4).collect::<Vec<_>>().join("\n");
        let e = AppKey::parse(&no_end).unwrap_err();
        assert!(e.contains("is truncated"), "{e}");
        // The END line kept, the middle cut: the DER length gives it away.
        let lines: Vec<&str> = whole.lines().collect();
        let cut = [&lines[..3], &lines[lines.len() - 1..]].concat().join("\n");
        let e = AppKey::parse(&cut).unwrap_err();
        assert!(e.contains("truncated or damaged"), "{e}");
        for line in &lines[1..lines.len() - 1] {
            assert!(!e.contains(line));
        }
        let e = AppKey::parse(&whole.replace('Q', "!")).unwrap_err();
        assert!(e.contains("not base64"), "{e}");
        let two = format!("{whole}{whole}");
        assert!(AppKey::parse(&two).unwrap_err().contains("more than one"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = AppKey::parse(&pem("RSA PRIVATE KEY", &seq(300))).unwrap();
        assert_eq!(format!("{key:?}"), "AppKey(Pkcs1, ***)");
    }
}
