//! An RFC 3161 signed timestamp over the envelope's signature: a CMS
//! SignedData (cms) whose content is a TSTInfo (x509-tsp), signed by a
//! timestamp authority of the trusted root. Its `genTime` is a signing
//! time the certificate must have been valid at.
//! RFC 3161 §2.4.2, RFC 5652 §5.4 (the signed attributes are what is signed).

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_tsp::{TimeStampResp, TstInfo};

use crate::error::Error;
use crate::trust::TrustedRoot;
use crate::x509::{Cert, Hash, chains};

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// Verifies `der` (a TimeStampToken, or a TimeStampResp carrying one) as a
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
    let tst = TstInfo::from_der(content.as_bytes())
        .map_err(|_| Error::timestamp("its TSTInfo does not parse"))?;
    let imprint_hash = Hash::of_digest(&tst.message_imprint.hash_algorithm.oid)
        .ok_or_else(|| Error::timestamp("its message imprint uses an unknown hash"))?;
    if imprint_hash.digest(signature) != tst.message_imprint.hashed_message.as_bytes() {
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
    let gen_time = i64::try_from(tst.gen_time.to_unix_duration().as_secs())
        .map_err(|_| Error::timestamp("its time is out of range"))?;
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

fn token(der: &[u8]) -> Result<ContentInfo, Error> {
    if let Ok(token) = ContentInfo::from_der(der) {
        return Ok(token);
    }
    let resp = TimeStampResp::from_der(der).map_err(|e| Error::Timestamp {
        what: format!("it is neither a timestamp token nor a response ({e})"),
    })?;
    // PKIStatus 0 granted, 1 grantedWithMods.
    if !matches!(resp.status.status as u8, 0 | 1) {
        return Err(Error::timestamp("its response does not grant a timestamp"));
    }
    resp.time_stamp_token
        .ok_or_else(|| Error::timestamp("its response carries no token"))
}
