//! Load generator for `scripts/bench-receiver.sh`: keeps `--stalled`
//! connections each sending a 1 MiB − 1 body (of a declared 1 MiB) and then
//! nothing, and `--idle` connections that send nothing at all, all from
//! `--flood-from`; reconnects whatever the receiver closes (after a second,
//! so the flood stays a flood rather than a connect storm); and meanwhile
//! sends one signed deploy a second from `--deploy-from`, timing each.
//! Samples the receiver's RSS (`--pid`) throughout. Prints one `FLOOD …`
//! line of figures.
//!
//! `cargo run --release -p deploy-receiver --example flood -- --url http://127.0.0.1:PORT/deploy \
//!    --secret-file FILE --pid PID [--stalled 500] [--idle 2000] [--seconds 30]`

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use relay_signature::{SigningKey, github};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

#[derive(Default)]
struct Counters {
    connects: AtomicU64,
    closed: AtomicU64,
    answered_503: AtomicU64,
    connect_errors: AtomicU64,
}

struct Args {
    url: String,
    addr: SocketAddr,
    secret: String,
    pid: u32,
    stalled: usize,
    idle: usize,
    seconds: u64,
    flood_from: String,
    deploy_from: String,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        url: String::new(),
        addr: "127.0.0.1:0".parse().unwrap(),
        secret: String::new(),
        pid: 0,
        stalled: 500,
        idle: 2000,
        seconds: 30,
        flood_from: "127.0.0.2".into(),
        deploy_from: "127.0.0.1".into(),
    };
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value,
            "--secret-file" => {
                a.secret = std::fs::read_to_string(value)
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap()
                    .to_owned();
            }
            "--pid" => a.pid = value.parse().unwrap(),
            "--stalled" => a.stalled = value.parse().unwrap(),
            "--idle" => a.idle = value.parse().unwrap(),
            "--seconds" => a.seconds = value.parse().unwrap(),
            "--flood-from" => a.flood_from = value,
            "--deploy-from" => a.deploy_from = value,
            other => panic!("unknown flag {other}"),
        }
    }
    let host = a.url.trim_start_matches("http://");
    let host = host.split('/').next().unwrap();
    a.addr = host.parse().unwrap();
    a
}

async fn connect(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{from}:0").parse().unwrap())?;
    socket.connect(to).await
}

/// Holds one connection of the flood open; reconnects a second after the
/// receiver closes it.
async fn flooder(from: String, to: SocketAddr, body: bool, c: Arc<Counters>, until: Instant) {
    let head = format!(
        "POST /deploy HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256={}\r\nContent-Length: {}\r\n\r\n",
        "0".repeat(64),
        1 << 20
    );
    let piece = vec![b' '; 64 * 1024];
    while Instant::now() < until {
        let Ok(mut s) = connect(&from, to).await else {
            c.connect_errors.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        c.connects.fetch_add(1, Ordering::Relaxed);
        if body {
            let mut ok = s.write_all(head.as_bytes()).await.is_ok();
            let mut left = (1usize << 20) - 1;
            while ok && left > 0 {
                let n = left.min(piece.len());
                ok = s.write_all(&piece[..n]).await.is_ok();
                left -= n;
            }
        }
        // Stall until the receiver gives up on us (or the run ends).
        let mut buf = [0u8; 512];
        let remaining = until.saturating_duration_since(Instant::now());
        if let Ok(read) = tokio::time::timeout(remaining, s.read(&mut buf)).await {
            if let Ok(n) = read
                && buf[..n].starts_with(b"HTTP/1.1 503")
            {
                c.answered_503.fetch_add(1, Ordering::Relaxed);
            }
            c.closed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let a = args();
    let c = Arc::new(Counters::default());
    let start = Instant::now();
    let until = start + Duration::from_secs(a.seconds);
    let baseline = rss_kib(a.pid, "VmRSS:");
    for i in 0..a.stalled + a.idle {
        tokio::spawn(flooder(
            a.flood_from.clone(),
            a.addr,
            i < a.stalled,
            c.clone(),
            until,
        ));
    }
    let sampler = {
        let pid = a.pid;
        tokio::spawn(async move {
            let mut peak = 0;
            while Instant::now() < until {
                peak = peak.max(rss_kib(pid, "VmRSS:"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        })
    };
    // Let the flood build up before the first deploy.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let client = reqwest::Client::builder()
        .local_address(a.deploy_from.parse::<std::net::IpAddr>().unwrap())
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let secret = SigningKey::new(a.secret.clone()).unwrap();
    let body = br#"{"image_sha":"0123abcd","ref":"refs/heads/main","repository":"acme/app"}"#;
    let mut latencies = Vec::new();
    let (mut sent, mut ok, mut other) = (0u32, 0u32, Vec::new());
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while Instant::now() + Duration::from_secs(1) < until {
        tick.tick().await;
        sent += 1;
        let t = Instant::now();
        let result = client
            .post(&a.url)
            .header("Content-Type", "application/json")
            .header(github::HEADER, github::sign(&secret, body))
            .header(
                "X-Deploy-Delivery",
                format!("bench-{sent}-{}", std::process::id()),
            )
            .body(body.to_vec())
            .send()
            .await;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok(r) if r.status() == 200 => {
                ok += 1;
                latencies.push(ms);
            }
            Ok(r) => other.push(r.status().as_u16().to_string()),
            Err(e) => other.push(format!("error({e})")),
        }
    }
    let peak_sampled = sampler.await.unwrap_or(0);
    latencies.sort_by(f64::total_cmp);
    println!(
        "FLOOD stalled={} idle={} seconds={} deploys={sent} ok={ok} failed={} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} rss_before_kib={baseline} peak_rss_kib={} hwm_kib={} connects={} closed={} answered_503={} connect_errors={}",
        a.stalled,
        a.idle,
        a.seconds,
        other.len(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN),
        peak_sampled,
        rss_kib(a.pid, "VmHWM:"),
        c.connects.load(Ordering::Relaxed),
        c.closed.load(Ordering::Relaxed),
        c.answered_503.load(Ordering::Relaxed),
        c.connect_errors.load(Ordering::Relaxed),
    );
    if !other.is_empty() {
        println!("FLOOD-FAILURES {}", other.join(" "));
    }
}
