//! An RFC 3161 signed timestamp over the envelope's signature: a CMS
//! `SignedData` (cms) whose content is a `TSTInfo`, signed by a timestamp
//! authority of the trusted root. Its `genTime` is a signing time the
//! certificate must have been valid at.
//! RFC 3161 §2.4.2, RFC 5652 §5.4 (the signed attributes are what is signed).
//!
//! The `TSTInfo` and the response are read field by field: RFC 3161 allows
//! fractional seconds in `genTime` (sigstore's TSAs write them), which
//! der's `GeneralizedTime` (and so x509-tsp's `TstInfo`) refuses.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::error::Error;
use crate::trust::TrustedRoot;
use crate::x509::{Cert, Hash, chains};

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// Verifies `der` (a `TimeStampToken`, or a `TimeStampResp` carrying one) as a
/// timestamp over `signature` by a timestamp authority of `root`, and
/// returns its time.
pub(crate) fn verify(der: &[u8], signature: &[u8], root: &TrustedRoot) -> Result<i64, Error> {
    let token = token(der)?;
    if token.content_type != SIGNED_DATA {
        return Err(Error::timestamp("it is not CMS signed data"));
    }
    let signed: SignedData = token
        .content
        .decode_as()
        .map_err(|_| Error::timestamp("its signed data does not parse"))?;
    let encap = &signed.encap_content_info;
    if encap.econtent_type != TST_INFO {
        return Err(Error::timestamp("its content is not a TSTInfo"));
    }
    let content = encap
        .econtent
        .as_ref()
        .and_then(|c| c.decode_as::<OctetString>().ok())
        .ok_or_else(|| Error::timestamp("it has no TSTInfo"))?;
    let tst = Tst::parse(content.as_bytes())
        .ok_or_else(|| Error::timestamp("its TSTInfo does not parse"))?;
    let imprint_hash = Hash::of_digest(&tst.imprint_alg)
        .ok_or_else(|| Error::timestamp("its message imprint uses an unknown hash"))?;
    if imprint_hash.digest(signature) != tst.imprint {
        return Err(Error::timestamp(
            "it timestamps another signature than the envelope's",
        ));
    }
    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(Error::timestamp("it does not have exactly one signer"));
    };
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| Error::timestamp("it has no signed attributes"))?;
    let digest_hash = Hash::of_digest(&signer.digest_alg.oid)
        .ok_or_else(|| Error::timestamp("its signer uses an unknown digest"))?;
    let attr = |oid: ObjectIdentifier| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let digest = attr(MESSAGE_DIGEST).and_then(|v| v.decode_as::<OctetString>().ok());
    if digest.as_ref().map(OctetString::as_bytes)
        != Some(digest_hash.digest(content.as_bytes()).as_slice())
    {
        return Err(Error::timestamp("its signed digest is not its TSTInfo's"));
    }
    if attr(CONTENT_TYPE).and_then(|v| v.decode_as::<ObjectIdentifier>().ok()) != Some(TST_INFO) {
        return Err(Error::timestamp("its signed content type is not TSTInfo"));
    }
    let signed_attrs = attrs
        .to_der()
        .map_err(|_| Error::timestamp("its signed attributes do not encode"))?;
    // Some TSAs name the key algorithm instead of ecdsa-with-SHA*; the
    // digest algorithm then says the hash.
    let sig_hash = Hash::of_signature(&signer.signature_algorithm.oid).unwrap_or(digest_hash);
    let gen_time = tst.gen_time;
    let trusted = root.tsas.iter().any(|tsa| {
        let Some((leaf, issuers)) = tsa.chain.split_first() else {
            return false;
        };
        tsa.valid.contains(gen_time)
            && chain_holds(leaf, issuers, gen_time)
            && leaf
                .public_key()
                .is_some_and(|k| k.verifies(sig_hash, &signed_attrs, signer.signature.as_bytes()))
    });
    if !trusted {
        return Err(Error::timestamp(format!(
            "it is not signed by a timestamp authority trusted root `{}` lists for {}",
            root.name,
            crate::x509::rfc3339(gen_time)
        )));
    }
    Ok(gen_time)
}

fn chain_holds(leaf: &Cert, issuers: &[Cert], t: i64) -> bool {
    if issuers.is_empty() {
        return leaf.valid_at(t);
    }
    leaf.valid_at(t) && chains(leaf, issuers, &[t])
}

/// The fields of a `TSTInfo` that are checked.
struct Tst {
    imprint_alg: ObjectIdentifier,
    imprint: Vec<u8>,
    /// Unix seconds (any fraction dropped).
    gen_time: i64,
}

impl Tst {
    /// `TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, … }`
    fn parse(der: &[u8]) -> Option<Self> {
        let fields = Vec::<Any>::from_der(der).ok()?;
        let imprint = Vec::<Any>::from_der(&fields.get(2)?.to_der().ok()?).ok()?;
        let alg: AlgorithmIdentifierOwned = imprint.first()?.decode_as().ok()?;
        let hashed: OctetString = imprint.get(1)?.decode_as().ok()?;
        let time = fields.get(4).filter(|t| t.tag() == Tag::GeneralizedTime)?;
        Some(Self {
            imprint_alg: alg.oid,
            imprint: hashed.as_bytes().to_vec(),
            gen_time: generalized_time(time.value())?,
        })
    }
}

/// `YYYYMMDDHHMMSS[.f*]Z` (RFC 3161 §2.4.2: UTC, optional fraction).
fn generalized_time(s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?.strip_suffix('Z')?;
    let (whole, fraction) = s.split_once('.').unwrap_or((s, "0"));
    if whole.len() != 14
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.is_empty()
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| whole[r].parse::<u16>().ok();
    let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::from(n(0..4)?), month, u8::try_from(n(6..8)?).ok()?)
            .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(n(8..10)?).ok()?,
        u8::try_from(n(10..12)?).ok()?,
        u8::try_from(n(12..14)?).ok()?,
    )
    .ok()?;
    Some(date.with_time(t).assume_utc().unix_timestamp())
}

/// The token: the DER itself, or the one a `TimeStampResp ::= SEQUENCE {
/// status PKIStatusInfo, timeStampToken OPTIONAL }` carries.
fn token(der: &[u8]) -> Result<ContentInfo, Error> {
    if let Ok(token) = ContentInfo::from_der(der) {
        return Ok(token);
    }
    let fields = Vec::<Any>::from_der(der)
        .map_err(|_| Error::timestamp("it is neither a timestamp token nor a response"))?;
    // PKIStatus 0 granted, 1 grantedWithMods.
    let status = fields
        .first()
        .and_then(|s| Vec::<Any>::from_der(&s.to_der().ok()?).ok())
        .and_then(|s| s.first()?.decode_as::<u8>().ok());
    if !matches!(status, Some(0 | 1)) {
        return Err(Error::timestamp("its response does not grant a timestamp"));
    }
    fields
        .get(1)
        .and_then(|t| t.decode_as::<ContentInfo>().ok())
        .ok_or_else(|| Error::timestamp("its response carries no token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_time_takes_fractions_and_refuses_the_rest() {
        assert_eq!(generalized_time(b"19700101000000Z"), Some(0));
        assert_eq!(
            generalized_time(b"20261206205850.868Z"),
            Some(1_796_590_730)
        );
        // DER drops a fraction's trailing zeros: .120 s is written `.12`.
        for short in [&b"20261206205850.12Z"[..], b"20261206205850.1Z"] {
            assert_eq!(generalized_time(short), Some(1_796_590_730));
        }
        for bad in [
            &b"20261206205850"[..],
            b"2026120620585Z",
            b"20261306205850Z",
            b"20261206205850.Z",
            b"2026120620585xZ",
        ] {
            assert_eq!(
                generalized_time(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
