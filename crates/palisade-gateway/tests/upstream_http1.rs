//! The lean HTTP/1 upstream client (buffered requests to `http://` servers) against an upstream
//! that answers with scripted bytes: response framing (chunked with extensions and trailers, split
//! across writes; until close; HEAD; 204; interim 1xx; Transfer-Encoding with Content-Length),
//! connection reuse and its refusals (`Connection: close`, stray bytes, an idle connection the
//! upstream closed), malformed responses (502) and request encoding.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the scripted upstream saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    /// Each request: its head and body, as received.
    requests: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Seen {
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn last_request(&self) -> (String, Vec<u8>) {
        self.requests.lock().unwrap().last().cloned().unwrap()
    }
}

/// An upstream that answers each request by its path with fixed bytes (see `answer`).
async fn scripted_upstream() -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let seen_by_server = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            seen_by_server.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve_connection(stream, seen_by_server.clone()));
        }
    });
    (addr, seen)
}

async fn serve_connection(mut stream: TcpStream, seen: Arc<Seen>) {
    let mut buffer = Vec::new();
    loop {
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().unwrap())
            })
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buffer[head_end..head_end + length].to_vec();
        buffer.drain(..head_end + length);
        seen.requests
            .lock()
            .unwrap()
            .push((head.clone(), body.clone()));
        let mut words = head.split(' ');
        let method = words.next().unwrap_or("").to_owned();
        let path = words.next().unwrap_or("").to_owned();
        if !answer(&mut stream, &method, &path, &body).await {
            return;
        }
    }
}

/// Writes the scripted answer; false when the connection is to be closed afterwards.
async fn answer(stream: &mut TcpStream, method: &str, path: &str, body: &[u8]) -> bool {
    match path {
        "/keepalive" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await;
        }
        "/chunked" => {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhel",
                )
                .await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = stream
                .write_all(b"lo\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n")
                .await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = stream.write_all(b"\r\n").await;
        }
        "/until-close" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ")
                .await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = stream.write_all(b"close").await;
            return false;
        }
        "/interim" => {
            let _ = stream
                .write_all(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal")
                .await;
        }
        "/no-content" => {
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await;
        }
        "/head" if method == "HEAD" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                .await;
        }
        "/te-and-cl" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                .await;
        }
        "/conn-close" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
                .await;
        }
        "/stray-bytes" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE")
                .await;
        }
        "/idle-close" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await;
            // The upstream's keep-alive timeout, very short.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return false;
        }
        "/bad-length" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\nok")
                .await;
            return false;
        }
        "/conflicting-length" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok")
                .await;
            return false;
        }
        "/bad-chunk" => {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                )
                .await;
            return false;
        }
        "/cut" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
                .await;
            return false;
        }
        "/huge-head" => {
            let mut head = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
            head.extend(std::iter::repeat_n(b'a', 200 * 1024));
            head.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\nok");
            let _ = stream.write_all(&head).await;
            return false;
        }
        "/garbage" => {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH\r\n\r\n").await;
            return false;
        }
        "/echo" => {
            let mut out =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
            out.extend_from_slice(body);
            let _ = stream.write_all(&out).await;
        }
        _ => {
            let _ = stream
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    }
    true
}

async fn gateway(upstream: SocketAddr) -> palisade_gateway::GatewayHandle {
    let (handle, _sink) = start(&simple_config(upstream, "")).await;
    handle
}

fn url(handle: &palisade_gateway::GatewayHandle, path: &str) -> String {
    format!("http://{}{path}", handle.local_addrs()[0])
}

#[tokio::test]
async fn keep_alive_connections_are_reused_and_chunked_bodies_decoded() {
    let (upstream, seen) = scripted_upstream().await;
    let handle = gateway(upstream).await;
    let client = client();

    let first = get(&client, &url(&handle, "/keepalive")).await;
    assert_eq!((first.status, first.text().as_str()), (200, "ok"));
    let chunked = get(&client, &url(&handle, "/chunked")).await;
    assert_eq!(chunked.status, 200);
    assert_eq!(
        chunked.text(),
        "hello world",
        "chunk extensions and trailers are dropped"
    );
    let interim = get(&client, &url(&handle, "/interim")).await;
    assert_eq!((interim.status, interim.text().as_str()), (200, "final"));
    let no_content = get(&client, &url(&handle, "/no-content")).await;
    assert_eq!((no_content.status, no_content.body.len()), (204, 0));
    let head = send(
        &client,
        Request::head(url(&handle, "/head"))
            .body(Full::new(Bytes::new()))
            .unwrap(),
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length").as_deref(), Some("100"));
    assert!(head.body.is_empty());
    let again = get(&client, &url(&handle, "/keepalive")).await;
    assert_eq!(again.text(), "ok");
    assert_eq!(
        seen.connections(),
        1,
        "every one of these answers leaves the connection reusable"
    );
}

#[tokio::test]
async fn connections_the_upstream_ends_are_not_reused() {
    let (upstream, seen) = scripted_upstream().await;
    let handle = gateway(upstream).await;
    let client = client();

    let until_close = get(&client, &url(&handle, "/until-close")).await;
    assert_eq!(
        (until_close.status, until_close.text().as_str()),
        (200, "until close")
    );
    get(&client, &url(&handle, "/keepalive")).await;
    assert_eq!(
        seen.connections(),
        2,
        "a body read until close ends its connection"
    );

    get(&client, &url(&handle, "/conn-close")).await;
    get(&client, &url(&handle, "/keepalive")).await;
    assert_eq!(seen.connections(), 3, "Connection: close is honoured");

    let stray = get(&client, &url(&handle, "/stray-bytes")).await;
    assert_eq!(stray.text(), "ok");
    get(&client, &url(&handle, "/keepalive")).await;
    assert_eq!(
        seen.connections(),
        4,
        "bytes after the response end the connection"
    );

    let both = get(&client, &url(&handle, "/te-and-cl")).await;
    assert_eq!(
        both.text(),
        "abc",
        "Transfer-Encoding wins over Content-Length"
    );
    get(&client, &url(&handle, "/keepalive")).await;
    assert_eq!(
        seen.connections(),
        5,
        "a response with both is not trusted further"
    );

    // The upstream closes its idle connection; the next request must still get through.
    get(&client, &url(&handle, "/idle-close")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_idle = get(&client, &url(&handle, "/keepalive")).await;
    assert_eq!((after_idle.status, after_idle.text().as_str()), (200, "ok"));
    assert_eq!(seen.connections(), 6);
}

#[tokio::test]
async fn malformed_responses_become_502_before_the_head_and_a_cut_response_after_it() {
    let (upstream, _seen) = scripted_upstream().await;
    let handle = gateway(upstream).await;
    let client = client();
    for path in [
        "/bad-length",
        "/conflicting-length",
        "/huge-head",
        "/garbage",
    ] {
        let answer = get(&client, &url(&handle, path)).await;
        assert_eq!(answer.status, 502, "{path}");
        assert!(
            !answer.text().contains("OpenSSH"),
            "upstream bytes never reach the client"
        );
    }
    // The head was good, so it may have been forwarded already: the client then sees the
    // response cut (or nothing at all), never a complete one.
    for path in ["/bad-chunk", "/cut"] {
        let request = Request::get(url(&handle, path))
            .body(Full::new(Bytes::new()))
            .unwrap();
        if let Ok(response) = client.request(request).await {
            assert_eq!(response.status(), 200, "{path}");
            assert!(
                response.into_body().collect().await.is_err(),
                "{path}: the client sees the body cut, not a complete one"
            );
        }
    }
    // The gateway is fine afterwards.
    assert_eq!(get(&client, &url(&handle, "/keepalive")).await.status, 200);
}

#[tokio::test]
async fn requests_are_encoded_with_their_length() {
    let (upstream, seen) = scripted_upstream().await;
    let handle = gateway(upstream).await;
    let client = client();

    get(&client, &url(&handle, "/keepalive")).await;
    let (head, _) = seen.last_request();
    assert!(head.starts_with("GET /keepalive HTTP/1.1\r\n"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("content-length"),
        "{head}"
    );

    let body = vec![b'x'; 4096];
    let echoed = send(
        &client,
        Request::post(url(&handle, "/echo"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body.clone())))
            .unwrap(),
    )
    .await;
    assert_eq!(echoed.body.as_ref(), body.as_slice());
    let (head, received) = seen.last_request();
    assert!(head.contains("content-length: 4096\r\n"), "{head}");
    assert_eq!(received, body);

    send(
        &client,
        Request::post(url(&handle, "/echo"))
            .body(Full::new(Bytes::new()))
            .unwrap(),
    )
    .await;
    let (head, _) = seen.last_request();
    assert!(head.contains("content-length: 0\r\n"), "{head}");
    assert_eq!(seen.connections(), 1);
}

/// A header count limit above hyper's default (100) is honoured exactly: hyper must not refuse
/// what the configuration allows, and one more header is refused before the upstream sees it.
#[tokio::test]
async fn header_count_limits_above_100_are_honoured() {
    let (upstream, seen) = scripted_upstream().await;
    let (handle, _sink) = start(&simple_config(upstream, "[limits]\nmax_headers = 150\n")).await;
    let addr = handle.local_addrs()[0];
    let head_with = |count: usize| {
        let mut head = String::from("GET /keepalive HTTP/1.1\r\nHost: a\r\nConnection: close\r\n");
        for i in 0..count - 2 {
            head.push_str(&format!("X-H{i}: v\r\n"));
        }
        head + "\r\n"
    };
    let answer = raw(addr, head_with(150).as_bytes(), Duration::from_millis(500)).await;
    assert_eq!(raw_status(&answer), Some(200), "{answer}");
    let (head, _) = seen.last_request();
    assert!(head.contains("x-h147: v\r\n"), "{head}");
    let answer = raw(addr, head_with(151).as_bytes(), Duration::from_millis(500)).await;
    assert_eq!(raw_status(&answer), Some(431), "{answer}");
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
}
