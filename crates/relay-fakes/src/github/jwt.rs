//! The fake's JWT check, by an implementation deploy-relay did not write:
//! `PyJWT` (with `cryptography` for RS256) in a small Python process the fake
//! starts on its first JWT and keeps, one JSON line per check. Our signer
//! (`jsonwebtoken` on `ring`) and this verifier share nothing but RFC 7519.
//!
//! On top of `PyJWT`'s own checks (signature, `exp` not past, `iat` not in
//! the future) it applies GitHub's: `iss` must name a known App, `exp` at
//! most 10 minutes ahead. Refusals answer with GitHub's messages.
//!
//! Where python3 with `PyJWT` is not installed (the demo on a bare machine),
//! the same checks run on `RustCrypto`'s `rsa` ([`check_locally`]), still not
//! the product's signer (`ring`); the tests insist on `PyJWT`
//! ([`verifier_in_use`] says which one answered).
//! <https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app>

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

/// The verifier, run as `python3 -c SCRIPT`.
const SCRIPT: &str = r#"
import json, sys, time
import jwt
for line in sys.stdin:
    req = json.loads(line)
    out = {"ok": False, "why": "decode"}
    try:
        now = time.time()
        unverified = jwt.decode(req["jwt"], options={"verify_signature": False})
        iss = str(unverified.get("iss"))
        key = req["keys"].get(iss)
        if key is not None:
            claims = jwt.decode(
                req["jwt"], key, algorithms=["RS256"],
                options={"require": ["exp", "iat", "iss"], "verify_iss": False},
            )
            if claims["exp"] > now + 600:
                out = {"ok": False, "why": "exp-far"}
            else:
                out = {"ok": True, "iss": iss}
    except jwt.ExpiredSignatureError:
        out = {"ok": False, "why": "expired"}
    except jwt.ImmatureSignatureError:
        out = {"ok": False, "why": "iat"}
    except Exception:
        out = {"ok": False, "why": "decode"}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"#;

/// Why a JWT was refused, with the message GitHub answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtRefusal {
    /// Bad signature, unknown `iss`, not a JWT.
    Undecodable,
    /// `exp` is past.
    Expired,
    /// `exp` is more than 10 minutes ahead.
    ExpiresTooLate,
    /// `iat` is in the future.
    IssuedInTheFuture,
    /// The verifier could not run (python3 or `PyJWT` missing).
    NoVerifier,
}

impl JwtRefusal {
    /// GitHub's `message` for this refusal, word for word.
    pub fn message(self) -> &'static str {
        match self {
            Self::Undecodable => "A JSON web token could not be decoded",
            Self::Expired => {
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
            }
            Self::ExpiresTooLate => "'Expiration time' claim ('exp') is too far in the future",
            Self::IssuedInTheFuture => {
                "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
            }
            Self::NoVerifier => "the fake GitHub could not verify the JWT",
        }
    }
}

pub(crate) struct Verifier {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Verifier {
    fn start() -> Option<Self> {
        let mut child = Command::new("python3")
            .args(["-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let stdout = BufReader::new(child.stdout.take()?);
        Some(Self {
            child,
            stdin,
            stdout,
        })
    }

    fn ask(&mut self, request: &Value) -> Option<Value> {
        writeln!(self.stdin, "{request}").ok()?;
        self.stdin.flush().ok()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line).ok()?;
        serde_json::from_str(&line).ok()
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Verifies `jwt` against the Apps' public keys (`iss` → PEM); the
/// verifier process is started on first use and restarted if it died.
/// Without python3 and `PyJWT`, [`check_locally`] answers.
pub(crate) fn verify(
    verifier: &mut Option<Verifier>,
    jwt: &str,
    keys: &BTreeMap<String, String>,
) -> Result<String, JwtRefusal> {
    let request = json!({"jwt": jwt, "keys": keys});
    for _ in 0..2 {
        if verifier.is_none() {
            *verifier = Verifier::start();
        }
        let Some(v) = verifier.as_mut() else {
            break;
        };
        match v.ask(&request) {
            Some(answer) => {
                return match (answer["ok"].as_bool(), answer["why"].as_str()) {
                    (Some(true), _) => Ok(answer["iss"].as_str().unwrap_or_default().to_owned()),
                    (_, Some("expired")) => Err(JwtRefusal::Expired),
                    (_, Some("exp-far")) => Err(JwtRefusal::ExpiresTooLate),
                    (_, Some("iat")) => Err(JwtRefusal::IssuedInTheFuture),
                    _ => Err(JwtRefusal::Undecodable),
                };
            }
            // The process died (PyJWT missing makes it exit at import).
            None => *verifier = None,
        }
    }
    LOCAL.store(true, std::sync::atomic::Ordering::Relaxed);
    check_locally(jwt, keys, std::time::SystemTime::now())
}

/// Set once a JWT was checked by [`check_locally`] in this process.
static LOCAL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Which implementation checked the fake's JWTs so far: `PyJWT`, or
/// `rsa (RustCrypto)` once python3 with `PyJWT` was not there.
pub fn verifier_in_use() -> &'static str {
    if LOCAL.load(std::sync::atomic::Ordering::Relaxed) {
        "rsa (RustCrypto)"
    } else {
        "PyJWT"
    }
}

/// The verifier's checks on `RustCrypto`'s `rsa`: an RS256 signature by the
/// key of the App `iss` names, `exp` and `iat` present, `exp` not past and
/// at most 10 minutes ahead, `iat` not in the future.
pub(crate) fn check_locally(
    jwt: &str,
    keys: &BTreeMap<String, String>,
    now: std::time::SystemTime,
) -> Result<String, JwtRefusal> {
    use base64::Engine as _;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey as _;
    use rsa::signature::Verifier as _;

    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = jwt.split('.');
    let (Some(head), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtRefusal::Undecodable);
    };
    let json =
        |part: &str| -> Option<Value> { serde_json::from_slice(&b64.decode(part).ok()?).ok() };
    let (Some(header), Some(claims)) = (json(head), json(body)) else {
        return Err(JwtRefusal::Undecodable);
    };
    if header["alg"] != "RS256" {
        return Err(JwtRefusal::Undecodable);
    }
    let iss = match &claims["iss"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(JwtRefusal::Undecodable),
    };
    let key = keys
        .get(&iss)
        .and_then(|pem| rsa::RsaPublicKey::from_public_key_pem(pem).ok())
        .ok_or(JwtRefusal::Undecodable)?;
    let signature = b64
        .decode(sig)
        .ok()
        .and_then(|s| Signature::try_from(s.as_slice()).ok())
        .ok_or(JwtRefusal::Undecodable)?;
    VerifyingKey::<rsa::sha2::Sha256>::new(key)
        .verify(format!("{head}.{body}").as_bytes(), &signature)
        .map_err(|_| JwtRefusal::Undecodable)?;
    let (Some(exp), Some(iat)) = (claims["exp"].as_f64(), claims["iat"].as_f64()) else {
        return Err(JwtRefusal::Undecodable);
    };
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    if exp <= now {
        Err(JwtRefusal::Expired)
    } else if iat > now {
        Err(JwtRefusal::IssuedInTheFuture)
    } else if exp > now + 600.0 {
        Err(JwtRefusal::ExpiresTooLate)
    } else {
        Ok(iss)
    }
}

/// Whether `token` is shaped like a JWT (three base64url parts, a JSON header).
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.split('.').count() == 3
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use base64::Engine as _;
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::signature::{SignatureEncoding as _, Signer as _};

    use super::*;
    use crate::AppKeyPair;

    fn keys() -> &'static (AppKeyPair, AppKeyPair) {
        static KEYS: std::sync::OnceLock<(AppKeyPair, AppKeyPair)> = std::sync::OnceLock::new();
        KEYS.get_or_init(|| {
            (
                AppKeyPair::generate().unwrap(),
                AppKeyPair::generate().unwrap(),
            )
        })
    }

    /// An RS256 JWT by `key` with `iss`, `iat` and `exp` seconds from now.
    fn jwt(key: &AppKeyPair, iss: &str, iat: i64, exp: i64) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .cast_signed();
        let head = b64.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let body = b64.encode(
            json!({"iss": iss, "iat": now + iat, "exp": now + exp})
                .to_string()
                .as_bytes(),
        );
        let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(
            rsa::RsaPrivateKey::from_pkcs1_pem(&key.private_pem).unwrap(),
        );
        let sig = signer.sign(format!("{head}.{body}").as_bytes()).to_vec();
        format!("{head}.{body}.{}", b64.encode(sig))
    }

    fn known() -> BTreeMap<String, String> {
        [("Iv1demo".to_owned(), keys().0.public_pem.clone())].into()
    }

    /// Each case: the token, and what both verifiers must answer.
    fn cases() -> Vec<(&'static str, String, Result<String, JwtRefusal>)> {
        let (good, other) = keys();
        vec![
            ("good", jwt(good, "Iv1demo", -60, 540), Ok("Iv1demo".into())),
            (
                "other key",
                jwt(other, "Iv1demo", -60, 540),
                Err(JwtRefusal::Undecodable),
            ),
            (
                "unknown iss",
                jwt(good, "Iv1else", -60, 540),
                Err(JwtRefusal::Undecodable),
            ),
            (
                "expired",
                jwt(good, "Iv1demo", -700, -60),
                Err(JwtRefusal::Expired),
            ),
            (
                "iat ahead",
                jwt(good, "Iv1demo", 120, 540),
                Err(JwtRefusal::IssuedInTheFuture),
            ),
            (
                "exp far",
                jwt(good, "Iv1demo", -60, 900),
                Err(JwtRefusal::ExpiresTooLate),
            ),
            (
                "not a jwt",
                "eyJhbGciOi.x".into(),
                Err(JwtRefusal::Undecodable),
            ),
        ]
    }

    #[test]
    fn the_local_check_refuses_what_github_refuses() {
        for (name, token, want) in cases() {
            assert_eq!(
                check_locally(&token, &known(), SystemTime::now()),
                want,
                "{name}"
            );
        }
        let later = SystemTime::now() + Duration::from_mins(10);
        let (name, token, _) = &cases()[0];
        assert_eq!(
            check_locally(token, &known(), later),
            Err(JwtRefusal::Expired),
            "{name}, ten minutes on"
        );
    }

    /// `PyJWT`, where installed, answers every case as the local check does.
    #[test]
    fn the_local_check_agrees_with_pyjwt() {
        let mut verifier = Verifier::start();
        let probe = verifier
            .as_mut()
            .and_then(|v| v.ask(&json!({"jwt": "x", "keys": {}})));
        if probe.is_none() {
            assert!(
                relay_runtime::Env::from_process().get("CI").is_none(),
                "python3 with PyJWT is installed by .ci/run"
            );
            return;
        }
        for (name, token, want) in cases() {
            let mut v = None;
            assert_eq!(verify(&mut v, &token, &known()), want, "{name}: PyJWT");
        }
    }
}
