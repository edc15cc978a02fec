//! Trusted roots: Sigstore `trusted_root.json` documents (certificate
//! authorities, transparency logs, timestamp authorities, each with the
//! window it is valid for), one embedded at build time and any number read
//! from files. Nothing is fetched at verify time.
//! <https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_trustroot.proto>

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::bundle::{RawChain, b64};
use crate::error::Error;
use crate::x509::{Cert, PublicKey, parse_chain};

/// Sigstore's public-good root (`tuf-repo-cdn.sigstore.dev`), as pinned
/// by npm `@sigstore/tuf` 4.0.2 (`seeds.json`, target `trusted_root.json`,
/// base64-decoded) — byte for byte the Python package `sigstore` 4.5.1 ships as
/// `sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json`.
pub const PUBLIC_GOOD: &[u8] = include_bytes!("../roots/sigstore-public-good.trusted_root.json");

/// The sha256 of [`PUBLIC_GOOD`]; a test holds the file to it.
pub const PUBLIC_GOOD_SHA256: &str =
    "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66";

/// GitHub's own Sigstore root (`tuf-repo.github.com`, target
/// `trusted_root.json`): the certificate and timestamp authorities that sign
/// attestations of private and internal repositories (no transparency log).
/// Vendored from `sigstore/sigstore-rust` at commit
/// `948c31788666372867657203618d84848443eb7d`,
/// `crates/sigstore-trust-root/src/trusted_root_github.json` (written there
/// verbatim by that crate's TUF client, last changed in `c6750204`), byte
/// for byte the file crates.io's `sigstore-trust-root` 0.15.1 ships.
pub const GITHUB: &[u8] = include_bytes!("../roots/github.trusted_root.json");

/// The sha256 of [`GITHUB`]; a test holds the file to it.
pub const GITHUB_SHA256: &str = "484cdfe1a7c65479c5ba2a22193d1be90f0020db1997de696ab207434c62fbb7";

const MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.trustedroot";

/// A validity window; `end` `None` is open.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub start: i64,
    pub end: Option<i64>,
}

impl Window {
    pub(crate) fn contains(&self, t: i64) -> bool {
        self.start <= t && self.end.is_none_or(|e| t <= e)
    }

    pub(crate) fn contains_all(&self, times: &[i64]) -> bool {
        times.iter().all(|t| self.contains(*t))
    }
}

/// A certificate authority (Fulcio) or a timestamp authority.
#[derive(Debug, Clone)]
pub(crate) struct Authority {
    pub uri: String,
    /// Leaf-most first, root last.
    pub chain: Vec<Cert>,
    pub valid: Window,
}

/// A transparency log (Rekor) and its key.
#[derive(Debug, Clone)]
pub(crate) struct Log {
    pub base_url: String,
    pub id: Vec<u8>,
    /// `None`: a key type deploy-relay does not verify (Ed25519, Rekor v2).
    pub key: Option<PublicKey>,
    pub valid: Window,
}

/// One trusted root document.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    /// Where it came from, for messages: `embedded: sigstore public-good` or a path.
    pub name: String,
    pub(crate) cas: Vec<Authority>,
    pub(crate) logs: Vec<Log>,
    pub(crate) tsas: Vec<Authority>,
}

/// The roots a bundle may chain to. The bundle's certificate picks its
/// root: the first root one of whose certificate authorities issued it;
/// that root's logs and timestamp authorities then verify the rest.
#[derive(Debug, Clone)]
pub struct TrustedRoots {
    pub(crate) roots: Vec<TrustedRoot>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawAuthority>,
    #[serde(default)]
    timestamp_authorities: Vec<RawAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    base_url: String,
    public_key: RawKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    #[serde(default)]
    raw_bytes: Option<String>,
    valid_for: RawWindow,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuthority {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    valid_for: RawWindow,
}

#[derive(Deserialize)]
struct RawWindow {
    start: String,
    #[serde(default)]
    end: Option<String>,
}

fn instant(s: &str) -> Result<i64, Error> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|e| Error::malformed_by(format!("`{s}` is not an RFC 3339 time"), e))
}

impl RawWindow {
    fn window(&self) -> Result<Window, Error> {
        Ok(Window {
            start: instant(&self.start)?,
            end: self.end.as_deref().map(instant).transpose()?,
        })
    }
}

impl RawAuthority {
    fn authority(&self) -> Result<Authority, Error> {
        let ders = self
            .cert_chain
            .certificates
            .iter()
            .map(|c| b64("a trusted certificate", &c.raw_bytes))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Authority {
            uri: self.uri.clone(),
            chain: parse_chain(&ders)?,
            valid: self.valid_for.window()?,
        })
    }
}

impl TrustedRoot {
    /// Reads a `trusted_root.json` document; `name` says where it came from.
    pub fn from_json(name: &str, json: &[u8]) -> Result<Self, Error> {
        let fail = |what: String, source: Option<Box<dyn std::error::Error + Send + Sync>>| {
            Error::TrustedRoot {
                path: name.to_owned(),
                what,
                source,
            }
        };
        let raw: RawRoot = serde_json::from_slice(json)
            .map_err(|e| fail("not a trusted root document".into(), Some(Box::new(e))))?;
        if !raw.media_type.starts_with(MEDIA_TYPE_PREFIX) {
            return Err(fail(
                format!("media type `{}` is not a trusted root's", raw.media_type),
                None,
            ));
        }
        let read = || -> Result<Self, Error> {
            let logs = raw
                .tlogs
                .iter()
                .map(|l| {
                    let key = match &l.public_key.raw_bytes {
                        Some(k) => PublicKey::from_spki(&b64("a log key", k)?),
                        None => None,
                    };
                    Ok(Log {
                        base_url: l.base_url.clone(),
                        id: b64("a log id", &l.log_id.key_id)?,
                        key,
                        valid: l.public_key.valid_for.window()?,
                    })
                })
                .collect::<Result<_, Error>>()?;
            Ok(Self {
                name: name.to_owned(),
                cas: raw
                    .certificate_authorities
                    .iter()
                    .map(RawAuthority::authority)
                    .collect::<Result<_, _>>()?,
                logs,
                tsas: raw
                    .timestamp_authorities
                    .iter()
                    .map(RawAuthority::authority)
                    .collect::<Result<_, _>>()?,
            })
        };
        read().map_err(|e| fail(e.to_string(), Some(Box::new(e))))
    }

    /// Sigstore's public-good root as embedded at build time.
    ///
    /// # Panics
    ///
    /// Only if the build embedded a file that does not parse, which the
    /// tests rule out.
    pub fn public_good() -> Self {
        // The embedded file is checked by the tests; it cannot fail here
        // unless the build embedded another file.
        Self::from_json("embedded: sigstore public-good", PUBLIC_GOOD)
            .unwrap_or_else(|e| panic!("the embedded trusted root does not parse: {e}"))
    }

    /// GitHub's own root as embedded at build time.
    ///
    /// # Panics
    ///
    /// Only if the build embedded a file that does not parse, which the
    /// tests rule out.
    pub fn github() -> Self {
        Self::from_json("embedded: github", GITHUB)
            .unwrap_or_else(|e| panic!("the embedded GitHub trusted root does not parse: {e}"))
    }

    pub(crate) fn log(&self, log_id: &[u8]) -> Option<&Log> {
        self.logs.iter().find(|l| l.id == log_id)
    }
}

impl TrustedRoots {
    /// The embedded roots: Sigstore's public-good instance (public
    /// repositories) and GitHub's own (private and internal ones). A
    /// bundle's certificate picks its root.
    pub fn embedded() -> Self {
        Self {
            roots: vec![TrustedRoot::public_good(), TrustedRoot::github()],
        }
    }

    /// Exactly these roots (a file input replaces the embedded ones).
    pub fn new(roots: Vec<TrustedRoot>) -> Self {
        Self { roots }
    }

    /// Reads each file as a trusted root, in order.
    pub fn from_files<P: AsRef<std::path::Path>>(paths: &[P]) -> Result<Self, Error> {
        let roots = paths
            .iter()
            .map(|p| {
                let p = p.as_ref();
                let name = p.display().to_string();
                let json = std::fs::read(p).map_err(|e| Error::TrustedRoot {
                    path: name.clone(),
                    what: e.to_string(),
                    source: Some(Box::new(e)),
                })?;
                TrustedRoot::from_json(&name, &json)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { roots })
    }

    /// The names of the roots, for messages.
    pub fn names(&self) -> String {
        self.roots
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_embedded_root_is_the_pinned_file() {
        assert_eq!(
            crate::tlog::hex(&Sha256::digest(PUBLIC_GOOD)),
            PUBLIC_GOOD_SHA256
        );
    }

    #[test]
    fn the_embedded_github_root_is_the_pinned_file() {
        assert_eq!(crate::tlog::hex(&Sha256::digest(GITHUB)), GITHUB_SHA256);
    }

    #[test]
    fn the_embedded_github_root_has_its_fulcio_and_tsa_and_no_log() {
        let root = TrustedRoot::github();
        assert!(root.cas.len() >= 6, "one CA per generation");
        assert!(root.cas.iter().all(|c| c.uri == "fulcio.githubapp.com"));
        assert!(root.tsas.len() >= 6);
        assert!(
            root.logs.is_empty(),
            "GitHub's instance keeps no transparency log"
        );
        // Every generation chains to GitHub's "Internal Services Root".
        assert!(root.cas.iter().all(|c| {
            c.chain
                .last()
                .unwrap()
                .issuer()
                .contains("Internal Services Root")
        }));
        let names = TrustedRoots::embedded().names();
        assert_eq!(names, "embedded: sigstore public-good, embedded: github");
    }

    #[test]
    fn the_embedded_root_lists_fulcio_rekor_and_a_tsa() {
        let root = TrustedRoot::public_good();
        assert!(
            root.cas
                .iter()
                .any(|c| c.uri == "https://fulcio.sigstore.dev")
        );
        let rekor = root
            .logs
            .iter()
            .find(|l| l.base_url == "https://rekor.sigstore.dev")
            .unwrap();
        assert!(matches!(rekor.key, Some(PublicKey::P256(_))));
        // The Rekor v2 log signs with Ed25519, which is not verified here.
        assert!(root.logs.iter().any(|l| l.key.is_none()));
        assert!(!root.tsas.is_empty());
    }

    #[test]
    fn a_document_of_another_kind_is_refused_with_its_name() {
        let e =
            TrustedRoot::from_json("x.json", br#"{"mediaType":"application/json"}"#).unwrap_err();
        assert!(
            matches!(e, Error::TrustedRoot { ref path, .. } if path == "x.json"),
            "{e}"
        );
    }

    #[test]
    fn windows_are_inclusive_and_open_ended() {
        let w = Window {
            start: 10,
            end: None,
        };
        assert!(w.contains(10) && w.contains(i64::MAX) && !w.contains(9));
        let w = Window {
            start: 10,
            end: Some(20),
        };
        assert!(w.contains(20) && !w.contains(21));
    }
}
