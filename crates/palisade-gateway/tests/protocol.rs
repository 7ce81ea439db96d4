//! Protocol hygiene through raw TCP: malformed and ambiguous requests are refused with 400 before any
//! upstream sees them (cases in `tests/data/malformed.txt`), slow clients are cut off, random bytes never
//! take the process down.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;

fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            match bytes[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'0' => out.push(0),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    out.push(u8::from_str_radix(&text[i + 2..i + 4], 16).unwrap());
                    i += 2;
                }
                other => panic!("unknown escape \\{}", other as char),
            }
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[tokio::test]
async fn malformed_requests_are_refused_before_the_upstream() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(up.addr, "")).await;
    let addr = gw.local_addrs()[0];
    let cases = include_str!("data/malformed.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in cases
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut fields = line.splitn(3, '|');
        let name = fields.next().unwrap().trim();
        let expected: u16 = fields.next().unwrap().trim().parse().unwrap();
        let request = unescape(fields.next().unwrap().trim());
        let before = up.hits.load(Ordering::SeqCst);
        let answer = raw(addr, &request, Duration::from_millis(300)).await;
        count += 1;
        let status = raw_status(&answer);
        if status != Some(expected) {
            failures.push(format!(
                "{name}: expected {expected}, got {status:?}: {:?}",
                answer.lines().next()
            ));
        }
        if up.hits.load(Ordering::SeqCst) != before {
            failures.push(format!("{name}: reached the upstream"));
        }
        if status.is_some() && !answer.to_ascii_lowercase().contains("\r\nx-request-id: ") {
            failures.push(format!("{name}: answer without X-Request-Id: {answer:?}"));
        }
    }
    assert!(count >= 25);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The gateway still serves well-formed requests afterwards.
    let answer = raw(
        addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(raw_status(&answer), Some(200));
    // HTTP/1.0 does not require Host: such a request is served (for the listener's address).
    let before = up.hits.load(Ordering::SeqCst);
    let answer = raw(addr, b"GET / HTTP/1.0\r\n\r\n", Duration::from_millis(500)).await;
    assert!(answer.starts_with("HTTP/1.0 200 "), "{answer:?}");
    assert_eq!(up.hits.load(Ordering::SeqCst), before + 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn slowloris_connections_are_closed_after_the_header_timeout() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(
        up.addr,
        "[limits]\nheader_read_timeout = \"300ms\"\n",
    ))
    .await;
    let addr = gw.local_addrs()[0];
    let started = std::time::Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    // Trickle a header byte every 100ms; the head never completes.
    let closed = async {
        let mut buf = [0u8; 1024];
        loop {
            if stream.write_all(b"X").await.is_err() {
                return;
            }
            match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(3), closed)
        .await
        .expect("connection closed by the gateway");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(up.hits.load(Ordering::SeqCst), 0);
    gw.shutdown().await;
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn request_like() -> impl Strategy<Value = Vec<u8>> {
        let fragments = prop::sample::select(vec![
            &b"GET / HTTP/1.1\r\n"[..],
            b"POST /x HTTP/1.1\r\n",
            b"Host: a\r\n",
            b"Content-Length: 5\r\n",
            b"Content-Length: 99999999999999999999\r\n",
            b"Transfer-Encoding: chunked\r\n",
            b"Connection: upgrade\r\nUpgrade: websocket\r\n",
            b"Expect: 100-continue\r\n",
            b"\r\n",
            b"\n",
            b"\r",
            b"\0",
            b"5\r\nhello\r\n0\r\n\r\n",
            b"ffffffff\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b" \t:",
        ]);
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            prop::collection::vec(fragments, 0..16).prop_map(|parts| parts.concat()),
        ]
    }

    #[test]
    fn random_bytes_never_take_the_gateway_down() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (up, gw) = runtime.block_on(async {
            let up = upstream("a").await;
            let (gw, _) = start(&simple_config(
                up.addr,
                "[limits]\nheader_read_timeout = \"200ms\"\n",
            ))
            .await;
            (up, gw)
        });
        let addr = gw.local_addrs()[0];
        let config = ProptestConfig {
            cases: 96,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(config, |(bytes in request_like())| {
            let answer = runtime.block_on(raw(addr, &bytes, Duration::from_millis(60)));
            if !answer.is_empty() {
                prop_assert!(answer.starts_with("HTTP/1.1 ") || answer.starts_with("\0\0"), "{answer:?}");
            }
        });
        runtime.block_on(async {
            let answer = raw(
                addr,
                b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                Duration::from_millis(500),
            )
            .await;
            assert_eq!(
                raw_status(&answer),
                Some(200),
                "still serving after the fuzz run"
            );
            drop(up);
            gw.shutdown().await;
        });
    }
}

#[tokio::test]
async fn idle_keep_alive_connections_close_after_the_idle_timeout_only() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = upstream("a").await;
    let extra = "[limits]\nheader_read_timeout = \"3s\"\nkeepalive_idle_timeout = \"300ms\"\n";
    let (gw, _) = start(&simple_config(up.addr, extra)).await;
    let addr = gw.local_addrs()[0];
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A request slower than the idle timeout is not cut: idle means no request in flight.
    stream
        .write_all(b"GET /slow/600 HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 65536];
    let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Then the idle connection is closed after about 300ms, long before the 3s header timeout.
    let idle_started = std::time::Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "idle connection closed");
    let idle = idle_started.elapsed();
    assert!(
        idle >= Duration::from_millis(200) && idle < Duration::from_millis(1500),
        "{idle:?}"
    );
    gw.shutdown().await;
}

/// Request targets with bytes outside RFC 3986 that browsers, nginx and the CRS regression suite send
/// (`<>"{}|\\^` and non-ASCII, e.g. `/get?code=>/tmp/curl`) are proxied with those bytes
/// percent-encoded instead of being refused by the HTTP parser; hop-by-hop `Keep-Alive` and
/// `Proxy-Connection` headers never break a request. Cases in `tests/data/unusual_targets.txt`.
#[tokio::test]
async fn unusual_but_valid_requests_are_proxied() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(up.addr, "")).await;
    let addr = gw.local_addrs()[0];
    let mut failures = Vec::new();
    let cases = include_str!("data/unusual_targets.txt");
    for line in cases
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut fields = line.splitn(3, '|');
        let name = fields.next().unwrap().trim();
        let expected_uri = fields.next().unwrap().trim();
        let request = unescape(fields.next().unwrap().trim());
        let answer = raw(addr, &request, Duration::from_millis(500)).await;
        let lower = answer.to_ascii_lowercase();
        if raw_status(&answer) != Some(200) {
            failures.push(format!("{name}: not proxied: {answer:?}"));
            continue;
        }
        if !lower.contains("\r\nx-request-id: ") {
            failures.push(format!("{name}: no X-Request-Id"));
        }
        let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
        let echo: serde_json::Value = match serde_json::from_str(body) {
            Ok(echo) => echo,
            Err(error) => {
                failures.push(format!(
                    "{name}: upstream answer not JSON ({error}): {body:?}"
                ));
                continue;
            }
        };
        if echo["uri"] != expected_uri {
            failures.push(format!(
                "{name}: upstream saw {}, expected {expected_uri}",
                echo["uri"]
            ));
        }
        for hop in ["keep-alive", "proxy-connection"] {
            if echoed_header(&echo, hop).is_some() {
                failures.push(format!("{name}: hop-by-hop {hop} forwarded"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    gw.shutdown().await;
}
