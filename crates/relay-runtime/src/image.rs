//! Container image references as a deploy names them: what the build
//! pushed, carried to the VM unchanged. The grammar is the one registries
//! and `docker pull` share (distribution/reference's `reference.go`:
//! `[host[:port]/]path[:tag][@algorithm:hex]`), restricted to what a
//! deploy should pull: a tag or a `sha256` digest must be there (a bare
//! name means whatever `latest` is when the VM pulls).

use std::fmt;

/// A checked image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `[host[:port]/]path`, as written.
    pub name: String,
    /// The tag after `:`, when there is one.
    pub tag: Option<String>,
    /// `sha256:<64 lowercase hex>`.
    pub digest: Option<String>,
}

/// Longest name the grammar allows (`NameTotalLengthMax`).
const MAX_NAME: usize = 255;

impl ImageRef {
    /// Parses `text`, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("is empty".into());
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("contains whitespace or a control character".into());
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(check_digest(digest)?)),
            None => (text, None),
        };
        // A tag follows the last `:` after the last `/` (a host may carry a port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(check_tag(&rest[at + 1..])?))
            }
            None => (rest, None),
        };
        check_name(name)?;
        // `sha256:<hex>` alone reads as name `sha256` with a tag: it is an
        // image id (what `docker images` lists), not something to pull.
        if name == "sha256" && digest.is_none() {
            return Err(
                "is an image id (`sha256:<hex>`), not a reference: name the image it belongs to"
                    .into(),
            );
        }
        if tag.is_none() && digest.is_none() {
            return Err(format!(
                "names no tag or digest (`{name}` alone pulls whatever `latest` is at the time)"
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            tag,
            digest,
        })
    }

    /// Whether it pins the image by digest (what `docker pull` then gets
    /// can never change).
    pub fn is_digest(&self) -> bool {
        self.digest.is_some()
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn check_digest(digest: &str) -> Result<String, String> {
    let hex = digest.strip_prefix("sha256:").ok_or_else(|| {
        format!("has digest `{digest}`, which is not `sha256:` followed by 64 hex digits")
    })?;
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "has digest `{digest}`, which is not `sha256:` followed by 64 hex digits"
        ));
    }
    if hex.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "has digest `{digest}` in upper case; registries write it in lower case"
        ));
    }
    Ok(digest.to_owned())
}

/// `[\w][\w.-]{0,127}`.
fn check_tag(tag: &str) -> Result<String, String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag.starts_with(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-');
    if ok {
        Ok(tag.to_owned())
    } else {
        Err(format!(
            "has tag `{tag}`; a tag is 1 to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
        ))
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("has no image name".into());
    }
    if name.len() > MAX_NAME {
        return Err(format!("has a name longer than {MAX_NAME} characters"));
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first part is a host when it looks like one (as docker decides):
    // it has a `.` or a `:`, or it is `localhost`.
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        check_host(parts[0])?;
        parts.remove(0);
    }
    for p in parts {
        if !path_component(p) {
            return Err(format!(
                "has path part `{p}` in `{name}`; path parts are lower-case letters and digits, joined by `.`, `_`, `__` or dashes"
            ));
        }
    }
    Ok(())
}

fn check_host(host: &str) -> Result<(), String> {
    let (domain, port) = match host.rsplit_once(':') {
        Some((d, p)) => (d, Some(p)),
        None => (host, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if domain.split('.').all(label_ok) && port_ok {
        Ok(())
    } else {
        Err(format!("has registry host `{host}`, which is no host name"))
    }
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn path_component(p: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut chars = p.chars().peekable();
    let mut run = 0;
    loop {
        // An alpha-numeric run.
        while chars.peek().copied().is_some_and(alnum) {
            chars.next();
            run += 1;
        }
        if run == 0 {
            return false;
        }
        let Some(sep) = chars.next() else {
            return true;
        };
        match sep {
            '.' => {}
            '_' => {
                if chars.peek() == Some(&'_') {
                    chars.next();
                }
            }
            '-' => {
                while chars.peek() == Some(&'-') {
                    chars.next();
                }
            }
            _ => return false,
        }
        run = 0;
    }
}

/// The `images` input as the actions that send images take it:
/// `key=reference` lines (blank lines and `#` comments skipped), each key
/// a payload field (letters, digits and `_`) named once, each reference one
/// [`ImageRef::parse`] accepts. In order; errors name the input `images`.
pub fn image_lines(text: &str) -> Result<Vec<(String, String)>, crate::InputError> {
    let bad = |what: String, hint: &str| crate::InputError::new("images", &what, hint);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (key, reference) = line.split_once('=').ok_or_else(|| {
            bad(
                format!("line `{line}` is not `key=reference`"),
                "write one `key=reference` per line, e.g. `image=ghcr.io/my-org/api@sha256:<digest>`",
            )
        })?;
        let (key, reference) = (key.trim(), reference.trim());
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad(
                format!("has key `{key}`, which is not a word"),
                "use letters, digits and `_`, e.g. `image` (the payload field the receiver passes on)",
            ));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(bad(
                format!("names `{key}` twice"),
                "give each image one line",
            ));
        }
        ImageRef::parse(reference).map_err(|why| {
            bad(
                format!("`{key}` {why}: `{reference}`"),
                "pass what the build pushed: `name@sha256:<digest>`, or a tag it pushed",
            )
        })?;
        out.push((key.to_owned(), reference.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn image_lines_are_words_named_once_with_references() {
        let text =
            format!("# what the build pushed\n\napi = ghcr.io/o/api@{D}\nweb=ghcr.io/o/web:1.2\n");
        assert_eq!(
            image_lines(&text).unwrap(),
            [
                ("api".to_owned(), format!("ghcr.io/o/api@{D}")),
                ("web".to_owned(), "ghcr.io/o/web:1.2".to_owned()),
            ]
        );
        for (text, said) in [
            (
                "ghcr.io/o/api:1",
                "line `ghcr.io/o/api:1` is not `key=reference`",
            ),
            (
                "my-image=ghcr.io/o/api:1",
                "has key `my-image`, which is not a word",
            ),
            ("a=ghcr.io/o/api:1\na=ghcr.io/o/api:2", "names `a` twice"),
            ("a=ghcr.io/o/api", "`a` names no tag or digest"),
        ] {
            let e = image_lines(text).unwrap_err().to_string();
            assert!(e.contains("`images`") && e.contains(said), "{text}: {e}");
        }
    }

    #[test]
    fn digests_tags_and_both() {
        let r = ImageRef::parse(&format!("ghcr.io/o/api@{D}")).unwrap();
        assert_eq!(r.name, "ghcr.io/o/api");
        assert_eq!(r.tag, None);
        assert!(r.is_digest());
        let r = ImageRef::parse("registry.local:5000/team/api:1.2.3-rc_1").unwrap();
        assert_eq!(r.name, "registry.local:5000/team/api");
        assert_eq!(r.tag.as_deref(), Some("1.2.3-rc_1"));
        assert!(!r.is_digest());
        let both = format!("ghcr.io/o/api:abc1234@{D}");
        let r = ImageRef::parse(&both).unwrap();
        assert_eq!(r.tag.as_deref(), Some("abc1234"));
        assert_eq!(r.to_string(), both);
        assert!(ImageRef::parse("localhost/api:x").is_ok());
        assert!(ImageRef::parse("nginx:1.27").is_ok());
        assert!(ImageRef::parse("o/my__api-svc.v2:t").is_ok());
        assert!(ImageRef::parse("registry.local:5000/o/web:0ld0ld0").is_ok());
        assert!(ImageRef::parse(&format!("localhost/a__b@{D}")).is_ok());
    }

    #[test]
    fn what_a_deploy_must_not_pull() {
        for (bad, why) in [
            ("ghcr.io/o/api", "no tag or digest"),
            ("", "empty"),
            ("ghcr.io/o/API:1", "path part"),
            ("ghcr.io/o/api:", "tag"),
            ("ghcr.io/o/api:-x", "tag"),
            ("ghcr.io/o/api@sha256:abc", "64 hex"),
            (
                &format!("ghcr.io/o/api@{}", D.to_uppercase().replace("SHA", "sha")),
                "upper case",
            ),
            ("ghcr.io/o/api@md5:0123", "sha256"),
            ("ghcr.io/o/api:1 ; rm -rf /", "whitespace"),
            ("ghcr.io/o/../api:1", "path part"),
            ("-bad.io/o/api:1", "host"),
            ("ghcr.io//api:1", "path part"),
            ("ghcr.io/o/api:$(id)", "tag"),
            ("$(id):1", "path part"),
            ("abc1234", "no tag or digest"),
            ("reg:port/o/api:1", "host"),
            (&format!("-rf@{D}"), "path part"),
            (D, "image id"),
        ] {
            let err = ImageRef::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    proptest::proptest! {
        #[test]
        fn what_parses_prints_back_the_same(
            host in "([a-z0-9]{1,8}\\.[a-z]{2,4}(:[0-9]{1,5})?/)?",
            // A first part with a `.` would be read as a host, as docker reads it.
            path in "[a-z0-9]{1,6}((_|__|-+)[a-z0-9]{1,6}){0,2}(/[a-z0-9]{1,6}(([._]|__|-+)[a-z0-9]{1,6})?){0,2}",
            tag in "(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,20})?",
            digest in "(@sha256:[0-9a-f]{64})?",
        ) {
            proptest::prop_assume!(!tag.is_empty() || !digest.is_empty());
            let text = format!("{host}{path}{tag}{digest}");
            let r = ImageRef::parse(&text).unwrap();
            proptest::prop_assert_eq!(r.to_string(), text);
        }

        #[test]
        fn nothing_panics(text in "\\PC{0,80}") {
            let _ = ImageRef::parse(&text);
        }
    }
}
