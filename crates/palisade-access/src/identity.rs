//! The authenticated identity forwarded upstream in headers the upstream can trust:
//!
//! ```text
//! X-Palisade-User: alice
//! X-Palisade-Roles: admin,writer
//! X-Palisade-Signature: t=1767225600,v1=<hex HMAC-SHA256>
//! ```
//!
//! The signature is HMAC-SHA256 with `[access] identity_secret` over
//! `"{t}\n{user}\n{roles}\n{request id}"` (the request id is the `X-Request-Id` the gateway sends
//! with the same request). Upstreams recompute it, compare in constant time and refuse old
//! timestamps. The gateway strips client-sent `X-Palisade-*` headers before adding these.
//! Characters outside visible ASCII in the user name are percent-encoded.

use hmac::{Hmac, Mac};
use http::{HeaderName, HeaderValue};
use palisade_core::Identity;
use sha2::Sha256;

/// `X-Palisade-User`.
pub const USER_HEADER: HeaderName = HeaderName::from_static("x-palisade-user");
/// `X-Palisade-Roles`.
pub const ROLES_HEADER: HeaderName = HeaderName::from_static("x-palisade-roles");
/// `X-Palisade-Signature`.
pub const SIGNATURE_HEADER: HeaderName = HeaderName::from_static("x-palisade-signature");

/// Signs identities for the upstream.
#[derive(Clone)]
pub struct IdentitySigner {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for IdentitySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentitySigner(***)")
    }
}

/// Percent-encodes everything but visible ASCII (and `%` itself).
fn header_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (0x21..0x7f).contains(&byte) && byte != b'%' || byte == b' ' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl IdentitySigner {
    /// A signer with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        IdentitySigner {
            mac: Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length"),
        }
    }

    /// The three headers for `identity` on request `request_id` at `unix_secs`.
    pub fn headers(
        &self,
        identity: &Identity,
        request_id: &str,
        unix_secs: u64,
    ) -> [(HeaderName, HeaderValue); 3] {
        let user = header_safe(&identity.subject);
        let roles = header_safe(&identity.roles.join(","));
        let signature = self.sign(&user, &roles, request_id, unix_secs);
        let value =
            |text: &str| HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static(""));
        [
            (USER_HEADER, value(&user)),
            (ROLES_HEADER, value(&roles)),
            (SIGNATURE_HEADER, value(&signature)),
        ]
    }

    /// `t=<unix>,v1=<hex>` over the header values as sent.
    pub fn sign(&self, user: &str, roles: &str, request_id: &str, unix_secs: u64) -> String {
        let mut mac = self.mac.clone();
        mac.update(format!("{unix_secs}\n{user}\n{roles}\n{request_id}").as_bytes());
        format!(
            "t={unix_secs},v1={}",
            hex::encode(mac.finalize().into_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::AuthMethod;

    #[test]
    fn signature_covers_user_roles_time_and_request() {
        let signer = IdentitySigner::new(b"shared with upstream");
        let identity = Identity {
            subject: "zoë\r\nX-Evil: 1".into(),
            method: AuthMethod::Jwt,
            key_id: None,
            roles: vec!["admin".into(), "ops".into()],
            scopes: vec![],
        };
        let [(_, user), (_, roles), (_, signature)] =
            signer.headers(&identity, "req-1", 1_700_000_000);
        assert_eq!(user, "zo%C3%AB%0D%0AX-Evil: 1");
        assert_eq!(roles, "admin,ops");
        let expected = signer.sign(
            "zo%C3%AB%0D%0AX-Evil: 1",
            "admin,ops",
            "req-1",
            1_700_000_000,
        );
        assert_eq!(signature.to_str().expect("ascii"), expected);
        assert_ne!(
            expected,
            signer.sign(
                "zo%C3%AB%0D%0AX-Evil: 1",
                "admin,ops",
                "req-2",
                1_700_000_000
            )
        );
        assert_ne!(
            expected,
            signer.sign("zo%C3%AB%0D%0AX-Evil: 1", "admin", "req-1", 1_700_000_000)
        );
        assert!(expected.starts_with("t=1700000000,v1="));
    }
}
