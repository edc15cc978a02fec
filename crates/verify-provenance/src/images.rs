//! Input `images`: the image references a deploy runs, and which of them
//! name a digest (the only thing an attestation can vouch for).

use std::collections::BTreeSet;

use relay_runtime::InputError;

/// One image of the deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Image {
    /// The key it is handed over under (`api_image`).
    pub key: String,
    /// The reference as given (`ghcr.io/octo/app@sha256:…`).
    pub reference: String,
    /// `sha256:<64 lowercase hex>` when the reference names a digest;
    /// `None` for a tag.
    pub digest: Option<String>,
}

const FORMAT: &str = "write one `key=reference` per line (e.g. `api_image=ghcr.io/octo/app@sha256:<64 hex>`), or pass the JSON object a record-deployment step output as `previous-images`";

/// `key=reference` lines, or a JSON object of strings (`previous-images`).
pub(crate) fn parse(text: &str) -> Result<Vec<Image>, InputError> {
    let pairs: Vec<(String, String)> = if text.trim_start().starts_with('{') {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| {
                InputError::new(
                    "images",
                    &format!("looks like a JSON object but is not one: {e}"),
                    FORMAT,
                )
            })?;
        object
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => Ok((k, s)),
                _ => Err(InputError::new(
                    "images",
                    &format!("has a non-string value for `{k}`"),
                    FORMAT,
                )),
            })
            .collect::<Result<_, _>>()?
    } else {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|line| {
                line.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .ok_or_else(|| {
                        InputError::new(
                            "images",
                            &format!("line `{line}` is not `key=reference`"),
                            FORMAT,
                        )
                    })
            })
            .collect::<Result<_, _>>()?
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (key, reference) in pairs {
        if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InputError::new(
                "images",
                &format!("has a bad key `{key}`"),
                "a key is one word, e.g. `api_image`",
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(InputError::new(
                "images",
                &format!("names `{key}` twice"),
                "give each image one line",
            ));
        }
        let digest = digest_of(&reference).map_err(|why| {
            InputError::new(
                "images",
                &format!("`{key}`: reference `{reference}` {why}"),
                "write `name@sha256:<64 hex>` (or, where provenance is not required, a tag `name:tag`)",
            )
        })?;
        out.push(Image {
            key,
            reference,
            digest,
        });
    }
    Ok(out)
}

/// The digest a reference names (`name@sha256:<hex>`, also after a tag:
/// `name:tag@sha256:<hex>`); `None` for a tag. What registries accept:
/// <https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-by-digest-immutable-identifier>
fn digest_of(reference: &str) -> Result<Option<String>, String> {
    if reference.is_empty() {
        return Err("is empty".to_owned());
    }
    if reference
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("holds white space or control characters".to_owned());
    }
    let Some((name, digest)) = reference.rsplit_once('@') else {
        return Ok(None);
    };
    if name.is_empty() || name.contains('@') {
        return Err("has no image name before its digest".to_owned());
    }
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!("has `@{digest}`, which is not a digest"));
    };
    if algorithm != "sha256" {
        return Err(format!(
            "names a `{algorithm}` digest; images and their attestations are named by `sha256`"
        ));
    }
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "has `{digest}`, which is not a sha256 digest (64 hex characters)"
        ));
    }
    Ok(Some(format!("sha256:{}", hex.to_ascii_lowercase())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn digests_and_tags_are_told_apart() {
        let images = parse(&format!(
            "api=ghcr.io/octo/app@sha256:{HEX}\n# a comment\nweb = ghcr.io/octo/web:v1\n\nold=ghcr.io/octo/old:v1@sha256:{}",
            HEX.to_uppercase()
        ))
        .unwrap();
        assert_eq!(images.len(), 3);
        assert_eq!(images[0].digest.as_deref(), Some(&*format!("sha256:{HEX}")));
        assert_eq!(images[1].key, "web");
        assert_eq!(images[1].digest, None);
        assert_eq!(
            images[2].digest.as_deref(),
            Some(&*format!("sha256:{HEX}")),
            "a tag before the digest is allowed, the digest lower-cased"
        );
    }

    #[test]
    fn the_previous_images_object_is_read_too() {
        let images = parse(&format!(r#"{{"api":"ghcr.io/octo/app@sha256:{HEX}"}}"#)).unwrap();
        assert_eq!(images[0].key, "api");
        assert!(images[0].digest.is_some());
        let e = parse(r#"{"api": 1}"#).unwrap_err();
        assert_eq!(e.input, "images");
    }

    #[test]
    fn bad_lines_name_the_input_and_the_line() {
        for (text, says) in [
            ("ghcr.io/octo/app", "not `key=reference`"),
            ("=x", "bad key"),
            ("a=x\na=y", "twice"),
            ("a=", "is empty"),
            ("a=ghcr.io/x@sha512:abc", "`sha512` digest"),
            ("a=ghcr.io/x@sha256:abc", "64 hex"),
            ("a=ghcr.io/x@latest", "not a digest"),
            ("a=@sha256:00", "no image name"),
            ("a=ghcr.io/x y", "white space"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.input, "images", "{text}");
            assert!(e.problem.contains(says), "{text}: {}", e.problem);
        }
    }
}
