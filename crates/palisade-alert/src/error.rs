//! The one error type of this crate: an opaque struct over a private kind enum.

use std::path::PathBuf;

/// Why an alert channel could not be set up or an alert not delivered.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct AlertError(#[from] ErrorKind);

#[derive(Debug, thiserror::Error)]
pub(crate) enum ErrorKind {
    #[error("invalid {what}: {value}")]
    Invalid { what: &'static str, value: String },
    #[error("cannot write alert file {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{channel} delivery failed: {reason}")]
    Delivery { channel: String, reason: String },
    #[error("cannot start the alert thread")]
    Thread(#[source] std::io::Error),
}

impl AlertError {
    pub(crate) fn invalid(what: &'static str, value: impl Into<String>) -> Self {
        ErrorKind::Invalid {
            what,
            value: value.into(),
        }
        .into()
    }
}
