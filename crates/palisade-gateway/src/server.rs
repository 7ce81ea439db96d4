//! Listeners and connections: binding, the accept loops, the connection limit, PROXY protocol, TLS
//! handshakes with SNI, HTTP/1.1 and HTTP/2 serving with protocol limits, and graceful shutdown.
//!
//! Shutdown: a `watch` channel carries the state (running → draining → stopped). Every accept loop and
//! connection holds a receiver; `shutdown()` switches to draining (accept loops end, connections finish
//! their in-flight requests and close), waits until every receiver is gone or `shutdown_grace` passed,
//! then switches to stopped, which drops whatever is left.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use futures_util::FutureExt as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use palisade_config::Config;
use palisade_core::{EventSink, Inspector};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::cert_watch::CertWatch;
use crate::error::{ErrorKind, GatewayError};
use crate::h1_guard::{ConnActivity, GuardTimeouts, Http1Guard};
use crate::headers::is_trusted;
use crate::proxy::RefusalReporter;
use crate::runtime::{ReloadSummary, Runtime, listener_difference, listeners_changed_error};

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) runtime: ArcSwap<Runtime>,
    pub(crate) events: Arc<dyn EventSink>,
    /// Bound port of the first TLS listener: where the HTTP→HTTPS redirect listener sends clients.
    pub(crate) https_port: Option<u16>,
}

/// Facts about one client connection.
pub(crate) struct ConnInfo {
    /// The client: the socket peer, or the PROXY protocol source.
    pub(crate) client: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) tls: bool,
    /// SNI name of a TLS connection.
    pub(crate) sni: Option<String>,
    /// Site chosen for the TLS handshake.
    pub(crate) tls_site: Option<usize>,
    pub(crate) client_cert_subject: Option<String>,
    pub(crate) redirect_to_https: bool,
    /// Shared with the HTTP/1 guard: ambiguous framing seen, requests in flight.
    pub(crate) activity: Arc<ConnActivity>,
    pub(crate) shutdown: watch::Receiver<Stage>,
    /// The connection's forwarding header values, reused while the host stays the same.
    pub(crate) forward_cache: crate::headers::ForwardCache,
}

/// Lifecycle stage of the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Running,
    Draining,
    Stopped,
}

/// A running gateway. Dropping it without [`GatewayHandle::shutdown`] stops accepting and closes every
/// connection at once.
pub struct GatewayHandle {
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    stage: watch::Sender<Stage>,
    accept_tasks: Vec<JoinHandle<()>>,
    /// Reloads certificates when their files change; `None` when no watcher could be created.
    cert_watch: Option<CertWatch>,
}

/// Binds every listener of `config` and starts serving.
pub async fn start(
    config: Arc<Config>,
    inspectors: Vec<Arc<dyn Inspector>>,
    events: Arc<dyn EventSink>,
) -> Result<GatewayHandle, GatewayError> {
    if config.listeners.is_empty() {
        return Err(GatewayError::config("no listener configured"));
    }
    let runtime = Runtime::build(config.clone(), inspectors)?;
    let mut bound = Vec::with_capacity(config.listeners.len());
    for listener in &config.listeners {
        let socket = TcpListener::bind(listener.addr).await.map_err(|source| {
            GatewayError::new(ErrorKind::Bind {
                addr: listener.addr,
                source,
            })
        })?;
        let addr = socket.local_addr().map_err(|source| {
            GatewayError::new(ErrorKind::Bind {
                addr: listener.addr,
                source,
            })
        })?;
        bound.push((socket, addr));
    }
    let https_port = config
        .listeners
        .iter()
        .zip(&bound)
        .find(|(listener, _)| listener.tls)
        .map(|(_, (_, addr))| addr.port());
    let shared = Arc::new(Shared {
        runtime: ArcSwap::from_pointee(runtime),
        events,
        https_port,
    });
    let (stage, _) = watch::channel(Stage::Running);
    let connections = Arc::new(Semaphore::new(config.limits.max_connections.max(1)));
    let mut addrs = Vec::with_capacity(bound.len());
    let mut accept_tasks = Vec::with_capacity(bound.len());
    for (index, (socket, addr)) in bound.into_iter().enumerate() {
        addrs.push(addr);
        tracing::info!(%addr, "listening");
        accept_tasks.push(tokio::spawn(accept_loop(
            socket,
            index,
            shared.clone(),
            connections.clone(),
            stage.subscribe(),
        )));
    }
    metrics::gauge!("palisade_open_connections").set(0.0);
    let cert_watch = match CertWatch::start(shared.clone()) {
        Ok(watch) => Some(watch),
        Err(error) => {
            tracing::warn!(%error, "cannot watch TLS files; certificates are re-read on reload only");
            None
        }
    };
    Ok(GatewayHandle {
        shared,
        addrs,
        stage,
        accept_tasks,
        cert_watch,
    })
}

impl GatewayHandle {
    /// The bound addresses of the configured listeners, in configuration order.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.addrs.clone()
    }

    /// Swaps in a new configuration and inspector set. In-flight requests finish on the old one; TLS
    /// certificates are re-read. The listener set must not change.
    ///
    /// The caller owns reporting: this neither logs nor counts the reload (the `palisade` binary
    /// logs it once and counts `palisade_config_reloads_total`, failures before this call included).
    pub fn reload(
        &self,
        config: Arc<Config>,
        inspectors: Vec<Arc<dyn Inspector>>,
    ) -> Result<ReloadSummary, GatewayError> {
        let current = self.shared.runtime.load();
        if let Some(what) = listener_difference(&current.config, &config) {
            return Err(listeners_changed_error(what));
        }
        let summary = ReloadSummary::between(&current.config, &config, inspectors.len());
        let runtime = Arc::new(Runtime::build(config, inspectors)?);
        if let Some(cert_watch) = &self.cert_watch {
            cert_watch.sync(&runtime);
        }
        self.shared.runtime.store(runtime);
        Ok(summary)
    }

    /// Stops accepting, lets in-flight requests finish for up to `limits.shutdown_grace`, then closes
    /// whatever is left.
    pub async fn shutdown(self) {
        let grace = self.shared.runtime.load().config.limits.shutdown_grace;
        let _ = self.stage.send(Stage::Draining);
        for task in self.accept_tasks {
            let _ = task.await;
        }
        if tokio::time::timeout(grace, self.stage.closed())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; closing remaining connections");
            let _ = self.stage.send(Stage::Stopped);
            let _ = tokio::time::timeout(Duration::from_secs(1), self.stage.closed()).await;
        }
    }
}

async fn accept_loop(
    socket: TcpListener,
    listener_index: usize,
    shared: Arc<Shared>,
    connections: Arc<Semaphore>,
    mut stage: watch::Receiver<Stage>,
) {
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = stage.changed() => return,
        };
        let accepted = tokio::select! {
            accepted = socket.accept() => accepted,
            _ = stage.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        let stage = stage.clone();
        tokio::spawn(async move {
            metrics::gauge!("palisade_open_connections").increment(1.0);
            serve_connection(stream, peer, listener_index, shared, stage).await;
            metrics::gauge!("palisade_open_connections").decrement(1.0);
            drop(permit);
        });
    }
}

/// hyper's HTTP/1 header count limit when none is configured.
const HYPER_DEFAULT_MAX_HEADERS: usize = 100;

async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    listener_index: usize,
    shared: Arc<Shared>,
    stage: watch::Receiver<Stage>,
) {
    let _ = stream.set_nodelay(true);
    let runtime = shared.runtime.load_full();
    let Some(listener) = runtime.config.listeners.get(listener_index).cloned() else {
        return;
    };
    let limits = runtime.config.limits.clone();
    let local = stream.local_addr().unwrap_or(peer);
    let mut client = peer;
    if listener.proxy_protocol && is_trusted(&runtime.config.trusted_proxies.networks, peer.ip()) {
        match tokio::time::timeout(
            limits.header_read_timeout,
            crate::proxy_protocol::read_header(&mut stream),
        )
        .await
        {
            Ok(Ok(Some(source))) => client = source,
            Ok(Ok(None)) => {}
            Ok(Err(error)) => {
                tracing::debug!(%peer, %error, "PROXY protocol header refused");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "PROXY protocol header timed out");
                return;
            }
        }
    }
    let activity = Arc::new(ConnActivity::new());
    let timeouts = Some(GuardTimeouts {
        header_read: limits.header_read_timeout,
        keepalive_idle: limits.keepalive_idle_timeout,
    });
    let mut info = ConnInfo {
        client,
        local,
        tls: listener.tls,
        sni: None,
        tls_site: None,
        client_cert_subject: None,
        redirect_to_https: listener.redirect_to_https,
        activity: activity.clone(),
        shutdown: stage.clone(),
        forward_cache: Default::default(),
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    let max_head = usize::try_from(limits.max_header_bytes.0).unwrap_or(usize::MAX);
    let mut http1 = builder.http1();
    http1
        .timer(TokioTimer::new())
        // The HTTP/1 guard enforces the header and idle timeouts (see h1_guard).
        .header_read_timeout(None)
        .max_buf_size(max_head.max(8192));
    // The guard enforces the header count exactly. hyper's own limit is its default (100) unless
    // the configured one is higher: a configured limit makes hyper build its parse arrays on every
    // request instead of using inline ones (a 3 KB copy).
    if limits.max_headers > HYPER_DEFAULT_MAX_HEADERS {
        http1.max_headers(limits.max_headers);
    }
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(max_head).unwrap_or(u32::MAX))
        .max_concurrent_streams(256)
        .keep_alive_interval(Some(limits.keepalive_idle_timeout))
        .keep_alive_timeout(Duration::from_secs(20));
    if listener.tls {
        let acceptor =
            tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
        let handshake = async {
            let start = acceptor.await?;
            let sni = start.client_hello().server_name().map(str::to_owned);
            let Some(site_index) = runtime.tls_site_for_sni(sni.as_deref()) else {
                return Err(std::io::Error::other("no TLS site"));
            };
            let Some(tls) = runtime.sites[site_index].tls.as_ref() else {
                return Err(std::io::Error::other("no TLS site"));
            };
            let configs = tls.configs();
            let config = if listener.http2 {
                configs.with_h2.clone()
            } else {
                configs.http1_only.clone()
            };
            let stream = start.into_stream(config).await?;
            Ok((stream, sni, site_index))
        };
        let (tls_stream, sni, site_index) =
            match tokio::time::timeout(limits.header_read_timeout, handshake).await {
                Ok(Ok(done)) => done,
                Ok(Err(error)) => {
                    tracing::debug!(%peer, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
        let (_, session) = tls_stream.get_ref();
        let h2 = session.alpn_protocol() == Some(b"h2");
        info.client_cert_subject = session
            .peer_certificates()
            .and_then(|certs| certs.first())
            .and_then(|cert| crate::tls::certificate_subject(cert));
        info.sni = sni.map(|name| name.to_ascii_lowercase());
        info.tls_site = Some(site_index);
        if h2 {
            builder = builder.http2_only();
            run(builder, tls_stream, info, shared, stage).await;
        } else {
            builder = builder.http1_only();
            run(
                builder,
                Http1Guard::new(tls_stream, activity, max_head, limits.max_headers, timeouts)
                    .with_reporter(RefusalReporter {
                        shared: shared.clone(),
                        client_ip: client.ip(),
                    }),
                info,
                shared,
                stage,
            )
            .await;
        }
    } else {
        if !listener.http2 {
            builder = builder.http1_only();
        }
        run(
            builder,
            Http1Guard::new(stream, activity, max_head, limits.max_headers, timeouts)
                .with_reporter(RefusalReporter {
                    shared: shared.clone(),
                    client_ip: client.ip(),
                }),
            info,
            shared,
            stage,
        )
        .await;
    }
}

async fn run<S>(
    builder: auto::Builder<TokioExecutor>,
    stream: S,
    info: ConnInfo,
    shared: Arc<Shared>,
    mut stage: watch::Receiver<Stage>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let info = Arc::new(info);
    let service = hyper::service::service_fn(move |request| {
        let info = info.clone();
        let shared = shared.clone();
        async move {
            let request_id = crate::proxy::new_request_id();
            let exchange = crate::proxy::handle(request, info, shared, request_id.clone());
            // A panicking inspector must not end the connection without an answer: the client gets a
            // 500 page carrying the request id, and the panic is logged with it.
            let response = match std::panic::AssertUnwindSafe(exchange).catch_unwind().await {
                Ok(response) => response,
                Err(_) => {
                    tracing::error!(request.id = %request_id, "request handling panicked; answered 500");
                    crate::pages::internal_error(&request_id)
                }
            };
            Ok::<_, Infallible>(response)
        }
    });
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut draining = *stage.borrow() != Stage::Running;
    if draining {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            changed = stage.changed() => {
                if changed.is_err() || *stage.borrow() == Stage::Stopped {
                    return;
                }
                if !draining {
                    draining = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
