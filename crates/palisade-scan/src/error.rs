//! The crate's error type: opaque, with a private kind.

use std::fmt;

/// Why a scan step failed.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct ScanError {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    InvalidUrl(String),
    Transport(String),
    BudgetExhausted,
    TimeUp,
    Io(String),
    Labels(String),
    Baseline(String),
    Callback(String),
    OpenApi(String),
    State(String),
    Login(String),
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::InvalidUrl(m) => write!(f, "invalid URL: {m}"),
            Kind::Transport(m) => write!(f, "request failed: {m}"),
            Kind::BudgetExhausted => f.write_str("the request budget is exhausted"),
            Kind::TimeUp => f.write_str("the scan time limit is reached"),
            Kind::Io(m) => f.write_str(m),
            Kind::Labels(m) => write!(f, "invalid label file: {m}"),
            Kind::Baseline(m) => write!(f, "invalid baseline file: {m}"),
            Kind::Callback(m) => write!(f, "out-of-band receiver: {m}"),
            Kind::OpenApi(m) => write!(f, "OpenAPI document: {m}"),
            Kind::State(m) => write!(f, "scan state: {m}"),
            Kind::Login(m) => write!(f, "login failed: {m}"),
        }
    }
}

impl ScanError {
    pub(crate) fn invalid_url(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::InvalidUrl(message.into()),
        }
    }
    pub(crate) fn transport(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Transport(message.into()),
        }
    }
    pub(crate) fn budget_exhausted() -> Self {
        Self {
            kind: Kind::BudgetExhausted,
        }
    }
    pub(crate) fn time_up() -> Self {
        Self { kind: Kind::TimeUp }
    }
    pub(crate) fn io(path: &std::path::Path, error: &std::io::Error) -> Self {
        Self {
            kind: Kind::Io(format!("{}: {error}", path.display())),
        }
    }
    pub(crate) fn labels(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Labels(message.into()),
        }
    }
    pub(crate) fn baseline(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Baseline(message.into()),
        }
    }
    pub(crate) fn callback(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Callback(message.into()),
        }
    }

    pub(crate) fn openapi(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::OpenApi(message.into()),
        }
    }

    pub(crate) fn state(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::State(message.into()),
        }
    }

    pub(crate) fn login(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Login(message.into()),
        }
    }

    /// `true` when the scan stopped because its request budget or time limit ran out: the
    /// scan ends early but what was found so far is still reported.
    pub fn is_limit(&self) -> bool {
        matches!(self.kind, Kind::BudgetExhausted | Kind::TimeUp)
    }
}
