//! The HTTP/1 connection guard: request-smuggling refusal, the header read timeout (slowloris) and the
//! keep-alive idle timeout.
//!
//! Smuggling: hyper accepts a request carrying both `Content-Length` and `Transfer-Encoding` (it drops
//! the length, as RFC 9112 allows); Palisade refuses such requests with 400 instead, because a front
//! proxy that accepts ambiguous framing is the classic smuggling vector. hyper removes one of the two
//! headers before the service sees the request, so the check must look at the raw bytes: this wrapper
//! follows the HTTP/1 framing of the bytes read from the client (heads, fixed-length and chunked bodies)
//! and raises a per-connection flag when a head carries both headers. The service answers 400 and closes.
//!
//! Timeouts: because the guard knows where heads start, it enforces both timers itself (hyper's own
//! header timer also runs while a keep-alive connection is idle, which would make the idle timeout
//! meaningless): a head must be complete `header_read_timeout` after its first byte (and the first head
//! of a connection within `header_read_timeout` of the accept); between requests, with no request in
//! flight, the connection may stay silent for `keepalive_idle_timeout`. A timer that fires makes the
//! next read fail, which closes the connection.
//!
//! Heads are held back from hyper until complete and then checked the way hyper will parse them, so
//! that malformed input gets Palisade's own answer (page + `X-Request-Id` + `Connection: close`, logged
//! with the id) instead of hyper's bare 400/431 without any header: the guard keeps the answer, hyper
//! sees the end of the input, and the answer is written when hyper shuts the connection down. A request
//! target carrying bytes that browsers and nginx accept but `http::Uri` refuses (`"<>\^`{|}`,
//! non-ASCII) is percent-encoded instead, so such requests are proxied and inspected. Body bytes are
//! passed on as they arrive. When the framing gets unparseable (bad chunk size) the guard stops
//! watching (hyper refuses such input itself); it also stops for upgrades and HTTP/2. Limits: a head is
//! buffered up to the header byte limit plus 1 KiB (more → 431), a chunk-size line up to 1 KiB.

use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Per-connection facts shared between the guard and the requests it carries.
#[derive(Debug)]
pub(crate) struct ConnActivity {
    /// Set when a head had ambiguous framing.
    pub(crate) ambiguous: AtomicBool,
    in_flight: AtomicUsize,
    last_done: Mutex<Option<Instant>>,
    /// Request targets that carried a `#fragment`, which hyper's URI parser drops: (the target as
    /// the service will see it, the target as sent), oldest first, at most [`MAX_FRAGMENT_TARGETS`].
    fragment_targets: Mutex<VecDeque<(String, String)>>,
    /// Whether `fragment_targets` holds anything, so that the common request (no fragment) never
    /// takes its lock.
    has_fragment_targets: AtomicBool,
}

/// Pipelined heads with a fragment remembered per connection.
const MAX_FRAGMENT_TARGETS: usize = 8;

impl ConnActivity {
    pub(crate) fn new() -> Self {
        ConnActivity {
            ambiguous: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            last_done: Mutex::new(None),
            fragment_targets: Mutex::new(VecDeque::new()),
            has_fragment_targets: AtomicBool::new(false),
        }
    }

    /// The request target as the client sent it, when it carried a fragment that the parsed URI
    /// (`seen`, its path and query) lost; the WAF's REQUEST_URI_RAW must show it.
    pub(crate) fn raw_target_for(&self, seen: &str) -> Option<String> {
        if !self.has_fragment_targets.load(Ordering::Acquire) {
            return None;
        }
        let mut targets = self.fragment_targets.lock().ok()?;
        let raw = targets
            .front()
            .is_some_and(|(front, _)| front == seen)
            .then(|| targets.pop_front().map(|(_, raw)| raw))
            .flatten();
        self.has_fragment_targets
            .store(!targets.is_empty(), Ordering::Release);
        raw
    }

    /// Remembers `raw` (a target with a fragment) and `uri`, what hyper will parse from it.
    fn remember_fragment_target(&self, raw: &str, uri: &http::Uri) {
        let seen = uri
            .path_and_query()
            .map_or_else(|| uri.to_string(), |pq| pq.as_str().to_owned());
        if let Ok(mut targets) = self.fragment_targets.lock() {
            if targets.len() == MAX_FRAGMENT_TARGETS {
                targets.pop_front();
            }
            targets.push_back((seen, raw.to_owned()));
            self.has_fragment_targets.store(true, Ordering::Release);
        }
    }

    /// A request started on this connection.
    pub(crate) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request's response is done (sent or abandoned).
    pub(crate) fn request_done(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut last_done) = self.last_done.lock() {
            *last_done = Some(Instant::now());
        }
    }

    fn last_done(&self) -> Option<Instant> {
        self.last_done.lock().ok().and_then(|guard| *guard)
    }
}

/// The two timers of the guard.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardTimeouts {
    pub(crate) header_read: Duration,
    pub(crate) keepalive_idle: Duration,
}

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
pub(crate) struct Http1Guard<S> {
    inner: S,
    framing: Framing,
    activity: Arc<ConnActivity>,
    max_head: usize,
    timeouts: Option<GuardTimeouts>,
    /// When the connection was accepted (first head deadline).
    accepted: Instant,
    /// Whether a complete head was seen on this connection.
    served: bool,
    /// When the current head's first byte arrived.
    head_started: Option<Instant>,
    last_read: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    /// Largest header count a head may carry (more → 431).
    max_headers: usize,
    /// Bytes read from the client and released to hyper but not yet handed over.
    pending: Vec<u8>,
    pending_pos: usize,
    /// Read buffer while the framing is watched.
    scratch: Vec<u8>,
    /// The last complete head's buffer, emptied, for the next head (one allocation per connection
    /// instead of one per request).
    spare_head: Vec<u8>,
    /// Palisade's own answer to a refused head: written before the connection shuts down; hyper sees
    /// the end of the input instead of the head.
    refusal: Option<Vec<u8>>,
    /// Writes the access log line, metrics and security event of a refused head (none in unit tests
    /// and fuzzing).
    reporter: Option<crate::proxy::RefusalReporter>,
    /// The refused head's report, made once its answer is written (or the connection gave up).
    pending_report: Option<PendingReport>,
}

/// What is known about a refused head until its answer has been written.
struct PendingReport {
    request_id: String,
    status: http::StatusCode,
    head: Vec<u8>,
    reason: &'static str,
    started: Instant,
    answer_len: u64,
}

impl<S> Http1Guard<S> {
    pub(crate) fn new(
        inner: S,
        activity: Arc<ConnActivity>,
        max_head: usize,
        max_headers: usize,
        timeouts: Option<GuardTimeouts>,
    ) -> Self {
        let now = Instant::now();
        Http1Guard {
            inner,
            framing: Framing::Head(Vec::new()),
            activity,
            max_head: max_head.saturating_add(1024),
            timeouts,
            accepted: now,
            served: false,
            head_started: None,
            last_read: now,
            timer: None,
            max_headers: max_headers.clamp(1, MAX_HEADERS),
            pending: Vec::new(),
            pending_pos: 0,
            scratch: Vec::new(),
            spare_head: Vec::new(),
            refusal: None,
            reporter: None,
            pending_report: None,
        }
    }

    /// Reports refused heads through `reporter` (access log, metrics, security event).
    pub(crate) fn with_reporter(mut self, reporter: crate::proxy::RefusalReporter) -> Self {
        self.reporter = Some(reporter);
        self
    }

    /// Makes the report of a refused head, once.
    fn report_refusal(&mut self, written: bool) {
        let Some(report) = self.pending_report.take() else {
            return;
        };
        if let Some(reporter) = &self.reporter {
            let bytes_sent = if written { report.answer_len } else { 0 };
            reporter.report(
                &report.request_id,
                report.status,
                &report.head,
                report.reason,
                report.started.into_std(),
                bytes_sent,
            );
        }
    }

    /// The instant the connection times out given what it is doing now, if any.
    fn deadline(&self) -> Option<Instant> {
        let timeouts = self.timeouts?;
        match &self.framing {
            Framing::Head(head) if !head.is_empty() => {
                Some(self.head_started.unwrap_or(self.last_read) + timeouts.header_read)
            }
            Framing::Head(_) if !self.served => Some(self.accepted + timeouts.header_read),
            Framing::Head(_) => {
                // With a request in flight this is only a re-check point (see `timed_out`).
                let since = self
                    .activity
                    .last_done()
                    .map_or(self.last_read, |done| done.max(self.last_read));
                Some(since + timeouts.keepalive_idle)
            }
            _ => None,
        }
    }

    /// Polls the timer for the current deadline; true when it has passed.
    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.deadline() else {
            self.timer = None;
            return false;
        };
        let timer = match &mut self.timer {
            Some(timer) => {
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                timer
            }
            None => self
                .timer
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        if timer.as_mut().poll(cx).is_pending() {
            return false;
        }
        let idle_wait =
            matches!(&self.framing, Framing::Head(head) if head.is_empty()) && self.served;
        if idle_wait && self.activity.in_flight.load(Ordering::Relaxed) > 0 {
            // Not idle: a response is still being produced. Check again one idle period later.
            if let Some(timeouts) = self.timeouts {
                timer
                    .as_mut()
                    .reset(Instant::now() + timeouts.keepalive_idle);
                let _ = timer.as_mut().poll(cx);
            }
            return false;
        }
        true
    }

    /// Consumes the guard (fuzzing): the bytes released to hyper and the status of a refusal.
    pub(crate) fn into_outcome(mut self) -> (Vec<u8>, Option<u16>) {
        let pending = std::mem::take(&mut self.pending);
        let refused = self
            .pending_report
            .as_ref()
            .map(|report| report.status.as_u16());
        (pending, refused)
    }

    /// Follows the framing of `bytes` (just read from the client): body bytes go to `pending` at once,
    /// head bytes are held until the head is complete and then checked (see [`Self::check_head`]).
    pub(crate) fn observe(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.refusal.is_some() {
                return;
            }
            match &mut self.framing {
                Framing::Off => {
                    self.pending.extend_from_slice(bytes);
                    return;
                }
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
                        self.head_started = Some(Instant::now());
                    }
                    let before = head.len();
                    let room = self.max_head.saturating_sub(before);
                    let take = bytes.len().min(room.max(1));
                    head.extend_from_slice(&bytes[..take]);
                    if head.starts_with(b"PRI * HTTP/2") {
                        // HTTP/2 prior knowledge: hyper takes it from here.
                        let head = std::mem::take(head);
                        self.pending.extend_from_slice(&head);
                        self.framing = Framing::Off;
                        bytes = &bytes[take..];
                    } else if let Some(end) = head_end(head, before) {
                        let consumed = end - before;
                        let mut head = std::mem::take(head);
                        head.truncate(end);
                        self.served = true;
                        self.head_started = None;
                        bytes = &bytes[consumed..];
                        match self.check_head(&head) {
                            Ok((framing, rewritten)) => {
                                self.pending
                                    .extend_from_slice(rewritten.as_deref().unwrap_or(&head));
                                self.framing = framing;
                                head.clear();
                                self.spare_head = head;
                                self.reuse_head_buffer();
                            }
                            Err((status, reason)) => self.refuse(status, reason, head),
                        }
                    } else if head.len() >= self.max_head {
                        let head = std::mem::take(head);
                        self.refuse(
                            http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                            "request head too large",
                            head,
                        );
                    } else {
                        bytes = &bytes[take..];
                    }
                }
                Framing::Fixed(left) => {
                    let take = (*left).min(bytes.len() as u64);
                    *left -= take;
                    self.pending.extend_from_slice(&bytes[..take as usize]);
                    bytes = &bytes[take as usize..];
                    if *left == 0 {
                        self.framing = Framing::Head(Vec::new());
                        self.reuse_head_buffer();
                    }
                }
                Framing::ChunkSize(line) => {
                    let newline = bytes.iter().position(|&b| b == b'\n');
                    let take = newline.map_or(bytes.len(), |p| p + 1);
                    // Only the start of the line is kept (the size comes first; extensions may be
                    // long), so the outcome does not depend on how the line was split into reads.
                    let room = (MAX_CHUNK_LINE + 1).saturating_sub(line.len());
                    line.extend_from_slice(&bytes[..take.min(room)]);
                    self.pending.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if newline.is_some() {
                        self.framing = match chunk_size(line) {
                            Some(0) => Framing::Trailers(0),
                            Some(size) => Framing::ChunkData(size),
                            None => Framing::Off,
                        };
                    }
                }
                Framing::ChunkData(left) => {
                    let take = (*left).min(bytes.len() as u64);
                    *left -= take;
                    self.pending.extend_from_slice(&bytes[..take as usize]);
                    bytes = &bytes[take as usize..];
                    if *left == 0 {
                        self.framing = Framing::ChunkEnd(2);
                    }
                }
                Framing::ChunkEnd(left) => {
                    let take = usize::from(*left).min(bytes.len());
                    *left -= take as u8;
                    self.pending.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if *left == 0 {
                        self.framing = Framing::ChunkSize(Vec::new());
                    }
                }
                Framing::Trailers(line_len) => {
                    let byte = bytes[0];
                    self.pending.push(byte);
                    bytes = &bytes[1..];
                    match byte {
                        b'\n' if *line_len == 0 => {
                            self.framing = Framing::Head(Vec::new());
                            self.reuse_head_buffer();
                        }
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

    /// Refuses a head with Palisade's own page (with a request id) instead of hyper's bare answer.
    /// The access log line, metrics and security event follow once the answer is written.
    fn refuse(&mut self, status: http::StatusCode, reason: &'static str, mut head: Vec<u8>) {
        let request_id = crate::proxy::new_request_id();
        let line_end = head
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(head.len())
            .min(256);
        tracing::info!(
            request.id = %request_id,
            http.response.status_code = status.as_u16(),
            request_line = %String::from_utf8_lossy(head[..line_end].trim_ascii_end()),
            reason,
            "malformed request head refused"
        );
        let answer = crate::pages::raw_http1_page(status, &request_id);
        // Only the request line is needed for the report.
        head.truncate(line_end);
        self.pending_report = Some(PendingReport {
            request_id,
            status,
            head,
            reason,
            started: self.head_started.unwrap_or(self.last_read),
            answer_len: answer.len() as u64,
        });
        self.refusal = Some(answer);
        self.framing = Framing::Off;
    }

    /// Checks a complete head the way hyper will parse it. Ok: the framing that follows and, when the
    /// request target carried bytes hyper's URI parser refuses but browsers and nginx accept
    /// (`"<>\^`{|}` and non-ASCII), the head with those bytes percent-encoded. Err: the status to
    /// refuse it with.
    /// Gives a head that starts being read the buffer of the previous one.
    fn reuse_head_buffer(&mut self) {
        if let Framing::Head(head) = &mut self.framing
            && head.capacity() == 0
        {
            *head = std::mem::take(&mut self.spare_head);
        }
    }

    fn check_head(&self, head: &[u8]) -> Result<(Framing, Option<Vec<u8>>), Refusal> {
        let rewritten = encode_target(head);
        let checked = rewritten.as_deref().unwrap_or(head);
        // Most heads fit the (uninitialised, so free) array on the stack; only a head with more
        // lines than it, under a configured limit above it, is parsed again on the heap.
        let mut stack_headers = [const { MaybeUninit::uninit() }; STACK_HEADERS];
        let mut heap_headers;
        let mut request = httparse::Request::new(&mut []);
        let mut parsed = request.parse_with_uninit_headers(
            checked,
            &mut stack_headers[..self.max_headers.min(STACK_HEADERS)],
        );
        if matches!(parsed, Err(httparse::Error::TooManyHeaders))
            && self.max_headers > STACK_HEADERS
        {
            heap_headers = vec![MaybeUninit::uninit(); self.max_headers];
            request = httparse::Request::new(&mut []);
            parsed = request.parse_with_uninit_headers(checked, &mut heap_headers);
        }
        match parsed {
            Ok(httparse::Status::Complete(_)) => {}
            Err(httparse::Error::TooManyHeaders) => {
                return Err((
                    http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "too many headers",
                ));
            }
            Err(httparse::Error::Version) if is_later_http_version(checked) => {
                return Err((
                    http::StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                    "unsupported HTTP version",
                ));
            }
            Err(httparse::Error::Version) => {
                return Err((http::StatusCode::BAD_REQUEST, "invalid HTTP version"));
            }
            Err(httparse::Error::Token | httparse::Error::Status | httparse::Error::NewLine) => {
                return Err((http::StatusCode::BAD_REQUEST, "invalid request line"));
            }
            Err(_) => return Err((http::StatusCode::BAD_REQUEST, "invalid header")),
            Ok(httparse::Status::Partial) => {
                return Err((http::StatusCode::BAD_REQUEST, "incomplete request head"));
            }
        }
        let path = request.path.unwrap_or_default();
        // The common origin-form target is checked without building a `Uri` (an allocation).
        if !is_plain_origin_form(path) {
            let uri = http::Uri::try_from(path).ok();
            if uri.is_none() && !(path == "*" && request.method == Some("OPTIONS")) {
                return Err((http::StatusCode::BAD_REQUEST, "invalid request target"));
            }
            if let Some(uri) = uri.filter(|_| path.contains('#')) {
                self.activity.remember_fragment_target(path, &uri);
            }
        }
        Ok((self.framing_after(&request)?, rewritten))
    }

    /// The framing after a parsed head; Err for a `Content-Length` hyper would refuse.
    fn framing_after(&self, request: &httparse::Request<'_, '_>) -> Result<Framing, Refusal> {
        if request.method == Some("CONNECT") {
            return Ok(Framing::Off);
        }
        let mut length = None;
        let mut chunked = false;
        let mut upgrade = false;
        for header in request.headers.iter() {
            if header.name.eq_ignore_ascii_case("content-length") {
                let value = header.value.trim_ascii();
                let parsed = if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
                    std::str::from_utf8(value)
                        .ok()
                        .and_then(|v| v.parse::<u64>().ok())
                } else {
                    None
                };
                if parsed.is_none() {
                    return Err((http::StatusCode::BAD_REQUEST, "invalid Content-Length"));
                }
                if length.is_some() && length != parsed {
                    return Err((http::StatusCode::BAD_REQUEST, "conflicting Content-Length"));
                }
                length = parsed;
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                // hyper refuses a request whose last transfer coding is not chunked.
                let last = header
                    .value
                    .rsplit(|&b| b == b',')
                    .next()
                    .unwrap_or_default();
                // So is any Transfer-Encoding on HTTP/1.0.
                if request.version == Some(0) || !last.trim_ascii().eq_ignore_ascii_case(b"chunked")
                {
                    return Err((
                        http::StatusCode::BAD_REQUEST,
                        "unsupported Transfer-Encoding",
                    ));
                }
                chunked = true;
            } else if header.name.eq_ignore_ascii_case("upgrade") {
                upgrade = true;
            }
        }
        if chunked && length.is_some() {
            self.activity.ambiguous.store(true, Ordering::Relaxed);
            return Ok(Framing::Off);
        }
        if upgrade {
            return Ok(Framing::Off);
        }
        Ok(match (chunked, length) {
            (true, _) => Framing::ChunkSize(Vec::new()),
            (false, Some(0) | None) => Framing::Head(Vec::new()),
            (false, Some(length)) => Framing::Fixed(length),
        })
    }
}

/// Whether the request line ends in a well-formed HTTP version with a major version above 1
/// (`HTTP/2`, `HTTP/4.0`): such a request is understood but not served over HTTP/1 (505, as nginx
/// answers), unlike a malformed version (400).
fn is_later_http_version(head: &[u8]) -> bool {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&head[..line_end]);
    let Some(version) = line.rsplit(|&b| b == b' ').next() else {
        return false;
    };
    match version.strip_prefix(b"HTTP/") {
        Some([major]) => (b'2'..=b'9').contains(major),
        Some([major, b'.', minor]) => (b'2'..=b'9').contains(major) && minor.is_ascii_digit(),
        _ => false,
    }
}

/// Why a head is refused: the status and a short reason for the log and the security event.
type Refusal = (http::StatusCode, &'static str);

/// The head with the request target's bytes that hyper's URI parser refuses percent-encoded, or None
/// when the target needs no change (or the request line is not `METHOD SP target SP version`).
fn encode_target(head: &[u8]) -> Option<Vec<u8>> {
    let line_end = head.iter().position(|&b| b == b'\n')?;
    let line = head[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&head[..line_end]);
    let target_start = line.iter().position(|&b| b == b' ')? + 1;
    let target_end = line.iter().rposition(|&b| b == b' ')?;
    if target_end <= target_start {
        return None;
    }
    let target = &line[target_start..target_end];
    if !target.iter().any(|&b| needs_encoding(b)) {
        return None;
    }
    let mut out = Vec::with_capacity(head.len() + 32);
    out.extend_from_slice(&head[..target_start]);
    for &byte in target {
        if needs_encoding(byte) {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.extend_from_slice(&[
                b'%',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ]);
        } else {
            out.push(byte);
        }
    }
    out.extend_from_slice(&head[target_start + target.len()..]);
    Some(out)
}

/// Bytes accepted in a request target by nginx and browsers that `http::Uri` refuses.
fn needs_encoding(byte: u8) -> bool {
    matches!(
        byte,
        b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
    ) || byte >= 0x80
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

/// The size of a chunk-size line (`line` is the whole line with its LF, or its first
/// `MAX_CHUNK_LINE + 1` bytes when longer, which then must reach into the extensions).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let line = match line.strip_suffix(b"\n") {
        Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
        None if line.contains(&b';') => line,
        None => return None,
    };
    let size = line.split(|&b| b == b';').next()?;
    let size = std::str::from_utf8(size)
        .ok()?
        .trim_end_matches([' ', '\t']);
    if size.is_empty() || size.len() > 16 {
        return None;
    }
    u64::from_str_radix(size, 16).ok()
}

/// Read buffer size while the framing is watched.
const SCRATCH_SIZE: usize = 16 * 1024;

/// Header slots [`Http1Guard::check_head`] keeps on the stack.
const STACK_HEADERS: usize = 32;

/// Whether a request target is an origin-form path (and query) made only of RFC 3986 characters,
/// which `http::Uri` accepts as it is: `/`, then unreserved, sub-delims, `:`, `@`, `/`, `?`, `%`.
/// A `#`, a space or any other byte sends the target through the full `Uri` parser.
fn is_plain_origin_form(target: &str) -> bool {
    target.starts_with('/')
        && target.len() < usize::from(u16::MAX - 1)
        && target.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b':'
                        | b'@'
                        | b'/'
                        | b'?'
                        | b'%'
                )
        })
}

impl<S: AsyncRead + Unpin> AsyncRead for Http1Guard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pending_pos < this.pending.len() {
                let available = &this.pending[this.pending_pos..];
                let take = available.len().min(buf.remaining());
                buf.put_slice(&available[..take]);
                this.pending_pos += take;
                if this.pending_pos == this.pending.len() {
                    this.pending.clear();
                    this.pending_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.refusal.is_some() {
                // hyper sees the end of the input; the refusal is written on shutdown.
                return Poll::Ready(Ok(()));
            }
            if matches!(this.framing, Framing::Off) {
                let before = buf.filled().len();
                let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
                if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
                    this.last_read = Instant::now();
                }
                return polled;
            }
            let mut scratch = std::mem::take(&mut this.scratch);
            if scratch.len() < SCRATCH_SIZE {
                scratch.resize(SCRATCH_SIZE, 0);
            }
            let mut read = ReadBuf::new(&mut scratch);
            let polled = Pin::new(&mut this.inner).poll_read(cx, &mut read);
            let filled = read.filled().len();
            let outcome = match polled {
                Poll::Ready(Ok(())) if filled == 0 => Some(Poll::Ready(Ok(()))),
                Poll::Ready(Ok(())) => {
                    this.last_read = Instant::now();
                    this.observe(&scratch[..filled]);
                    None
                }
                Poll::Ready(Err(error)) => Some(Poll::Ready(Err(error))),
                Poll::Pending if this.timed_out(cx) => Some(Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "client too slow (header read or keep-alive idle timeout)",
                )))),
                Poll::Pending => Some(Poll::Pending),
            };
            this.scratch = scratch;
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }
}

impl<S> Drop for Http1Guard<S> {
    fn drop(&mut self) {
        // A refused head whose answer was never written still gets its report.
        self.report_refusal(false);
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Http1Guard<S> {
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
        let this = self.get_mut();
        // A refused head's answer goes out first.
        while let Some(refusal) = this.refusal.as_mut() {
            if refusal.is_empty() {
                match Pin::new(&mut this.inner).poll_flush(cx) {
                    Poll::Ready(_) => {
                        this.refusal = None;
                        this.report_refusal(true);
                    }
                    Poll::Pending => return Poll::Pending,
                }
                break;
            }
            match Pin::new(&mut this.inner).poll_write(cx, refusal) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                    this.refusal = None;
                    this.report_refusal(false);
                }
                Poll::Ready(Ok(written)) => {
                    refusal.drain(..written);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
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
        let activity = Arc::new(ConnActivity::new());
        let mut guard = Http1Guard::new((), activity.clone(), 8192, 100, None);
        for chunk in chunks {
            guard.observe(chunk);
        }
        activity.ambiguous.load(Ordering::Relaxed)
    }

    #[test]
    fn targets_passed_without_a_uri_are_ones_uri_accepts() {
        for byte in 0..=255u8 {
            let target = format!("/a{0}b?c{0}d", char::from(byte));
            if is_plain_origin_form(&target) {
                assert!(
                    http::Uri::try_from(target.as_str()).is_ok(),
                    "{target:?} skipped the Uri check but Uri refuses it"
                );
            }
        }
        assert!(is_plain_origin_form("/search?q=1%27+or+1=1&x=@:"));
        assert!(!is_plain_origin_form("/page#top"));
        assert!(!is_plain_origin_form("*"));
        assert!(!is_plain_origin_form("http://example.com/"));
    }

    #[test]
    fn header_counts_around_the_stack_array_are_limited_exactly() {
        fn refused(max_headers: usize, count: usize) -> bool {
            let activity = Arc::new(ConnActivity::new());
            let mut guard = Http1Guard::new((), activity, 65536, max_headers, None);
            let mut head = String::from("GET / HTTP/1.1\r\n");
            for index in 0..count {
                head.push_str(&format!("X-H{index}: v\r\n"));
            }
            head.push_str("\r\n");
            guard.observe(head.as_bytes());
            guard.refusal.is_some()
        }
        for max in [10, STACK_HEADERS, STACK_HEADERS + 1, 100, 150] {
            assert!(!refused(max, max), "{max} headers with a limit of {max}");
            assert!(
                refused(max, max + 1),
                "{} headers with a limit of {max}",
                max + 1
            );
        }
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

    #[test]
    fn later_http_versions_are_told_from_malformed_ones() {
        for later in ["HTTP/2", "HTTP/4.0", "HTTP/3.1"] {
            let head = format!("GET / {later}\r\nHost: a\r\n\r\n");
            assert!(is_later_http_version(head.as_bytes()), "{later}");
        }
        for malformed in ["HTTP/0.9", "1.1", "TEST", "HTTP/4.0x", "HTTP/", "HTTP/a.b"] {
            let head = format!("GET / {malformed}\r\nHost: a\r\n\r\n");
            assert!(!is_later_http_version(head.as_bytes()), "{malformed}");
        }
    }
}
