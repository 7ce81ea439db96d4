//! The inspection pipeline: phases, hooks and verdicts.

use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode, Version};

/// The phases of a request, in the order the gateway runs them.
/// The numbering matches ModSecurity's phases 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Request line and headers are known; the body is not read yet.
    RequestHeaders = 1,
    /// The request body (up to the inspection limit) is available.
    RequestBody = 2,
    /// Upstream response status and headers are known.
    ResponseHeaders = 3,
    /// The response body (up to the inspection limit) is available.
    ResponseBody = 4,
    /// The exchange is over; nothing can change any more.
    Logging = 5,
}

/// What a route does with disruptive verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Disruptive verdicts are enforced.
    #[default]
    Block,
    /// Disruptive verdicts are logged as "would have been blocked", never enforced.
    Detect,
}

/// The decision of one hook.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Verdict {
    /// Nothing to say; continue with the next inspector / phase.
    #[default]
    Allow,
    /// Refuse the request (or the response) with `status`.
    Block {
        /// HTTP status sent to the client.
        status: StatusCode,
        /// Short human reason, safe to log (never shown verbatim to the client).
        reason: String,
        /// Rule or detector ids that caused the decision.
        rule_ids: Vec<String>,
    },
    /// Answer with a redirect instead of forwarding.
    Redirect {
        /// 3xx status.
        status: StatusCode,
        /// Target location.
        location: String,
    },
    /// Not disruptive: attach facts (matched rules, scores) to the exchange's log.
    Annotate(Vec<(String, String)>),
}

impl Verdict {
    /// True for verdicts that stop the request (block, redirect).
    pub fn is_disruptive(&self) -> bool {
        matches!(self, Verdict::Block { .. } | Verdict::Redirect { .. })
    }
}

/// Request line and headers as received from the client (after the data plane's
/// protocol checks, before any rewriting for the upstream).
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// Unique id of this exchange; also sent upstream as `X-Request-Id`.
    pub request_id: String,
    /// Method.
    pub method: Method,
    /// The request target exactly as the client sent it (path and query, or absolute form).
    pub raw_target: String,
    /// HTTP version.
    pub version: Version,
    /// Request headers, in the order received.
    pub headers: HeaderMap,
    /// The client's address (after trusted-proxy resolution).
    pub client_addr: SocketAddr,
    /// The local address the request arrived on.
    pub server_addr: SocketAddr,
    /// Host the request was routed by (without port).
    pub host: String,
    /// Whether the client connection is TLS.
    pub tls: bool,
    /// Name of the route that matched.
    pub route: String,
    /// Subject (`CN=…,O=…`) of the client certificate verified on a mutual-TLS connection.
    pub client_cert_subject: Option<String>,
    /// Facts inspectors establish for later inspectors and the gateway (identity, extra headers).
    pub context: std::sync::Arc<crate::ExchangeContext>,
}

/// Response status and headers from the upstream.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    /// Status.
    pub status: StatusCode,
    /// Version.
    pub version: Version,
    /// Headers.
    pub headers: HeaderMap,
}

/// A body as seen by inspection: the buffered prefix, and whether it was cut.
#[derive(Debug, Clone, Copy)]
pub struct BodyView<'a> {
    /// The bytes buffered for inspection (at most the inspection limit).
    pub bytes: &'a [u8],
    /// Total length of the body when known.
    pub total_len: Option<u64>,
    /// True when `bytes` is only a prefix of the body.
    pub truncated: bool,
}

/// Facts about a finished exchange, for the logging phase.
#[derive(Debug, Clone)]
pub struct ExchangeSummary {
    /// Final status sent to the client.
    pub status: StatusCode,
    /// Time from first byte of the request to the end of the response.
    pub duration: Duration,
    /// Bytes sent to the client in the response body.
    pub response_bytes: u64,
    /// Whether a disruptive verdict was enforced.
    pub blocked: bool,
}

/// A component of the inspection pipeline, created once per configuration.
pub trait Inspector: Send + Sync + 'static {
    /// Short stable name used in logs and metrics (e.g. `"waf"`).
    fn name(&self) -> &str;
    /// Whether this inspector wants to see the request body.
    fn wants_request_body(&self) -> bool {
        true
    }
    /// Whether this inspector wants to see the response body.
    fn wants_response_body(&self) -> bool {
        false
    }
    /// Begins the inspection of one exchange.
    fn start(&self, head: &RequestHead) -> Box<dyn Inspection>;
}

/// Per-exchange state of one [`Inspector`]. Every hook defaults to [`Verdict::Allow`].
pub trait Inspection: Send {
    /// Phase 1.
    fn request_headers(&mut self, _head: &RequestHead) -> Verdict {
        Verdict::Allow
    }
    /// Phase 2.
    fn request_body(&mut self, _head: &RequestHead, _body: BodyView<'_>) -> Verdict {
        Verdict::Allow
    }
    /// Phase 3.
    fn response_headers(&mut self, _head: &RequestHead, _resp: &ResponseHead) -> Verdict {
        Verdict::Allow
    }
    /// Phase 4.
    fn response_body(
        &mut self,
        _head: &RequestHead,
        _resp: &ResponseHead,
        _body: BodyView<'_>,
    ) -> Verdict {
        Verdict::Allow
    }
    /// Phase 5. Returns the security events this inspection wants recorded.
    fn logging(
        &mut self,
        _head: &RequestHead,
        _summary: &ExchangeSummary,
    ) -> Vec<crate::SecurityEvent> {
        Vec::new()
    }
}
