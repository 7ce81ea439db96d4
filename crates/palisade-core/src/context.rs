//! Facts one inspector establishes during an exchange for later inspectors and the gateway:
//! the authenticated identity, headers to add to the request forwarded upstream, and headers
//! to add to the answer the client receives.
//!
//! Every [`RequestHead`](crate::RequestHead) carries one [`ExchangeContext`] shared by all
//! inspections of that exchange. Inspectors run in order, so an identity set by the access
//! inspector in phase 1 is visible to every inspector after it (rate limits by API key or user).

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use http::{HeaderMap, HeaderName, HeaderValue};

/// How an identity was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// An API key (`Identity::key_id` names the key).
    ApiKey,
    /// A JWT bearer token.
    Jwt,
    /// A verified TLS client certificate.
    ClientCertificate,
}

impl AuthMethod {
    /// Stable lowercase name (`api_key`, `jwt`, `client_certificate`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ApiKey => "api_key",
            AuthMethod::Jwt => "jwt",
            AuthMethod::ClientCertificate => "client_certificate",
        }
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user or client name (JWT `sub`, API key name, certificate subject).
    pub subject: String,
    /// How the caller authenticated.
    pub method: AuthMethod,
    /// The API key's id when `method` is [`AuthMethod::ApiKey`] (never the key itself).
    pub key_id: Option<String>,
    /// Palisade roles granted to the caller.
    pub roles: Vec<String>,
    /// OAuth-style scopes granted to the caller.
    pub scopes: Vec<String>,
}

/// Per-exchange facts shared by the inspections of one exchange and the gateway.
///
/// Cheap to create (no allocation until something is set); every method takes `&self`.
#[derive(Debug, Default)]
pub struct ExchangeContext {
    identity: OnceLock<Identity>,
    upstream_headers: Mutex<Option<HeaderMap>>,
    response_headers: Mutex<Option<HeaderMap>>,
}

impl ExchangeContext {
    /// A new, empty context behind an `Arc` (as [`RequestHead`](crate::RequestHead) holds it).
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Records the authenticated identity. The first identity set wins; returns false when one
    /// was already set.
    pub fn set_identity(&self, identity: Identity) -> bool {
        self.identity.set(identity).is_ok()
    }

    /// The authenticated identity, when an inspector established one.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.get()
    }

    /// Adds a header to the request the gateway forwards upstream. The gateway applies these after
    /// removing client-sent `X-Palisade-*` headers, so inspectors may set those.
    pub fn insert_upstream_header(&self, name: HeaderName, value: HeaderValue) {
        insert(&self.upstream_headers, name, value);
    }

    /// Takes the headers for the upstream request (the gateway calls this once).
    pub fn take_upstream_headers(&self) -> Option<HeaderMap> {
        take(&self.upstream_headers)
    }

    /// Adds a header to the answer the client receives: Palisade's own refusal page (for example
    /// `Retry-After` or `WWW-Authenticate` with a 429 or 401 block) or the upstream's response.
    pub fn insert_response_header(&self, name: HeaderName, value: HeaderValue) {
        insert(&self.response_headers, name, value);
    }

    /// Takes the headers for the client's answer (the gateway calls this once).
    pub fn take_response_headers(&self) -> Option<HeaderMap> {
        take(&self.response_headers)
    }
}

fn insert(slot: &Mutex<Option<HeaderMap>>, name: HeaderName, value: HeaderValue) {
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    guard.get_or_insert_with(HeaderMap::new).insert(name, value);
}

fn take(slot: &Mutex<Option<HeaderMap>>) -> Option<HeaderMap> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_identity_wins_and_headers_are_taken_once() {
        let context = ExchangeContext::default();
        let identity = Identity {
            subject: "alice".into(),
            method: AuthMethod::Jwt,
            key_id: None,
            roles: vec!["admin".into()],
            scopes: Vec::new(),
        };
        assert!(context.set_identity(identity.clone()));
        let other = Identity {
            subject: "mallory".into(),
            ..identity.clone()
        };
        assert!(!context.set_identity(other));
        assert_eq!(context.identity(), Some(&identity));

        context.insert_response_header(http::header::RETRY_AFTER, HeaderValue::from_static("60"));
        let taken = context.take_response_headers().expect("headers");
        assert_eq!(taken[http::header::RETRY_AFTER], "60");
        assert!(context.take_response_headers().is_none());
        assert!(context.take_upstream_headers().is_none());
    }
}
