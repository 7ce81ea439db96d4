//! A lean HTTP/1.1 client for `http://` upstream servers that runs inside the request's own task.
//!
//! Why: hyper's client connection lives in a task of its own, so every proxied request crosses two
//! channels and wakes a second task; on a small GET that was about a quarter of the gateway's
//! instructions. The common exchange — a request whose body is already in memory (bodiless,
//! inspected, or small enough to buffer) going to a plain-TCP server, without an upgrade — is done
//! here instead: the request head and body leave in one write, the response head is read and parsed
//! (httparse) in the request's task, and the response body is handed to hyper's server as a body
//! that reads the upstream socket directly. Everything else (HTTP/2, `https://`, upgrades, large
//! or streamed request bodies) goes through hyper's client (`upstream_pool`).
//!
//! Connections: a connection goes back to its server's idle list once its response was read to the
//! end, the upstream allowed keep-alive and no stray byte followed. A checked-out idle connection is
//! first asked, without a system call, whether the socket turned readable while idle (the upstream
//! closed it or sent something unasked); if so one non-blocking read tells. A request that then
//! still meets a connection the upstream had just closed (write fails, or the connection ends
//! before any response byte) is sent again on another connection when its method is idempotent —
//! as hyper's client does when it knows a connection is gone before writing.
//!
//! Response framing (RFC 9112 §6.3): no body after HEAD and for 1xx, 204 and 304; a
//! `Transfer-Encoding` whose last coding is `chunked` is decoded (chunk extensions ignored, trailers
//! read and dropped); another `Transfer-Encoding` reads until close; otherwise a `Content-Length`
//! (every value the same number) counts the body, else the body runs until close. A response with
//! both `Transfer-Encoding` and `Content-Length` loses the latter and its connection is not reused.
//! Interim 1xx responses before the final one are skipped (at most [`MAX_INTERIM`]); `101` is an
//! error here because upgrades never take this path. Chunk lines, trailers and the head are bounded;
//! line ends must be CRLF. Any violation ends the exchange with an error (the client gets 502 before
//! the head, or a cut response after it) and closes the upstream connection.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::body::{BoxError, ProxyBody};

/// Bytes reserved in a connection's read buffer before each read.
const READ_CHUNK: usize = 8 * 1024;
/// Response header slots tried on the stack before the heap.
const STACK_HEADERS: usize = 48;
/// Most header lines a response head may have.
const MAX_RESPONSE_HEADERS: usize = 256;
/// Longest chunk-size line (with extensions).
const MAX_CHUNK_LINE: usize = 4 * 1024;
/// Most bytes of trailer lines after the last chunk.
const MAX_TRAILER_BYTES: usize = 16 * 1024;
/// Most interim (1xx) responses skipped before the final one.
const MAX_INTERIM: usize = 16;
/// Most idle connections kept per server.
const MAX_IDLE: usize = 1024;

/// Why an exchange with an upstream server failed.
#[derive(Debug)]
pub(crate) struct ExchangeError {
    kind: ExchangeErrorKind,
    /// The connection was reused and failed before any response byte arrived: the upstream most
    /// likely closed it while idle, so the request can be sent again elsewhere.
    stale: bool,
}

#[derive(Debug)]
enum ExchangeErrorKind {
    Io(io::Error),
    /// The upstream closed the connection before the response was complete.
    Closed,
    /// The response broke HTTP/1.1.
    Protocol(&'static str),
}

impl ExchangeError {
    fn protocol(what: &'static str) -> Self {
        ExchangeError {
            kind: ExchangeErrorKind::Protocol(what),
            stale: false,
        }
    }

    fn closed() -> Self {
        ExchangeError {
            kind: ExchangeErrorKind::Closed,
            stale: false,
        }
    }

    fn io(error: io::Error) -> Self {
        ExchangeError {
            kind: ExchangeErrorKind::Io(error),
            stale: false,
        }
    }

    /// Whether the request may be sent again on another connection (see the module docs).
    pub(crate) fn is_stale(&self) -> bool {
        self.stale
    }
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            ExchangeErrorKind::Io(error) => write!(f, "upstream connection: {error}"),
            ExchangeErrorKind::Closed => f.write_str("upstream closed the connection mid-response"),
            ExchangeErrorKind::Protocol(what) => write!(f, "invalid upstream response: {what}"),
        }
    }
}

impl std::error::Error for ExchangeError {}

/// One upstream connection and the bytes read from it but not yet used.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

impl Conn {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Conn {
            stream,
            buf: BytesMut::new(),
        }
    }

    /// Whether an idle connection can carry a request: its socket did not turn readable while idle
    /// (no system call), or a non-blocking read finds nothing to read.
    fn looks_alive(&self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        match self.stream.poll_read_ready(&mut cx) {
            Poll::Pending => true,
            Poll::Ready(Err(_)) => false,
            // Readiness may be left from the last response's read: ask the socket.
            Poll::Ready(Ok(())) => {
                let mut probe = [0u8; 1];
                matches!(self.stream.try_read(&mut probe),
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock)
            }
        }
    }
}

/// A server's idle connections, most recently used last.
#[derive(Default)]
pub(crate) struct IdleConns {
    list: Mutex<Vec<(Conn, Instant)>>,
}

impl IdleConns {
    /// The most recently used idle connection that looks alive; drops dead and long-idle ones.
    pub(crate) fn checkout(&self, idle_timeout: Duration) -> Option<Conn> {
        loop {
            let (conn, last_used) = self.list.lock().unwrap_or_else(|e| e.into_inner()).pop()?;
            if last_used.elapsed() <= idle_timeout && conn.looks_alive() {
                return Some(conn);
            }
        }
    }

    fn checkin(&self, conn: Conn) {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        if list.len() < MAX_IDLE {
            list.push((conn, Instant::now()));
        }
    }
}

/// The bytes of an HTTP/1.1 request: `method target HTTP/1.1`, `headers` (without any
/// `Content-Length` or `Transfer-Encoding` of theirs: the length is `body`'s), then `body`.
pub(crate) fn encode_request(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + body.len());
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // A body-less GET, HEAD, DELETE… says nothing; methods that carry a body say 0.
    let carries_body = !matches!(
        *method,
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS | Method::TRACE
    );
    if !body.is_empty() || carries_body {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Sends `request` (from [`encode_request`]) on `conn` and reads the response head; the body is
/// read as the returned response's body is polled. `reused` says whether `conn` came from the idle
/// list (for [`ExchangeError::is_stale`]); `max_head` bounds the response head.
pub(crate) async fn exchange(
    mut conn: Conn,
    reused: bool,
    request: &[u8],
    method: &Method,
    max_head: usize,
    idle: &std::sync::Arc<IdleConns>,
) -> Result<Response<ProxyBody>, ExchangeError> {
    if let Err(error) = conn.stream.write_all(request).await {
        let mut error = ExchangeError::io(error);
        error.stale = reused;
        return Err(error);
    }
    let mut received = false;
    let mut interim = 0;
    let head = loop {
        if let Some(head) = take_final_head(&mut conn.buf, max_head, &mut interim)? {
            break head;
        }
        conn.buf.reserve(READ_CHUNK);
        match conn.stream.read_buf(&mut conn.buf).await {
            Ok(0) => {
                let mut error = ExchangeError::closed();
                error.stale = reused && !received;
                return Err(error);
            }
            Ok(_) => received = true,
            Err(error) => {
                let mut error = ExchangeError::io(error);
                error.stale = reused && !received;
                return Err(error);
            }
        }
    };
    let ResponseHead {
        status,
        version,
        mut headers,
    } = head;
    let (framing, mut reusable) = response_framing(method, status, version, &mut headers)?;
    let body = match framing {
        Decoder::Done => {
            if reusable && conn.buf.is_empty() {
                idle.checkin(conn);
            }
            crate::body::empty()
        }
        Decoder::Length(length) if length <= conn.buf.len() as u64 => {
            // The whole body is here (the usual small response): the connection is free already.
            let bytes = conn.buf.split_to(length as usize).freeze();
            reusable &= conn.buf.is_empty();
            if reusable {
                idle.checkin(conn);
            }
            crate::body::full(bytes)
        }
        decoder => http_body_util::BodyExt::boxed_unsync(ResponseBody {
            conn: Some(conn),
            decoder,
            reusable,
            idle: idle.clone(),
        }),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.version_mut() = version;
    *response.headers_mut() = headers;
    Ok(response)
}

/// Takes the final response head (at most `max_head` bytes) off the front of `buf`, skipping interim (1xx) heads and
/// counting them in `interim`: Ok(None) while the bytes are incomplete.
fn take_final_head(
    buf: &mut BytesMut,
    max_head: usize,
    interim: &mut usize,
) -> Result<Option<ResponseHead>, ExchangeError> {
    while let Some(head) = parse_response_head(buf, max_head)? {
        if !head.status.is_informational() {
            return Ok(Some(head));
        }
        if head.status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(ExchangeError::protocol("101 without an upgrade request"));
        }
        *interim += 1;
        if *interim > MAX_INTERIM {
            return Err(ExchangeError::protocol("too many interim responses"));
        }
    }
    Ok(None)
}

/// A parsed response head.
#[derive(Debug)]
pub(crate) struct ResponseHead {
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
}

/// Takes one complete response head of at most `max_head` bytes off the front of `buf`: Ok(None)
/// while it is incomplete. Header values share the head's bytes (no copy).
pub(crate) fn parse_response_head(
    buf: &mut BytesMut,
    max_head: usize,
) -> Result<Option<ResponseHead>, ExchangeError> {
    if buf.is_empty() {
        return Ok(None);
    }
    // Uninitialised slots cost nothing; a head with more lines than the stack holds is parsed
    // again on the heap.
    let mut stack = [const { MaybeUninit::uninit() }; STACK_HEADERS];
    let mut heap;
    let mut response = httparse::Response::new(&mut []);
    let config = httparse::ParserConfig::default();
    let mut parsed = config.parse_response_with_uninit_headers(&mut response, buf, &mut stack);
    if matches!(parsed, Err(httparse::Error::TooManyHeaders)) {
        heap = vec![MaybeUninit::uninit(); MAX_RESPONSE_HEADERS];
        response = httparse::Response::new(&mut []);
        parsed = config.parse_response_with_uninit_headers(&mut response, buf, &mut heap);
    }
    let length = match parsed {
        Ok(httparse::Status::Complete(length)) if length <= max_head => length,
        Ok(httparse::Status::Partial) if buf.len() < max_head => return Ok(None),
        Ok(_) => return Err(ExchangeError::protocol("response head too large")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ExchangeError::protocol("too many response headers"));
        }
        Err(_) => return Err(ExchangeError::protocol("malformed response head")),
    };
    let version = match response.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let status = response
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| ExchangeError::protocol("invalid status code"))?;
    // Names now; values as spans of the head, sliced once the head is split off `buf`.
    let base = buf.as_ptr().addr();
    let mut lines = Vec::with_capacity(response.headers.len());
    for line in response.headers.iter() {
        let name = HeaderName::from_bytes(line.name.as_bytes())
            .map_err(|_| ExchangeError::protocol("invalid header name"))?;
        // httparse's values are slices of `buf`; checked anyway rather than trusted.
        let span = match line.value.as_ptr().addr().checked_sub(base) {
            _ if line.value.is_empty() => 0..0,
            Some(start) if start + line.value.len() <= length => start..start + line.value.len(),
            _ => return Err(ExchangeError::protocol("header value outside the head")),
        };
        lines.push((name, span));
    }
    let head = buf.split_to(length).freeze();
    let mut headers = HeaderMap::with_capacity(lines.len());
    for (name, span) in lines {
        let value = HeaderValue::from_maybe_shared(head.slice(span))
            .map_err(|_| ExchangeError::protocol("invalid header value"))?;
        headers.append(name, value);
    }
    Ok(Some(ResponseHead {
        status,
        version,
        headers,
    }))
}

/// How the body after `status` is framed, and whether the connection may carry another request
/// afterwards (see the module docs). Drops a `Content-Length` that a `Transfer-Encoding` overrides.
fn response_framing(
    method: &Method,
    status: StatusCode,
    version: Version,
    headers: &mut HeaderMap,
) -> Result<(Decoder, bool), ExchangeError> {
    let mut reusable = keeps_alive(version, headers);
    if *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok((Decoder::Done, reusable));
    }
    if headers.contains_key(header::TRANSFER_ENCODING) {
        if headers.remove(header::CONTENT_LENGTH).is_some() {
            reusable = false;
        }
        let last_coding = headers
            .get_all(header::TRANSFER_ENCODING)
            .iter()
            .flat_map(|value| value.as_bytes().split(|&byte| byte == b','))
            .map(<[u8]>::trim_ascii)
            .rfind(|coding| !coding.is_empty());
        return Ok(match last_coding {
            Some(coding) if coding.eq_ignore_ascii_case(b"chunked") => {
                (Decoder::Chunked(ChunkState::Size), reusable)
            }
            _ => (Decoder::UntilClose, false),
        });
    }
    let mut length = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        for item in value.as_bytes().split(|&byte| byte == b',') {
            let parsed = parse_decimal(item.trim_ascii())
                .ok_or_else(|| ExchangeError::protocol("invalid Content-Length"))?;
            if length.is_some_and(|known| known != parsed) {
                return Err(ExchangeError::protocol("conflicting Content-Length values"));
            }
            length = Some(parsed);
        }
    }
    Ok(match length {
        Some(0) => (Decoder::Done, reusable),
        Some(length) => (Decoder::Length(length), reusable),
        None => (Decoder::UntilClose, false),
    })
}

/// Whether the upstream allows another request on the connection.
fn keeps_alive(version: Version, headers: &HeaderMap) -> bool {
    let mut close = false;
    let mut keep_alive = false;
    for value in headers.get_all(header::CONNECTION) {
        for token in value.as_bytes().split(|&byte| byte == b',') {
            let token = token.trim_ascii();
            close |= token.eq_ignore_ascii_case(b"close");
            keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    !close && (version == Version::HTTP_11 || keep_alive)
}

/// A non-empty run of ASCII digits as a number (None on overflow or any other byte).
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |number, &byte| {
        if !byte.is_ascii_digit() {
            return None;
        }
        number.checked_mul(10)?.checked_add(u64::from(byte - b'0'))
    })
}

/// Where a response body's decoding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoder {
    /// This many bytes are still to come.
    Length(u64),
    Chunked(ChunkState),
    /// The body ends when the upstream closes the connection.
    UntilClose,
    /// The body is complete.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkState {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data: this many bytes to come.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines (this many bytes seen) up to a blank line.
    Trailers(usize),
}

/// What one decoding step produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Data(Bytes),
    /// More bytes must be read first.
    NeedMore,
    Done,
}

impl Decoder {
    /// Decodes from the front of `buf`: body bytes, the end, or a need for more input.
    pub(crate) fn step(&mut self, buf: &mut BytesMut) -> Result<Step, ExchangeError> {
        loop {
            match *self {
                Decoder::Done => return Ok(Step::Done),
                Decoder::Length(remaining) => {
                    let Some((data, left)) = take_data(buf, remaining) else {
                        return Ok(Step::NeedMore);
                    };
                    *self = if left == 0 {
                        Decoder::Done
                    } else {
                        Decoder::Length(left)
                    };
                    return Ok(Step::Data(data));
                }
                Decoder::UntilClose => {
                    if buf.is_empty() {
                        return Ok(Step::NeedMore);
                    }
                    return Ok(Step::Data(buf.split().freeze()));
                }
                Decoder::Chunked(ChunkState::Size) => {
                    let end = find_crlf(buf);
                    if end.unwrap_or(buf.len()) > MAX_CHUNK_LINE {
                        return Err(ExchangeError::protocol("chunk-size line too long"));
                    }
                    let Some(end) = end else {
                        return Ok(Step::NeedMore);
                    };
                    let size = parse_chunk_size(&buf[..end])?;
                    buf.advance(end + 2);
                    *self = Decoder::Chunked(if size == 0 {
                        ChunkState::Trailers(0)
                    } else {
                        ChunkState::Data(size)
                    });
                }
                Decoder::Chunked(ChunkState::Data(remaining)) => {
                    let Some((data, left)) = take_data(buf, remaining) else {
                        return Ok(Step::NeedMore);
                    };
                    *self = Decoder::Chunked(if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    });
                    return Ok(Step::Data(data));
                }
                Decoder::Chunked(ChunkState::DataEnd) => {
                    if buf.len() < 2 {
                        return Ok(Step::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ExchangeError::protocol("chunk data not followed by CRLF"));
                    }
                    buf.advance(2);
                    *self = Decoder::Chunked(ChunkState::Size);
                }
                Decoder::Chunked(ChunkState::Trailers(seen)) => {
                    let Some(end) = find_crlf(buf) else {
                        if seen + buf.len() > MAX_TRAILER_BYTES {
                            return Err(ExchangeError::protocol("trailers too large"));
                        }
                        return Ok(Step::NeedMore);
                    };
                    if buf[..end]
                        .iter()
                        .any(|&byte| byte == b'\n' || byte == b'\r')
                    {
                        return Err(ExchangeError::protocol("bare line break in trailers"));
                    }
                    buf.advance(end + 2);
                    if end == 0 {
                        *self = Decoder::Done;
                        return Ok(Step::Done);
                    }
                    let seen = seen + end + 2;
                    if seen > MAX_TRAILER_BYTES {
                        return Err(ExchangeError::protocol("trailers too large"));
                    }
                    *self = Decoder::Chunked(ChunkState::Trailers(seen));
                }
            }
        }
    }

    /// The upstream closed the connection: the end of an until-close body, else an error.
    pub(crate) fn at_eof(&mut self) -> Result<(), ExchangeError> {
        match *self {
            Decoder::UntilClose | Decoder::Done => {
                *self = Decoder::Done;
                Ok(())
            }
            _ => Err(ExchangeError::closed()),
        }
    }
}

/// Up to `remaining` body bytes off the front of `buf` and how many remain after them; None when
/// `buf` is empty.
fn take_data(buf: &mut BytesMut, remaining: u64) -> Option<(Bytes, u64)> {
    if buf.is_empty() {
        return None;
    }
    let take = remaining.min(buf.len() as u64);
    Some((buf.split_to(take as usize).freeze(), remaining - take))
}

/// Index of the first CRLF in `buf`.
fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|pair| pair == b"\r\n")
}

/// The size of a chunk-size line: 1–16 hex digits, optional blanks, optional `;` extensions of
/// visible characters, blanks and obs-text.
fn parse_chunk_size(line: &[u8]) -> Result<u64, ExchangeError> {
    let digits = line
        .iter()
        .position(|byte| !byte.is_ascii_hexdigit())
        .unwrap_or(line.len());
    if digits == 0 || digits > 16 {
        return Err(ExchangeError::protocol("invalid chunk size"));
    }
    let rest = line[digits..].trim_ascii_start();
    if !rest.is_empty()
        && (rest[0] != b';'
            || rest
                .iter()
                .any(|&byte| (byte < 0x20 && byte != b'\t') || byte == 0x7f))
    {
        return Err(ExchangeError::protocol("invalid chunk extension"));
    }
    let size = line[..digits].iter().fold(0u64, |size, &digit| {
        let value = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => digit - b'A' + 10,
        };
        (size << 4) | u64::from(value)
    });
    Ok(size)
}

/// The whole client side of [`exchange`] after the write, without a socket: the final status and
/// the decoded body of the response in `reads` (then the connection closes). Serves the fuzz
/// target and the tests, so that they run the code the gateway runs.
pub(crate) fn decode_response(
    method: &Method,
    reads: &[&[u8]],
    max_head: usize,
) -> Result<(StatusCode, Vec<u8>), ExchangeError> {
    let mut buf = BytesMut::new();
    let mut reads = reads.iter();
    let mut interim = 0;
    let head = loop {
        if let Some(head) = take_final_head(&mut buf, max_head, &mut interim)? {
            break head;
        }
        buf.extend_from_slice(reads.next().ok_or_else(ExchangeError::closed)?);
    };
    let ResponseHead {
        status,
        version,
        mut headers,
    } = head;
    let (mut decoder, _reusable) = response_framing(method, status, version, &mut headers)?;
    let mut body = Vec::new();
    loop {
        match decoder.step(&mut buf)? {
            Step::Data(bytes) => body.extend_from_slice(&bytes),
            Step::Done => return Ok((status, body)),
            Step::NeedMore => match reads.next() {
                Some(read) => buf.extend_from_slice(read),
                None => {
                    decoder.at_eof()?;
                    return Ok((status, body));
                }
            },
        }
    }
}

/// A response body read straight from the upstream connection; the connection goes back to the
/// idle list when the body is complete.
struct ResponseBody {
    /// None once the body ended (complete or failed).
    conn: Option<Conn>,
    decoder: Decoder,
    reusable: bool,
    idle: std::sync::Arc<IdleConns>,
}

impl ResponseBody {
    fn finish(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.reusable
            && conn.buf.is_empty()
        {
            self.idle.checkin(conn);
        }
    }

    fn fail(&mut self, error: ExchangeError) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.conn = None;
        self.decoder = Decoder::Done;
        Poll::Ready(Some(Err(Box::new(error))))
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match this.decoder.step(&mut conn.buf) {
                Err(error) => return this.fail(error),
                Ok(Step::Data(bytes)) => {
                    if this.decoder == Decoder::Done {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                Ok(Step::Done) => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Ok(Step::NeedMore) => {}
            }
            conn.buf.reserve(READ_CHUNK);
            match tokio_util::io::poll_read_buf(Pin::new(&mut conn.stream), cx, &mut conn.buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return this.fail(ExchangeError::io(error)),
                Poll::Ready(Ok(0)) => {
                    return match this.decoder.at_eof() {
                        Ok(()) => {
                            this.conn = None;
                            Poll::Ready(None)
                        }
                        Err(error) => this.fail(error),
                    };
                }
                Poll::Ready(Ok(_)) => {}
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.decoder == Decoder::Done
    }

    fn size_hint(&self) -> SizeHint {
        match self.decoder {
            Decoder::Length(remaining) => SizeHint::with_exact(remaining),
            Decoder::Done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(method: &Method, response: &[u8]) -> Result<(u16, Vec<u8>), ExchangeError> {
        decode_response(method, &[response], 64 * 1024)
            .map(|(status, body)| (status.as_u16(), body))
    }

    fn get(response: &[u8]) -> Option<(u16, String)> {
        decode(&Method::GET, response)
            .ok()
            .map(|(status, body)| (status, String::from_utf8(body).unwrap()))
    }

    #[test]
    fn bodies_are_framed_as_rfc_9112_says() {
        type Case<'a> = (&'a [u8], Option<(u16, &'a str)>);
        let cases: &[Case<'_>] = &[
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", Some((200, "ok"))),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", Some((200, "ok"))),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", None),
            (b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", None),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", None),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", None),
            (b"HTTP/1.1 200 OK\r\n\r\nuntil close", Some((200, "until close"))),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nraw", Some((200, "raw"))),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                Some((200, "abc")),
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\nContent-Length: 100\r\n\r\n3;a=b;c\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: 1\r\nU: 2\r\n\r\n",
                Some((200, "abc0123456789")),
            ),
            (b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", Some((204, ""))),
            (b"HTTP/1.1 304 Not Modified\r\n\r\n", Some((304, ""))),
            (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", Some((200, "x"))),
            (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", None),
            (b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", Some((200, "x"))),
            (b"HTTP/2 200 OK\r\n\r\n", None),
            (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", None),
            (b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", None),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no", None),
        ];
        for (response, expected) in cases {
            let expected = expected.map(|(status, body)| (status, body.to_owned()));
            assert_eq!(
                get(response),
                expected,
                "{:?}",
                String::from_utf8_lossy(response)
            );
        }
        assert_eq!(
            decode(
                &Method::HEAD,
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
            )
            .unwrap(),
            (200, Vec::new()),
            "HEAD answers carry no body"
        );
    }

    #[test]
    fn chunked_framing_errors_are_refused() {
        for body in [
            &b"zz\r\nabc\r\n0\r\n\r\n"[..],
            b"3\r\nabcX\r\n0\r\n\r\n",
            b"3\nabc\r\n0\r\n\r\n",
            b"\r\nabc\r\n0\r\n\r\n",
            b"11111111111111111\r\n",
            b"3 x\r\nabc\r\n0\r\n\r\n",
            b"3;\x01\r\nabc\r\n0\r\n\r\n",
            b"0\r\nT: a\nb\r\n\r\n",
            b"3\r\nabc\r\n",
        ] {
            let mut response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            response.extend_from_slice(body);
            assert_eq!(get(&response), None, "{:?}", String::from_utf8_lossy(body));
        }
        let mut long_line = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;".to_vec();
        long_line.extend(std::iter::repeat_n(b'e', MAX_CHUNK_LINE));
        long_line.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(get(&long_line), None, "chunk lines are bounded");
        let mut trailers = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
        for _ in 0..2000 {
            trailers.extend_from_slice(b"X-T: 0123456789\r\n");
        }
        trailers.extend_from_slice(b"\r\n");
        assert_eq!(get(&trailers), None, "trailers are bounded");
    }

    #[test]
    fn limits_bound_heads_and_interim_responses() {
        let mut big = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', 2000));
        big.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        assert!(decode_response(&Method::GET, &[&big], 1024).is_err());
        assert!(decode_response(&Method::GET, &[&big], 4096).is_ok());
        let many: Vec<u8> = (0..300)
            .flat_map(|i| format!("X-{i}: v\r\n").into_bytes())
            .collect();
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        head.extend_from_slice(&many);
        head.extend_from_slice(b"\r\n");
        assert_eq!(
            get(&head),
            None,
            "more than {MAX_RESPONSE_HEADERS} header lines"
        );
        let interim = b"HTTP/1.1 103 Early Hints\r\n\r\n".repeat(MAX_INTERIM + 1);
        let mut response = interim.clone();
        response.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(get(&response), None);
        let mut response = b"HTTP/1.1 103 Early Hints\r\n\r\n".repeat(MAX_INTERIM);
        response.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(get(&response), Some((200, String::new())));
    }

    #[test]
    fn the_outcome_does_not_depend_on_read_boundaries() {
        let response: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Big: abcdefghijklmnopqrstuvwxyz\r\n\r\n5;x=y\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nT: v\r\n\r\n";
        let whole = get(response).unwrap();
        assert_eq!(whole, (200, "hello world".to_owned()));
        for first in 0..response.len() {
            for second in first..response.len() {
                let reads = [
                    &response[..first],
                    &response[first..second],
                    &response[second..],
                ];
                let split = decode_response(&Method::GET, &reads, 64 * 1024)
                    .map(|(status, body)| (status.as_u16(), String::from_utf8(body).unwrap()))
                    .ok();
                assert_eq!(split.as_ref(), Some(&whole), "split at {first}, {second}");
            }
        }
    }

    #[test]
    fn connections_are_kept_only_when_the_upstream_allows() {
        let cases: &[(Version, &[&str], bool)] = &[
            (Version::HTTP_11, &[], true),
            (Version::HTTP_11, &["Close"], false),
            (Version::HTTP_11, &["upgrade, close"], false),
            (Version::HTTP_10, &[], false),
            (Version::HTTP_10, &["Keep-Alive"], true),
        ];
        for (version, connection, expected) in cases {
            let mut headers = HeaderMap::new();
            for value in *connection {
                headers.append(header::CONNECTION, HeaderValue::from_static(value));
            }
            assert_eq!(
                keeps_alive(*version, &headers),
                *expected,
                "{version:?} {connection:?}"
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        let (decoder, reusable) =
            response_framing(&Method::GET, StatusCode::OK, Version::HTTP_11, &mut headers).unwrap();
        assert_eq!(decoder, Decoder::Chunked(ChunkState::Size));
        assert!(
            !reusable,
            "Transfer-Encoding with Content-Length is not trusted further"
        );
        assert!(!headers.contains_key(header::CONTENT_LENGTH));
    }

    #[test]
    fn requests_carry_their_length_and_no_framing_headers_of_their_own() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("app.test"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.append("x-multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        let encoded = encode_request(&Method::POST, "/p?q=1", &headers, b"body");
        assert_eq!(
            String::from_utf8(encoded).unwrap(),
            "POST /p?q=1 HTTP/1.1\r\nhost: app.test\r\nx-multi: a\r\nx-multi: b\r\ncontent-length: 4\r\n\r\nbody"
        );
        let get = encode_request(&Method::GET, "/", &HeaderMap::new(), b"");
        assert_eq!(get, b"GET / HTTP/1.1\r\n\r\n");
        let put = encode_request(&Method::PUT, "/", &HeaderMap::new(), b"");
        assert_eq!(put, b"PUT / HTTP/1.1\r\ncontent-length: 0\r\n\r\n");
    }
}
