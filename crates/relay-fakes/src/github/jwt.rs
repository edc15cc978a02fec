//! The fake's JWT check, by an implementation deploy-relay did not write:
//! PyJWT (with `cryptography` for RS256) in a small Python process the fake
//! starts on its first JWT and keeps, one JSON line per check. Our signer
//! (`jsonwebtoken` on `ring`) and this verifier share nothing but RFC 7519.
//!
//! On top of PyJWT's own checks (signature, `exp` not past, `iat` not in
//! the future) it applies GitHub's: `iss` must name a known App, `exp` at
//! most 10 minutes ahead. Refusals answer with GitHub's messages.
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
    Expired,
    ExpiresTooLate,
    IssuedInTheFuture,
    /// The verifier could not run (python3 or PyJWT missing).
    NoVerifier,
}

impl JwtRefusal {
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
            Self::NoVerifier => {
                "the fake GitHub could not verify the JWT: it needs python3 with PyJWT and cryptography (pip install 'PyJWT[crypto]')"
            }
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
            return Err(JwtRefusal::NoVerifier);
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
    Err(JwtRefusal::NoVerifier)
}

/// Whether `token` is shaped like a JWT (three base64url parts, a JSON header).
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.split('.').count() == 3
}
