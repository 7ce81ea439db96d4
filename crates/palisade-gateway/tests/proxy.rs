//! Plain proxying through real sockets: bodies, headers, routing, load balancing, limits.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use http_body_util::Full;
use hyper::Request;

#[tokio::test]
async fn methods_headers_and_bodies_are_proxied_faithfully() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(up.addr, "")).await;
    let addr = gw.local_addrs()[0];
    let client = client();
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let request = Request::builder()
            .method(method)
            .uri(format!("http://{addr}/path/x?q=1&r=%20"))
            .header("x-custom", "value 1")
            .header("accept", "text/plain")
            .body(Full::new(Bytes::from_static(b"hello body")))
            .unwrap();
        let answer = send(&client, request).await;
        assert_eq!(answer.status, 200, "{method}");
        let echo = answer.json();
        assert_eq!(echo["method"], method);
        assert_eq!(echo["uri"], "/path/x?q=1&r=%20");
        assert_eq!(echo["body"], "hello body");
        assert_eq!(echoed_header(&echo, "x-custom").as_deref(), Some("value 1"));
        assert_eq!(echoed_header(&echo, "host"), Some(addr.to_string()));
        // The request id is sent upstream and returned to the client.
        let id = answer
            .header("x-request-id")
            .expect("x-request-id in response");
        assert_eq!(echoed_header(&echo, "x-request-id"), Some(id));
    }
    let answer = send(
        &client,
        Request::builder()
            .method("HEAD")
            .uri(format!("http://{addr}/"))
            .body(Full::new(Bytes::new()))
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.is_empty());
    gw.shutdown().await;
}

#[tokio::test]
async fn ten_megabyte_body_streams_through_an_uninspected_route() {
    let up = upstream("a").await;
    let extra = "inspect = false\n[limits]\nmax_body = \"20MiB\"\n";
    let (gw, _) = start(&simple_config(up.addr, extra)).await;
    let addr = gw.local_addrs()[0];
    // Stream the body in chunks through a raw chunked request so nothing needs it whole on our side.
    let body_len = 10 * 1024 * 1024;
    let (sender, body) = {
        let (tx, rx) = tokio::sync::mpsc::channel::<
            Result<http_body::Frame<Bytes>, std::convert::Infallible>,
        >(4);
        (tx, http_body_util::StreamBody::new(tokio_stream_from(rx)))
    };
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let request = Request::post(format!("http://{addr}/upload"))
        .body(body)
        .unwrap();
    let response = tokio::spawn(async move { client.request(request).await });
    let chunk = Bytes::from(vec![b'z'; 64 * 1024]);
    for _ in 0..(body_len / chunk.len()) {
        sender
            .send(Ok(http_body::Frame::data(chunk.clone())))
            .await
            .unwrap();
    }
    drop(sender);
    let response = response.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo["body_len"], body_len);
    gw.shutdown().await;
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn hop_by_hop_headers_are_removed_and_forwarding_headers_set() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(up.addr, "")).await;
    let addr = gw.local_addrs()[0];
    let request = Request::get(format!("http://{addr}/"))
        .header("host", "shop.example:8080")
        .header("connection", "x-secret, keep-alive")
        .header("x-secret", "drop me")
        .header("keep-alive", "timeout=5")
        .header("te", "trailers")
        .header("proxy-authorization", "Basic Zm9vOmJhcg==")
        .header("x-forwarded-for", "6.6.6.6")
        .header("forwarded", "for=6.6.6.6")
        .header("x-palisade-verdict", "allow")
        .header("X-Palisade-Anything", "spoof")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let echo = send(&client(), request).await.json();
    for gone in [
        "x-secret",
        "keep-alive",
        "te",
        "proxy-authorization",
        "x-palisade-verdict",
        "x-palisade-anything",
    ] {
        assert_eq!(
            echoed_header(&echo, gone),
            None,
            "{gone} must not reach the upstream"
        );
    }
    // The peer is not a trusted proxy: its X-Forwarded-For is replaced, not appended to.
    assert_eq!(
        echoed_header(&echo, "x-forwarded-for").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        echoed_header(&echo, "x-forwarded-proto").as_deref(),
        Some("http")
    );
    assert_eq!(
        echoed_header(&echo, "x-forwarded-host").as_deref(),
        Some("shop.example")
    );
    let forwarded = echoed_header(&echo, "forwarded").unwrap();
    assert!(
        forwarded.starts_with("for=127.0.0.1;by=127.0.0.1;host=\"shop.example\";proto=http"),
        "{forwarded}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn trusted_proxy_chain_yields_the_rightmost_untrusted_client() {
    let up = upstream("a").await;
    let extra = "[trusted_proxies]\nnetworks = [\"127.0.0.0/8\", \"10.0.0.0/8\"]\n";
    let (gw, _) = start(&simple_config(up.addr, extra)).await;
    let addr = gw.local_addrs()[0];
    let request = Request::get(format!("http://{addr}/"))
        .header("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.1.1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let echo = send(&client(), request).await.json();
    assert_eq!(
        echoed_header(&echo, "x-forwarded-for").as_deref(),
        Some("6.6.6.6, 203.0.113.9, 10.1.1.1, 127.0.0.1")
    );
    let forwarded = echoed_header(&echo, "forwarded").unwrap();
    assert!(forwarded.starts_with("for=203.0.113.9;"), "{forwarded}");
    gw.shutdown().await;
}

#[tokio::test]
async fn sites_by_host_and_routes_by_longest_prefix() {
    let a = upstream("a").await;
    let b = upstream("b").await;
    let c = upstream("c").await;
    let toml = format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"
[[upstream]]
name = "a"
servers = ["http://{a}"]
[[upstream]]
name = "b"
servers = ["http://{b}"]
[[upstream]]
name = "c"
servers = ["http://{c}"]

[[site]]
hosts = ["shop.example"]
[[site.route]]
path = "/"
upstream = "a"
[[site.route]]
path = "/api"
upstream = "b"
[[site.route]]
path = "/api/v2/"
upstream = "c"

[[site]]
hosts = ["*.wild.example"]
[[site.route]]
path = "/"
upstream = "c"
"#,
        a = a.addr,
        b = b.addr,
        c = c.addr
    );
    let (gw, _) = start(&toml).await;
    let addr = gw.local_addrs()[0];
    let client = client();
    let cases = [
        ("shop.example", "/", Some("a")),
        ("SHOP.Example:8080", "/index.html", Some("a")),
        ("shop.example", "/api", Some("b")),
        ("shop.example", "/api/users", Some("b")),
        ("shop.example", "/apix", Some("a")),
        ("shop.example", "/api/v2/x", Some("c")),
        ("x.wild.example", "/", Some("c")),
        ("a.b.wild.example", "/", Some("c")),
        ("wild.example", "/", None),
        ("other.example", "/", None),
    ];
    for (host, path, expected) in cases {
        let request = Request::get(format!("http://{addr}{path}"))
            .header("host", host)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answer = send(&client, request).await;
        match expected {
            Some(id) => {
                assert_eq!(answer.status, 200, "{host}{path}");
                assert_eq!(
                    answer.header("x-upstream-id").as_deref(),
                    Some(id),
                    "{host}{path}"
                );
            }
            None => {
                assert_eq!(answer.status, 404, "{host}{path}");
                assert!(answer.text().contains("404"), "Palisade page");
                assert!(answer.header("x-request-id").is_some());
            }
        }
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn round_robin_and_passive_health() {
    let a = upstream("a").await;
    let b = upstream("b").await;
    // A server that accepts and closes at once: every request to it fails.
    let broken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let broken_addr = broken.local_addr().unwrap();
    let broken_hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = broken_hits.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = broken.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    let toml = format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"
[[upstream]]
name = "app"
servers = ["http://{a}", "http://{b}", "http://{broken_addr}"]
max_fails = 2
fail_timeout = "700ms"
[[site]]
hosts = ["*"]
[[site.route]]
upstream = "app"
"#,
        a = a.addr,
        b = b.addr
    );
    let (gw, _) = start(&toml).await;
    let addr = gw.local_addrs()[0];
    let client = client();
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(get(&client, &format!("http://{addr}/")).await.status);
    }
    let failures = statuses.iter().filter(|&&s| s == 502).count();
    assert_eq!(
        failures, 2,
        "the broken server fails max_fails times, then is out: {statuses:?}"
    );
    assert_eq!(broken_hits.load(std::sync::atomic::Ordering::SeqCst), 2);
    let (hits_a, hits_b) = (
        a.hits.load(std::sync::atomic::Ordering::SeqCst),
        b.hits.load(std::sync::atomic::Ordering::SeqCst),
    );
    assert_eq!(hits_a + hits_b, 28);
    assert!(
        hits_a.abs_diff(hits_b) <= 2,
        "round robin between healthy servers: {hits_a} vs {hits_b}"
    );
    // After fail_timeout the broken server is tried again.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for _ in 0..3 {
        get(&client, &format!("http://{addr}/")).await;
    }
    assert_eq!(broken_hits.load(std::sync::atomic::Ordering::SeqCst), 3);
    gw.shutdown().await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let up = upstream("a").await;
    let extra = "[limits]\nmax_body = 1000\ninspect_body_limit = 100\n";
    let (gw, _) = start(&simple_config(up.addr, extra)).await;
    let addr = gw.local_addrs()[0];
    // Declared length above the limit: refused up front.
    let answer = raw(
        addr,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n",
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(raw_status(&answer), Some(413), "{answer}");
    // Chunked: counted while streaming.
    let mut chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..5 {
        chunked.extend_from_slice(b"190\r\n");
        chunked.extend_from_slice(&[b'x'; 400]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = raw(addr, &chunked, Duration::from_millis(500)).await;
    assert_eq!(raw_status(&answer), Some(413), "{answer}");

    // Expect: 100-continue with an acceptable body gets 100 then the answer.
    let answer = raw(
        addr,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhello",
        Duration::from_millis(500),
    )
    .await;
    assert!(answer.contains("200 OK"), "{answer}");
    assert!(answer.contains("\"body\":\"hello\""), "{answer}");
    assert!(
        !answer.contains("expect"),
        "Expect is not forwarded: {answer}"
    );
    // Expect: 100-continue with a too large body: 413 without reading it, never forwarded.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let hits_before = up.hits.load(std::sync::atomic::Ordering::SeqCst);
    let answer = raw(
        addr,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(raw_status(&answer), Some(413), "{answer}");
    assert_eq!(
        up.hits.load(std::sync::atomic::Ordering::SeqCst),
        hits_before
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn too_many_or_too_large_headers_get_431() {
    let up = upstream("a").await;
    let extra = "[limits]\nmax_headers = 20\nmax_header_bytes = 8192\n";
    let (gw, _) = start(&simple_config(up.addr, extra)).await;
    let addr = gw.local_addrs()[0];
    let mut many = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
    for i in 0..30 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let answer = raw(addr, many.as_bytes(), Duration::from_millis(500)).await;
    assert_eq!(raw_status(&answer), Some(431), "{answer}");
    let large = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let answer = raw(addr, large.as_bytes(), Duration::from_millis(500)).await;
    assert_eq!(raw_status(&answer), Some(431), "{answer}");
    assert_eq!(up.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    gw.shutdown().await;
}
