//! The patterns of Gatus's `pat(...)`: shell-style wildcards as Go's
//! `filepath.Match` reads them, which is what Gatus uses.
//!
//! `*` is any run of characters, `?` one character, `[abc]`, `[a-z]` and
//! `[^a-z]` a class, `\x` the character `x`. Gatus removes `/` from both the
//! pattern and the text before matching, so `*` crosses `/` there; here `*`
//! simply matches `/` too. A pattern Go would call malformed (an unclosed
//! `[`, an empty class, a trailing `\`) is refused when the condition is
//! parsed instead of silently never matching, as it does in Gatus.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Star,
    One,
    Char(char),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A compiled `pat(...)` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("pattern `{text}` {why}");
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::Star,
                '?' => Token::One,
                '\\' => Token::Char(chars.next().ok_or_else(|| bad("ends with `\\`"))?),
                '[' => {
                    let negated = chars.next_if_eq(&'^').is_some();
                    let mut ranges = Vec::new();
                    loop {
                        match chars.peek() {
                            None => return Err(bad("has an unclosed `[`")),
                            Some(']') if !ranges.is_empty() => {
                                chars.next();
                                break;
                            }
                            _ => {}
                        }
                        let lo =
                            class_char(&mut chars).ok_or_else(|| bad("has a bad `[...]` class"))?;
                        let hi = if chars.next_if_eq(&'-').is_some() {
                            class_char(&mut chars)
                                .ok_or_else(|| bad("has a bad range in `[...]`"))?
                        } else {
                            lo
                        };
                        if lo > hi {
                            return Err(bad("has a range whose start is after its end"));
                        }
                        ranges.push((lo, hi));
                    }
                    Token::Class { negated, ranges }
                }
                c => Token::Char(c),
            });
        }
        Ok(Self { tokens })
    }

    /// Whether the whole of `s` matches.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let s: Vec<char> = s.chars().collect();
        let (mut p, mut i) = (0, 0);
        // Where to resume after the last `*`: its token index and the text
        // position it has swallowed up to. One such point is enough for
        // wildcard patterns, so this stays linear in practice.
        let mut resume: Option<(usize, usize)> = None;
        while i < s.len() {
            match self.tokens.get(p) {
                Some(Token::Star) => {
                    resume = Some((p, i));
                    p += 1;
                    continue;
                }
                Some(t) if single(t, s[i]) => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            match resume {
                Some((star, at)) => {
                    resume = Some((star, at + 1));
                    p = star + 1;
                    i = at + 1;
                }
                None => return false,
            }
        }
        self.tokens[p..].iter().all(|t| *t == Token::Star)
    }
}

/// One character of a class: `\x` or any character but `-` and `]`, as Go
/// requires.
fn class_char(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
    match chars.next()? {
        '\\' => chars.next(),
        '-' | ']' => None,
        c => Some(c),
    }
}

fn single(token: &Token, c: char) -> bool {
    match token {
        Token::Star => false,
        Token::One => true,
        Token::Char(want) => *want == c,
        Token::Class { negated, ranges } => {
            ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::parse(p).unwrap().matches(s)
    }

    #[test]
    fn wildcards_as_go_filepath_match_reads_them() {
        assert!(m("john*", "john.doe"));
        assert!(!m("john*", "bob"));
        assert!(m("*", ""));
        assert!(m(
            "*<h1>Example Domain</h1>*",
            "<html><h1>Example Domain</h1></html>"
        ));
        assert!(m("192.168.*", "192.168.0.1"));
        assert!(m("2??", "204"));
        assert!(!m("2??", "2041"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("*a", "aaa"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn classes_ranges_negation_and_escapes() {
        assert!(m("[abc]x", "bx"));
        assert!(!m("[abc]x", "dx"));
        assert!(m("v[0-9].[0-9]", "v1.2"));
        assert!(m("[^0-9]*", "x1"));
        assert!(!m("[^0-9]*", "1x"));
        assert!(m("\\*literal", "*literal"));
        assert!(!m("\\*literal", "xliteral"));
        assert!(m("[\\]]", "]"));
        assert!(m("2[0-9][0-9]", "204"));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for (p, why) in [
            ("[abc", "unclosed"),
            ("[]", "bad"),
            ("[-a]", "bad"),
            ("[a-]", "bad range"),
            ("[z-a]", "start is after"),
            ("abc\\", "ends with"),
        ] {
            let e = Pattern::parse(p).unwrap_err();
            assert!(e.contains(why), "{p}: {e}");
        }
    }
}
