//! URLs as logs, summaries and issue bodies show them: user info and query
//! values can hold credentials (`https://user:pass@host/x?token=...`, an
//! Azure SAS signature), so they never leave in clear.

use reqwest::Url;

/// `url` with its password and user name, every query value and the
/// fragment replaced by `***`. Query keys with a value are kept (they say
/// what was asked); a key without one (`?<token>`) may itself be the
/// credential, so it goes too.
/// Text that does not parse as a URL is cut before its first `?`, `#` or
/// user-info `@`, so a malformed URL cannot smuggle a credential out either.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return redact_unparsed(url);
    };
    if !parsed.username().is_empty() {
        let _ = parsed.set_username("***");
    }
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query().is_some() {
        let keys: Vec<String> = parsed
            .query_pairs()
            .map(|(k, v)| {
                if v.is_empty() {
                    "***".to_owned()
                } else {
                    format!("{k}=***")
                }
            })
            .collect();
        parsed.set_query(Some(&keys.join("&")));
    }
    if parsed.fragment().is_some() {
        parsed.set_fragment(Some("***"));
    }
    parsed.to_string()
}

fn redact_unparsed(text: &str) -> String {
    let cut = text.find(['?', '#']).unwrap_or(text.len());
    let head = &text[..cut];
    // `scheme://user:pass@host/...`: drop what is before the last `@` of the authority.
    let head = match head.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => head.to_owned(),
            }
        }
        None => head.to_owned(),
    };
    if cut < text.len() {
        format!("{head}?***")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_and_query_values_are_hidden() {
        assert_eq!(
            redact_url("https://user:pass@host.example/health?token=abc&verbose&x=1#frag"),
            "https://***:***@host.example/health?token=***&***&x=***#***"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8080/blob/c/b?sv=2024&sig=SECRET%2B"),
            "http://127.0.0.1:8080/blob/c/b?sv=***&sig=***"
        );
        assert_eq!(
            redact_url("https://host/health?ghp_abcdef0123"),
            "https://host/health?***"
        );
        assert_eq!(
            redact_url("https://vm.example/deploy"),
            "https://vm.example/deploy"
        );
    }

    #[test]
    fn unparsable_text_is_cut_too() {
        assert_eq!(redact_url("not a url?token=abc"), "not a url?***");
        assert_eq!(redact_url("ht!tp://u:p@h x/y?z"), "ht!tp://***@h x/y?***");
    }
}
