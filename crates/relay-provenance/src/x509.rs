//! Certificates and keys: parsing (x509-cert), ECDSA P-256 / P-384
//! signatures (p256, p384), chains to a trusted CA, and the identity
//! Fulcio writes into a GitHub Actions certificate.

use der::asn1::{Ia5StringRef, ObjectIdentifier, Utf8StringRef};
use der::{Decode, Encode};
use p256::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectAltName};

use crate::error::Error;

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");

/// A digest algorithm a signature is made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// The hash an `ecdsa-with-SHA*` signature algorithm names.
    pub(crate) fn of_signature(alg: &ObjectIdentifier) -> Option<Self> {
        match *alg {
            ECDSA_SHA256 => Some(Hash::Sha256),
            ECDSA_SHA384 => Some(Hash::Sha384),
            ECDSA_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    /// The hash a digest algorithm identifier (CMS, RFC 3161) names.
    pub(crate) fn of_digest(alg: &ObjectIdentifier) -> Option<Self> {
        match alg.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => Some(Hash::Sha256),
            "2.16.840.1.101.3.4.2.2" => Some(Hash::Sha384),
            "2.16.840.1.101.3.4.2.3" => Some(Hash::Sha512),
            _ => None,
        }
    }
}

/// An ECDSA public key on one of the curves Sigstore uses.
#[derive(Debug, Clone)]
pub(crate) enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// A key from its DER `SubjectPublicKeyInfo`.
    pub(crate) fn from_spki(der: &[u8]) -> Option<Self> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Some(Self::P256(k));
        }
        p384::ecdsa::VerifyingKey::from_public_key_der(der)
            .ok()
            .map(Self::P384)
    }

    /// The hash Sigstore pairs with this key for signatures it makes
    /// itself (DSSE, SET, checkpoints): SHA-256 for P-256, SHA-384 for P-384.
    pub(crate) fn default_hash(&self) -> Hash {
        match self {
            PublicKey::P256(_) => Hash::Sha256,
            PublicKey::P384(_) => Hash::Sha384,
        }
    }

    /// Whether `sig` (DER, as Sigstore writes every signature) is this
    /// key's signature over `msg` hashed with `hash`.
    pub(crate) fn verifies(&self, hash: Hash, msg: &[u8], sig: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let prehash = hash.digest(msg);
        match self {
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verify_prehash(&prehash, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verify_prehash(&prehash, &s).is_ok()),
        }
    }
}

/// A parsed certificate with its DER.
#[derive(Debug, Clone)]
pub(crate) struct Cert {
    pub der: Vec<u8>,
    pub cert: Certificate,
}

impl Cert {
    pub(crate) fn parse(der: &[u8]) -> Result<Self, der::Error> {
        Ok(Self {
            der: der.to_vec(),
            cert: Certificate::from_der(der)?,
        })
    }

    pub(crate) fn not_before(&self) -> i64 {
        unix(
            self.cert
                .tbs_certificate
                .validity
                .not_before
                .to_unix_duration(),
        )
    }

    pub(crate) fn not_after(&self) -> i64 {
        unix(
            self.cert
                .tbs_certificate
                .validity
                .not_after
                .to_unix_duration(),
        )
    }

    pub(crate) fn valid_at(&self, t: i64) -> bool {
        self.not_before() <= t && t <= self.not_after()
    }

    pub(crate) fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    pub(crate) fn public_key(&self) -> Option<PublicKey> {
        let spki = self
            .cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .ok()?;
        PublicKey::from_spki(&spki)
    }

    /// Whether `issuer` issued this certificate: names chain and
    /// `issuer`'s key verifies this certificate's signature.
    pub(crate) fn issued_by(&self, issuer: &Cert) -> bool {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return false;
        }
        let Some(hash) = Hash::of_signature(&self.cert.signature_algorithm.oid) else {
            return false;
        };
        let (Ok(tbs), Some(sig), Some(key)) = (
            self.cert.tbs_certificate.to_der(),
            self.cert.signature.as_bytes(),
            issuer.public_key(),
        ) else {
            return false;
        };
        key.verifies(hash, &tbs, sig)
    }

    /// The raw value of extension `oid`.
    pub(crate) fn extension(&self, oid: &ObjectIdentifier) -> Option<&[u8]> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == *oid)
            .map(|e| e.extn_value.as_bytes())
    }

    /// Whether this certificate may issue others (`basicConstraints` `cA`).
    pub(crate) fn is_ca(&self) -> bool {
        self.extension(&BASIC_CONSTRAINTS)
            .and_then(|v| BasicConstraints::from_der(v).ok())
            .is_some_and(|bc| bc.ca)
    }

    /// Whether the extended key usage allows code signing.
    pub(crate) fn code_signing(&self) -> bool {
        self.extension(&EXT_KEY_USAGE)
            .and_then(|v| ExtendedKeyUsage::from_der(v).ok())
            .is_some_and(|eku| eku.0.contains(&CODE_SIGNING))
    }

    /// The first URI of the subject alternative name.
    pub(crate) fn san_uri(&self) -> Option<String> {
        let san = SubjectAltName::from_der(self.extension(&SAN)?).ok()?;
        san.0.iter().find_map(|n| match n {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            _ => None,
        })
    }

    /// Fulcio's extension `arc` under 1.3.6.1.4.1.57264.1: from .8 on a DER
    /// `UTF8String`, before that (`legacy`) the raw bytes.
    /// <https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md>
    pub(crate) fn fulcio(&self, arc: u32) -> Option<String> {
        let oid = ObjectIdentifier::new(&format!("1.3.6.1.4.1.57264.1.{arc}")).ok()?;
        let value = self.extension(&oid)?;
        if arc < 8 {
            return String::from_utf8(value.to_vec()).ok();
        }
        Utf8StringRef::from_der(value)
            .map(|s| s.as_str().to_owned())
            .or_else(|_| Ia5StringRef::from_der(value).map(|s| s.as_str().to_owned()))
            .ok()
    }
}

fn unix(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Verifies that `leaf` chains through `chain` (leaf-most first, root
/// last, as a trusted root lists it) and that every certificate is valid
/// at each of `times`. Returns whether the chain holds.
pub(crate) fn chains(leaf: &Cert, chain: &[Cert], times: &[i64]) -> bool {
    let Some(first) = chain.first() else {
        return false;
    };
    if !leaf.issued_by(first) || !first.is_ca() {
        return false;
    }
    for pair in chain.windows(2) {
        if !pair[0].issued_by(&pair[1]) || !pair[1].is_ca() {
            return false;
        }
    }
    chain.iter().all(|c| times.iter().all(|t| c.valid_at(*t)))
}

/// The DER of each certificate in a trusted root's chain.
pub(crate) fn parse_chain(ders: &[Vec<u8>]) -> Result<Vec<Cert>, Error> {
    ders.iter()
        .map(|d| {
            Cert::parse(d).map_err(|e| Error::malformed_by("a certificate of the trusted root", e))
        })
        .collect()
}

/// `t` as RFC 3339 for messages.
pub(crate) fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}
