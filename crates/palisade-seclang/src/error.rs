//! Parse errors: one opaque type naming `file:line:column` and what was wrong.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a directive (or part of one) came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file (or the origin name of an in-memory text).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters of bytes; the line is treated as bytes).
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What went wrong (private: callers match on the message, never on the kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Io { path: PathBuf, message: String },
    Limit(String),
    Syntax(String),
    UnknownDirective(String),
    UnknownVariable(String),
    UnknownOperator(String),
    UnknownTransformation(String),
    UnknownAction(String),
    InvalidValue { what: &'static str, value: String },
    IncludeCycle(PathBuf),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Io { path, message } => {
                write!(f, "cannot read {}: {message}", path.display())
            }
            ErrorKind::Limit(message) => write!(f, "limit exceeded: {message}"),
            ErrorKind::Syntax(message) => write!(f, "syntax error: {message}"),
            ErrorKind::UnknownDirective(name) => {
                write!(f, "unknown or unsupported directive `{name}`")
            }
            ErrorKind::UnknownVariable(name) => {
                write!(f, "unknown or unsupported variable `{name}`")
            }
            ErrorKind::UnknownOperator(name) => {
                write!(f, "unknown or unsupported operator `@{name}`")
            }
            ErrorKind::UnknownTransformation(name) => {
                write!(f, "unknown or unsupported transformation `{name}`")
            }
            ErrorKind::UnknownAction(name) => write!(f, "unknown or unsupported action `{name}`"),
            ErrorKind::InvalidValue { what, value } => write!(f, "invalid {what}: `{value}`"),
            ErrorKind::IncludeCycle(path) => write!(f, "include cycle through {}", path.display()),
        }
    }
}

/// A SecLang parse (or load) error, naming `file:line:column` when known.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError {
    kind: ErrorKind,
    location: Option<Location>,
}

impl ParseError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        ParseError {
            kind,
            location: None,
        }
    }

    pub(crate) fn at(mut self, location: Location) -> Self {
        if self.location.is_none() {
            self.location = Some(location);
        }
        self
    }

    /// Where the error is, when it is tied to a place in a file.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{location}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for ParseError {}

pub(crate) fn syntax(message: impl Into<String>) -> ParseError {
    ParseError::new(ErrorKind::Syntax(message.into()))
}

pub(crate) fn invalid(what: &'static str, value: &str) -> ParseError {
    ParseError::new(ErrorKind::InvalidValue {
        what,
        value: value.to_owned(),
    })
}
