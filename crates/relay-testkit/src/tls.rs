//! A throwaway private CA and a server certificate it signed for 127.0.0.1
//! and localhost, made by the `openssl` command line (a peer `.ci/run`
//! installs) — what a user with an internal CA has.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::peers;

/// The CA and the server certificate, as PEM text and as files.
pub struct TestCa {
    /// The CA certificate, what a client is told to trust.
    pub ca_pem: String,
    /// [`TestCa::ca_pem`] as a file.
    pub ca_path: PathBuf,
    /// The server's certificate.
    pub cert_pem: String,
    /// The server's private key.
    pub key_pem: String,
    /// [`TestCa::cert_pem`] as a file.
    pub cert_path: PathBuf,
    /// [`TestCa::key_pem`] as a file.
    pub key_path: PathBuf,
    _dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestCa {
    /// `None` (skipped) when openssl is not installed outside CI.
    pub fn generate() -> Option<Self> {
        if !peers::require_program("openssl", "apt-get install openssl") {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        openssl(
            d,
            &[
                &["req", "-x509"],
                &ec[..],
                &[
                    "-subj",
                    "/CN=deploy-relay test CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-days",
                    "2",
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                ],
            ]
            .concat(),
        );
        openssl(
            d,
            &[
                &["req"],
                &ec[..],
                &[
                    "-subj",
                    "/CN=localhost",
                    "-keyout",
                    "key.pem",
                    "-out",
                    "leaf.csr",
                ],
            ]
            .concat(),
        );
        std::fs::write(d.join("leaf.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").expect("ext");
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "leaf.ext",
                "-out",
                "cert.pem",
            ],
        );
        let read = |name: &str| std::fs::read_to_string(d.join(name)).expect("pem");
        Some(Self {
            ca_pem: read("ca.pem"),
            ca_path: d.join("ca.pem"),
            cert_pem: read("cert.pem"),
            key_pem: read("key.pem"),
            cert_path: d.join("cert.pem"),
            key_path: d.join("key.pem"),
            _dir: dir,
        })
    }

    /// A rustls server config serving the server certificate.
    pub fn server_config(&self) -> std::sync::Arc<rustls::ServerConfig> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("cert pem");
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).expect("key pem");
        let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
        std::sync::Arc::new(config)
    }
}
