//! The gateway's error type: opaque, with a private kind, displayed for humans.

use std::fmt;
use std::net::SocketAddr;

/// Why the gateway could not start or reload.
#[derive(Debug)]
pub struct GatewayError {
    kind: ErrorKind,
}

#[derive(Debug)]
pub(crate) enum ErrorKind {
    /// A listener could not be bound.
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The configuration cannot be served (unknown upstream, bad server URL, …).
    Config(String),
    /// TLS material could not be loaded.
    Tls { site: String, message: String },
    /// A reload tried to change the listener set.
    ListenersChanged(String),
}

impl GatewayError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        GatewayError { kind }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        GatewayError::new(ErrorKind::Config(message.into()))
    }

    pub(crate) fn tls(site: &str, message: impl Into<String>) -> Self {
        GatewayError::new(ErrorKind::Tls {
            site: site.to_owned(),
            message: message.into(),
        })
    }

    /// True when a reload was refused because the listener set differs.
    pub fn is_listener_change(&self) -> bool {
        matches!(self.kind, ErrorKind::ListenersChanged(_))
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            ErrorKind::Config(message) => write!(f, "configuration cannot be served: {message}"),
            ErrorKind::Tls { site, message } => write!(f, "TLS of site {site}: {message}"),
            ErrorKind::ListenersChanged(what) => write!(
                f,
                "listeners cannot change on reload (restart instead): {what}"
            ),
        }
    }
}

impl std::error::Error for GatewayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Bind { source, .. } => Some(source),
            _ => None,
        }
    }
}
