//! A guard against request smuggling on HTTP/1 connections.
//!
//! hyper accepts a request carrying both `Content-Length` and `Transfer-Encoding` (it drops the length,
//! as RFC 9112 allows); Palisade refuses such requests with 400 instead, because a front proxy that
//! accepts ambiguous framing is the classic smuggling vector. hyper removes one of the two headers
//! before the service sees the request, so the check must look at the raw bytes: this wrapper follows
//! the HTTP/1 framing of the bytes read from the client (heads, fixed-length and chunked bodies) and
//! raises a per-connection flag when a head carries both headers. The service answers 400 and closes.
//!
//! It only observes; when the framing gets unparseable it stops (hyper refuses such input itself).
//! Limits: a head is buffered up to the header byte limit plus 1 KiB, a chunk-size line up to 1 KiB.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const MAX_CHUNK_LINE: usize = 1024;
const MAX_HEADERS: usize = 512;

enum Framing {
    /// Reading a request head (bytes so far).
    Head(Vec<u8>),
    /// Inside a body with this many bytes left.
    Fixed(u64),
    /// Reading a chunk-size line.
    ChunkSize(Vec<u8>),
    /// Inside chunk data with this many bytes left, then CRLF.
    ChunkData(u64),
    /// The CRLF after chunk data (bytes left).
    ChunkEnd(u8),
    /// Trailer section; the number of bytes on the current line (CR excluded).
    Trailers(usize),
    /// Not watching any more (HTTP/2, upgrade, unparseable input).
    Off,
}

/// The IO wrapper; see the module docs.
pub(crate) struct SmugglingGuard<S> {
    inner: S,
    framing: Framing,
    flag: Arc<AtomicBool>,
    max_head: usize,
}

impl<S> SmugglingGuard<S> {
    pub(crate) fn new(inner: S, flag: Arc<AtomicBool>, max_head: usize) -> Self {
        SmugglingGuard {
            inner,
            framing: Framing::Head(Vec::new()),
            flag,
            max_head: max_head.saturating_add(1024),
        }
    }

    fn observe(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match &mut self.framing {
                Framing::Off => return,
                Framing::Head(head) => {
                    if head.is_empty() {
                        // Empty lines before a request line are allowed (RFC 9112 §2.2).
                        let skip = bytes
                            .iter()
                            .take_while(|&&b| b == b'\r' || b == b'\n')
                            .count();
                        bytes = &bytes[skip..];
                        if bytes.is_empty() {
                            return;
                        }
                    }
                    let before = head.len();
                    let room = self.max_head.saturating_sub(before);
                    let take = bytes.len().min(room.max(1));
                    head.extend_from_slice(&bytes[..take]);
                    if let Some(end) = head_end(head, before) {
                        let consumed = end - before;
                        let head = std::mem::take(head);
                        self.framing = self.after_head(&head[..end]);
                        bytes = &bytes[consumed..];
                    } else {
                        if head.len() >= self.max_head || head.starts_with(b"PRI * HTTP/2") {
                            self.framing = Framing::Off;
                        }
                        bytes = &bytes[take..];
                    }
                }
                Framing::Fixed(left) => {
                    let take = (*left).min(bytes.len() as u64);
                    *left -= take;
                    bytes = &bytes[take as usize..];
                    if *left == 0 {
                        self.framing = Framing::Head(Vec::new());
                    }
                }
                Framing::ChunkSize(line) => {
                    let newline = bytes.iter().position(|&b| b == b'\n');
                    let take = newline.map_or(bytes.len(), |p| p + 1);
                    line.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if newline.is_some() {
                        self.framing = match chunk_size(line) {
                            Some(0) => Framing::Trailers(0),
                            Some(size) => Framing::ChunkData(size),
                            None => Framing::Off,
                        };
                    } else if line.len() > MAX_CHUNK_LINE {
                        self.framing = Framing::Off;
                    }
                }
                Framing::ChunkData(left) => {
                    let take = (*left).min(bytes.len() as u64);
                    *left -= take;
                    bytes = &bytes[take as usize..];
                    if *left == 0 {
                        self.framing = Framing::ChunkEnd(2);
                    }
                }
                Framing::ChunkEnd(left) => {
                    let take = usize::from(*left).min(bytes.len());
                    *left -= take as u8;
                    bytes = &bytes[take..];
                    if *left == 0 {
                        self.framing = Framing::ChunkSize(Vec::new());
                    }
                }
                Framing::Trailers(line_len) => {
                    let byte = bytes[0];
                    bytes = &bytes[1..];
                    match byte {
                        b'\n' if *line_len == 0 => self.framing = Framing::Head(Vec::new()),
                        b'\n' => *line_len = 0,
                        b'\r' => {}
                        _ => {
                            *line_len += 1;
                            if *line_len > MAX_CHUNK_LINE * 8 {
                                self.framing = Framing::Off;
                            }
                        }
                    }
                }
            }
        }
    }

    fn after_head(&self, head: &[u8]) -> Framing {
        let mut headers = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return Framing::Off,
        }
        if request.method == Some("CONNECT") {
            return Framing::Off;
        }
        let mut length = None;
        let mut chunked = false;
        let mut upgrade = false;
        for header in request.headers.iter() {
            if header.name.eq_ignore_ascii_case("content-length") {
                let parsed = std::str::from_utf8(header.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok());
                if parsed.is_none() {
                    return Framing::Off;
                }
                length = parsed;
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = true;
            } else if header.name.eq_ignore_ascii_case("upgrade") {
                upgrade = true;
            }
        }
        if chunked && length.is_some() {
            self.flag.store(true, Ordering::Relaxed);
            return Framing::Off;
        }
        if upgrade {
            return Framing::Off;
        }
        match (chunked, length) {
            (true, _) => Framing::ChunkSize(Vec::new()),
            (false, Some(0) | None) => Framing::Head(Vec::new()),
            (false, Some(length)) => Framing::Fixed(length),
        }
    }
}

/// The end (exclusive) of a head in `head`, searching only near the newly added bytes.
fn head_end(head: &[u8], previous_len: usize) -> Option<usize> {
    let from = previous_len.saturating_sub(3);
    let window = &head[from..];
    let mut index = 0;
    while index < window.len() {
        if window[index] == b'\n' {
            let rest = &window[index + 1..];
            if rest.first() == Some(&b'\n') {
                return Some(from + index + 2);
            }
            if rest.starts_with(b"\r\n") {
                return Some(from + index + 3);
            }
        }
        index += 1;
    }
    None
}

fn chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let size = line.split(|&b| b == b';').next()?;
    let size = std::str::from_utf8(size)
        .ok()?
        .trim_end_matches([' ', '\t']);
    if size.is_empty() || size.len() > 16 {
        return None;
    }
    u64::from_str_radix(size, 16).ok()
}

impl<S: AsyncRead + Unpin> AsyncRead for SmugglingGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled
            && !matches!(this.framing, Framing::Off)
        {
            let filled = buf.filled();
            if filled.len() > before {
                let new_bytes = filled[before..].to_vec();
                this.observe(&new_bytes);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for SmugglingGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(chunks: &[&[u8]]) -> bool {
        let flag = Arc::new(AtomicBool::new(false));
        let mut guard = SmugglingGuard::new((), flag.clone(), 8192);
        for chunk in chunks {
            guard.observe(chunk);
        }
        flag.load(Ordering::Relaxed)
    }

    #[test]
    fn both_framing_headers_are_flagged_even_on_a_later_request() {
        assert!(flagged(&[b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"]));
        let keep_alive: &[&[u8]] = &[
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            b"cde\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Le",
            b"ngth: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        ];
        assert!(flagged(keep_alive));
    }

    #[test]
    fn body_bytes_that_look_like_heads_are_not_flagged() {
        let body = b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        let head = format!(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        assert!(!flagged(&[
            head.as_bytes(),
            body,
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        ]));
    }
}
