//! Connections to upstream servers: one lean pool per server of hyper client connections
//! (`client::conn::http1` senders, or one shared `http2` sender), over plain TCP or TLS (rustls).
//!
//! HTTP/1: a sender goes back into its server's pool as soon as the response head arrived; it is
//! handed out again only once hyper reports it ready (the previous response body was read to the
//! end). Checkout takes the most recently used ready sender and drops closed ones and ones idle for
//! longer than [`IDLE_TIMEOUT`] — no task per request, no timer. A pooled connection the upstream
//! closed in the meantime gives the request back unsent; it is then sent on another connection.
//! HTTP/2 (prior knowledge on `http://`, ALPN `h2` on `https://`): one connection per server,
//! multiplexed, re-established when it closes.
//!
//! Buffered HTTP/1 requests to `http://` servers take the lean client of `h1_upstream` instead
//! ([`ServerPool::send_buffered`]), with its own idle list per server.
//!
//! `https://` servers are verified against the Mozilla roots (webpki-roots) or the upstream's
//! `ca_file`; SNI is the URL's host name. Connect timeouts cover TCP, TLS and the HTTP/2 handshake.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{HeaderMap, Method, Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::body::{BoxError, ProxyBody};
use crate::h1_upstream::{self, Conn, IdleConns};

/// Pooled connections idle longer than this are closed when next seen.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Most HTTP/1 connections kept per server (busy ones included); more are closed after use.
const MAX_POOLED: usize = 1024;

/// Why an exchange with an upstream server failed.
#[derive(Debug)]
pub(crate) enum UpstreamError {
    /// No connection could be made (TCP, TLS or handshake, or the connect timeout).
    Connect(BoxError),
    /// The connection failed while sending the request or reading the response head.
    Exchange(hyper::Error),
    /// The lean HTTP/1 client's exchange failed.
    Http1(crate::h1_upstream::ExchangeError),
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Connect(error) => write!(f, "connect: {error}"),
            UpstreamError::Exchange(error) => {
                write!(f, "{error}")?;
                if let Some(source) = std::error::Error::source(error) {
                    write!(f, ": {source}")?;
                }
                Ok(())
            }
            UpstreamError::Http1(error) => write!(f, "{error}"),
        }
    }
}

/// How connections to an upstream's servers are made.
pub(crate) struct ConnectSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) http2: bool,
    /// hyper's HTTP/1 read buffer limit (response heads up to this size).
    pub(crate) max_buf_size: usize,
    /// For `https://` servers.
    pub(crate) tls: Option<tokio_rustls::TlsConnector>,
}

/// One server's connections.
pub(crate) struct ServerPool {
    host: String,
    port: u16,
    /// The TLS server name, for `https://` servers.
    tls_name: Option<ServerName<'static>>,
    http1: Mutex<Vec<Pooled>>,
    http2: Mutex<Option<http2::SendRequest<ProxyBody>>>,
    /// Idle connections of the lean HTTP/1 client (`http://` servers only).
    lean: Arc<IdleConns>,
}

struct Pooled {
    sender: http1::SendRequest<ProxyBody>,
    last_used: Instant,
}

impl ServerPool {
    /// A pool for `host:port`; `tls` for `https://` servers. Err when the host is not a valid TLS
    /// server name.
    pub(crate) fn new(host: &str, port: u16, tls: bool) -> Result<Self, String> {
        // IPv6 literals come bracketed from the URL.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls_name = if tls {
            Some(
                ServerName::try_from(host.clone())
                    .map_err(|e| format!("{host:?} is not a TLS server name: {e}"))?,
            )
        } else {
            None
        };
        Ok(ServerPool {
            host,
            port,
            tls_name,
            http1: Mutex::new(Vec::new()),
            http2: Mutex::new(None),
            lean: Arc::new(IdleConns::default()),
        })
    }

    /// Whether [`ServerPool::send_buffered`] serves this server with these settings: HTTP/1 to an
    /// `http://` server.
    pub(crate) fn takes_buffered(&self, settings: &ConnectSettings) -> bool {
        !settings.http2 && self.tls_name.is_none()
    }

    /// Sends a request whose body is in memory with the lean client (see `h1_upstream`); only when
    /// [`ServerPool::takes_buffered`]. `target` is the origin form; `headers` carry Host.
    pub(crate) async fn send_buffered(
        &self,
        settings: &ConnectSettings,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Response<ProxyBody>, UpstreamError> {
        let request = h1_upstream::encode_request(method, target, headers, body);
        while let Some(conn) = self.lean.checkout(IDLE_TIMEOUT) {
            match h1_upstream::exchange(
                conn,
                true,
                &request,
                method,
                settings.max_buf_size,
                &self.lean,
            )
            .await
            {
                Ok(response) => return Ok(response),
                // The upstream closed the idle connection as it was taken: try another.
                Err(error) if error.is_stale() && method.is_idempotent() => continue,
                Err(error) => return Err(UpstreamError::Http1(error)),
            }
        }
        let tcp = within(settings.connect_timeout, async {
            Ok(self.connect_tcp().await?)
        })
        .await?;
        h1_upstream::exchange(
            Conn::new(tcp),
            false,
            &request,
            method,
            settings.max_buf_size,
            &self.lean,
        )
        .await
        .map_err(UpstreamError::Http1)
    }

    /// Sends `request` (origin-form URI for HTTP/1, absolute for HTTP/2) on a pooled or new
    /// connection.
    pub(crate) async fn send(
        &self,
        settings: &ConnectSettings,
        request: Request<ProxyBody>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        // The connect paths (TCP, TLS, handshakes) are boxed so that this future, created for
        // every request, stays small: inline they made it about 14 KB, copied on every request.
        if settings.http2 {
            return Box::pin(self.send_http2(settings, request)).await;
        }
        let mut request = request;
        while let Some(mut sender) = self.checkout() {
            match sender.try_send_request(request).await {
                Ok(response) => {
                    self.checkin(sender);
                    return Ok(response);
                }
                Err(mut error) => match error.take_message() {
                    // Not written: the connection was gone before it could be used.
                    Some(unsent) => request = unsent,
                    None => return Err(UpstreamError::Exchange(error.into_error())),
                },
            }
        }
        let mut sender = Box::pin(self.connect_http1(settings)).await?;
        let response = sender
            .send_request(request)
            .await
            .map_err(UpstreamError::Exchange)?;
        self.checkin(sender);
        Ok(response)
    }

    /// The most recently used ready sender; drops closed and long-idle ones on the way.
    fn checkout(&self) -> Option<http1::SendRequest<ProxyBody>> {
        let mut pool = self.http1.lock().unwrap_or_else(|e| e.into_inner());
        let mut index = pool.len();
        let mut now = None;
        while index > 0 {
            index -= 1;
            let entry = &pool[index];
            if entry.sender.is_closed() {
                pool.swap_remove(index);
                continue;
            }
            if !entry.sender.is_ready() {
                continue;
            }
            let now = *now.get_or_insert_with(Instant::now);
            if now.duration_since(entry.last_used) > IDLE_TIMEOUT {
                pool.swap_remove(index);
                continue;
            }
            return Some(pool.swap_remove(index).sender);
        }
        None
    }

    fn checkin(&self, sender: http1::SendRequest<ProxyBody>) {
        if sender.is_closed() {
            return;
        }
        let mut pool = self.http1.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < MAX_POOLED {
            pool.push(Pooled {
                sender,
                last_used: Instant::now(),
            });
        }
    }

    async fn send_http2(
        &self,
        settings: &ConnectSettings,
        request: Request<ProxyBody>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let shared = self
            .http2
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|sender| !sender.is_closed())
            .cloned();
        let mut sender = match shared {
            Some(sender) => sender,
            None => {
                let sender = self.connect_http2(settings).await?;
                *self.http2.lock().unwrap_or_else(|e| e.into_inner()) = Some(sender.clone());
                sender
            }
        };
        sender.ready().await.map_err(UpstreamError::Exchange)?;
        sender
            .send_request(request)
            .await
            .map_err(UpstreamError::Exchange)
    }

    async fn connect_http1(
        &self,
        settings: &ConnectSettings,
    ) -> Result<http1::SendRequest<ProxyBody>, UpstreamError> {
        let handshake = async {
            let tcp = self.connect_tcp().await?;
            match (&settings.tls, &self.tls_name) {
                (Some(tls), Some(name)) => {
                    let stream = tls.connect(name.clone(), tcp).await?;
                    handshake_http1(stream, settings).await
                }
                _ => handshake_http1(tcp, settings).await,
            }
        };
        within(settings.connect_timeout, handshake).await
    }

    async fn connect_http2(
        &self,
        settings: &ConnectSettings,
    ) -> Result<http2::SendRequest<ProxyBody>, UpstreamError> {
        let handshake = async {
            let tcp = self.connect_tcp().await?;
            match (&settings.tls, &self.tls_name) {
                (Some(tls), Some(name)) => {
                    let stream = tls.connect(name.clone(), tcp).await?;
                    handshake_http2(stream).await
                }
                _ => handshake_http2(tcp).await,
            }
        };
        within(settings.connect_timeout, handshake).await
    }

    async fn connect_tcp(&self) -> std::io::Result<TcpStream> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
        tcp.set_nodelay(true)?;
        Ok(tcp)
    }
}

async fn within<T>(
    timeout: Duration,
    connect: impl Future<Output = Result<T, BoxError>>,
) -> Result<T, UpstreamError> {
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(error)) => Err(UpstreamError::Connect(error)),
        Err(_) => Err(UpstreamError::Connect(
            format!("no connection within {timeout:?}").into(),
        )),
    }
}

async fn handshake_http1<S>(
    stream: S,
    settings: &ConnectSettings,
) -> Result<http1::SendRequest<ProxyBody>, BoxError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::Builder::new()
        .max_buf_size(settings.max_buf_size)
        .handshake(TokioIo::new(stream))
        .await?;
    tokio::spawn(async move {
        if let Err(error) = connection.with_upgrades().await {
            tracing::debug!(%error, "upstream connection ended with an error");
        }
    });
    Ok(sender)
}

async fn handshake_http2<S>(stream: S) -> Result<http2::SendRequest<ProxyBody>, BoxError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .handshake(TokioIo::new(stream))
        .await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "upstream HTTP/2 connection ended with an error");
        }
    });
    Ok(sender)
}

/// The TLS client configuration of an upstream with `https://` servers: the Mozilla roots or the
/// CA certificates in `ca_file`; ALPN `h2` when the upstream speaks HTTP/2, else `http/1.1`.
pub(crate) fn tls_connector(
    ca_file: Option<&std::path::Path>,
    http2: bool,
) -> Result<tokio_rustls::TlsConnector, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("ca_file {}: no certificate", path.display()));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
