//! An albedo-compatible backend: the upstream the CRS regression suite expects.
//!
//! Contract (albedo's `capabilities.yaml`):
//! * any path not listed below: `200` with an empty body (the request body is
//!   read and discarded);
//! * `POST /reflect` with a JSON spec `{status, headers, body, encodedBody,
//!   logMessage}`: answers exactly that (status default 200, must be
//!   100–599; invalid header names or values are dropped; `encodedBody` is
//!   base64 and wins over `body`);
//! * `POST /configure_reflection`: the same spec plus `endpoints: [{method,
//!   url}]`; those endpoints then answer like `/reflect` with that spec;
//!   `PUT /reset` forgets them;
//! * `GET /capabilities` (`?quiet=true` for paths only) and `/inspect`.
//!
//! Like Go's `net/http` (which albedo uses), a reflected body without an
//! explicit `Content-Type` gets a sniffed one (`text/html`, `text/xml`,
//! `text/plain` or `application/octet-stream`, with `; charset=utf-8` for
//! text), because CRS's response rules only inspect text bodies.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Largest request body the backend reads.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A reflection spec.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReflectionSpec {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    headers: HashMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    encoded_body: Option<String>,
    #[serde(default)]
    log_message: Option<String>,
    #[serde(default)]
    endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Endpoint {
    method: String,
    url: String,
}

#[derive(Default)]
struct BackendState {
    configured: Mutex<HashMap<(String, String), ReflectionSpec>>,
}

/// A running backend.
#[derive(Debug)]
pub struct Backend {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl Backend {
    /// Binds `addr` (use port 0 for any free port) and starts serving.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Backend> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let state = Arc::new(BackendState::default());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = stopped.changed() => break,
                };
                let Ok((stream, _)) = accepted else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| handle(state.clone(), request));
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    if let Err(error) = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(%error, "albedo backend connection ended with an error");
                    }
                });
            }
        });
        Ok(Backend { addr, stop })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.shutdown();
    }
}

type BackendResponse = Response<Full<Bytes>>;

async fn handle(
    state: Arc<BackendState>,
    request: Request<Incoming>,
) -> Result<BackendResponse, Infallible> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let query = request.uri().query().unwrap_or_default().to_owned();
    let header_count = request.headers().len();
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                "request body unreadable or too large",
            ));
        }
    };
    let configured = state
        .configured
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(method.clone(), path_and_query))
        .cloned();
    if let Some(spec) = configured {
        return Ok(reflect(&spec));
    }
    let response = match (method.as_str(), path.as_str()) {
        ("POST", "/reflect") => match serde_json::from_slice::<ReflectionSpec>(&body) {
            Ok(spec) => reflect(&spec),
            Err(error) => plain(
                StatusCode::BAD_REQUEST,
                &format!("invalid reflection spec: {error}"),
            ),
        },
        ("POST", "/configure_reflection") => {
            match serde_json::from_slice::<ReflectionSpec>(&body) {
                Ok(spec) => {
                    let mut configured = state
                        .configured
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    for endpoint in &spec.endpoints {
                        configured.insert(
                            (endpoint.method.to_ascii_uppercase(), endpoint.url.clone()),
                            spec.clone(),
                        );
                    }
                    plain(StatusCode::OK, "")
                }
                Err(error) => plain(
                    StatusCode::BAD_REQUEST,
                    &format!("invalid reflection spec: {error}"),
                ),
            }
        }
        ("PUT", "/reset") => {
            state
                .configured
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
            plain(StatusCode::OK, "")
        }
        ("GET", "/capabilities") => capabilities(query.split('&').any(|pair| pair == "quiet=true")),
        (_, "/inspect") => {
            let report = serde_json::json!({"method": method, "headers": header_count, "bodySize": body.len()});
            json(report.to_string())
        }
        _ => plain(StatusCode::OK, ""),
    };
    Ok(response)
}

fn plain(status: StatusCode, text: &str) -> BackendResponse {
    let mut response = Response::new(Full::new(Bytes::copy_from_slice(text.as_bytes())));
    *response.status_mut() = status;
    if !text.is_empty() {
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    response
}

fn json(text: String) -> BackendResponse {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn capabilities(quiet: bool) -> BackendResponse {
    let endpoints = [
        ("/*", "any", "Any other URL: 200 without a body."),
        ("/capabilities", "GET", "This document."),
        (
            "/reflect",
            "POST",
            "Responds as the JSON spec {status, headers, body, encodedBody, logMessage} says.",
        ),
        (
            "/configure_reflection",
            "POST",
            "Configures endpoints to respond like /reflect.",
        ),
        ("/reset", "PUT", "Discards configured endpoints."),
        (
            "/inspect",
            "any",
            "Reports the request's method, header count and body size.",
        ),
    ];
    let list: Vec<serde_json::Value> = endpoints
        .iter()
        .map(|(path, methods, description)| {
            if quiet {
                serde_json::json!({ "path": path })
            } else {
                serde_json::json!({ "path": path, "methods": [methods], "description": description })
            }
        })
        .collect();
    json(serde_json::json!({ "endpoints": list }).to_string())
}

fn reflect(spec: &ReflectionSpec) -> BackendResponse {
    let status = spec.status.unwrap_or(200);
    let Some(status) = StatusCode::from_u16(status)
        .ok()
        .filter(|s| (100..600).contains(&s.as_u16()))
    else {
        return plain(StatusCode::BAD_REQUEST, "status must lie in [100,599]");
    };
    let body = match (&spec.encoded_body, &spec.body) {
        (Some(encoded), _) if !encoded.is_empty() => {
            match base64::engine::general_purpose::STANDARD.decode(encoded.as_bytes()) {
                Ok(decoded) => decoded,
                Err(_) => return plain(StatusCode::BAD_REQUEST, "encodedBody is not base64"),
            }
        }
        (_, Some(body)) => body.as_bytes().to_vec(),
        _ => Vec::new(),
    };
    if let Some(message) = &spec.log_message {
        tracing::info!(target: "palisade_ftw::albedo", message = %message, "reflect");
    }
    let sniffed = (!body.is_empty()).then(|| sniff_content_type(&body));
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    for (name, value) in &spec.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    if let Some(sniffed) = sniffed
        && !response.headers().contains_key(hyper::header::CONTENT_TYPE)
    {
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static(sniffed),
        );
    }
    response
}

/// A reduced form of Go's `http.DetectContentType`.
fn sniff_content_type(body: &[u8]) -> &'static str {
    let start = body
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' '))
        .unwrap_or(body.len());
    let data = &body[start..];
    const HTML_TAGS: &[&[u8]] = &[
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    for tag in HTML_TAGS {
        if data.len() > tag.len()
            && data[..tag.len()].eq_ignore_ascii_case(tag)
            && matches!(data[tag.len()], b' ' | b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    if data.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    if data.starts_with(b"%PDF-") {
        return "application/pdf";
    }
    let binary = body.iter().take(512).any(|&b| {
        b <= 0x08 || b == 0x0b || (0x0e..=0x1a).contains(&b) || (0x1c..=0x1f).contains(&b)
    });
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

#[cfg(test)]
mod tests {
    use super::sniff_content_type;

    #[test]
    fn sniffing_matches_go_for_common_bodies() {
        assert_eq!(
            sniff_content_type(b"  <html><body>x"),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            sniff_content_type(b"<?xml version=\"1.0\"?><a/>"),
            "text/xml; charset=utf-8"
        );
        assert_eq!(
            sniff_content_type(b"Maximum allowed file size is 10 MB"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            sniff_content_type(b"\x00\x01binary"),
            "application/octet-stream"
        );
    }
}
