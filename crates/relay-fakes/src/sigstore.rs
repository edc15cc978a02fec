//! A fake Sigstore, in-process: what `actions/attest-build-provenance`
//! gets from the public-good instance when a GitHub Actions job attests an
//! image, made here without a network — a Fulcio-like certificate
//! authority, a Rekor-like transparency log, and the bundle they produce,
//! with the `trusted_root.json` that verifies it.
//!
//! - **Fulcio.** A root CA, and per signing a fresh P-256 key with a
//!   ten-minute leaf certificate for it, as Fulcio issues them for a GitHub
//!   Actions OIDC token: empty subject, the signer workflow as the (critical)
//!   URI SAN, code signing, and the OIDC claims as Fulcio's extensions under
//!   1.3.6.1.4.1.57264.1 (issuer, build signer, source repository, ref,
//!   commit, trigger, run …), the legacy ones (.1–.6, raw bytes) and the
//!   current ones (.8 on, DER `UTF8String`).
//!   <https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md>
//! - **DSSE.** The in-toto statement (SLSA provenance v1 of the subject's
//!   sha256) signed over the DSSE pre-authentication encoding.
//!   <https://github.com/secure-systems-lab/dsse/blob/master/protocol.md>
//! - **Rekor.** A `dsse` v0.0.1 entry for the envelope, as Rekor writes it
//!   (payload and envelope hashes, the signature and the certificate),
//!   appended to one growing RFC 6962 tree: its signed entry timestamp (the
//!   log's promise over body, integrated time, log id and index) and its
//!   inclusion proof up to a checkpoint the log signed (a C2SP signed note).
//!   <https://github.com/sigstore/rekor/blob/main/pkg/types/dsse/v0.0.1/dsse_v0_0_1_schema.json>,
//!   <https://github.com/C2SP/C2SP/blob/main/signed-note.md>
//! - **The bundle**, v0.3, as GitHub's attestations API serves it, and the
//!   trusted root listing the CA and the log.
//!   <https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto>
//!
//! The crypto is the crates': rcgen (ring) makes and signs the
//! certificates, p256 makes every other signature (ECDSA P-256, SHA-256,
//! DER), sha2 hashes. No CT log: the leaf carries no SCT, as
//! `@sigstore/mock`'s do not either.

use crate::hex;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::Encode as _;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey as _;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData as _, SanType,
    SerialNumber,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// GitHub Actions' OIDC issuer, as Fulcio writes it into the certificate.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The fake Fulcio's URI in the trusted root.
pub const FULCIO_URL: &str = "https://fulcio.sigstore.relay-demo.invalid";
/// The fake Rekor's base URL in the trusted root (its checkpoints are
/// signed under this host name).
pub const REKOR_URL: &str = "https://rekor.sigstore.relay-demo.invalid";
/// The predicate type `actions/attest-build-provenance` writes.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// How long a leaf certificate is valid, as Fulcio's.
pub const LEAF_LIFETIME: time::Duration = time::Duration::minutes(10);

const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const TRUSTED_ROOT: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
const IN_TOTO: &str = "application/vnd.in-toto+json";
/// Fulcio's arc: 1.3.6.1.4.1.57264.1.<n>.
const FULCIO_ARC: [u64; 8] = [1, 3, 6, 1, 4, 1, 57264, 1];
/// The log's tree id, as Rekor's checkpoint origin carries it.
const TREE_ID: u64 = 1_193_050_959_916_656_506;

/// Why the fake could not sign (a certificate or key the crates refused).
#[derive(Debug, thiserror::Error)]
// Each variant's `#[error]` text says when it happens.
#[allow(missing_docs)]
pub enum SigstoreError {
    #[error("the fake Sigstore could not make a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("the fake Sigstore could not use its key: {0}")]
    Key(String),
    #[error("the fake Sigstore could not encode an extension: {0}")]
    Der(#[from] der::Error),
}

/// The GitHub Actions job that attests: what its OIDC token says, and so
/// what Fulcio writes into its certificate.
#[derive(Debug, Clone)]
pub struct BuildIdentity {
    /// The repository the job ran in, `owner/repo`.
    pub repository: String,
    /// The repository of the workflow that signed (`job_workflow_ref`'s),
    /// `owner/repo`: the repository itself unless a reusable workflow of
    /// another one signed.
    pub workflow_repository: String,
    /// The workflow file that signed, `.github/workflows/main.yaml`.
    pub workflow_path: String,
    /// The ref that was built, `refs/heads/main`.
    pub git_ref: String,
    /// The commit that was built.
    pub sha: String,
    /// The event that started the run (`push`).
    pub event: String,
    /// The run that signed; with the attempt, the run invocation URI.
    pub run_id: u64,
    /// The attempt of that run.
    pub run_attempt: u32,
    /// `github-hosted` or `self-hosted`.
    pub runner_environment: String,
    /// `public`, `private` or `internal`.
    pub visibility: String,
    /// The GitHub server (`https://github.com`) the URIs in the
    /// certificate start with.
    pub server_url: String,
}

impl BuildIdentity {
    /// A push build of `sha` on `git_ref` in `repository`, by its own
    /// workflow `workflow_path`, on a GitHub-hosted runner.
    pub fn new(repository: &str, workflow_path: &str, git_ref: &str, sha: &str) -> Self {
        Self {
            repository: repository.to_owned(),
            workflow_repository: repository.to_owned(),
            workflow_path: workflow_path.to_owned(),
            git_ref: git_ref.to_owned(),
            sha: sha.to_owned(),
            event: "push".to_owned(),
            run_id: 1,
            run_attempt: 1,
            runner_environment: "github-hosted".to_owned(),
            visibility: "public".to_owned(),
            server_url: "https://github.com".to_owned(),
        }
    }

    /// The run that signs.
    pub fn run(mut self, run_id: u64) -> Self {
        self.run_id = run_id;
        self
    }

    /// The signing workflow is `repository`'s (a reusable workflow, or
    /// another repository's build altogether).
    pub fn signed_by(mut self, repository: &str, workflow_path: &str) -> Self {
        repository.clone_into(&mut self.workflow_repository);
        workflow_path.clone_into(&mut self.workflow_path);
        self
    }

    /// `owner/repo/.github/workflows/<file>@<ref>`: the token's `job_workflow_ref`.
    pub fn job_workflow_ref(&self) -> String {
        format!(
            "{}/{}@{}",
            self.workflow_repository, self.workflow_path, self.git_ref
        )
    }

    /// The certificate's SAN: the signer workflow's URL at the ref.
    pub fn san(&self) -> String {
        format!("{}/{}", self.server(), self.job_workflow_ref())
    }

    fn server(&self) -> &str {
        self.server_url.trim_end_matches('/')
    }

    fn owner(&self) -> &str {
        self.repository.split('/').next().unwrap_or_default()
    }

    /// Fulcio's extensions for this token, by arc under 1.3.6.1.4.1.57264.1.
    fn extensions(&self) -> Vec<(u64, String)> {
        let server = self.server();
        let repo_uri = format!("{server}/{}", self.repository);
        // Made-up but stable ids, as GitHub's numeric ones.
        let id =
            |s: &str| (u64::from_be_bytes(first8(&Sha256::digest(s))) % 1_000_000_000).to_string();
        vec![
            // Legacy (raw bytes)
            (1, GITHUB_ACTIONS_ISSUER.to_owned()),
            (2, self.event.clone()),
            (3, self.sha.clone()),
            (4, self.workflow_path.clone()),
            (5, self.repository.clone()),
            (6, self.git_ref.clone()),
            // Current (DER UTF8String)
            (8, GITHUB_ACTIONS_ISSUER.to_owned()),
            (9, format!("{server}/{}", self.job_workflow_ref())),
            (10, self.sha.clone()),
            (11, self.runner_environment.clone()),
            (12, repo_uri.clone()),
            (13, self.sha.clone()),
            (14, self.git_ref.clone()),
            (15, id(&self.repository)),
            (16, format!("{server}/{}", self.owner())),
            (17, id(self.owner())),
            (
                18,
                format!(
                    "{repo_uri}/{}@{}",
                    self.workflow_path.trim_start_matches('/'),
                    self.git_ref
                ),
            ),
            (19, self.sha.clone()),
            (20, self.event.clone()),
            (
                21,
                format!(
                    "{repo_uri}/actions/runs/{}/attempts/{}",
                    self.run_id, self.run_attempt
                ),
            ),
            (22, self.visibility.clone()),
        ]
    }

    /// The SLSA provenance v1 predicate `actions/attest-build-provenance` writes.
    fn predicate(&self) -> Value {
        let server = self.server();
        let repo_uri = format!("{server}/{}", self.repository);
        json!({
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": self.git_ref,
                        "repository": repo_uri,
                        "path": self.workflow_path,
                    }
                },
                "internalParameters": {
                    "github": {
                        "event_name": self.event,
                        "runner_environment": self.runner_environment,
                    }
                },
                "resolvedDependencies": [{
                    "uri": format!("git+{repo_uri}@{}", self.git_ref),
                    "digest": { "gitCommit": self.sha },
                }],
            },
            "runDetails": {
                "builder": {
                    "id": format!("{server}/actions/runner/{}", self.runner_environment),
                },
                "metadata": {
                    "invocationId": format!(
                        "{repo_uri}/actions/runs/{}/attempts/{}",
                        self.run_id, self.run_attempt
                    ),
                },
            },
        })
    }
}

fn first8(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[..8]);
    out
}

/// The fake Sigstore: a CA and a log, each with its own key, made at start.
pub struct FakeSigstore {
    ca: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    ca_since: OffsetDateTime,
    log_key: p256::ecdsa::SigningKey,
    log_spki: Vec<u8>,
    log_id: [u8; 32],
    /// Every leaf hash the log holds, in order.
    leaves: Mutex<Vec<[u8; 32]>>,
    /// Certificates issued, for serial numbers.
    issued: Mutex<u64>,
}

impl std::fmt::Debug for FakeSigstore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSigstore")
            .field("log_id", &hex(&self.log_id))
            .finish_non_exhaustive()
    }
}

impl FakeSigstore {
    /// A new CA (valid from a day ago for ten years) and a new, empty log.
    pub fn new() -> Result<Self, SigstoreError> {
        let since = now() - time::Duration::days(1);
        let ca_key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "sigstore.relay-demo.invalid");
        params
            .distinguished_name
            .push(DnType::CommonName, "relay-demo fake Fulcio");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = since;
        params.not_after = since + time::Duration::days(3650);
        params.serial_number = Some(SerialNumber::from_slice(&[1]));
        let ca_der = params.self_signed(&ca_key)?.der().to_vec();
        let ca = Issuer::new(params, ca_key);

        let log = KeyPair::generate()?;
        let log_key = p256::ecdsa::SigningKey::from_pkcs8_der(log.serialized_der())
            .map_err(|e| SigstoreError::Key(e.to_string()))?;
        let log_spki = log.subject_public_key_info();
        let log_id: [u8; 32] = Sha256::digest(&log_spki).into();
        Ok(Self {
            ca,
            ca_der,
            ca_since: since,
            log_key,
            log_spki,
            log_id,
            leaves: Mutex::new(Vec::new()),
            issued: Mutex::new(1),
        })
    }

    /// The `trusted_root.json` that verifies this fake's bundles: its CA
    /// (Fulcio) and its log (Rekor), no CT log, no timestamp authority.
    pub fn trusted_root(&self) -> Value {
        let since = rfc3339(self.ca_since);
        json!({
            "mediaType": TRUSTED_ROOT,
            "tlogs": [{
                "baseUrl": REKOR_URL,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": STANDARD.encode(&self.log_spki),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": { "start": since },
                },
                "logId": { "keyId": STANDARD.encode(self.log_id) },
            }],
            "certificateAuthorities": [{
                "subject": {
                    "organization": "sigstore.relay-demo.invalid",
                    "commonName": "relay-demo fake Fulcio",
                },
                "uri": FULCIO_URL,
                "certChain": { "certificates": [{ "rawBytes": STANDARD.encode(&self.ca_der) }] },
                "validFor": { "start": since },
            }],
            "ctlogs": [],
            "timestampAuthorities": [],
        })
    }

    /// The CA's certificate (DER).
    pub fn ca_certificate(&self) -> &[u8] {
        &self.ca_der
    }

    /// Attests `subject_name` at `digest` (`sha256:<hex>` or the hex) as
    /// `who`'s build, now: the bundle GitHub's attestations API would list.
    pub fn attest(
        &self,
        who: &BuildIdentity,
        subject_name: &str,
        digest: &str,
    ) -> Result<Value, SigstoreError> {
        self.attest_at(who, subject_name, digest, now())
    }

    /// [`attest`](Self::attest) with the certificate issued and the entry
    /// integrated at `at` (whole seconds).
    pub fn attest_at(
        &self,
        who: &BuildIdentity,
        subject_name: &str,
        digest: &str,
        at: OffsetDateTime,
    ) -> Result<Value, SigstoreError> {
        let at = at.replace_nanosecond(0).unwrap_or(at);
        let digest = digest.strip_prefix("sha256:").unwrap_or(digest);
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{ "name": subject_name, "digest": { "sha256": digest.to_ascii_lowercase() } }],
            "predicateType": SLSA_PROVENANCE_V1,
            "predicate": who.predicate(),
        });
        let payload = serde_json::to_vec(&statement).unwrap_or_default();

        // Fulcio: a fresh key and its certificate.
        let key = KeyPair::generate()?;
        let signer = p256::ecdsa::SigningKey::from_pkcs8_der(key.serialized_der())
            .map_err(|e| SigstoreError::Key(e.to_string()))?;
        let (cert, pem) = self.leaf(&key, who, at)?;

        // DSSE: the signature over the pre-authentication encoding.
        let signature: p256::ecdsa::Signature = signer.sign(&pae(IN_TOTO, &payload));
        let sig = signature.to_der().as_bytes().to_vec();

        // Rekor: the entry, its promise, its proof and checkpoint.
        let entry = self.log_entry(&payload, &sig, &pem, at.unix_timestamp());

        Ok(json!({
            "mediaType": BUNDLE_V03,
            "verificationMaterial": {
                "certificate": { "rawBytes": STANDARD.encode(&cert) },
                "tlogEntries": [entry],
                "timestampVerificationData": {},
            },
            "dsseEnvelope": {
                "payload": STANDARD.encode(&payload),
                "payloadType": IN_TOTO,
                "signatures": [{ "sig": STANDARD.encode(&sig), "keyid": "" }],
            },
        }))
    }

    /// A leaf certificate for `key` as Fulcio issues it for `who`'s token.
    fn leaf(
        &self,
        key: &KeyPair,
        who: &BuildIdentity,
        at: OffsetDateTime,
    ) -> Result<(Vec<u8>, String), SigstoreError> {
        let serial = {
            let mut n = self
                .issued
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *n += 1;
            let mut s = Sha256::digest(format!("{}-{}", *n, at.unix_timestamp())).to_vec();
            s.truncate(16);
            s[0] &= 0x7f;
            s
        };
        let mut params = CertificateParams::default();
        // Empty subject: the SAN is the identity (and so critical).
        params.distinguished_name = DistinguishedName::new();
        params.subject_alt_names = vec![SanType::URI(who.san().try_into()?)];
        params.not_before = at;
        params.not_after = at + LEAF_LIFETIME;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        params.use_authority_key_identifier_extension = true;
        for (arc, value) in who.extensions() {
            let mut oid = FULCIO_ARC.to_vec();
            oid.push(arc);
            let content = if arc < 8 {
                value.into_bytes()
            } else {
                der::asn1::Utf8StringRef::new(&value)?.to_der()?
            };
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(&oid, content));
        }
        let cert = params.signed_by(key, &self.ca)?;
        Ok((cert.der().to_vec(), cert.pem()))
    }

    /// Appends a `dsse` entry for the envelope to the log; the bundle's
    /// `TransparencyLogEntry` for it.
    fn log_entry(&self, payload: &[u8], sig: &[u8], pem: &str, integrated: i64) -> Value {
        let sig_b64 = STANDARD.encode(sig);
        let envelope = format!(
            r#"{{"payload":"{}","payloadType":"{IN_TOTO}","signatures":[{{"keyid":"","sig":"{sig_b64}"}}]}}"#,
            STANDARD.encode(payload)
        );
        // Canonical JSON (RFC 8785: keys sorted, no spaces), as Rekor stores it.
        let body = format!(
            r#"{{"apiVersion":"0.0.1","kind":"dsse","spec":{{"envelopeHash":{{"algorithm":"sha256","value":"{}"}},"payloadHash":{{"algorithm":"sha256","value":"{}"}},"signatures":[{{"signature":"{sig_b64}","verifier":"{}"}}]}}}}"#,
            hex(&Sha256::digest(envelope.as_bytes())),
            hex(&Sha256::digest(payload)),
            STANDARD.encode(pem.as_bytes()),
        );
        let body_b64 = STANDARD.encode(body.as_bytes());
        let (index, size, root, path) = {
            let mut leaves = self
                .leaves
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            leaves.push(leaf_hash(body.as_bytes()));
            let index = leaves.len() - 1;
            (
                index,
                leaves.len(),
                mth(&leaves),
                audit_path(index, &leaves),
            )
        };
        let log_id_hex = hex(&self.log_id);
        let promise = format!(
            r#"{{"body":"{body_b64}","integratedTime":{integrated},"logID":"{log_id_hex}","logIndex":{index}}}"#
        );
        let set = self.log_sign(promise.as_bytes());
        let host = REKOR_URL.trim_start_matches("https://");
        let note = format!("{host} - {TREE_ID}\n{size}\n{}\n", STANDARD.encode(root));
        let mut hinted = self.log_id[..4].to_vec();
        hinted.extend(self.log_sign(note.as_bytes()));
        let checkpoint = format!("{note}\n\u{2014} {host} {}\n", STANDARD.encode(hinted));
        json!({
            "logIndex": index.to_string(),
            "logId": { "keyId": STANDARD.encode(self.log_id) },
            "kindVersion": { "kind": "dsse", "version": "0.0.1" },
            "integratedTime": integrated.to_string(),
            "inclusionPromise": { "signedEntryTimestamp": STANDARD.encode(set) },
            "inclusionProof": {
                "logIndex": index.to_string(),
                "rootHash": STANDARD.encode(root),
                "treeSize": size.to_string(),
                "hashes": path.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
                "checkpoint": { "envelope": checkpoint },
            },
            "canonicalizedBody": body_b64,
        })
    }

    /// The log's signature (ECDSA P-256 over SHA-256, DER).
    fn log_sign(&self, msg: &[u8]) -> Vec<u8> {
        let s: p256::ecdsa::Signature = self.log_key.sign(msg);
        s.to_der().as_bytes().to_vec()
    }

    /// How many entries the log holds.
    pub fn log_size(&self) -> usize {
        self.leaves
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The DSSE pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// RFC 6962 §2.1 leaf hash.
fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 §2.1 interior node hash.
fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two smaller than `n` (n > 1): where RFC 6962 splits.
fn split(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// RFC 6962 §2.1 Merkle tree hash over leaf hashes.
fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// RFC 6962 §2.1.1 audit path of leaf `m`.
fn audit_path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    let mut path;
    if m < k {
        path = audit_path(m, &leaves[..k]);
        path.push(mth(&leaves[k..]));
    } else {
        path = audit_path(m - k, &leaves[k..]);
        path.push(mth(&leaves[..k]));
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_dsse_encoding() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn the_tree_follows_rfc_6962() {
        let l: Vec<[u8; 32]> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
        // Three leaves: ((0,1),2).
        assert_eq!(mth(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        assert_eq!(audit_path(2, &l), vec![node_hash(&l[0], &l[1])]);
        assert_eq!(audit_path(0, &l), vec![l[1], l[2]]);
        assert!(audit_path(0, &l[..1]).is_empty());
    }

    #[test]
    fn the_identity_names_the_signer_workflow_at_its_ref() {
        let who = BuildIdentity::new(
            "xtp-tour/xtp-tour",
            ".github/workflows/main.yaml",
            "refs/heads/main",
            "abc",
        );
        assert_eq!(
            who.san(),
            "https://github.com/xtp-tour/xtp-tour/.github/workflows/main.yaml@refs/heads/main"
        );
        let other = who.signed_by("stranger/tools", ".github/workflows/build.yml");
        assert_eq!(
            other.san(),
            "https://github.com/stranger/tools/.github/workflows/build.yml@refs/heads/main"
        );
        let ext: std::collections::BTreeMap<u64, String> = other.extensions().into_iter().collect();
        assert_eq!(ext[&12], "https://github.com/xtp-tour/xtp-tour");
        assert_eq!(
            ext[&9],
            "https://github.com/stranger/tools/.github/workflows/build.yml@refs/heads/main"
        );
    }
}
