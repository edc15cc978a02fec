//! Round trips and tamper detection over arbitrary inputs.

use std::time::Duration;

use proptest::prelude::*;
use relay_signature::standard::{self, Headers};
use relay_signature::{SigningKey, VerifyError, github};

fn secret() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 1..80)
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..512)
}

fn webhook_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_:-]{1,40}"
}

const TOLERANCE: Duration = Duration::from_secs(300);

proptest! {
    #[test]
    fn github_round_trip(key in secret(), body in body()) {
        let key = SigningKey::new(key).unwrap();
        let header = github::sign(&key, &body);
        prop_assert!(header.starts_with("sha256="));
        prop_assert_eq!(header.len(), 71);
        prop_assert!(header[7..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        prop_assert_eq!(github::verify(&[key], Some(&header), &body), Ok(()));
    }

    #[test]
    fn github_detects_any_changed_byte(key in secret(), body in body().prop_filter("non-empty", |b| !b.is_empty()), at in any::<usize>(), flip in 1u8..=255) {
        let key = SigningKey::new(key).unwrap();
        let header = github::sign(&key, &body);
        let mut altered = body.clone();
        let i = at % altered.len();
        altered[i] ^= flip;
        prop_assert_eq!(github::verify(&[key], Some(&header), &altered), Err(VerifyError::Mismatch));
    }

    #[test]
    fn github_detects_appended_or_truncated_body(key in secret(), body in body(), extra in proptest::collection::vec(any::<u8>(), 1..8)) {
        let key = SigningKey::new(key).unwrap();
        let header = github::sign(&key, &body);
        let mut longer = body.clone();
        longer.extend_from_slice(&extra);
        prop_assert!(github::verify(std::slice::from_ref(&key), Some(&header), &longer).is_err());
        if !body.is_empty() {
            prop_assert!(github::verify(&[key], Some(&header), &body[..body.len() - 1]).is_err());
        }
    }

    #[test]
    fn github_wrong_secret_fails(a in secret(), b in secret(), body in body()) {
        prop_assume!(a != b);
        let header = github::sign(&SigningKey::new(a).unwrap(), &body);
        prop_assert_eq!(github::verify(&[SigningKey::new(b).unwrap()], Some(&header), &body), Err(VerifyError::Mismatch));
    }

    #[test]
    fn standard_round_trip(key in secret(), id in webhook_id(), ts in 0i64..4_000_000_000, skew in -300i64..=300, body in body()) {
        let key = SigningKey::new(key).unwrap();
        let signature = standard::sign(std::slice::from_ref(&key), &id, ts, &body).unwrap();
        let ts_text = ts.to_string();
        let headers = Headers { id: Some(&id), timestamp: Some(&ts_text), signature: Some(&signature) };
        prop_assert_eq!(standard::verify(&[key], headers, &body, ts + skew, TOLERANCE), Ok(()));
    }

    #[test]
    fn standard_binds_id_timestamp_and_body(key in secret(), id in webhook_id(), other_id in webhook_id(), ts in 1i64..4_000_000_000, body in body(), extra in any::<u8>()) {
        let key = SigningKey::new(key).unwrap();
        let keys = std::slice::from_ref(&key);
        let signature = standard::sign(keys, &id, ts, &body).unwrap();
        let ts_text = ts.to_string();
        let earlier = (ts - 1).to_string();
        let mut longer = body.clone();
        longer.push(extra);
        let good = Headers { id: Some(&id), timestamp: Some(&ts_text), signature: Some(&signature) };
        if other_id != id {
            let moved = Headers { id: Some(&other_id), ..good };
            prop_assert_eq!(standard::verify(keys, moved, &body, ts, TOLERANCE), Err(VerifyError::Mismatch));
        }
        let redated = Headers { timestamp: Some(&earlier), ..good };
        prop_assert_eq!(standard::verify(keys, redated, &body, ts, TOLERANCE), Err(VerifyError::Mismatch));
        prop_assert_eq!(standard::verify(keys, good, &longer, ts, TOLERANCE), Err(VerifyError::Mismatch));
    }

    #[test]
    fn standard_outside_tolerance_is_stale(key in secret(), ts in 1000i64..4_000_000_000, beyond in 301i64..100_000, body in body()) {
        let key = SigningKey::new(key).unwrap();
        let signature = standard::sign(std::slice::from_ref(&key), "msg_1", ts, &body).unwrap();
        let ts_text = ts.to_string();
        let headers = Headers { id: Some("msg_1"), timestamp: Some(&ts_text), signature: Some(&signature) };
        prop_assert_eq!(standard::verify(std::slice::from_ref(&key), headers, &body, ts + beyond, TOLERANCE), Err(VerifyError::Stale));
        prop_assert_eq!(standard::verify(&[key], headers, &body, ts - beyond, TOLERANCE), Err(VerifyError::Stale));
    }

    #[test]
    fn parsers_never_panic(text in ".{0,200}") {
        let _ = github::parse(&text);
        let _ = standard::parse_signatures(&text);
        let _ = standard::parse_timestamp(&text);
    }

    #[test]
    fn whsec_round_trip(key in secret()) {
        let key = SigningKey::new(key).unwrap();
        let back = SigningKey::from_whsec(&key.to_whsec()).unwrap();
        prop_assert_eq!(back.expose(), key.expose());
    }
}
