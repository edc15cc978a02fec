//! A Rekor transparency-log entry: that it records this envelope, its
//! signed entry timestamp (the log's promise, which signs the integrated
//! time), and its inclusion proof up to a checkpoint the log signed.
//! <https://github.com/sigstore/rekor/blob/main/pkg/types/dsse/v0.0.1/dsse_v0_0_1_schema.json>,
//! RFC 9162 §2.1.3.2 (verifying an inclusion proof),
//! <https://github.com/C2SP/C2SP/blob/main/signed-note.md> (checkpoints).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::bundle::{Envelope, InclusionProof, TlogEntry};
use crate::error::Error;
use crate::trust::{Log, TrustedRoot};
use crate::x509::{Cert, Hash, PublicKey};

/// What a verified entry proves.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Logged {
    pub log_index: u64,
    /// The integrated time, when the signed entry timestamp vouches for it.
    pub signed_time: Option<i64>,
}

/// Verifies `entry` against the logs of `root`, for this envelope and certificate.
pub(crate) fn verify(
    entry: &TlogEntry,
    root: &TrustedRoot,
    envelope: &Envelope,
    leaf: &Cert,
) -> Result<Logged, Error> {
    let log = root.log(&entry.log_id).ok_or_else(|| {
        Error::tlog(format!(
            "it comes from log `{}`, which trusted root `{}` does not list",
            hex(&entry.log_id),
            root.name
        ))
    })?;
    let key = log.key.as_ref().ok_or_else(|| {
        Error::tlog(format!(
            "log `{}` signs with a key type deploy-relay does not verify",
            log.base_url
        ))
    })?;
    check_body(entry, envelope, leaf)?;
    if entry.set.is_none() && entry.proof.is_none() {
        return Err(Error::tlog(
            "it has neither a signed entry timestamp nor an inclusion proof",
        ));
    }
    let mut signed_time = None;
    if let Some(set) = &entry.set {
        verify_set(entry, set, log, key)?;
        signed_time = Some(entry.integrated_time);
    }
    if let Some(proof) = &entry.proof {
        verify_inclusion(entry, proof, log, key)?;
    }
    Ok(Logged {
        log_index: entry.log_index,
        signed_time,
    })
}

/// The entry must record this envelope: its payload hash, its signature and
/// (for `dsse`) the certificate that made it.
fn check_body(entry: &TlogEntry, envelope: &Envelope, leaf: &Cert) -> Result<(), Error> {
    let body: Value =
        serde_json::from_slice(&entry.body).map_err(|_| Error::tlog("its body is not JSON"))?;
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
    let version = body
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind != entry.kind || version != entry.kind_version {
        return Err(Error::tlog(format!(
            "its body is a `{kind}` {version} entry, the bundle says `{}` {}",
            entry.kind, entry.kind_version
        )));
    }
    let payload_hash = hex(&Sha256::digest(&envelope.payload));
    let sig_b64 = STANDARD.encode(&envelope.signature);
    let spec = &body["spec"];
    let (hash, signed) = match (kind, version) {
        ("dsse", "0.0.1") => {
            let signed = spec["signatures"].as_array().is_some_and(|sigs| {
                sigs.iter().any(|s| {
                    s["signature"].as_str() == Some(sig_b64.as_str())
                        && s["verifier"]
                            .as_str()
                            .and_then(pem_der)
                            .is_some_and(|der| der == leaf.der)
                })
            });
            (&spec["payloadHash"], signed)
        }
        ("intoto", "0.0.2") => {
            // intoto v0.0.2 keeps the envelope's signature base64-encoded
            // once more.
            let signed = spec["content"]["envelope"]["signatures"]
                .as_array()
                .is_some_and(|sigs| {
                    sigs.iter().any(|s| {
                        s["sig"].as_str().and_then(|v| STANDARD.decode(v).ok())
                            == Some(sig_b64.clone().into_bytes())
                    })
                });
            (&spec["content"]["payloadHash"], signed)
        }
        _ => {
            return Err(Error::tlog(format!(
                "it is a `{kind}` {version} entry, which does not record a DSSE envelope"
            )));
        }
    };
    if hash["algorithm"].as_str() != Some("sha256") || hash["value"].as_str() != Some(&payload_hash)
    {
        return Err(Error::tlog(
            "it records another payload than the envelope's",
        ));
    }
    if !signed {
        return Err(Error::tlog(
            "it records another signature or certificate than the bundle's",
        ));
    }
    Ok(())
}

/// The signed entry timestamp: the log's signature over the canonical JSON
/// of body, integrated time, log id and index (keys sorted, as RFC 8785).
fn verify_set(entry: &TlogEntry, set: &[u8], log: &Log, key: &PublicKey) -> Result<(), Error> {
    let canonical = format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        STANDARD.encode(&entry.body),
        entry.integrated_time,
        hex(&entry.log_id),
        entry.log_index
    );
    if !key.verifies(Hash::Sha256, canonical.as_bytes(), set) {
        return Err(Error::tlog(format!(
            "its signed entry timestamp is not log `{}`'s signature",
            log.base_url
        )));
    }
    if !log.valid.contains(entry.integrated_time) {
        return Err(Error::tlog(format!(
            "it was integrated at {}, outside the window trusted root gives log `{}`",
            crate::x509::rfc3339(entry.integrated_time),
            log.base_url
        )));
    }
    Ok(())
}

fn verify_inclusion(
    entry: &TlogEntry,
    proof: &InclusionProof,
    log: &Log,
    key: &PublicKey,
) -> Result<(), Error> {
    let leaf = leaf_hash(&entry.body);
    let root = root_from_inclusion(proof.log_index, proof.tree_size, leaf, &proof.hashes)
        .ok_or_else(|| Error::tlog("its inclusion proof is malformed"))?;
    if root.as_slice() != proof.root_hash.as_slice() {
        return Err(Error::tlog(
            "its inclusion proof does not lead to the root hash it names",
        ));
    }
    let checkpoint = proof
        .checkpoint
        .as_deref()
        .ok_or_else(|| Error::tlog("its inclusion proof has no checkpoint"))?;
    verify_checkpoint(checkpoint, proof, log, key)
}

/// RFC 6962 leaf hash.
pub(crate) fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or `None`
/// when the proof cannot be one for `index` in a tree of `size`.
pub(crate) fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    path: &[Vec<u8>],
) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in path {
        if p.len() != 32 || s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// A checkpoint: a signed note whose body names the tree size and root
/// hash of the proof, signed by the log's key (key hint: the first four
/// bytes of the log id).
fn verify_checkpoint(
    checkpoint: &str,
    proof: &InclusionProof,
    log: &Log,
    key: &PublicKey,
) -> Result<(), Error> {
    let (text, signatures) = checkpoint
        .split_once("\n\n")
        .ok_or_else(|| Error::tlog("its checkpoint is not a signed note"))?;
    let note = format!("{text}\n");
    let mut lines = text.lines();
    let (_origin, size, root) = (lines.next(), lines.next(), lines.next());
    if size.and_then(|s| s.parse::<u64>().ok()) != Some(proof.tree_size)
        || root.and_then(|r| STANDARD.decode(r).ok()).as_deref() != Some(proof.root_hash.as_slice())
    {
        return Err(Error::tlog(
            "its checkpoint names another tree than its inclusion proof",
        ));
    }
    let hint = log.id.get(..4).unwrap_or_default();
    let signed = signatures.lines().any(|line| {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some(sig) = rest
            .rsplit_once(' ')
            .and_then(|(_, b)| STANDARD.decode(b).ok())
        else {
            return false;
        };
        sig.len() > 4 && &sig[..4] == hint && key.verifies(Hash::Sha256, note.as_bytes(), &sig[4..])
    });
    if !signed {
        return Err(Error::tlog(format!(
            "its checkpoint is not signed by log `{}`",
            log.base_url
        )));
    }
    Ok(())
}

/// The DER of a base64-encoded PEM certificate (a Rekor `verifier`).
fn pem_der(b64_pem: &str) -> Option<Vec<u8>> {
    let pem = String::from_utf8(STANDARD.decode(b64_pem).ok()?).ok()?;
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    STANDARD.decode(body).ok()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The largest power of two below `n` (n > 1): where RFC 6962 splits a tree.
    fn split(n: usize) -> usize {
        1 << (usize::BITS - 1 - (n - 1).leading_zeros())
    }

    /// The RFC 6962 tree head over `leaves` (the reference definition).
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The RFC 6962 audit path for leaf `m` (the reference definition).
    fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<Vec<u8>> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]).to_vec());
            p
        }
    }

    fn leaves(n: usize) -> Vec<[u8; 32]> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    proptest! {
        #[test]
        fn every_audit_path_leads_to_the_tree_head(n in 1usize..300, m in 0usize..300) {
            let m = m % n;
            let ls = leaves(n);
            let root = root_from_inclusion(m as u64, n as u64, ls[m], &path(m, &ls));
            prop_assert_eq!(root, Some(mth(&ls)));
        }

        #[test]
        fn a_path_for_another_leaf_or_an_altered_path_does_not(n in 2usize..200, m in 0usize..200, flip in 0usize..32) {
            let m = m % n;
            let ls = leaves(n);
            let mut p = path(m, &ls);
            let head = mth(&ls);
            let other = (m + 1) % n;
            prop_assert_ne!(root_from_inclusion(other as u64, n as u64, ls[other], &p), Some(head));
            // (The tree size is not bound by the path alone, e.g. leaf 0 of
            // 7 and of 8 walk alike: the signed checkpoint binds it.)
            if let Some(h) = p.first_mut() {
                h[flip] ^= 1;
                prop_assert_ne!(root_from_inclusion(m as u64, n as u64, ls[m], &p), Some(head));
            }
        }
    }

    #[test]
    fn an_index_outside_the_tree_has_no_root() {
        assert_eq!(root_from_inclusion(1, 1, [0; 32], &[]), None);
        assert_eq!(root_from_inclusion(0, 1, [7; 32], &[]), Some([7; 32]));
    }
}
