//! The admin listener: `/healthz` (the process is alive), `/readyz` (listeners
//! bound and configuration loaded; 503 during start-up and shutdown) and
//! `/metrics` (Prometheus text from the global `metrics` recorder).
//!
//! A few lines of hyper rather than a framework: three fixed GET routes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::Full;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How often histograms and idle metrics are maintained.
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Whether `/readyz` answers 200.
#[derive(Debug, Clone, Default)]
pub(crate) struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub(crate) fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Installs the Prometheus recorder behind the `metrics` facade (once per process)
/// and records `palisade_build_info`.
pub(crate) fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    metrics::describe_gauge!(
        "palisade_build_info",
        "Always 1; labels carry the build's version."
    );
    metrics::gauge!("palisade_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    metrics::describe_counter!(
        "palisade_config_reloads_total",
        "Configuration reload attempts by result (ok, error)."
    );
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(METRICS_UPKEEP_INTERVAL);
        loop {
            ticks.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// A running admin listener.
pub(crate) struct AdminServer {
    /// Bound address.
    pub(crate) addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl AdminServer {
    pub(crate) async fn shutdown(self) {
        // Err only when the accept loop already ended.
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "admin listener task ended abnormally");
        }
    }
}

/// Binds the admin listener and serves it in the background.
pub(crate) async fn start(
    addr: SocketAddr,
    metrics: PrometheusHandle,
    readiness: Readiness,
) -> anyhow::Result<AdminServer> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot bind the admin listener on {addr}"))?;
    let addr = listener.local_addr().context("admin listener address")?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let metrics = metrics.clone();
                    let readiness = readiness.clone();
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                            let answer = answer(request.method(), request.uri().path(), &metrics, &readiness);
                            async move { Ok::<_, std::convert::Infallible>(answer) }
                        });
                        let io = hyper_util::rt::TokioIo::new(stream);
                        if let Err(error) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                            tracing::debug!(%error, "admin connection error");
                        }
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        connections.shutdown().await;
    });
    tracing::info!(%addr, "admin listener ready");
    Ok(AdminServer { addr, stop, task })
}

fn answer(
    method: &Method,
    path: &str,
    metrics: &PrometheusHandle,
    readiness: &Readiness,
) -> Response<Full<Bytes>> {
    let text = "text/plain; charset=utf-8";
    if method != Method::GET && method != Method::HEAD {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            text,
            "method not allowed\n".into(),
        );
    }
    match path {
        "/healthz" => respond(StatusCode::OK, text, "ok\n".into()),
        "/readyz" if readiness.get() => respond(StatusCode::OK, text, "ready\n".into()),
        "/readyz" => respond(StatusCode::SERVICE_UNAVAILABLE, text, "not ready\n".into()),
        "/metrics" => respond(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        _ => respond(
            StatusCode::NOT_FOUND,
            text,
            "not found; try /healthz, /readyz or /metrics\n".into(),
        ),
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}
