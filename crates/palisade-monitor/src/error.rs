//! The one error type of this crate: an opaque struct over a private kind enum.

use std::path::PathBuf;

/// Why the monitor could not start, load or save its state.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct MonitorError(#[from] ErrorKind);

#[derive(Debug, thiserror::Error)]
pub(crate) enum ErrorKind {
    #[error("cannot open GeoIP database {}: {reason}", path.display())]
    Geo { path: PathBuf, reason: String },
    #[error("monitor state store")]
    Store(#[source] palisade_events::EventsError),
    #[error("cannot start the monitor thread")]
    Thread(#[source] std::io::Error),
    #[error("ban could not be applied: {0}")]
    Ban(String),
}

impl MonitorError {
    /// An error from whatever enforces bans (its message; never a secret).
    pub fn ban(message: impl Into<String>) -> Self {
        ErrorKind::Ban(message.into()).into()
    }
}

impl From<palisade_events::EventsError> for MonitorError {
    fn from(source: palisade_events::EventsError) -> Self {
        ErrorKind::Store(source).into()
    }
}
