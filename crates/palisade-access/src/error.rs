//! The one error type of this crate: an opaque struct over a private kind enum.

use std::path::PathBuf;

/// Why access control could not be set up or a key store operation failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
#[non_exhaustive]
pub struct AccessError(#[from] ErrorKind);

#[derive(Debug, thiserror::Error)]
pub(crate) enum ErrorKind {
    #[error("access store {}: {context}", path.display())]
    Sqlite {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{context} {}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("JWT issuer {issuer}: {message}")]
    JwtKey { issuer: String, message: String },
    #[error("state store unreachable: {0}")]
    StateUnreachable(&'static str),
    #[error("state store: {context}")]
    State {
        context: &'static str,
        #[source]
        source: palisade_state::StateError,
    },
}

impl AccessError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        AccessError(ErrorKind::Invalid(message.into()))
    }

    pub(crate) fn sqlite(
        context: &'static str,
        path: &std::path::Path,
        source: rusqlite::Error,
    ) -> Self {
        AccessError(ErrorKind::Sqlite {
            context,
            path: path.to_owned(),
            source,
        })
    }

    pub(crate) fn io(
        context: &'static str,
        path: &std::path::Path,
        source: std::io::Error,
    ) -> Self {
        AccessError(ErrorKind::Io {
            context,
            path: path.to_owned(),
            source,
        })
    }

    pub(crate) fn state(context: &'static str, source: palisade_state::StateError) -> Self {
        AccessError(ErrorKind::State { context, source })
    }

    pub(crate) fn state_unreachable(context: &'static str) -> Self {
        AccessError(ErrorKind::StateUnreachable(context))
    }

    pub(crate) fn jwt_key(issuer: &str, message: impl Into<String>) -> Self {
        AccessError(ErrorKind::JwtKey {
            issuer: issuer.to_owned(),
            message: message.into(),
        })
    }
}
