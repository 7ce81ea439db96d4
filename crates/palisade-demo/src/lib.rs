//! The built-in demo web application that `palisade demo` puts behind the gateway.
//!
//! A deliberately small site with the kinds of endpoints attacks target: a login
//! form with a session cookie, a search page that reflects its query, a JSON API,
//! a file upload and a page that needs a session. It is safe itself (everything
//! reflected is HTML-escaped, bodies are size-limited), so the demo shows what
//! the gateway blocks, not a real vulnerability.
//!
//! Design notes: one hyper HTTP/1.1 server on a Tokio listener, state in memory
//! (sessions, items), nothing on disk. [`start_demo_app`] binds and returns at
//! once; [`DemoApp::shutdown`] stops accepting and closes open connections.
#![forbid(unsafe_code)]

mod app;
mod multipart;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use app::{DEMO_PASSWORD, DEMO_USER, SESSION_COOKIE};

/// A running demo application.
#[derive(Debug)]
pub struct DemoApp {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl DemoApp {
    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(self) {
        // The receiver is gone only if the server task already ended.
        let _ = self.stop.send(());
        if let Err(error) = self.server.await {
            tracing::warn!(%error, "demo app server task ended abnormally");
        }
    }
}

/// Why the demo app could not start.
#[derive(Debug, thiserror::Error)]
#[error("demo app: cannot listen on {addr}: {source}")]
pub struct DemoError {
    addr: SocketAddr,
    source: std::io::Error,
}

/// Starts the demo application on `addr` (use port 0 for an ephemeral port).
pub async fn start_demo_app(addr: SocketAddr) -> Result<DemoApp, DemoError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| DemoError { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| DemoError { addr, source })?;
    let (stop, stopped) = oneshot::channel();
    let state = Arc::new(app::State::default());
    let server = tokio::spawn(serve(listener, state, stopped));
    Ok(DemoApp { addr, stop, server })
}

async fn serve(listener: TcpListener, state: Arc<app::State>, mut stopped: oneshot::Receiver<()>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "demo app: accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let state = Arc::clone(&state);
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, std::convert::Infallible>(app::handle(&state, request).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    if let Err(error) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                        tracing::debug!(%error, "demo app: connection error");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}
