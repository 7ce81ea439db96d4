//! Gateway lifecycle and connection-level features: reload (atomic swap, in-flight requests finish on
//! the old configuration, listener changes refused), graceful shutdown draining an in-flight request,
//! WebSocket upgrades, h2c prior knowledge, HTTP/2 upstreams, PROXY protocol.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn two_upstream_config(
    listener: &str,
    a: std::net::SocketAddr,
    b: std::net::SocketAddr,
    routes: &str,
) -> String {
    format!(
        r#"
[[listener]]
addr = "{listener}"
[[upstream]]
name = "a"
servers = ["http://{a}"]
[[upstream]]
name = "b"
servers = ["http://{b}"]
[[site]]
hosts = ["*"]
{routes}
"#
    )
}

#[tokio::test]
async fn reload_swaps_atomically_and_in_flight_requests_finish_on_the_old_config() {
    let a = upstream("a").await;
    let b = upstream("b").await;
    let first = two_upstream_config(
        "127.0.0.1:0",
        a.addr,
        b.addr,
        "[[site.route]]\npath = \"/\"\nupstream = \"a\"\n",
    );
    let (gw, _) = start(&first).await;
    let addr = gw.local_addrs()[0];
    let client = client();
    assert_eq!(
        get(&client, &format!("http://{addr}/new"))
            .await
            .header("x-upstream-id")
            .as_deref(),
        Some("a")
    );

    let slow_client = client.clone();
    let in_flight =
        tokio::spawn(async move { get(&slow_client, &format!("http://{addr}/slow/400")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = two_upstream_config(
        "127.0.0.1:0",
        a.addr,
        b.addr,
        "[[site.route]]\npath = \"/\"\nupstream = \"a\"\n[[site.route]]\npath = \"/new\"\nupstream = \"b\"\n",
    );
    let summary = gw.reload(config(&second), Vec::new()).unwrap();
    assert!(
        summary.to_string().contains("sites changed: *"),
        "{summary}"
    );
    // New requests see the new route at once; the in-flight one completes where it started.
    assert_eq!(
        get(&client, &format!("http://{addr}/new"))
            .await
            .header("x-upstream-id")
            .as_deref(),
        Some("b")
    );
    let old = in_flight.await.unwrap();
    assert_eq!(old.status, 200);
    assert_eq!(old.header("x-upstream-id").as_deref(), Some("a"));

    // The listener set cannot change on reload; the running config stays.
    let moved = two_upstream_config(
        "127.0.0.1:1",
        a.addr,
        b.addr,
        "[[site.route]]\nupstream = \"b\"\n",
    );
    let error = gw.reload(config(&moved), Vec::new()).unwrap_err();
    assert!(error.is_listener_change());
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
    // An invalid configuration is refused too.
    let broken = two_upstream_config(
        "127.0.0.1:0",
        a.addr,
        b.addr,
        "[[site.route]]\nupstream = \"nope\"\n",
    );
    assert!(
        gw.reload(config(&broken), Vec::new())
            .unwrap_err()
            .to_string()
            .contains("nope")
    );
    assert_eq!(
        get(&client, &format!("http://{addr}/new"))
            .await
            .header("x-upstream-id")
            .as_deref(),
        Some("b")
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_drains_an_in_flight_request() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(
        up.addr,
        "[limits]\nshutdown_grace = \"5s\"\n",
    ))
    .await;
    let addr = gw.local_addrs()[0];
    let client = client();
    let in_flight =
        tokio::spawn(async move { get(&client, &format!("http://{addr}/slow/500")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    gw.shutdown().await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "shutdown waited for the request"
    );
    let answer = in_flight.await.unwrap();
    assert_eq!(answer.status, 200);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn shutdown_grace_bounds_the_wait() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(
        up.addr,
        "[limits]\nshutdown_grace = \"200ms\"\n",
    ))
    .await;
    let addr = gw.local_addrs()[0];
    let client = client();
    let in_flight = tokio::spawn(async move {
        client
            .get(format!("http://{addr}/slow/3000").parse().unwrap())
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    gw.shutdown().await;
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!(
        in_flight.await.unwrap().is_err(),
        "the request over the grace period is cut"
    );
}

#[tokio::test]
async fn websocket_upgrade_is_passed_through() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(up.addr, "")).await;
    let addr = gw.local_addrs()[0];
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("upgrade: websocket"),
        "{head}"
    );
    for message in [&b"hello"[..], b"second frame"] {
        stream.write_all(message).await.unwrap();
        let mut echoed = vec![0u8; message.len()];
        tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut echoed))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(echoed, message);
    }
    drop(stream);
    gw.shutdown().await;
}

#[tokio::test]
async fn h2c_prior_knowledge_and_http2_upstreams() {
    let up = upstream_with("h2-upstream", true).await;
    let toml = simple_config(up.addr, "").replace(
        "response_timeout = \"2s\"",
        "response_timeout = \"2s\"\nhttp2 = true",
    );
    let (gw, _) = start(&toml).await;
    let addr = gw.local_addrs()[0];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    for _ in 0..3 {
        let request = http::Request::get(format!("http://{addr}/h2"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), http::Version::HTTP_2);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(echo["version"], "HTTP/2.0");
        assert_eq!(echo["id"], "h2-upstream");
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn proxy_protocol_from_trusted_peers_sets_the_client_address() {
    let up = upstream("a").await;
    let toml = simple_config(up.addr, "[trusted_proxies]\nnetworks = [\"127.0.0.0/8\"]\n").replace(
        "addr = \"127.0.0.1:0\"",
        "addr = \"127.0.0.1:0\"\nproxy_protocol = true",
    );
    let (gw, _) = start(&toml).await;
    let addr = gw.local_addrs()[0];
    let answer = raw(
        addr,
        b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        Duration::from_millis(500),
    )
    .await;
    assert!(
        answer.contains("[\"x-forwarded-for\",\"203.0.113.7\"]"),
        "{answer}"
    );
    // Without the header the connection is refused.
    let answer = raw(
        addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert!(answer.is_empty(), "{answer}");
    gw.shutdown().await;
}

#[tokio::test]
async fn connections_above_the_limit_wait_for_a_free_slot() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(up.addr, "[limits]\nmax_connections = 1\n")).await;
    let addr = gw.local_addrs()[0];
    let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
    first
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 65536];
    let n = first.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // The first connection stays open (keep-alive): the second is not served meanwhile.
    let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
    second
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(300), second.read(&mut buf)).await;
    assert!(
        waited.is_err(),
        "second connection must wait while the first holds the only slot"
    );
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(2), second.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    gw.shutdown().await;
}
