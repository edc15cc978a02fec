//! Signature header parsing and verification on arbitrary text: never a
//! panic, and never a success for a header that was not made with the key.

#![no_main]

use libfuzzer_sys::fuzz_target;
use relay_signature::standard::{self, Headers};
use relay_signature::{Secret, github};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Split the input into the pieces a request carries.
    let mut parts = text.splitn(4, '\n');
    let (sig, id, ts, body) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("").as_bytes(),
    );
    let key = Secret::new(b"fuzzing key".to_vec()).expect("non-empty");

    let _ = github::parse(sig);
    let _ = standard::parse_signatures(sig);
    let _ = standard::parse_timestamp(ts);
    let _ = Secret::from_whsec(sig);

    // A header that verifies must be the one we would have produced.
    if github::verify(std::slice::from_ref(&key), Some(sig), body).is_ok() {
        assert_eq!(github::parse(sig).ok(), github::parse(&github::sign(&key, body)).ok());
    }
    let headers = Headers { id: Some(id), timestamp: Some(ts), signature: Some(sig) };
    if standard::verify(std::slice::from_ref(&key), headers, body, 1_700_000_000, std::time::Duration::from_secs(300)).is_ok() {
        let ts: i64 = ts.parse().expect("verified timestamps parse");
        let ours = standard::sign(std::slice::from_ref(&key), id, ts, body).expect("verified ids are signable");
        assert!(sig.split(' ').any(|entry| entry == ours));
    }
    // Round trip on whatever id and body came in.
    if let Ok(made) = standard::sign(std::slice::from_ref(&key), id, 1_700_000_000, body) {
        let headers = Headers { id: Some(id), timestamp: Some("1700000000"), signature: Some(&made) };
        assert!(standard::verify(&[key], headers, body, 1_700_000_000, std::time::Duration::from_secs(1)).is_ok());
    }
});
