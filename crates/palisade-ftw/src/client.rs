//! Sending one request over raw TCP and reading one HTTP/1.x response.
//!
//! The response is read until it is complete by its own framing
//! (`Content-Length`, `chunked`, or connection close; none for HEAD, 1xx,
//! 204 and 304); interim `100 Continue` responses are skipped. A refused
//! connection, a timeout, a premature close or an unparseable response is an
//! [`ExchangeError`], which is what go-ftw's `expect_error` tests.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response accepted, in bytes.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Decoded body.
    pub body: Vec<u8>,
    /// Every byte received (status line, headers, body as framed).
    pub raw: Vec<u8>,
}

impl Response {
    /// The first header value with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no response could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExchangeError(String);

/// Sends `request` to `target` and reads the response.
pub async fn exchange(
    target: SocketAddr,
    request: &[u8],
    is_head: bool,
    timeout: Duration,
) -> Result<Response, ExchangeError> {
    tokio::time::timeout(timeout, exchange_inner(target, request, is_head))
        .await
        .map_err(|_| ExchangeError(format!("no complete response within {timeout:?}")))?
}

async fn exchange_inner(
    target: SocketAddr,
    request: &[u8],
    is_head: bool,
) -> Result<Response, ExchangeError> {
    let mut stream = TcpStream::connect(target)
        .await
        .map_err(|e| ExchangeError(format!("connect to {target}: {e}")))?;
    // A server may answer (and close) before reading the whole request.
    let write_error = stream.write_all(request).await.err();
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16384];
    let mut closed = false;
    loop {
        if let Some(response) = try_parse(&buffer, is_head, closed)? {
            return Ok(response);
        }
        if closed {
            return Err(match &write_error {
                Some(error) if buffer.is_empty() => {
                    ExchangeError(format!("sending request: {error}"))
                }
                _ if buffer.is_empty() => {
                    ExchangeError("connection closed without a response".to_owned())
                }
                _ => ExchangeError("premature EOF in response".to_owned()),
            });
        }
        match stream.read(&mut chunk).await {
            Ok(0) => closed = true,
            Ok(n) => {
                buffer.extend_from_slice(&chunk[..n]);
                if buffer.len() > MAX_RESPONSE_BYTES {
                    return Err(ExchangeError(format!(
                        "response larger than {MAX_RESPONSE_BYTES} bytes"
                    )));
                }
            }
            Err(error) if buffer.is_empty() => {
                return Err(ExchangeError(format!("reading response: {error}")));
            }
            Err(_) => closed = true,
        }
    }
}

/// A complete response from the start of `buffer`, if there is one yet.
fn try_parse(
    buffer: &[u8],
    is_head: bool,
    closed: bool,
) -> Result<Option<Response>, ExchangeError> {
    let mut offset = 0;
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut parsed = httparse::Response::new(&mut headers);
        let head_len = match parsed.parse(&buffer[offset..]) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(error) => return Err(ExchangeError(format!("malformed response: {error}"))),
        };
        let status = parsed.code.unwrap_or(0);
        let header_list: Vec<(String, String)> = parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let body_start = offset + head_len;
        if (100..200).contains(&status) && status != 101 {
            offset = body_start;
            continue;
        }
        let find = |name: &str| {
            header_list
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        let rest = &buffer[body_start..];
        let framed = if is_head || status == 204 || status == 304 || status == 101 {
            Some((Vec::new(), 0))
        } else if find("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().ends_with("chunked"))
        {
            decode_chunked(rest)?
        } else if let Some(length) = find("content-length") {
            let length: usize = length
                .parse()
                .map_err(|_| ExchangeError(format!("invalid Content-Length {length:?}")))?;
            (rest.len() >= length).then(|| (rest[..length].to_vec(), length))
        } else if closed {
            Some((rest.to_vec(), rest.len()))
        } else {
            None
        };
        return Ok(framed.map(|(body, used)| Response {
            status,
            headers: header_list,
            body,
            raw: buffer[..body_start + used].to_vec(),
        }));
    }
}

/// Decodes a chunked body; `None` while incomplete. Returns the body and the
/// bytes it used.
fn decode_chunked(input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, ExchangeError> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let Some(line_end) = find_crlf(&input[pos..]) else {
            return Ok(None);
        };
        let line = &input[pos..pos + line_end];
        let size_text = line.split(|&b| b == b';').next().unwrap_or_default();
        let size_text = std::str::from_utf8(size_text)
            .map_err(|_| ExchangeError("malformed chunk size".to_owned()))?;
        let size = usize::from_str_radix(size_text.trim(), 16)
            .map_err(|_| ExchangeError(format!("malformed chunk size {size_text:?}")))?;
        pos += line_end + 2;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let Some(end) = find_crlf(&input[pos..]) else {
                    return Ok(None);
                };
                pos += end + 2;
                if end == 0 {
                    return Ok(Some((body, pos)));
                }
            }
        }
        if input.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&input[pos..pos + size]);
        pos += size + 2;
    }
}

fn find_crlf(input: &[u8]) -> Option<usize> {
    input.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_framing() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA";
        let response = try_parse(raw, false, false).unwrap().unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"abc"[..])
        );
        assert!(try_parse(&raw[..40], false, false).unwrap().is_none());
    }

    #[test]
    fn chunked_framing_and_interim_response() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let response = try_parse(raw, false, false).unwrap().unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (403, &b"abcde"[..])
        );
        assert!(
            try_parse(&raw[..raw.len() - 2], false, false)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn close_delimited_and_head() {
        let raw = b"HTTP/1.0 200 OK\r\n\r\nbody";
        assert!(try_parse(raw, false, false).unwrap().is_none());
        assert_eq!(try_parse(raw, false, true).unwrap().unwrap().body, b"body");
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
        assert!(
            try_parse(head, true, false)
                .unwrap()
                .unwrap()
                .body
                .is_empty()
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(try_parse(b"<html>not http</html>\r\n\r\n", false, true).is_err());
    }
}
