//! A GitHub App as deploy-relay authenticates as one: its id and RSA key,
//! and the short JSON Web Tokens (RS256) it signs to ask GitHub for
//! installation tokens.
//!
//! The JWT is `jsonwebtoken`'s; the RSA signature is `ring`'s (already the
//! TLS stack's), plugged in as `jsonwebtoken`'s crypto provider, so no
//! second RSA implementation (and no OpenSSL) enters the image. The PEM
//! is decoded by `rustls-pki-types`, as `deploy-receiver` decodes its TLS
//! key. None of these errors is ever shown: a key that does not load is an
//! input error in our words, which never quote the key.
//!
//! The claims follow GitHub's rules: `iat` 60 s in the past (for clock
//! drift), `exp` at most 10 minutes ahead (we take 9, so a runner clock a
//! little fast is not refused), `iss` the App's id or client id.
//! <https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app>

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::signature::{self, Signer};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use relay_runtime::{APP_KEY_INPUT, AppCredentials, AppId, InputError, Secret};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;

/// How far back `iat` is set, as GitHub recommends against clock drift.
pub const JWT_BACKDATE: Duration = Duration::from_mins(1);
/// How long a JWT lasts from now; GitHub refuses more than 10 minutes.
pub const JWT_LIFETIME: Duration = Duration::from_mins(9);

/// A GitHub App that can sign its JWTs.
#[derive(Clone)]
pub struct App {
    id: AppId,
    key: std::sync::Arc<EncodingKey>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "App({}, key ***)", self.id)
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iat: u64,
    exp: u64,
    iss: &'a str,
}

impl App {
    /// Loads the key of checked App inputs and proves it signs, so a key
    /// that cannot is an input error before any request.
    pub fn new(credentials: &AppCredentials) -> Result<Self, InputError> {
        install_provider();
        let bad = |why: &str| {
            InputError::new(
                APP_KEY_INPUT,
                why,
                "paste the whole `.pem` file GitHub downloaded when you generated a private key for the App into the secret",
            )
        };
        let der = PrivateKeyDer::from_pem_slice(credentials.key.pem().expose().as_bytes())
            .map_err(|_| bad("is not a PEM private key that can be read"))?;
        let der = match der {
            PrivateKeyDer::Pkcs1(k) => k.secret_pkcs1_der().to_vec(),
            PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
            _ => return Err(bad("is not an RSA key; GitHub App keys are RSA")),
        };
        key_pair(&der).map_err(|e| bad(&rejected(e)))?;
        let app = Self {
            id: credentials.id.clone(),
            key: std::sync::Arc::new(EncodingKey::from_rsa_der(&der)),
        };
        app.jwt(SystemTime::now())
            .map_err(|_| bad("could not sign"))?;
        Ok(app)
    }

    /// The App's id, as given.
    pub fn id(&self) -> &AppId {
        &self.id
    }

    /// A JWT for requests as the App, valid from [`JWT_BACKDATE`] before
    /// `now` to [`JWT_LIFETIME`] after it.
    pub fn jwt(&self, now: SystemTime) -> Result<Secret, jsonwebtoken::errors::Error> {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let claims = Claims {
            iat: now.saturating_sub(JWT_BACKDATE).as_secs(),
            exp: (now + JWT_LIFETIME).as_secs(),
            iss: self.id.as_str(),
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)?;
        Ok(Secret::new(jwt))
    }
}

/// `ring` parses the key (PKCS#8 or PKCS#1) and checks it is a sound RSA
/// key of at least 2048 bits.
fn key_pair(der: &[u8]) -> Result<RsaKeyPair, ring::error::KeyRejected> {
    RsaKeyPair::from_pkcs8(der).or_else(|_| RsaKeyPair::from_der(der))
}

/// What `ring` found wrong, in words; its reasons are fixed names, never
/// key material.
fn rejected(e: ring::error::KeyRejected) -> String {
    match e.to_string().as_str() {
        "TooSmall" => "is an RSA key shorter than 2048 bits; GitHub App keys are 2048 bits".into(),
        "TooLarge" => "is an RSA key longer than GitHub App keys are".into(),
        "WrongAlgorithm" => "is not an RSA key; GitHub App keys are RSA".into(),
        _ => {
            "is damaged or truncated: the PEM decodes, but the RSA key inside does not load".into()
        }
    }
}

/// RS256 by `ring`, as `jsonwebtoken` asks a provider to sign.
struct RingRs256(RsaKeyPair);

impl Signer<Vec<u8>> for RingRs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut sig = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut sig)
            .map_err(|_| signature::Error::new())?;
        Ok(sig)
    }
}

impl JwtSigner for RingRs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // the signature jsonwebtoken's provider takes
fn ring_signer(
    alg: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    if *alg != Algorithm::RS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let pair = key_pair(key.as_bytes()).map_err(|_| ErrorKind::InvalidKeyFormat)?;
    Ok(Box::new(RingRs256(pair)))
}

/// deploy-relay only signs; verifying is GitHub's (and, in tests, an
/// implementation that is not ours).
#[allow(clippy::trivially_copy_pass_by_ref)] // the signature jsonwebtoken's provider takes
fn no_verifier(
    _: &Algorithm,
    _: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: ring_signer,
    verifier_factory: no_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

fn install_provider() {
    // Once per process; a second call finds ours installed.
    let _ = PROVIDER.install_default();
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    use relay_testkit::app_keys::AppKeys;

    fn app(pem: &str) -> Result<App, InputError> {
        let creds = AppCredentials {
            id: AppId::parse("Iv23liTestApp0001").unwrap(),
            key: relay_runtime::AppKey::parse(pem).unwrap(),
        };
        App::new(&creds)
    }

    fn claims(jwt: &str) -> serde_json::Value {
        let part = jwt.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn signs_rs256_with_githubs_claims_from_pkcs1_and_pkcs8() {
        let Some(keys) = AppKeys::shared() else {
            return;
        };
        for pem in [&keys.pkcs1, &keys.pkcs8] {
            let app = app(pem).unwrap();
            let now = UNIX_EPOCH + Duration::from_hours(500_000);
            let jwt = app.jwt(now).unwrap();
            let text = jwt.expose();
            let header = text.split('.').next().unwrap();
            let header: serde_json::Value = serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(header)
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(header["alg"], "RS256");
            let c = claims(text);
            assert_eq!(c["iat"], 1_800_000_000 - 60);
            assert_eq!(c["exp"], 1_800_000_000 + 540);
            assert_eq!(c["iss"], "Iv23liTestApp0001");
            assert_eq!(
                text.split('.').nth(2).unwrap().len(),
                342,
                "2048-bit signature"
            );
        }
    }

    #[test]
    fn a_key_ring_refuses_is_an_input_error_that_never_quotes_it() {
        // A PKCS#1 shell whose modulus was cut: the DER length is right,
        // the RSA key inside is not.
        let der = [0x30, 0x03, 0x02, 0x01, 0x00];
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let pem =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{b64}\n-----END RSA PRIVATE KEY-----\n");
        let e = app(&pem).unwrap_err();
        assert_eq!(e.input, APP_KEY_INPUT);
        assert!(e.to_string().contains("damaged or truncated"), "{e}");
        assert!(!e.to_string().contains(&b64));
        if let Some(keys) = AppKeys::shared() {
            assert_eq!(
                format!("{:?}", app(&keys.pkcs1).unwrap()),
                "App(Iv23liTestApp0001, key ***)"
            );
        }
    }
}
