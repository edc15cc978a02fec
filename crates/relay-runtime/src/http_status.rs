//! Sets of HTTP status codes as users write them: `200-299`, `200,204`,
//! `2xx`, or a mix (`2xx,301-302`). One grammar for every input that takes
//! one.

use std::fmt;
use std::ops::RangeInclusive;

/// A set of HTTP status codes, as ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpStatusSet(Vec<RangeInclusive<u16>>);

impl HttpStatusSet {
    /// Parses the text; the error says which item is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let status = |s: &str| {
            s.trim()
                .parse::<u16>()
                .ok()
                .filter(|n| (100..=599).contains(n))
                .ok_or_else(|| format!("`{}` is not a status from 100 to 599", s.trim()))
        };
        let mut ranges = Vec::new();
        for item in text.split(',').map(str::trim) {
            let range =
                if let Some(class) = item.strip_suffix("xx").or_else(|| item.strip_suffix("XX")) {
                    let digit = class
                        .parse::<u16>()
                        .ok()
                        .filter(|d| (1..=5).contains(d))
                        .ok_or_else(|| format!("`{item}` is not a status class like 2xx"))?;
                    digit * 100..=digit * 100 + 99
                } else if let Some((a, b)) = item.split_once('-') {
                    let (a, b) = (status(a)?, status(b)?);
                    if a > b {
                        return Err(format!("`{item}` is a range that ends before it starts"));
                    }
                    a..=b
                } else {
                    let n = status(item)?;
                    n..=n
                };
            ranges.push(range);
        }
        Ok(Self(ranges))
    }

    /// Whether `status` is in the set.
    pub fn contains(&self, status: u16) -> bool {
        self.0.iter().any(|r| r.contains(&status))
    }

    /// The ranges, as written.
    pub fn ranges(&self) -> &[RangeInclusive<u16>] {
        &self.0
    }
}

impl fmt::Display for HttpStatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .0
            .iter()
            .map(|r| {
                if r.start() == r.end() {
                    r.start().to_string()
                } else {
                    format!("{}-{}", r.start(), r.end())
                }
            })
            .collect();
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_lists_and_classes() {
        let s = HttpStatusSet::parse("200-299").unwrap();
        assert!(s.contains(200) && s.contains(299) && !s.contains(300));
        let s = HttpStatusSet::parse("200, 204,301-302").unwrap();
        assert!(s.contains(204) && s.contains(302) && !s.contains(201));
        let s = HttpStatusSet::parse("2xx,404").unwrap();
        assert!(s.contains(250) && s.contains(404) && !s.contains(300));
        assert_eq!(s.to_string(), "200-299,404");
        assert!(HttpStatusSet::parse("3XX").unwrap().contains(301));
    }

    #[test]
    fn bad_items_are_named() {
        for (bad, named) in [
            ("299-200", "299-200"),
            ("", "``"),
            ("6xx", "6xx"),
            ("abc", "abc"),
            ("200,,204", "``"),
            ("99", "99"),
        ] {
            let e = HttpStatusSet::parse(bad).unwrap_err();
            assert!(e.contains(named), "{bad}: {e}");
        }
    }
}
