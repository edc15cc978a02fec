//! URLs as logs, summaries and issue bodies show them: user info and query
//! values can hold credentials (`https://user:pass@host/x?token=...`, an
//! Azure SAS signature), so they never leave in clear. A URL that may carry
//! them travels as a [`DisplaySafeUrl`]; [`redact_url`] is the rule, for
//! text that is not (yet) a URL.

use std::fmt;

use reqwest::Url;

/// Why text is not a URL.
pub type UrlParseError = <Url as std::str::FromStr>::Err;

/// A URL that may carry credentials. `Display` and `Debug` show it
/// through [`redact_url`]; the whole URL is only reachable through
/// [`DisplaySafeUrl::expose`], for the request itself.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DisplaySafeUrl(Url);

impl DisplaySafeUrl {
    /// Parses `text` as an absolute URL.
    pub fn parse(text: &str) -> Result<Self, UrlParseError> {
        Url::parse(text).map(Self)
    }

    /// The whole URL, credentials included: for the request, never a log.
    pub fn expose(&self) -> &Url {
        &self.0
    }

    /// The scheme (`https`), which carries no credentials.
    pub fn scheme(&self) -> &str {
        self.0.scheme()
    }

    /// Every part [`redact_url`] hides, as it may turn up in text (an
    /// endpoint that echoes its request): the user name, the password,
    /// each query value (a key without one may itself be a token), the
    /// fragment. Empty parts are left out.
    pub fn credentials(&self) -> Vec<String> {
        let url = &self.0;
        let mut out = vec![url.username().to_owned()];
        out.extend(url.password().map(str::to_owned));
        out.extend(
            url.query_pairs()
                .map(|(k, v)| if v.is_empty() { k } else { v }.into_owned()),
        );
        out.extend(url.fragment().map(str::to_owned));
        out.retain(|s| !s.is_empty());
        out
    }
}

impl From<Url> for DisplaySafeUrl {
    fn from(url: Url) -> Self {
        Self(url)
    }
}

impl fmt::Display for DisplaySafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(self.0.as_str()))
    }
}

impl fmt::Debug for DisplaySafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DisplaySafeUrl({self})")
    }
}

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
    fn a_display_safe_url_never_prints_its_credentials() {
        let url =
            DisplaySafeUrl::parse("https://user:pa55@vm.example/hook?token=s3cret#frag").unwrap();
        for shown in [url.to_string(), format!("{url:?}"), format!("{url:#?}")] {
            assert!(
                !shown.contains("pa55") && !shown.contains("s3cret") && !shown.contains("user"),
                "{shown}"
            );
        }
        assert_eq!(
            url.to_string(),
            "https://***:***@vm.example/hook?token=***#***"
        );
        assert_eq!(url.expose().password(), Some("pa55"));
        assert_eq!(url.credentials(), ["user", "pa55", "s3cret", "frag"]);
        let bare = DisplaySafeUrl::parse("https://h.example/b?bare-key&v=1").unwrap();
        assert_eq!(bare.credentials(), ["bare-key", "1"]);
        assert!(
            DisplaySafeUrl::parse("https://h.example/")
                .unwrap()
                .credentials()
                .is_empty()
        );
        assert!(DisplaySafeUrl::parse("not a url").is_err());
    }

    #[test]
    fn unparsable_text_is_cut_too() {
        assert_eq!(redact_url("not a url?token=abc"), "not a url?***");
        assert_eq!(redact_url("ht!tp://u:p@h x/y?z"), "ht!tp://***@h x/y?***");
    }
}
