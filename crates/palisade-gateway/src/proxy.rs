//! One exchange: protocol checks, routing, the inspection phases, forwarding to the upstream, response
//! hardening, and the access log / metrics / logging phase when the response body is done.
//!
//! Design notes: the runtime snapshot is loaded once per request (lock free) and kept to the end, so a
//! reload never changes a request mid-way. Inspection state (the request head copy, the per-inspector
//! `Inspection`s) is only built when the configuration has inspectors; the plain path streams both bodies.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use palisade_core::{
    BodyView, ExchangeSummary, Inspection, Mode, RequestHead, ResponseHead, SecurityEvent,
    Severity, Verdict,
};
use tracing::Instrument;

use crate::body::{
    BodyOutcome, BufferError, LimitedBody, OnComplete, ProxyBody, ReportingBody, read_prefix,
};
use crate::h1_guard::ConnActivity;
use crate::headers::{self as hdr, ForwardFacts, X_REQUEST_ID};
use crate::pages;
use crate::runtime::{RouteMeter, RouteRt, Runtime, UpstreamRt};
use crate::server::{ConnInfo, Shared};
use crate::upstream_pool::UpstreamError;

/// A fresh request id: uuid v7 text (millisecond timestamp + 74 random bits).
///
/// `Uuid::now_v7()` asks the OS for random bytes on every call (one `getrandom` syscall per request,
/// about a fifth of the plain proxy's syscall time in a measured run); the random part here comes
/// from a per-thread SplitMix64 stream seeded once from the OS. Request ids are correlation ids,
/// not secrets, so a fast non-cryptographic generator is fine.
pub(crate) fn new_request_id() -> String {
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    let (high, low) = STATE.with(|state| {
        let first = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        let second = first.wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(second);
        (splitmix64(first), splitmix64(second))
    });
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&high.to_le_bytes());
    random[8..].copy_from_slice(&low.to_le_bytes()[..2]);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        });
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .hyphenated()
        .encode_lower(&mut text)
        .to_owned()
}

/// The SplitMix64 output function.
fn splitmix64(state: u64) -> u64 {
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Entry point of every request.
pub(crate) async fn handle(
    request: Request<Incoming>,
    conn: Arc<ConnInfo>,
    shared: Arc<Shared>,
    request_id: String,
) -> Response<ProxyBody> {
    let started = Instant::now();
    // At `debug`, every line logged while handling the request carries its id through this
    // span. It is not an `info` span: creating and entering a span per request would cost more
    // than the access log line itself; at `info` the gateway's own per-request lines name
    // `request.id` explicitly, and security events always carry it.
    let span = tracing::debug_span!("request", request.id = %request_id);
    let runtime = shared.runtime.load_full();
    let exchange = Exchange::new(runtime, conn, shared, request_id, started, &request);
    // The exchange's state machine is several kilobytes: boxed once here, it is never copied
    // again as the instrumenting and panic-catching wrappers move their futures.
    Box::pin(exchange.run(request)).instrument(span).await
}

/// Label of the access log / metrics `verdict` field.
#[derive(Clone, Copy)]
enum VerdictLabel {
    Allow,
    Block,
    Detect,
    Redirect,
    Error,
}

impl VerdictLabel {
    fn as_str(self) -> &'static str {
        match self {
            VerdictLabel::Allow => "allow",
            VerdictLabel::Block => "block",
            VerdictLabel::Detect => "detect",
            VerdictLabel::Redirect => "redirect",
            VerdictLabel::Error => "error",
        }
    }
}

struct Exchange {
    runtime: Arc<Runtime>,
    conn: Arc<ConnInfo>,
    shared: Arc<Shared>,
    request_id: String,
    request_id_value: HeaderValue,
    started: Instant,
    json: bool,
    method: Method,
    path: String,
    client_ip: IpAddr,
    site: Option<usize>,
    route: Option<Arc<RouteMeter>>,
    verdict: VerdictLabel,
    head: Option<RequestHead>,
    inspections: Vec<Box<dyn Inspection>>,
    in_flight: InFlight,
}

/// Counts a request as in flight on its connection until dropped (idle timeout bookkeeping).
struct InFlight(Arc<ConnActivity>);

impl InFlight {
    fn new(activity: &Arc<ConnActivity>) -> Self {
        activity.request_started();
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_done();
    }
}

/// What to do after a phase ran.
enum PhaseOutcome {
    Continue,
    Respond(Response<ProxyBody>),
}

impl Exchange {
    fn new(
        runtime: Arc<Runtime>,
        conn: Arc<ConnInfo>,
        shared: Arc<Shared>,
        request_id: String,
        started: Instant,
        request: &Request<Incoming>,
    ) -> Self {
        let request_id_value =
            HeaderValue::from_str(&request_id).unwrap_or(HeaderValue::from_static("-"));
        let client_ip = conn.client.ip();
        Exchange {
            in_flight: InFlight::new(&conn.activity),
            json: pages::prefers_json(request.headers()),
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            runtime,
            conn,
            shared,
            request_id,
            request_id_value,
            started,
            client_ip,
            site: None,
            route: None,
            verdict: VerdictLabel::Allow,
            head: None,
            inspections: Vec::new(),
        }
    }

    async fn run(mut self, mut request: Request<Incoming>) -> Response<ProxyBody> {
        if self.conn.activity.ambiguous.load(Ordering::Relaxed) {
            tracing::info!(
                request.id = %self.request_id,
                "ambiguous request framing (Content-Length with Transfer-Encoding) refused"
            );
            self.verdict = VerdictLabel::Error;
            let mut event = SecurityEvent::new(
                "input_validation_fail",
                "web",
                Severity::Medium,
                "request refused with 400: Content-Length together with Transfer-Encoding (request smuggling)",
            );
            event.outcome = palisade_core::EventOutcome::Failure;
            event.request_id = Some(self.request_id.clone());
            event.source_ip = Some(self.client_ip);
            event
                .fields
                .insert("url.path".to_owned(), self.path.clone().into());
            event.fields.insert(
                "http.request.method".to_owned(),
                self.method.as_str().into(),
            );
            event
                .fields
                .insert("palisade.reason".to_owned(), "ambiguous framing".into());
            self.shared.events.record(event);
            let mut response = self.error_page(StatusCode::BAD_REQUEST);
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return self.finish(response);
        }
        if let Err(status) = self.check_protocol(&request) {
            let mut response = self.error_page(status);
            if request.version() < Version::HTTP_2 {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            return self.finish(response);
        }
        let host = match request_host(&request, self.conn.local) {
            Ok(host) => host,
            Err(status) => {
                let response = self.error_page(status);
                return self.finish(response);
            }
        };
        if self.conn.redirect_to_https {
            let response = self.redirect_to_https(&host, request.uri());
            return self.finish(response);
        }
        let Some(site_index) = self.runtime.site_for_host(&host) else {
            let response = self.error_page(StatusCode::NOT_FOUND);
            return self.finish(response);
        };
        self.site = Some(site_index);
        if self.conn.sni.is_some()
            && self
                .conn
                .tls_site
                .is_some_and(|tls_site| tls_site != site_index)
        {
            // The certificate presented was chosen for another site.
            let response = self.error_page(StatusCode::MISDIRECTED_REQUEST);
            return self.finish(response);
        }
        let runtime = self.runtime.clone();
        let site = &runtime.sites[site_index];
        let Some(route) = site.route_for_path(request.uri().path()) else {
            let response = self.error_page(StatusCode::NOT_FOUND);
            return self.finish(response);
        };
        self.route = Some(route.meter.clone());
        let trusted = &runtime.config.trusted_proxies.networks;
        let peer_trusted = !trusted.is_empty() && hdr::is_trusted(trusted, self.conn.client.ip());
        if peer_trusted {
            self.client_ip =
                hdr::resolve_client_ip(self.conn.client.ip(), request.headers(), trusted);
        }
        let limits = &runtime.config.limits;
        if let Some(length) = declared_length(request.headers())
            && length > limits.max_body.0
        {
            let response = self.error_page(StatusCode::PAYLOAD_TOO_LARGE);
            return self.finish(response);
        }

        // Phase 1.
        if !runtime.inspectors.is_empty() {
            let head = RequestHead {
                request_id: self.request_id.clone(),
                method: request.method().clone(),
                raw_target: {
                    let seen = request
                        .uri()
                        .path_and_query()
                        .map_or_else(|| request.uri().to_string(), |pq| pq.as_str().to_owned());
                    self.conn.activity.raw_target_for(&seen).unwrap_or(seen)
                },
                version: request.version(),
                headers: request.headers().clone(),
                client_addr: std::net::SocketAddr::new(self.client_ip, self.conn.client.port()),
                server_addr: self.conn.local,
                host: host.clone(),
                tls: self.conn.tls,
                route: route.name.to_string(),
                client_cert_subject: self.conn.client_cert_subject.clone(),
                context: palisade_core::ExchangeContext::shared(),
            };
            self.inspections = runtime
                .inspectors
                .iter()
                .map(|inspector| inspector.start(&head))
                .collect();
            self.head = Some(head);
            if let PhaseOutcome::Respond(response) =
                self.run_phase(route, |inspection, head| inspection.request_headers(head))
            {
                return self.finish(response);
            }
        }

        let is_upgrade = request.version() == Version::HTTP_11 && wants_upgrade(request.headers());
        let client_upgrade = if is_upgrade {
            Some(hyper::upgrade::on(&mut request))
        } else {
            None
        };
        let (mut parts, incoming) = request.into_parts();

        // Request body: buffer a prefix for phase 2 when someone inspects it, else stream.
        let body_outcome = Arc::new(BodyOutcome::default());
        let max_body = limits.max_body.0;
        let inspect_body =
            route.inspect && runtime.wants_request_body && !self.inspections.is_empty();
        let mut incoming = incoming;
        let body = if incoming.is_end_stream() {
            // Phase 2 runs for every request, bodiless ones included (as in ModSecurity):
            // most rules inspect arguments in phase 2.
            if inspect_body {
                let view = BodyView {
                    bytes: &[],
                    total_len: Some(0),
                    truncated: false,
                };
                if let PhaseOutcome::Respond(response) = self
                    .run_phase(route, |inspection, head| {
                        inspection.request_body(head, view)
                    })
                {
                    return self.finish(response);
                }
            }
            UpstreamBody::Replayable(Bytes::new())
        } else if let Some(limit) =
            buffer_limit(inspect_body, limits.inspect_body_limit.0, &parts.headers)
        {
            let prefix = match read_prefix(&mut incoming, limit, max_body).await {
                Ok(prefix) => prefix,
                Err(BufferError::TooLarge) => {
                    let response = self.error_page(StatusCode::PAYLOAD_TOO_LARGE);
                    return self.finish(response);
                }
                Err(BufferError::Read(error)) => {
                    tracing::debug!(%error, "client request body failed");
                    let response = self.error_page(StatusCode::BAD_REQUEST);
                    return self.finish(response);
                }
            };
            if inspect_body {
                let view = prefix.view(declared_length(&parts.headers));
                if let PhaseOutcome::Respond(response) = self
                    .run_phase(route, |inspection, head| {
                        inspection.request_body(head, view)
                    })
                {
                    return self.finish(response);
                }
            }
            if prefix.complete {
                UpstreamBody::Replayable(prefix.bytes)
            } else {
                UpstreamBody::Streaming(
                    LimitedBody::new(prefix.bytes, Some(incoming), max_body, body_outcome.clone())
                        .boxed_unsync(),
                )
            }
        } else {
            UpstreamBody::Streaming(
                LimitedBody::new(Bytes::new(), Some(incoming), max_body, body_outcome.clone())
                    .boxed_unsync(),
            )
        };

        // Rewrite the head for the upstream.
        let upgrade_value = if is_upgrade {
            parts.headers.get(header::UPGRADE).cloned()
        } else {
            None
        };
        let original_host = parts.headers.get(header::HOST).cloned();
        hdr::remove_hop_by_hop(&mut parts.headers);
        hdr::remove_palisade_headers(&mut parts.headers);
        if let Some(extra) = self
            .head
            .as_ref()
            .and_then(|head| head.context.take_upstream_headers())
        {
            parts.headers.extend(extra);
        }
        parts.headers.remove(header::EXPECT);
        parts.headers.remove(header::CONTENT_LENGTH);
        if let Some(upgrade) = upgrade_value {
            parts
                .headers
                .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            parts.headers.insert(header::UPGRADE, upgrade);
        }
        let host_value = original_host
            .or_else(|| {
                parts
                    .uri
                    .authority()
                    .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            })
            .unwrap_or_else(|| {
                HeaderValue::from_str(&host).unwrap_or(HeaderValue::from_static("localhost"))
            });
        parts.headers.insert(header::HOST, host_value);
        hdr::set_forwarding_headers(
            &mut parts.headers,
            &ForwardFacts {
                peer: self.conn.client.ip(),
                peer_trusted,
                client_ip: self.client_ip,
                tls: self.conn.tls,
                host: &host,
                server_addr: self.conn.local,
                request_id: &self.request_id_value,
            },
            &self.conn.forward_cache,
        );
        let upstream = runtime.upstreams[route.upstream].clone();
        let upstream_result = forward(
            &upstream,
            parts.method,
            parts.uri,
            parts.headers,
            body,
            is_upgrade,
        )
        .await;
        let mut upstream_response = match upstream_result {
            Ok(response) => response,
            Err(failure) => {
                let status = if body_outcome.too_large() {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else if body_outcome.read_failed() {
                    StatusCode::BAD_REQUEST
                } else {
                    metrics::counter!(
                        "palisade_upstream_errors_total",
                        "upstream" => upstream.name.to_string(),
                        "kind" => failure.kind()
                    )
                    .increment(1);
                    tracing::warn!(
                        request.id = %self.request_id,
                        upstream = %upstream.name,
                        error = %failure,
                        "upstream failed"
                    );
                    failure.status()
                };
                self.verdict = VerdictLabel::Error;
                let response = self.error_page(status);
                return self.finish(response);
            }
        };

        if upstream_response.status() == StatusCode::SWITCHING_PROTOCOLS
            && let Some(client_upgrade) = client_upgrade
        {
            let upstream_upgrade = hyper::upgrade::on(&mut upstream_response);
            let mut shutdown = self.conn.shutdown.clone();
            tokio::spawn(
                async move {
                    let (client, upstream) = match tokio::try_join!(client_upgrade, upstream_upgrade) {
                        Ok(pair) => pair,
                        Err(error) => {
                            tracing::debug!(%error, "upgrade failed");
                            return;
                        }
                    };
                    let mut client = hyper_util::rt::TokioIo::new(client);
                    let mut upstream = hyper_util::rt::TokioIo::new(upstream);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = async { while shutdown.changed().await.is_ok() && *shutdown.borrow() != crate::server::Stage::Stopped {} } => {}
                    }
                }
                .in_current_span(),
            );
            let (mut parts, _) = upstream_response.into_parts();
            parts
                .headers
                .insert(X_REQUEST_ID, self.request_id_value.clone());
            let response = Response::from_parts(parts, crate::body::empty());
            return self.finish(response);
        }

        let (mut parts, upstream_body) = upstream_response.into_parts();
        hdr::remove_hop_by_hop(&mut parts.headers);
        let mut body: ProxyBody = upstream_body;
        if !self.inspections.is_empty() {
            let response_head = ResponseHead {
                status: parts.status,
                version: parts.version,
                // Moved, not cloned: they go back into the response after the phases.
                headers: std::mem::take(&mut parts.headers),
            };
            if let PhaseOutcome::Respond(response) = self.run_phase(route, |inspection, head| {
                inspection.response_headers(head, &response_head)
            }) {
                return self.finish(response);
            }
            if route.inspect && runtime.wants_response_body {
                let limit =
                    usize::try_from(limits.inspect_response_body_limit.0).unwrap_or(usize::MAX);
                let prefix = match read_prefix(&mut body, limit, u64::MAX).await {
                    Ok(prefix) => prefix,
                    Err(_) => {
                        self.verdict = VerdictLabel::Error;
                        let response = self.error_page(StatusCode::BAD_GATEWAY);
                        return self.finish(response);
                    }
                };
                let view = prefix.view(None);
                if let PhaseOutcome::Respond(response) = self
                    .run_phase(route, |inspection, head| {
                        inspection.response_body(head, &response_head, view)
                    })
                {
                    return self.finish(response);
                }
                let rest = if prefix.complete { None } else { Some(body) };
                body = LimitedBody::new(
                    prefix.bytes,
                    rest,
                    u64::MAX,
                    Arc::new(BodyOutcome::default()),
                )
                .boxed_unsync();
            }
            parts.headers = response_head.headers;
        }
        parts
            .headers
            .insert(X_REQUEST_ID, self.request_id_value.clone());
        runtime.sites[site_index]
            .headers
            .apply(&mut parts.headers, self.conn.tls);
        self.finish_with(Response::from_parts(parts, body))
    }

    /// Refuses what hyper lets through but Palisade does not forward.
    fn check_protocol(&self, request: &Request<Incoming>) -> Result<(), StatusCode> {
        let headers = request.headers();
        // A reverse proxy is no tunnel. 400, as nginx answers (and so ModSecurity v3 behind it).
        if request.method() == Method::CONNECT {
            return Err(StatusCode::BAD_REQUEST);
        }
        if !request.uri().path().starts_with('/') {
            return Err(StatusCode::BAD_REQUEST);
        }
        let limits = &self.runtime.config.limits;
        if headers.len() > limits.max_headers {
            return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
        if request.version() == Version::HTTP_2 {
            let size: u64 = headers
                .iter()
                .map(|(name, value)| (name.as_str().len() + value.len() + 4) as u64)
                .sum();
            if size > limits.max_header_bytes.0 {
                return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
            }
        }
        if headers.contains_key(header::CONTENT_LENGTH)
            && headers.contains_key(header::TRANSFER_ENCODING)
        {
            return Err(StatusCode::BAD_REQUEST);
        }
        let mut lengths = headers.get_all(header::CONTENT_LENGTH).iter();
        if let Some(first) = lengths.next()
            && (lengths.any(|other| other != first) || parse_length(first).is_none())
        {
            return Err(StatusCode::BAD_REQUEST);
        }
        // CR, LF and NUL in names or values never get here: httparse (HTTP/1) and h2 refuse them and
        // HeaderValue cannot hold them.
        Ok(())
    }

    /// Runs one phase hook of every inspection; the first disruptive verdict wins (block mode) or is
    /// recorded as "would have blocked" (detect mode).
    fn run_phase<F>(&mut self, route: &RouteRt, mut hook: F) -> PhaseOutcome
    where
        F: FnMut(&mut dyn Inspection, &RequestHead) -> Verdict,
    {
        let Some(head) = self.head.as_ref() else {
            return PhaseOutcome::Continue;
        };
        let mut disruptive = None;
        let mut detected = Vec::new();
        for (index, inspection) in self.inspections.iter_mut().enumerate() {
            let verdict = hook(inspection.as_mut(), head);
            if verdict.is_disruptive() {
                if route.mode == Mode::Detect {
                    detected.push((index, verdict));
                    continue;
                }
                disruptive = Some((index, verdict));
                break;
            }
        }
        for (index, verdict) in detected {
            let event = self.verdict_event("malicious_request_detected", &verdict, index, route);
            self.shared.events.record(event);
            self.verdict = VerdictLabel::Detect;
        }
        let Some((index, verdict)) = disruptive else {
            return PhaseOutcome::Continue;
        };
        match verdict {
            Verdict::Redirect { status, location } => {
                self.verdict = VerdictLabel::Redirect;
                let status = if status.is_redirection() {
                    status
                } else {
                    StatusCode::FOUND
                };
                let location =
                    HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/"));
                PhaseOutcome::Respond(pages::redirect(status, location))
            }
            Verdict::Block { status, .. } => {
                let event = self.verdict_event("malicious_request_blocked", &verdict, index, route);
                self.shared.events.record(event);
                self.verdict = VerdictLabel::Block;
                // The route's block status applies unless the inspector asked for a specific non-403 status.
                let status =
                    if status == StatusCode::FORBIDDEN || !(400..600).contains(&status.as_u16()) {
                        route.block_status
                    } else {
                        status
                    };
                PhaseOutcome::Respond(pages::page(status, &self.request_id, self.json, true))
            }
            Verdict::Allow | Verdict::Annotate(_) => PhaseOutcome::Continue,
        }
    }

    fn verdict_event(
        &self,
        action: &str,
        verdict: &Verdict,
        inspector: usize,
        route: &RouteRt,
    ) -> SecurityEvent {
        let (message, rule_ids) = match verdict {
            Verdict::Block {
                reason, rule_ids, ..
            } => (reason.clone(), rule_ids.clone()),
            Verdict::Redirect { location, .. } => (format!("redirect to {location}"), Vec::new()),
            _ => (String::new(), Vec::new()),
        };
        let mut event = SecurityEvent::new(action, "web", Severity::High, message);
        event.outcome = palisade_core::EventOutcome::Success;
        event.request_id = Some(self.request_id.clone());
        event.source_ip = Some(self.client_ip);
        event.route = Some(route.name.to_string());
        event.rule_ids = rule_ids;
        if let Some(inspector) = self.runtime.inspectors.get(inspector) {
            event
                .fields
                .insert("palisade.inspector".to_owned(), inspector.name().into());
        }
        event
            .fields
            .insert("url.path".to_owned(), self.path.clone().into());
        event.fields.insert(
            "http.request.method".to_owned(),
            self.method.as_str().into(),
        );
        event
    }

    fn error_page(&self, status: StatusCode) -> Response<ProxyBody> {
        pages::page(status, &self.request_id, self.json, false)
    }

    fn redirect_to_https(&self, host: &str, uri: &Uri) -> Response<ProxyBody> {
        let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
        match HeaderValue::from_str(&https_location(host, self.shared.https_port, path)) {
            Ok(location) => pages::redirect(StatusCode::MOVED_PERMANENTLY, location),
            Err(_) => self.error_page(StatusCode::BAD_REQUEST),
        }
    }

    /// Finishes one of Palisade's own answers: security headers and request id.
    fn finish(self, mut response: Response<ProxyBody>) -> Response<ProxyBody> {
        response
            .headers_mut()
            .insert(X_REQUEST_ID, self.request_id_value.clone());
        if let Some(site) = self.site {
            self.runtime.sites[site]
                .headers
                .apply(response.headers_mut(), self.conn.tls);
        } else {
            response.headers_mut().insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
        }
        self.finish_with(response)
    }

    /// Wraps the body so the logging phase, access log and metrics run when it is done.
    fn finish_with(self, response: Response<ProxyBody>) -> Response<ProxyBody> {
        let (mut parts, body) = response.into_parts();
        if let Some(extra) = self
            .head
            .as_ref()
            .and_then(|head| head.context.take_response_headers())
        {
            parts.headers.extend(extra);
        }
        let blocked = matches!(self.verdict, VerdictLabel::Block | VerdictLabel::Redirect);
        let record = ExchangeRecord {
            status: parts.status,
            blocked,
            verdict: self.verdict,
            started: self.started,
            request_id: self.request_id,
            client_ip: self.client_ip,
            method: self.method,
            path: self.path,
            route: self.route,
            access_log: self.runtime.config.log.access_log,
            head: self.head,
            inspections: self.inspections,
            shared: self.shared,
            span: tracing::Span::current(),
            _in_flight: self.in_flight,
        };
        Response::from_parts(
            parts,
            ReportingBody::new(body, Box::new(record)).boxed_unsync(),
        )
    }
}

/// Everything the end of an exchange needs.
struct ExchangeRecord {
    status: StatusCode,
    blocked: bool,
    verdict: VerdictLabel,
    started: Instant,
    request_id: String,
    client_ip: IpAddr,
    method: Method,
    path: String,
    route: Option<Arc<RouteMeter>>,
    access_log: bool,
    head: Option<RequestHead>,
    inspections: Vec<Box<dyn Inspection>>,
    shared: Arc<Shared>,
    span: tracing::Span,
    _in_flight: InFlight,
}

impl OnComplete for ExchangeRecord {
    fn complete(self: Box<Self>, bytes_sent: u64) {
        let record = *self;
        let _entered = record.span.enter();
        let duration = record.started.elapsed();
        if let Some(head) = &record.head {
            let summary = ExchangeSummary {
                status: record.status,
                duration,
                response_bytes: bytes_sent,
                blocked: record.blocked,
            };
            for mut inspection in record.inspections {
                for mut event in inspection.logging(head, &summary) {
                    event
                        .request_id
                        .get_or_insert_with(|| record.request_id.clone());
                    event.source_ip.get_or_insert(record.client_ip);
                    if event.route.is_none() {
                        event.route = record.route.as_ref().map(|r| r.name.to_string());
                    }
                    record.shared.events.record(event);
                }
            }
        }
        AccessLine {
            client_ip: record.client_ip,
            method: record.method.as_str(),
            path: &record.path,
            status: record.status,
            bytes_sent,
            duration,
            request_id: &record.request_id,
            route: record.route.as_deref(),
            verdict: record.verdict,
        }
        .emit(record.access_log);
    }
}

/// The end of one exchange as the access log and the request metrics see it.
struct AccessLine<'a> {
    client_ip: IpAddr,
    method: &'a str,
    path: &'a str,
    status: StatusCode,
    bytes_sent: u64,
    duration: std::time::Duration,
    request_id: &'a str,
    route: Option<&'a RouteMeter>,
    verdict: VerdictLabel,
}

impl AccessLine<'_> {
    /// Writes the access log line (when enabled) and counts the request.
    fn emit(&self, access_log: bool) {
        if access_log {
            // Every value is a string or an integer: the log formatter writes them directly
            // (the address through the forwarding headers' formatter, not `core::fmt`).
            let mut client_ip = String::with_capacity(39);
            crate::headers::push_ip(&mut client_ip, self.client_ip);
            tracing::event!(
                target: "palisade::access",
                tracing::Level::INFO,
                message = "request",
                client.ip = client_ip.as_str(),
                http.request.method = self.method,
                url.path = self.path,
                http.response.status_code = self.status.as_u16(),
                http.response.body.bytes = self.bytes_sent,
                event.duration = u64::try_from(self.duration.as_nanos()).unwrap_or(u64::MAX),
                request.id = self.request_id,
                route = self.route.map_or("-", |route| &*route.name),
                verdict = self.verdict.as_str(),
            );
        }
        let seconds = self.duration.as_secs_f64();
        match self.route {
            // The common case through handles registered with the route (no key built or looked up).
            Some(route)
                if self.status == StatusCode::OK && matches!(self.verdict, VerdictLabel::Allow) =>
            {
                route.allowed_ok.increment(1);
                route.duration.record(seconds);
            }
            Some(route) => {
                metrics::counter!(
                    "palisade_requests_total",
                    "route" => metrics::SharedString::from(route.name.clone()),
                    "status" => status_label(self.status),
                    "verdict" => self.verdict.as_str()
                )
                .increment(1);
                route.duration.record(seconds);
            }
            None => {
                metrics::counter!(
                    "palisade_requests_total",
                    "route" => "-",
                    "status" => status_label(self.status),
                    "verdict" => self.verdict.as_str()
                )
                .increment(1);
                metrics::histogram!("palisade_request_duration_seconds", "route" => "-")
                    .record(seconds);
            }
        }
    }
}

/// Reports a request refused before it became an exchange (the HTTP/1 guard refused its head):
/// the access log line and request metrics like any exchange, and an `input_validation_fail`
/// security event, all with the request id of the answer.
pub(crate) struct RefusalReporter {
    pub(crate) shared: Arc<Shared>,
    pub(crate) client_ip: IpAddr,
}

impl RefusalReporter {
    pub(crate) fn report(
        &self,
        request_id: &str,
        status: StatusCode,
        head: &[u8],
        reason: &str,
        started: Instant,
        bytes_sent: u64,
    ) {
        let (method, path) = lenient_request_line(head);
        let access_log = self.shared.runtime.load().config.log.access_log;
        AccessLine {
            client_ip: self.client_ip,
            method: &method,
            path: &path,
            status,
            bytes_sent,
            duration: started.elapsed(),
            request_id,
            route: None,
            verdict: VerdictLabel::Error,
        }
        .emit(access_log);
        let mut event = SecurityEvent::new(
            "input_validation_fail",
            "web",
            Severity::Low,
            format!("request refused with {}: {reason}", status.as_u16()),
        );
        event.outcome = palisade_core::EventOutcome::Failure;
        event.request_id = Some(request_id.to_owned());
        event.source_ip = Some(self.client_ip);
        event.fields.insert("url.path".to_owned(), path.into());
        event
            .fields
            .insert("http.request.method".to_owned(), method.into());
        event.fields.insert(
            "http.response.status_code".to_owned(),
            status.as_u16().into(),
        );
        event
            .fields
            .insert("palisade.reason".to_owned(), reason.into());
        self.shared.events.record(event);
    }
}

/// Method and path of a request line that failed parsing, for logging: the first two
/// space-separated words (bounded, lossy UTF-8, path without the query); "-" when missing.
fn lenient_request_line(head: &[u8]) -> (String, String) {
    const MAX_METHOD: usize = 32;
    const MAX_PATH: usize = 256;
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head[..line_end].trim_ascii();
    let mut words = line.split(|&b| b == b' ').filter(|word| !word.is_empty());
    let text = |word: Option<&[u8]>, max: usize| match word {
        Some(word) if !word.is_empty() => {
            String::from_utf8_lossy(&word[..word.len().min(max)]).into_owned()
        }
        _ => "-".to_owned(),
    };
    let method = text(words.next(), MAX_METHOD);
    let target = words.next().map(|target| {
        target
            .iter()
            .position(|&b| b == b'?')
            .map_or(target, |query| &target[..query])
    });
    (method, text(target, MAX_PATH))
}

fn status_label(status: StatusCode) -> metrics::SharedString {
    let common = match status.as_u16() {
        101 => "101",
        200 => "200",
        201 => "201",
        204 => "204",
        206 => "206",
        301 => "301",
        302 => "302",
        303 => "303",
        304 => "304",
        307 => "307",
        308 => "308",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        413 => "413",
        421 => "421",
        429 => "429",
        431 => "431",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        _ => return metrics::SharedString::from_owned(status.as_str().to_owned()),
    };
    metrics::SharedString::const_str(common)
}

/// The target of an HTTP→HTTPS redirect: the request's host (without its port) on the HTTPS
/// listener's port, which is written unless it is the default 443 (or no TLS listener is bound).
fn https_location(host: &str, https_port: Option<u16>, path_and_query: &str) -> String {
    match https_port {
        Some(port) if port != 443 => format!("https://{host}:{port}{path_and_query}"),
        _ => format!("https://{host}{path_and_query}"),
    }
}

/// The host a request is for: lower-case, without port. 400 for a missing, duplicated or invalid Host.
/// HTTP/1.0 does not require Host: such a request is for the address it arrived on (as nginx
/// serves it from the listener's default server), and the WAF still sees that Host was missing.
fn request_host<B>(
    request: &Request<B>,
    local: std::net::SocketAddr,
) -> Result<String, StatusCode> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let header_host = hosts.next();
    if hosts.next().is_some() {
        return Err(StatusCode::BAD_REQUEST);
    }
    let raw = match (request.uri().authority(), header_host) {
        (Some(authority), _) => authority.as_str(),
        (None, Some(value)) => value.to_str().map_err(|_| StatusCode::BAD_REQUEST)?,
        (None, None) if request.version() <= Version::HTTP_10 => return Ok(local.ip().to_string()),
        (None, None) => return Err(StatusCode::BAD_REQUEST),
    };
    host_of_authority(raw)
        .map(str::to_ascii_lowercase)
        .ok_or(StatusCode::BAD_REQUEST)
}

/// The host of an authority (`host`, `host:port`, `[v6]` or `[v6]:port`), without a trailing dot;
/// `None` for userinfo, an empty host, a non-numeric or over-long port, more than one colon
/// outside brackets, or a byte outside letters, digits and `-._[]:`. Parsed in place: the
/// `http::uri::Authority` round trip (a copy, two allocations and its own scan) was ~1,400
/// instructions of every request.
fn host_of_authority(raw: &str) -> Option<&str> {
    let (host, port) = if raw.starts_with('[') {
        let close = raw.find(']')?;
        let (host, rest) = raw.split_at(close + 1);
        match rest.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if rest.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match raw.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (raw, None),
        }
    };
    if port.is_some_and(|port| port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let host = host.trim_end_matches('.');
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'[' | b']' | b':')
        });
    valid.then_some(host)
}

fn parse_length(value: &HeaderValue) -> Option<u64> {
    let text = value.to_str().ok()?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Request bodies declared at most this long are read whole before forwarding even when nobody
/// inspects them: they go out in one write with the head (the lean upstream client) and can be sent
/// again to another server after a connect failure. Larger ones stream.
const BUFFER_SMALL_BODY: u64 = 64 * 1024;

/// How much of a request body to read before forwarding: the inspection limit when the body is
/// inspected, a small declared body whole, else nothing (None: stream it).
fn buffer_limit(inspect_body: bool, inspect_limit: u64, headers: &HeaderMap) -> Option<usize> {
    let limit = if inspect_body {
        inspect_limit
    } else {
        declared_length(headers).filter(|&length| length <= BUFFER_SMALL_BODY)?
    };
    Some(usize::try_from(limit).unwrap_or(usize::MAX))
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH).and_then(parse_length)
}

fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
}

/// The body going upstream: replayable (fully buffered; retried on another server after a connect
/// error) or streaming (sent once).
enum UpstreamBody {
    Replayable(Bytes),
    Streaming(ProxyBody),
}

/// Why forwarding failed.
#[derive(Debug)]
enum ForwardError {
    Upstream(UpstreamError),
    Timeout,
    Request(http::Error),
}

impl ForwardError {
    fn kind(&self) -> &'static str {
        match self {
            ForwardError::Upstream(UpstreamError::Connect(_)) => "connect",
            ForwardError::Upstream(UpstreamError::Exchange(_) | UpstreamError::Http1(_)) => {
                "protocol"
            }
            ForwardError::Timeout => "timeout",
            ForwardError::Request(_) => "request",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ForwardError::Timeout => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_GATEWAY,
        }
    }
}

impl std::fmt::Display for ForwardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForwardError::Upstream(error) => write!(f, "{error}"),
            ForwardError::Timeout => f.write_str("no response within the response timeout"),
            ForwardError::Request(error) => write!(f, "request: {error}"),
        }
    }
}

/// Sends the request to one of `upstream`'s servers (another one after a connect failure, when the
/// body can be sent again). `upgrade`: the request asks for a protocol upgrade (hyper's client).
async fn forward(
    upstream: &UpstreamRt,
    method: Method,
    uri: Uri,
    mut headers: HeaderMap,
    body: UpstreamBody,
    upgrade: bool,
) -> Result<Response<ProxyBody>, ForwardError> {
    let path_and_query = uri
        .into_parts()
        .path_and_query
        .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
    let http2 = upstream.client_is_http2();
    let version = if http2 {
        Version::HTTP_2
    } else {
        Version::HTTP_11
    };
    // HTTP/1 sends the origin form (Host is set by the caller); HTTP/2 needs scheme and authority.
    let target = |server_index: usize| -> Result<Uri, ForwardError> {
        if !http2 {
            return Ok(Uri::from(path_and_query.clone()));
        }
        let server = upstream.server(server_index);
        Uri::builder()
            .scheme(server.scheme.clone())
            .authority(server.authority.clone())
            .path_and_query(path_and_query.clone())
            .build()
            .map_err(ForwardError::Request)
    };
    let (attempts, mut streaming, replayable) = match body {
        UpstreamBody::Replayable(bytes) => (upstream.server_count(), None, bytes),
        UpstreamBody::Streaming(body) => (1, Some(body), Bytes::new()),
    };
    let mut last_error = None;
    for attempt in 1..=attempts {
        let server_index = upstream.pick();
        let server = upstream.server(server_index);
        let lean = streaming.is_none()
            && !upgrade
            && method != Method::CONNECT
            && server.pool.takes_buffered(&upstream.connect);
        let outcome = if lean {
            // In-task HTTP/1 client: the head is borrowed, the body shared, nothing is moved.
            let sent = server.pool.send_buffered(
                &upstream.connect,
                &method,
                path_and_query.as_str(),
                &headers,
                &replayable,
            );
            tokio::time::timeout(upstream.response_timeout, sent).await
        } else {
            // The head is moved into the last possible attempt and cloned only for earlier ones.
            let head = if attempt == attempts {
                std::mem::take(&mut headers)
            } else {
                headers.clone()
            };
            let body = match streaming.take() {
                Some(body) => body,
                None if replayable.is_empty() => crate::body::empty(),
                None => crate::body::full(replayable.clone()),
            };
            let mut request = Request::new(body);
            *request.method_mut() = method.clone();
            *request.uri_mut() = target(server_index)?;
            *request.version_mut() = version;
            *request.headers_mut() = head;
            let sent = async {
                let response = server.pool.send(&upstream.connect, request).await?;
                Ok(response.map(|body| body.map_err(Into::into).boxed_unsync()))
            };
            tokio::time::timeout(upstream.response_timeout, sent).await
        };
        match outcome {
            Ok(Ok(response)) => {
                upstream.record_success(server_index);
                return Ok(response);
            }
            Ok(Err(error)) => {
                upstream.record_failure(server_index);
                if matches!(error, UpstreamError::Connect(_)) {
                    last_error = Some(ForwardError::Upstream(error));
                    continue;
                }
                return Err(ForwardError::Upstream(error));
            }
            Err(_) => {
                upstream.record_failure(server_index);
                return Err(ForwardError::Timeout);
            }
        }
    }
    Err(last_error.unwrap_or(ForwardError::Timeout))
}

#[cfg(test)]
mod tests {
    use super::{host_of_authority, https_location, new_request_id};

    #[test]
    fn hosts_are_taken_from_valid_authorities_only() {
        let cases: &[(&str, Option<&str>)] = &[
            ("shop.test", Some("shop.test")),
            ("Shop.Test:8080", Some("Shop.Test")),
            ("shop.test.", Some("shop.test")),
            ("shop.test.:443", Some("shop.test")),
            ("[::1]", Some("[::1]")),
            ("[::1]:9443", Some("[::1]")),
            ("127.0.0.1:80", Some("127.0.0.1")),
            ("a_b", Some("a_b")),
            ("host:", Some("host")),
            ("", None),
            (":80", None),
            (".", None),
            ("user@a", None),
            ("a:b:c", None),
            ("a:8o", None),
            ("a:123456", None),
            ("[::1]x", None),
            ("[::1", None),
            ("a/b", None),
            ("a b", None),
            ("a%41", None),
            ("é.test", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(host_of_authority(raw), *expected, "{raw:?}");
        }
        let long = "a".repeat(254);
        assert_eq!(host_of_authority(&long), None);
        assert_eq!(host_of_authority(&long[..253]), Some(&long[..253]));
    }

    #[test]
    fn https_redirect_keeps_a_non_default_port_only() {
        assert_eq!(
            https_location("shop.test", Some(8443), "/a?b=1"),
            "https://shop.test:8443/a?b=1"
        );
        assert_eq!(
            https_location("shop.test", Some(443), "/"),
            "https://shop.test/"
        );
        assert_eq!(
            https_location("[::1]", Some(9443), "/"),
            "https://[::1]:9443/"
        );
        assert_eq!(https_location("shop.test", None, "/"), "https://shop.test/");
    }

    #[test]
    fn request_ids_are_distinct_uuid_v7() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let parsed = uuid::Uuid::parse_str(id).expect("uuid text");
            assert_eq!(parsed.get_version_num(), 7);
        }
    }
}
