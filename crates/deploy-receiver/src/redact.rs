//! Masking secrets in a command's output before it is cut to the answer's
//! tail, so the end of a secret cannot survive at the cut.

use relay_runtime::Secret;
use relay_signature::SigningKey;
use zeroize::Zeroizing;

const MASK: &[u8] = b"***";
/// Shorter forms would mask ordinary words.
const MIN_FORM: usize = 4;

/// The text forms of every secret the receiver holds.
pub(crate) struct Redactor {
    /// Longest first, so a form that contains another is masked whole.
    forms: Vec<Zeroizing<Vec<u8>>>,
}

impl Redactor {
    /// Every printed form of each key (see [`SigningKey::printed_forms`]),
    /// plus `lines`: the secrets exactly as written in their files.
    pub(crate) fn new<'a>(
        keys: impl IntoIterator<Item = &'a SigningKey>,
        lines: &[Secret],
    ) -> Self {
        let mut forms: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for key in keys {
            for form in key.printed_forms() {
                forms.push(Zeroizing::new(form.as_bytes().to_vec()));
            }
        }
        forms.extend(
            lines
                .iter()
                .map(|l| Zeroizing::new(l.expose().as_bytes().to_vec())),
        );
        forms.retain(|f| f.len() >= MIN_FORM);
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup_by(|a, b| a.as_slice() == b.as_slice());
        Self { forms }
    }

    /// The length of the longest form: a tail must keep this many bytes
    /// more than it shows, so a secret cut at its start is cut away whole.
    pub(crate) fn longest(&self) -> usize {
        self.forms.first().map_or(0, |f| f.len())
    }

    /// Where each secret lies in `text`, as non-overlapping ranges in order.
    fn matches(&self, text: &[u8]) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        for form in &self.forms {
            let mut at = 0;
            while let Some(i) = find(&text[at..], form) {
                let (start, end) = (at + i, at + i + form.len());
                if !found.iter().any(|&(s, e)| start < e && s < end) {
                    found.push((start, end));
                }
                at = start + 1;
            }
        }
        found.sort_unstable();
        found
    }

    /// `text` with every secret masked.
    #[cfg(test)]
    pub(crate) fn redact(&self, text: &[u8]) -> Vec<u8> {
        self.tail(text, usize::MAX).0
    }

    /// The last `keep` bytes of `text` (counted before masking), every
    /// secret masked first: a secret that crosses the cut is masked whole,
    /// and one that began before `text` did (cut off by the tail buffer,
    /// which keeps [`Self::longest`] bytes more than `keep`) is dropped with
    /// the bytes before the cut. True when something was cut.
    pub(crate) fn tail(&self, text: &[u8], keep: usize) -> (Vec<u8>, bool) {
        let cut = text.len().saturating_sub(keep);
        let mut out = Vec::with_capacity(text.len() - cut);
        let mut at = cut;
        for (start, end) in self.matches(text) {
            if end <= cut {
                continue;
            }
            out.extend_from_slice(&text[at..start.max(at)]);
            out.extend_from_slice(MASK);
            at = end;
        }
        out.extend_from_slice(&text[at.min(text.len())..]);
        (out, cut > 0)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secrets: &[&str]) -> Redactor {
        let keys: Vec<SigningKey> = secrets
            .iter()
            .map(|s| SigningKey::new(*s).unwrap())
            .collect();
        Redactor::new(&keys, &[])
    }

    #[test]
    fn every_form_is_masked_whatever_it_contains() {
        let whsec = SigningKey::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let odd = SigningKey::new("pa%ss:w,rd").unwrap();
        let r = Redactor::new([&whsec, &odd], &[]);
        let text = b"a whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw b MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw c pa%ss:w,rd d";
        assert_eq!(r.redact(text), b"a *** b *** c *** d");
    }

    #[test]
    fn the_tail_is_masked_before_it_is_cut() {
        let r = redactor(&["0123456789SECRET"]);
        // The cut falls inside the secret: neither half may show.
        let text = b"xxxxxxxxxx0123456789SECRETyyyy";
        for keep in 1..text.len() {
            let (tail, cut) = r.tail(text, keep);
            let shown = String::from_utf8(tail).unwrap();
            assert!(cut);
            for part in ["SECRET", "0123", "6789S", "CRET"] {
                assert!(!shown.contains(part), "keep {keep}: {shown}");
            }
        }
        assert_eq!(r.tail(text, 10).0, b"***yyyy");
        assert_eq!(r.tail(text, 4).0, b"yyyy");
        assert_eq!(r.tail(text, 100), (b"xxxxxxxxxx***yyyy".to_vec(), false));
    }

    #[test]
    fn a_secret_cut_at_the_buffer_start_is_dropped() {
        // The tail buffer lost "0123"; what is left of the secret comes
        // first and falls before the cut, because the buffer keeps
        // `longest` bytes more than the answer shows.
        let r = redactor(&["0123456789SECRET"]);
        let keep = 8;
        let buffer = b"456789SECRETabcdefgh";
        assert!(buffer.len() <= keep + r.longest());
        let (tail, _) = r.tail(buffer, keep);
        assert_eq!(tail, b"abcdefgh");
    }

    #[test]
    fn short_forms_are_left_alone() {
        let r = redactor(&["abc"]);
        assert_eq!(r.redact(b"abc abc"), b"abc abc");
        assert_eq!(r.redact(b"YWJj whsec_YWJj"), b"*** ***");
        assert_eq!(r.longest(), "whsec_YWJj".len());
    }
}
