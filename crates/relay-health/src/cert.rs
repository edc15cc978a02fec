//! The `notAfter` of an X.509 certificate, read straight from its DER.
//!
//! Only the path to `tbsCertificate.validity` is walked, so a full ASN.1
//! parser (and its dependency tree) is not needed for one timestamp.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// One DER element: tag, contents, and what follows it.
fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The certificate's expiry, `None` if the DER is not a certificate.
pub(crate) fn not_after(der: &[u8]) -> Option<OffsetDateTime> {
    const SEQUENCE: u8 = 0x30;
    let (tag, cert, _) = element(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = element(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs;
    let (tag, _, after) = element(rest)?;
    // `version` is an explicit [0], absent in v1 certificates.
    if tag == 0xa0 {
        rest = after;
    }
    // serialNumber, signature, issuer, then validity.
    for _ in 0..3 {
        rest = element(rest)?.2;
    }
    let (tag, validity, _) = element(rest)?;
    if tag != SEQUENCE {
        return None;
    }
    let (_, _, after_not_before) = element(validity)?;
    let (tag, text, _) = element(after_not_before)?;
    parse_time(tag, std::str::from_utf8(text).ok()?)
}

fn parse_time(tag: u8, text: &str) -> Option<OffsetDateTime> {
    let text = text.strip_suffix('Z')?;
    let (year, rest) = match tag {
        // UTCTime: two-digit years, 50..99 are 19xx (RFC 5280 4.1.2.5.1).
        0x17 => {
            let yy: i32 = text.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
        }
        0x18 => (text.get(..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    if rest.len() != 10 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |i: usize| rest[i..i + 2].parse::<u8>().ok();
    let date = Date::from_calendar_date(year, Month::try_from(n(0)?).ok()?, n(2)?).ok()?;
    let time = Time::from_hms(n(4)?, n(6)?, n(8)?).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(u8::try_from(content.len()).unwrap());
        } else {
            v.push(0x82);
            v.extend_from_slice(&u16::try_from(content.len()).unwrap().to_be_bytes());
        }
        v.extend_from_slice(content);
        v
    }

    /// Whether the certificate states its version (v3) or leaves the
    /// default (v1) implicit.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Version {
        Stated,
        Implicit,
    }

    fn cert(version: Version, not_after: (u8, &str)) -> Vec<u8> {
        let mut tbs = Vec::new();
        if version == Version::Stated {
            tbs.extend(tlv(0xa0, &tlv(0x02, &[2])));
        }
        tbs.extend(tlv(0x02, &[1, 2, 3]));
        tbs.extend(tlv(0x30, &[0; 10]));
        tbs.extend(tlv(0x30, &[0x31; 200]));
        let mut validity = tlv(0x17, b"240101000000Z");
        validity.extend(tlv(not_after.0, not_after.1.as_bytes()));
        tbs.extend(tlv(0x30, &validity));
        tbs.extend(tlv(0x30, &[0; 4]));
        let mut body = tlv(0x30, &tbs);
        body.extend(tlv(0x30, &[0; 3]));
        tlv(0x30, &body)
    }

    #[test]
    fn reads_utc_and_generalized_times() {
        let t = not_after(&cert(Version::Stated, (0x17, "301231235959Z"))).unwrap();
        assert_eq!((t.year(), t.month() as u8, t.day()), (2030, 12, 31));
        let t = not_after(&cert(Version::Implicit, (0x18, "20500102030405Z"))).unwrap();
        assert_eq!((t.year(), t.hour(), t.second()), (2050, 3, 5));
        let t = not_after(&cert(Version::Stated, (0x17, "991231000000Z"))).unwrap();
        assert_eq!(t.year(), 1999);
    }

    #[test]
    fn garbage_is_none() {
        assert!(not_after(b"").is_none());
        assert!(not_after(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(not_after(&cert(Version::Stated, (0x17, "3012312359Z"))).is_none());
        assert!(not_after(&cert(Version::Stated, (0x04, "301231235959Z"))).is_none());
        let mut truncated = cert(Version::Stated, (0x17, "301231235959Z"));
        truncated.truncate(40);
        assert!(not_after(&truncated).is_none());
    }
}
