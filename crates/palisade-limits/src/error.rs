//! The error of building the limits' state store.

/// Why the state store for rate limits, quotas and bans could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
#[non_exhaustive]
pub struct LimitsError {
    kind: ErrorKind,
}

#[derive(Debug, thiserror::Error)]
enum ErrorKind {
    #[error("cannot open the state store: {0}")]
    Store(#[from] palisade_state::StateError),
    #[error("[state] backend = \"redis\" needs redis_url")]
    MissingRedisUrl,
}

impl LimitsError {
    pub(crate) fn missing_redis_url() -> Self {
        LimitsError {
            kind: ErrorKind::MissingRedisUrl,
        }
    }
}

impl From<palisade_state::StateError> for LimitsError {
    fn from(error: palisade_state::StateError) -> Self {
        LimitsError {
            kind: ErrorKind::Store(error),
        }
    }
}
