//! Body plumbing: one boxed body type, a request body that enforces `max_body` while streaming (after an
//! optional buffered prefix), and buffering of a bounded prefix for inspection.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};

/// Boxed error of bodies.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body type of everything the gateway sends (to upstreams and to clients).
pub(crate) type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

pub(crate) fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub(crate) fn empty() -> ProxyBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// The request body exceeded `max_body`.
#[derive(Debug)]
pub(crate) struct BodyTooLarge;

impl std::fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body exceeds the configured maximum")
    }
}

impl std::error::Error for BodyTooLarge {}

/// How a streamed body ended, for choosing the client's status when forwarding failed.
#[derive(Debug, Default)]
pub(crate) struct BodyOutcome {
    too_large: AtomicBool,
    read_failed: AtomicBool,
}

impl BodyOutcome {
    /// The body went above `max_body` (answer 413).
    pub(crate) fn too_large(&self) -> bool {
        self.too_large.load(Ordering::Relaxed)
    }

    /// The body could not be read (malformed chunking, client gone: answer 400).
    pub(crate) fn read_failed(&self) -> bool {
        self.read_failed.load(Ordering::Relaxed)
    }
}

/// A body that yields an already-read prefix, then the rest of `inner`, failing once more than `max`
/// bytes went through. `outcome` records why it failed, so the caller can answer 413 or 400.
pub(crate) struct LimitedBody<B> {
    prefix: Option<Bytes>,
    inner: Option<B>,
    seen: u64,
    max: u64,
    outcome: Arc<BodyOutcome>,
}

impl<B> LimitedBody<B> {
    pub(crate) fn new(
        prefix: Bytes,
        inner: Option<B>,
        max: u64,
        outcome: Arc<BodyOutcome>,
    ) -> Self {
        let seen = prefix.len() as u64;
        let prefix = if prefix.is_empty() {
            None
        } else {
            Some(prefix)
        };
        LimitedBody {
            prefix,
            inner,
            seen,
            max,
            outcome,
        }
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Some(prefix) = this.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.seen = this.seen.saturating_add(data.len() as u64);
                    if this.seen > this.max {
                        this.outcome.too_large.store(true, Ordering::Relaxed);
                        this.inner = None;
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.outcome.read_failed.store(true, Ordering::Relaxed);
                this.inner = None;
                Poll::Ready(Some(Err(error.into())))
            }
            Poll::Ready(None) => {
                this.inner = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none()
            && self
                .inner
                .as_ref()
                .is_none_or(|inner| inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let prefix = self.prefix.as_ref().map_or(0, |p| p.len() as u64);
        match &self.inner {
            None => SizeHint::with_exact(prefix),
            Some(inner) => {
                let hint = inner.size_hint();
                let mut out = SizeHint::new();
                out.set_lower(hint.lower().saturating_add(prefix));
                if let Some(upper) = hint.upper() {
                    out.set_upper(upper.saturating_add(prefix));
                }
                out
            }
        }
    }
}

/// Result of reading a bounded prefix of a body.
pub(crate) struct Prefix {
    pub(crate) bytes: Bytes,
    /// True when the whole body was read.
    pub(crate) complete: bool,
}

impl Prefix {
    /// The prefix as the inspection phases see it; `declared` is the body's length when known
    /// from its headers (used when the prefix is not the whole body).
    pub(crate) fn view(&self, declared: Option<u64>) -> palisade_core::BodyView<'_> {
        palisade_core::BodyView {
            bytes: &self.bytes,
            total_len: if self.complete {
                Some(self.bytes.len() as u64)
            } else {
                declared
            },
            truncated: !self.complete,
        }
    }
}

/// Why buffering stopped early.
#[derive(Debug)]
pub(crate) enum BufferError {
    TooLarge,
    Read(BoxError),
}

/// Reads data frames until at least `limit` bytes are buffered or the body ends. Fails when more than
/// `max` bytes arrive. Trailers are dropped.
pub(crate) async fn read_prefix<B>(
    body: &mut B,
    limit: usize,
    max: u64,
) -> Result<Prefix, BufferError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    let mut buffer = BytesMut::new();
    let mut first: Option<Bytes> = None;
    loop {
        let total = first.as_ref().map_or(0, Bytes::len) + buffer.len();
        if total >= limit {
            let bytes = merge(first, buffer);
            return Ok(Prefix {
                bytes,
                complete: body.is_end_stream(),
            });
        }
        match body.frame().await {
            None => {
                return Ok(Prefix {
                    bytes: merge(first, buffer),
                    complete: true,
                });
            }
            Some(Err(error)) => return Err(BufferError::Read(error.into())),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if (total + data.len()) as u64 > max {
                    return Err(BufferError::TooLarge);
                }
                // Avoid a copy for the common single-chunk body.
                match first.take() {
                    None if buffer.is_empty() => first = Some(data),
                    None => buffer.extend_from_slice(&data),
                    Some(previous) => {
                        buffer.extend_from_slice(&previous);
                        buffer.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

fn merge(first: Option<Bytes>, buffer: BytesMut) -> Bytes {
    match first {
        Some(bytes) => bytes,
        None => buffer.freeze(),
    }
}

/// Called once when a response body is finished or dropped, with the bytes sent.
pub(crate) trait OnComplete: Send + 'static {
    fn complete(self: Box<Self>, bytes_sent: u64);
}

/// A response body that counts the bytes sent and reports completion exactly once (on end or drop).
pub(crate) struct ReportingBody {
    inner: ProxyBody,
    sent: u64,
    on_complete: Option<Box<dyn OnComplete>>,
}

impl ReportingBody {
    pub(crate) fn new(inner: ProxyBody, on_complete: Box<dyn OnComplete>) -> Self {
        ReportingBody {
            inner,
            sent: 0,
            on_complete: Some(on_complete),
        }
    }
}

impl Body for ReportingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.sent = this.sent.saturating_add(data.len() as u64);
                }
            }
            Poll::Ready(None) => {
                if let Some(done) = this.on_complete.take() {
                    done.complete(this.sent);
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ReportingBody {
    fn drop(&mut self) {
        if let Some(done) = self.on_complete.take() {
            done.complete(self.sent);
        }
    }
}
