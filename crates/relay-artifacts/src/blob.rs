//! Azure block-blob upload to a signed (SAS) URL, the way the Azure SDK's
//! `uploadStream` does it for `@actions/artifact`: Put Block for each chunk
//! with base64 block ids of equal length, then Put Block List naming them in
//! order. No GitHub or runtime token ever goes to blob storage: the SAS in the
//! URL is the only credential.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;

use crate::error::ArtifactError;
use relay_http::Attempt;

use crate::retry::{RetryPolicy, retryable_status, transport};

/// The storage service version we speak; old enough for every Azure region
/// and for azurite, new enough for everything used here.
pub(crate) const X_MS_VERSION: &str = "2023-11-03";

/// The base64 id of block `index`; all ids of one blob must have the same
/// length before encoding, so the index is zero-padded.
pub(crate) fn block_id(index: usize) -> String {
    STANDARD.encode(format!("block-{index:08}"))
}

/// Appends `extra` to a URL that already carries the SAS query.
fn with_query(url: &str, extra: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{extra}")
}

fn encode_query_value(v: &str) -> String {
    v.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// Put Block: stores one uncommitted block.
pub(crate) async fn put_block(
    http: &reqwest::Client,
    url: &str,
    index: usize,
    data: &crate::pipe::Block,
    retry: &RetryPolicy,
) -> Result<(), ArtifactError> {
    let target = with_query(
        url,
        &format!(
            "comp=block&blockid={}",
            encode_query_value(&block_id(index))
        ),
    );
    send_with_retry(retry, &format!("Put Block {index}"), || {
        let (body, len) = data.body();
        http.put(&target)
            .header("x-ms-version", X_MS_VERSION)
            .header("content-type", "application/octet-stream")
            .header("content-length", len)
            .body(body)
    })
    .await
}

/// Put Block List: commits blocks `0..count` in order as the blob's content.
pub(crate) async fn put_block_list(
    http: &reqwest::Client,
    url: &str,
    count: usize,
    content_type: &str,
    retry: &RetryPolicy,
) -> Result<(), ArtifactError> {
    let mut xml = String::from(r#"<?xml version="1.0" encoding="utf-8"?><BlockList>"#);
    for i in 0..count {
        xml.push_str("<Latest>");
        xml.push_str(&block_id(i));
        xml.push_str("</Latest>");
    }
    xml.push_str("</BlockList>");
    let target = with_query(url, "comp=blocklist");
    let body = Bytes::from(xml);
    send_with_retry(retry, "Put Block List", || {
        http.put(&target)
            .header("x-ms-version", X_MS_VERSION)
            .header("x-ms-blob-content-type", content_type)
            .header("content-type", "application/xml")
            .body(body.clone())
    })
    .await
}

async fn send_with_retry(
    retry: &RetryPolicy,
    what: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<(), ArtifactError> {
    let build = &build;
    retry
        .run(what, move |_| async move {
            match tokio::time::timeout(retry.stall_timeout, build().send()).await {
                Ok(Ok(resp)) if resp.status().is_success() => Attempt::Done(Ok(())),
                Ok(Ok(resp)) if retryable_status(resp.status().as_u16()) => Attempt::Again {
                    why: format!("HTTP {}", resp.status().as_u16()),
                    wait: None,
                },
                Ok(Ok(resp)) => Attempt::Done(Err(ArtifactError::Blob {
                    what: what.to_owned(),
                    status: resp.status().as_u16(),
                })),
                Ok(Err(e)) => Attempt::Again {
                    why: transport("request failed", e),
                    wait: None,
                },
                Err(_) => Attempt::Again {
                    why: "the request stalled".to_owned(),
                    wait: None,
                },
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ids_have_equal_length_and_order() {
        let ids: Vec<_> = [0, 1, 9, 10, 99_999_999].map(block_id).into();
        assert!(ids.iter().all(|i| i.len() == ids[0].len()));
        assert_eq!(STANDARD.decode(&ids[2]).unwrap(), b"block-00000009");
    }

    #[test]
    fn query_is_appended_and_escaped() {
        assert_eq!(
            with_query("http://h/c/b?sv=1&sig=x", "comp=block"),
            "http://h/c/b?sv=1&sig=x&comp=block"
        );
        assert_eq!(
            with_query("http://h/c/b", "comp=block"),
            "http://h/c/b?comp=block"
        );
        assert_eq!(encode_query_value("a+b/c="), "a%2Bb%2Fc%3D");
    }
}

/// Our block upload checked by a real Azure implementation.
#[cfg(test)]
mod azurite;
