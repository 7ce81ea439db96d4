//! The crate's error type: an opaque struct with a private kind.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error that stops a lint run (unreadable input, bad models or configuration).
///
/// Files that fail to *parse* are not errors: they are reported as findings of rule `PLE001`
/// and the run continues.
#[derive(Debug)]
#[non_exhaustive]
pub struct LintError {
    kind: ErrorKind,
}

#[derive(Debug)]
enum ErrorKind {
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Models {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    Baseline {
        path: PathBuf,
        message: String,
    },
    Walk {
        message: String,
    },
}

impl LintError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        LintError {
            kind: ErrorKind::Io {
                path: path.to_owned(),
                source,
            },
        }
    }

    pub(crate) fn models(path: &Path, line: usize, column: usize, message: String) -> Self {
        LintError {
            kind: ErrorKind::Models {
                path: path.to_owned(),
                line,
                column,
                message,
            },
        }
    }

    pub(crate) fn baseline(path: &Path, message: String) -> Self {
        LintError {
            kind: ErrorKind::Baseline {
                path: path.to_owned(),
                message,
            },
        }
    }

    pub(crate) fn walk(message: String) -> Self {
        LintError {
            kind: ErrorKind::Walk { message },
        }
    }
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ErrorKind::Models {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "{}:{line}:{column}: invalid taint model: {message}",
                path.display()
            ),
            ErrorKind::Baseline { path, message } => {
                write!(f, "{}: invalid baseline file: {message}", path.display())
            }
            ErrorKind::Walk { message } => write!(f, "cannot list files: {message}"),
        }
    }
}

impl std::error::Error for LintError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
