//! The crate's error type: one opaque struct whose message names the file (and line, for
//! malformed input) so that a scan can report it and carry on.

use std::path::{Path, PathBuf};

/// An error from reading lockfiles or advisories, or from the advisory store.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
#[non_exhaustive]
pub struct AuditError {
    kind: ErrorKind,
}

#[derive(Debug, thiserror::Error)]
enum ErrorKind {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: larger than the {limit}-byte limit", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{}: more than {limit} entries", path.display())]
    TooMany { path: PathBuf, limit: usize },
    #[error("advisory store {}: {source}", path.display())]
    Store {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("no advisory store at {} (run `palisade audit db import PATH` first)", path.display())]
    NoStore { path: PathBuf },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

impl AuditError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self {
            kind: ErrorKind::Io {
                path: path.to_owned(),
                source,
            },
        }
    }

    pub(crate) fn malformed(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Malformed {
                path: path.to_owned(),
                line: line.max(1),
                message: message.into(),
            },
        }
    }

    pub(crate) fn too_large(path: &Path, limit: u64) -> Self {
        Self {
            kind: ErrorKind::TooLarge {
                path: path.to_owned(),
                limit,
            },
        }
    }

    pub(crate) fn too_many(path: &Path, limit: usize) -> Self {
        Self {
            kind: ErrorKind::TooMany {
                path: path.to_owned(),
                limit,
            },
        }
    }

    pub(crate) fn store(path: &Path, source: rusqlite::Error) -> Self {
        Self {
            kind: ErrorKind::Store {
                path: path.to_owned(),
                source,
            },
        }
    }

    pub(crate) fn no_store(path: &Path) -> Self {
        Self {
            kind: ErrorKind::NoStore {
                path: path.to_owned(),
            },
        }
    }

    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Invalid {
                path: path.to_owned(),
                message: message.into(),
            },
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match &self.kind {
            ErrorKind::Io { path, .. }
            | ErrorKind::Malformed { path, .. }
            | ErrorKind::TooLarge { path, .. }
            | ErrorKind::TooMany { path, .. }
            | ErrorKind::Store { path, .. }
            | ErrorKind::NoStore { path }
            | ErrorKind::Invalid { path, .. } => path,
        }
    }

    /// The 1-based line of malformed input, when known.
    pub fn line(&self) -> Option<usize> {
        match &self.kind {
            ErrorKind::Malformed { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// Whether the advisory store is missing (not yet imported).
    pub fn is_missing_store(&self) -> bool {
        matches!(self.kind, ErrorKind::NoStore { .. })
    }
}

/// Reads a file of at most `limit` bytes as UTF-8.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<String, AuditError> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| AuditError::io(path, e))?;
    let mut text = String::new();
    let read = file
        .take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|e| AuditError::io(path, e))?;
    if read as u64 > limit {
        return Err(AuditError::too_large(path, limit));
    }
    Ok(text)
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}
