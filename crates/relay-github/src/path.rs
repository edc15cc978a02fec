//! The one encoder for what goes into a request path or query: path
//! segments and query values keep only RFC 3986's unreserved characters.

/// Percent-encodes `s` as one path segment or query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A git ref for a path: each `/`-separated part encoded, the `/` kept
/// (`heads/main` is a ref GitHub takes in a path).
pub fn encode_ref(git_ref: &str) -> String {
    git_ref.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// `path?k=v&k=v`, each value encoded; pairs with an empty value are left out.
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if query.is_empty() {
        return path.to_owned();
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_values_keep_only_unreserved_characters() {
        assert_eq!(encode("deploy.yml"), "deploy.yml");
        assert_eq!(encode("a b/c&d,e"), "a%20b%2Fc%26d%2Ce");
        assert_eq!(encode_ref("heads/fe ature/x"), "heads/fe%20ature/x");
        assert_eq!(
            encode(">=2026-01-01T00:00:00Z"),
            "%3E%3D2026-01-01T00%3A00%3A00Z"
        );
    }

    #[test]
    fn query_pairs_are_appended() {
        assert_eq!(
            with_query("/x", &[("per_page", "100"), ("name", "a b"), ("skip", "")]),
            "/x?per_page=100&name=a%20b"
        );
        assert_eq!(with_query("/x?a=1", &[("b", "2")]), "/x?a=1&b=2");
    }
}
