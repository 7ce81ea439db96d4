//! The error type of every state-store operation.

use std::fmt;

/// Why a state-store operation failed.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
#[non_exhaustive]
pub struct StateError {
    kind: ErrorKind,
}

#[derive(Debug)]
enum ErrorKind {
    /// The SQLite file of the local store could not be opened or written.
    Persistence(rusqlite::Error),
    /// The data directory could not be created.
    DataDir(std::io::Error),
    /// The Redis backend is unreachable (and the feature has no local fallback).
    Unavailable(String),
    /// A Redis URL or other setting is invalid.
    InvalidSetting(String),
    /// Redis answered something this crate cannot read.
    Protocol(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Persistence(error) => write!(f, "state database error: {error}"),
            ErrorKind::DataDir(error) => write!(f, "cannot create the state directory: {error}"),
            ErrorKind::Unavailable(why) => write!(f, "state backend unavailable: {why}"),
            ErrorKind::InvalidSetting(why) => write!(f, "invalid state setting: {why}"),
            ErrorKind::Protocol(why) => {
                write!(f, "unexpected answer from the state backend: {why}")
            }
        }
    }
}

impl StateError {
    /// True when the backend could not be reached (a connection loss or timeout), as opposed to
    /// a misconfiguration or a broken database file.
    pub fn is_unavailable(&self) -> bool {
        matches!(self.kind, ErrorKind::Unavailable(_))
    }

    pub(crate) fn persistence(error: rusqlite::Error) -> Self {
        StateError {
            kind: ErrorKind::Persistence(error),
        }
    }

    pub(crate) fn data_dir(error: std::io::Error) -> Self {
        StateError {
            kind: ErrorKind::DataDir(error),
        }
    }

    pub(crate) fn unavailable(why: impl Into<String>) -> Self {
        StateError {
            kind: ErrorKind::Unavailable(why.into()),
        }
    }

    pub(crate) fn invalid_setting(why: impl Into<String>) -> Self {
        StateError {
            kind: ErrorKind::InvalidSetting(why.into()),
        }
    }

    pub(crate) fn protocol(why: impl Into<String>) -> Self {
        StateError {
            kind: ErrorKind::Protocol(why.into()),
        }
    }
}

impl From<rusqlite::Error> for StateError {
    fn from(error: rusqlite::Error) -> Self {
        StateError::persistence(error)
    }
}
