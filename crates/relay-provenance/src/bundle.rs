//! The Sigstore bundle as JSON (the protobuf-specs `Bundle` message in its
//! JSON mapping: camelCase names, bytes as standard base64, 64-bit
//! integers as strings), v0.1 to v0.3, read into owned, decoded parts.
//! <https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto>

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;

const V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
const V02: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
const V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const V03_ALT: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// A bundle, decoded: what the verifier needs and nothing else.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    pub version: Version,
    /// DER of the signing (leaf) certificate.
    pub certificate: Vec<u8>,
    pub tlog_entries: Vec<TlogEntry>,
    /// DER of each RFC 3161 timestamp (a token or a whole response).
    pub timestamps: Vec<Vec<u8>>,
    pub envelope: Envelope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Version {
    V01,
    V02,
    V03,
}

/// A DSSE envelope with exactly one signature.
#[derive(Debug, Clone)]
pub(crate) struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

/// One transparency log entry (`TransparencyLogEntry`).
#[derive(Debug, Clone)]
pub(crate) struct TlogEntry {
    pub log_index: u64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub kind_version: String,
    pub integrated_time: i64,
    pub set: Option<Vec<u8>>,
    pub proof: Option<InclusionProof>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct InclusionProof {
    pub log_index: u64,
    pub tree_size: u64,
    pub root_hash: Vec<u8>,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    media_type: String,
    verification_material: RawMaterial,
    #[serde(default)]
    dsse_envelope: Option<RawEnvelope>,
    #[serde(default)]
    message_signature: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    #[serde(default)]
    certificate: Option<RawBytes>,
    #[serde(default)]
    x509_certificate_chain: Option<RawChain>,
    #[serde(default)]
    public_key: Option<Value>,
    #[serde(default)]
    tlog_entries: Vec<RawTlogEntry>,
    #[serde(default)]
    timestamp_verification_data: Option<RawTimestamps>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawBytes {
    pub raw_bytes: String,
}

#[derive(Deserialize)]
pub(crate) struct RawChain {
    #[serde(default)]
    pub certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamps {
    #[serde(default)]
    rfc3161_timestamps: Vec<RawTimestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamp {
    signed_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope {
    payload: String,
    payload_type: String,
    #[serde(default)]
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
struct RawSignature {
    sig: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTlogEntry {
    #[serde(default)]
    log_index: Int,
    log_id: RawLogId,
    kind_version: RawKindVersion,
    #[serde(default)]
    integrated_time: Int,
    #[serde(default)]
    inclusion_promise: Option<RawPromise>,
    #[serde(default)]
    inclusion_proof: Option<RawProof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawKindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPromise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProof {
    #[serde(default)]
    log_index: Int,
    root_hash: String,
    #[serde(default)]
    tree_size: Int,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<RawCheckpoint>,
}

#[derive(Deserialize)]
struct RawCheckpoint {
    envelope: String,
}

/// A protobuf 64-bit integer: a string in canonical JSON, a number from
/// some writers, absent when zero (proto3 JSON leaves defaults out).
#[derive(Deserialize)]
#[serde(untagged)]
enum Int {
    Number(i64),
    Text(String),
}

impl Default for Int {
    fn default() -> Self {
        Int::Number(0)
    }
}

impl Int {
    fn get(&self, what: &str) -> Result<i64, Error> {
        match self {
            Int::Number(n) => Ok(*n),
            Int::Text(s) => s
                .parse()
                .map_err(|e| Error::malformed_by(format!("{what} `{s}` is not an integer"), e)),
        }
    }

    fn unsigned(&self, what: &str) -> Result<u64, Error> {
        u64::try_from(self.get(what)?)
            .map_err(|e| Error::malformed_by(format!("{what} is negative"), e))
    }
}

pub(crate) fn b64(what: &str, s: &str) -> Result<Vec<u8>, Error> {
    STANDARD
        .decode(s.trim())
        .map_err(|e| Error::malformed_by(format!("{what} is not base64"), e))
}

impl Bundle {
    /// Reads a bundle from its JSON.
    pub(crate) fn parse(json: &[u8]) -> Result<Self, Error> {
        let raw: Raw = serde_json::from_slice(json)
            .map_err(|e| Error::malformed_by("not a Sigstore bundle", e))?;
        let version = match raw.media_type.as_str() {
            V01 => Version::V01,
            V02 => Version::V02,
            V03 | V03_ALT => Version::V03,
            other => {
                return Err(Error::UnsupportedBundle {
                    media_type: other.to_owned(),
                });
            }
        };
        let material = raw.verification_material;
        let certificate = match (&material.certificate, &material.x509_certificate_chain) {
            (Some(cert), _) => b64("the certificate", &cert.raw_bytes)?,
            (None, Some(chain)) => {
                // The chain's first certificate is the leaf; any others are
                // ignored: the chain is built from the trusted root alone.
                let leaf = chain
                    .certificates
                    .first()
                    .ok_or_else(|| Error::malformed("the certificate chain is empty"))?;
                b64("the certificate", &leaf.raw_bytes)?
            }
            (None, None) if material.public_key.is_some() => {
                return Err(Error::UnsupportedContent {
                    found: "a signature by a public key",
                });
            }
            (None, None) => return Err(Error::malformed("the bundle has no certificate")),
        };
        let envelope = match (raw.dsse_envelope, raw.message_signature) {
            (Some(env), _) => Envelope::from_raw(env)?,
            (None, Some(_)) => {
                return Err(Error::UnsupportedContent {
                    found: "a message signature",
                });
            }
            (None, None) => return Err(Error::malformed("the bundle has no content")),
        };
        let tlog_entries = material
            .tlog_entries
            .into_iter()
            .map(TlogEntry::from_raw)
            .collect::<Result<_, _>>()?;
        let timestamps = material
            .timestamp_verification_data
            .map(|t| t.rfc3161_timestamps)
            .unwrap_or_default()
            .into_iter()
            .map(|t| b64("a signed timestamp", &t.signed_timestamp))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            version,
            certificate,
            tlog_entries,
            timestamps,
            envelope,
        })
    }
}

impl Envelope {
    fn from_raw(raw: RawEnvelope) -> Result<Self, Error> {
        // A Sigstore bundle's envelope carries exactly one signature, by
        // the bundle's certificate.
        let [sig] = raw.signatures.as_slice() else {
            return Err(Error::malformed(format!(
                "the envelope has {} signatures; a Sigstore bundle has exactly one",
                raw.signatures.len()
            )));
        };
        Ok(Self {
            payload: b64("the envelope payload", &raw.payload)?,
            payload_type: raw.payload_type,
            signature: b64("the envelope signature", &sig.sig)?,
        })
    }
}

impl TlogEntry {
    fn from_raw(raw: RawTlogEntry) -> Result<Self, Error> {
        let proof = raw
            .inclusion_proof
            .map(|p| {
                Ok::<_, Error>(InclusionProof {
                    log_index: p.log_index.unsigned("the proof's log index")?,
                    tree_size: p.tree_size.unsigned("the proof's tree size")?,
                    root_hash: b64("the proof's root hash", &p.root_hash)?,
                    hashes: p
                        .hashes
                        .iter()
                        .map(|h| b64("a proof hash", h))
                        .collect::<Result<_, _>>()?,
                    checkpoint: p.checkpoint.map(|c| c.envelope),
                })
            })
            .transpose()?;
        Ok(Self {
            log_index: raw.log_index.unsigned("the log index")?,
            log_id: b64("the log id", &raw.log_id.key_id)?,
            kind: raw.kind_version.kind,
            kind_version: raw.kind_version.version,
            integrated_time: raw.integrated_time.get("the integrated time")?,
            set: raw
                .inclusion_promise
                .map(|p| b64("the signed entry timestamp", &p.signed_entry_timestamp))
                .transpose()?,
            proof,
            body: b64("the canonicalized body", &raw.canonicalized_body)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_media_type_is_named() {
        let json = br#"{"mediaType":"application/x-other","verificationMaterial":{}}"#;
        match Bundle::parse(json) {
            Err(Error::UnsupportedBundle { media_type }) => {
                assert_eq!(media_type, "application/x-other");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_message_signature_bundle_is_refused_as_such() {
        let json = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"AA=="}},"messageSignature":{}}"#;
        assert!(matches!(
            Bundle::parse(json),
            Err(Error::UnsupportedContent { .. })
        ));
    }

    #[test]
    fn integers_come_as_strings_or_numbers() {
        let json = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
          "verificationMaterial":{"certificate":{"rawBytes":"AA=="},"tlogEntries":[
            {"logIndex":"7","logId":{"keyId":"AA=="},"kindVersion":{"kind":"dsse","version":"0.0.1"},
             "integratedTime":1700000000,"canonicalizedBody":"e30="}]},
          "dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA==","keyid":""}]}}"#;
        let b = Bundle::parse(json).unwrap();
        assert_eq!(b.tlog_entries[0].log_index, 7);
        assert_eq!(b.tlog_entries[0].integrated_time, 1_700_000_000);
        assert_eq!(b.envelope.payload, b"{}");
    }

    #[test]
    fn two_signatures_are_refused() {
        let json = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"AA=="}},
          "dsseEnvelope":{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="},{"sig":"AA=="}]}}"#;
        assert!(matches!(Bundle::parse(json), Err(Error::Malformed { .. })));
    }
}
