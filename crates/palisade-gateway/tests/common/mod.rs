//! Test harness shared by the gateway's integration tests: an in-process echo upstream, a gateway
//! started from TOML text, a hyper client and raw-TCP helpers, and an event sink that records.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use palisade_core::{EventSink, Inspector, SecurityEvent};
use palisade_gateway::GatewayHandle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Events recorded by the gateway.
#[derive(Default)]
pub struct RecordingSink {
    pub events: Mutex<Vec<SecurityEvent>>,
}

impl EventSink for RecordingSink {
    fn record(&self, event: SecurityEvent) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }
}

impl RecordingSink {
    pub fn actions(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|e| e.action.clone())
            .collect()
    }
}

/// An echo upstream. Answers with JSON describing the request, or special behaviour by path:
/// `/slow/<ms>` waits before answering, `/cookies` sets cookies and leaky headers, `/ws` upgrades to an
/// echoing WebSocket-like byte stream, `/big/<n>` answers n bytes.
pub struct Upstream {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    pub id: &'static str,
}

pub async fn upstream(id: &'static str) -> Upstream {
    upstream_with(id, false).await
}

pub async fn upstream_with(id: &'static str, http2: bool) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    echo(req, id)
                });
                let io = TokioIo::new(stream);
                if http2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .with_upgrades()
                        .await;
                }
            });
        }
    });
    Upstream { addr, hits, id }
}

async fn echo(
    mut req: Request<Incoming>,
    id: &'static str,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    if let Some(ms) = path.strip_prefix("/slow/") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
    }
    if path == "/ws" {
        let upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            if let Ok(upgraded) = upgrade.await {
                let mut io = TokioIo::new(upgraded);
                let mut buf = [0u8; 1024];
                while let Ok(n) = io.read(&mut buf).await {
                    if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        });
        return Ok(Response::builder()
            .status(101)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .body(Full::new(Bytes::new()))
            .unwrap());
    }
    if let Some(n) = path.strip_prefix("/big/") {
        let n: usize = n.parse().unwrap_or(0);
        return Ok(Response::builder()
            .header("x-upstream-id", id)
            .body(Full::new(Bytes::from(vec![b'x'; n])))
            .unwrap());
    }
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let version = format!("{:?}", req.version());
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json = serde_json::json!({
        "id": id,
        "method": method,
        "uri": uri,
        "version": version,
        "headers": headers,
        "body_len": body.len(),
        "body": if body.len() <= 65536 { String::from_utf8_lossy(&body).into_owned() } else { String::new() },
    });
    let mut response = Response::builder()
        .header("x-upstream-id", id)
        .header("content-type", "application/json");
    if path == "/cookies" {
        response = response
            .header("set-cookie", "sid=abc; Path=/")
            .header("set-cookie", "pref=1; Secure; HttpOnly; SameSite=Strict")
            .header("server", "Apache/2.4.1 (Unix)")
            .header("x-powered-by", "PHP/5.1")
            .header("x-aspnet-version", "4.0")
            .header("x-frame-options", "DENY");
    }
    Ok(response
        .body(Full::new(Bytes::from(json.to_string())))
        .unwrap())
}

/// Parses a configuration; `{up}`, `{up2}` … are replaced by the caller beforehand.
pub fn config(toml_text: &str) -> Arc<palisade_config::Config> {
    Arc::new(
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("bad test config: {e}\n{toml_text}")),
    )
}

/// A one-site configuration in front of `upstream` with extra TOML appended.
pub fn simple_config(upstream: SocketAddr, extra: &str) -> String {
    format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"

[[upstream]]
name = "app"
servers = ["http://{upstream}"]
connect_timeout = "1s"
response_timeout = "2s"

[[site]]
hosts = ["*"]
[[site.route]]
path = "/"
upstream = "app"
{extra}
"#
    )
}

pub async fn start(toml_text: &str) -> (GatewayHandle, Arc<RecordingSink>) {
    start_with(toml_text, Vec::new()).await
}

pub async fn start_with(
    toml_text: &str,
    inspectors: Vec<Arc<dyn Inspector>>,
) -> (GatewayHandle, Arc<RecordingSink>) {
    let sink = Arc::new(RecordingSink::default());
    let handle = palisade_gateway::start(config(toml_text), inspectors, sink.clone())
        .await
        .unwrap();
    (handle, sink)
}

pub type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

pub fn client() -> Client {
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
}

pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

/// Header value seen by the echo upstream (first one).
pub fn echoed_header(echo: &serde_json::Value, name: &str) -> Option<String> {
    echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str().unwrap().to_owned())
}

pub async fn send(client: &Client, request: Request<Full<Bytes>>) -> Answer {
    let response = client.request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    }
}

pub async fn get(client: &Client, url: &str) -> Answer {
    send(
        client,
        Request::get(url).body(Full::new(Bytes::new())).unwrap(),
    )
    .await
}

/// Sends raw bytes and returns everything read until the server closes or `wait` passes without data.
pub async fn raw(addr: SocketAddr, bytes: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(bytes).await;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Status code of the first response in a raw HTTP/1 answer.
pub fn raw_status(answer: &str) -> Option<u16> {
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
}
