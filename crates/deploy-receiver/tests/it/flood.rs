//! Unauthenticated clients cannot exhaust memory or connections: a declared
//! length over `max_body` is refused before reading, stalled bodies share
//! one budget whatever `max_body` is, one address cannot take every slot,
//! and a signed deploy from elsewhere still gets through.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::binary::Binary;
use crate::harness::{
    SCRIPT, SECRET, body, client_from, config_text, signed, start, tcp_from, write_script,
};

/// The response head on `stream`, or what came before `wait` ran out.
async fn read_head(stream: &mut TcpStream, wait: Duration) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn a_declared_length_over_max_body_is_413_before_the_body_and_without_100_continue() {
    let r = start("").await;
    for expect in ["Expect: 100-continue\r\n", ""] {
        let mut s = tcp_from("127.0.0.1", &r.base).await;
        let head = format!(
            "POST /deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{expect}\r\n",
            2 << 20
        );
        s.write_all(head.as_bytes()).await.unwrap();
        // Not a byte of the body is sent: the answer must not wait for it.
        let answer = read_head(&mut s, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{expect:?}: {answer:?}");
        assert!(!answer.contains("100 Continue"), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
    }
    assert!(r.calls().is_empty());
    r.stop().await;
}

#[tokio::test]
async fn one_address_cannot_take_every_slot_unless_the_limit_is_off() {
    let r = start("max_connections_per_peer = 2").await;
    let _a = tcp_from("127.0.0.2", &r.base).await;
    let _b = tcp_from("127.0.0.2", &r.base).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = tcp_from("127.0.0.2", &r.base).await;
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_head(&mut third, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    let other = client_from("127.0.0.1");
    assert_eq!(
        other.get(r.url("/healthz")).send().await.unwrap().status(),
        200
    );
    r.stop().await;

    // Behind a proxy every client is the proxy: the limit can be turned off.
    let r = start("max_connections_per_peer = 0").await;
    let _held: Vec<TcpStream> =
        futures::future::join_all((0..20).map(|_| tcp_from("127.0.0.2", &r.base))).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let same = client_from("127.0.0.2");
    assert_eq!(
        same.get(r.url("/healthz")).send().await.unwrap().status(),
        200
    );
    r.stop().await;
}

#[tokio::test]
async fn a_flood_of_stalled_bodies_from_one_address_does_not_keep_a_signed_deploy_out() {
    // Twice as many stalled requests as connection slots.
    let r = start("max_connections = 100").await;
    let floods = (0..200).map(|_| {
        let base = r.base.clone();
        async move {
            let mut s = tcp_from("127.0.0.2", &base).await;
            let head = "POST /deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
            let _ = s.write_all(head.as_bytes()).await;
            s
        }
    });
    let _stalled = futures::future::join_all(floods).await;
    let other = client_from("127.0.0.1");
    let response = signed(&other, &r.url("/deploy"), &body("0123abc"), SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    r.stop().await;
}

/// `Content-Length: 1 MiB` and 1 MiB − 1 bytes sent, or as many bytes
/// chunked with no final chunk; then silence.
async fn stall(base: String, chunked: bool) -> Option<String> {
    let mut s = tcp_from("127.0.0.2", &base).await;
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {}", 1 << 20)
    };
    let head = format!(
        "POST /deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256={}\r\n{framing}\r\n\r\n",
        "0".repeat(64)
    );
    s.write_all(head.as_bytes()).await.ok()?;
    let piece = vec![b' '; 65536];
    for i in 0..16 {
        let part = if i == 15 { &piece[..65535] } else { &piece[..] };
        let sent = if chunked {
            let mut framed = format!("{:x}\r\n", part.len()).into_bytes();
            framed.extend_from_slice(part);
            framed.extend_from_slice(b"\r\n");
            s.write_all(&framed).await
        } else {
            s.write_all(part).await
        };
        if sent.is_err() {
            break;
        }
    }
    // Evicted readers are answered 503; the others stay stalled.
    let answer = read_head(&mut s, Duration::from_secs(3)).await;
    Some(answer)
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// 48 bodies of 1 MiB − 1 bytes (half chunked) against `max_body = "1MiB"`
/// would be 48 MiB held; the default 8 MiB budget evicts the stalest, so
/// the receiver's peak memory stays far below, and a signed deploy from
/// another address is still answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_share_one_budget_whatever_max_body_is() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "deploy.sh", SCRIPT);
    let config = config_text(&script, "max_connections_per_peer = 0");
    assert!(config.contains("max_body = \"1MiB\""));
    let mut bin = Binary::with_config(dir.path(), &config, None);
    let before = peak_rss_kib(bin.child.id());
    let stalls = (0..48).map(|i| stall(bin.base.clone(), i % 2 == 1));
    let answers = futures::future::join_all(stalls).await;
    let evicted = answers
        .iter()
        .flatten()
        .filter(|a| a.starts_with("HTTP/1.1 503"))
        .count();
    let peak = peak_rss_kib(bin.child.id());
    let other = client_from("127.0.0.1");
    let url = format!("{}/deploy", bin.base);
    let response = signed(&other, &url, &body("0123abc"), SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    bin.wait_for_log("deploy finished");
    eprintln!("peak RSS {before} KiB before, {peak} KiB under the flood; {evicted} of 48 evicted");
    assert!(
        evicted >= 36,
        "only {evicted} of 48 stalled readers were evicted"
    );
    assert!(
        peak < 40 * 1024,
        "peak RSS {peak} KiB: the stalled bodies were not bounded by the budget"
    );
}
