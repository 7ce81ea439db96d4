//! Header rewriting in both directions.
//!
//! Requests: hop-by-hop headers (and every name listed in `Connection`) are removed, client supplied
//! `X-Palisade-*` headers are dropped, `X-Forwarded-For` is appended to (only kept from trusted peers),
//! `X-Forwarded-Proto`, `X-Forwarded-Host`, RFC 7239 `Forwarded` and `X-Request-Id` are set.
//!
//! Responses: hop-by-hop and leaky headers (`Server`, `X-Powered-By`, …) are removed, the site's security
//! headers are added unless the upstream set them, and `Set-Cookie` is hardened.

use std::net::{IpAddr, SocketAddr};

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use ipnet::IpNet;

use crate::error::GatewayError;
use crate::runtime::config_header_value;

/// Hop-by-hop headers of RFC 9110 §7.6.1 plus the common non-standard ones.
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "proxy-authorization"
            | "proxy-authenticate"
            | "keep-alive"
            | "proxy-connection"
    )
}

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// Removes hop-by-hop headers, including every header named in `Connection`.
pub(crate) fn remove_hop_by_hop(headers: &mut HeaderMap) {
    if headers.contains_key(header::CONNECTION) {
        // Names listed in (every) Connection header. `close` names no header, and `keep-alive`
        // and `upgrade` (the usual tokens) are hop-by-hop anyway: only other names are parsed.
        let listed: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|name| {
                !["", "close", "keep-alive", "upgrade"]
                    .iter()
                    .any(|usual| name.eq_ignore_ascii_case(usual))
            })
            .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
            .collect();
        for name in listed {
            headers.remove(name);
        }
    }
    remove_matching(headers, is_hop_by_hop);
}

/// Removes every header whose (lowercase) name `doomed` accepts. The common case, none, is one
/// pass over the map's few names with a string match each (no hashing, no allocation).
fn remove_matching(headers: &mut HeaderMap, doomed: fn(&str) -> bool) {
    // One scan per removed name (a head has few), instead of collecting the names first.
    while let Some(name) = headers.keys().find(|name| doomed(name.as_str())).cloned() {
        headers.remove(name);
    }
}

/// Removes every `X-Palisade-*` header (they are Palisade's to set).
pub(crate) fn remove_palisade_headers(headers: &mut HeaderMap) {
    remove_matching(headers, |name| name.starts_with("x-palisade-"));
}

pub(crate) fn is_trusted(networks: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical_ip(ip);
    networks.iter().any(|net| net.contains(&ip))
}

fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The client address: the peer, or — when the peer is a trusted proxy — the rightmost address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub(crate) fn resolve_client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    if trusted.is_empty() || !is_trusted(trusted, peer) {
        return peer;
    }
    let mut candidate = peer;
    let entries = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect::<Vec<_>>();
    for entry in entries.iter().rev() {
        let Some(ip) = parse_forwarded_ip(entry.trim()) else {
            // Garbage in the chain: stop trusting what is left of it.
            return candidate;
        };
        candidate = ip;
        if !is_trusted(trusted, ip) {
            return ip;
        }
    }
    candidate
}

fn parse_forwarded_ip(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    entry.parse::<SocketAddr>().ok().map(|addr| addr.ip())
}

/// Facts needed to write the forwarding headers.
pub(crate) struct ForwardFacts<'a> {
    pub(crate) peer: IpAddr,
    pub(crate) peer_trusted: bool,
    pub(crate) client_ip: IpAddr,
    pub(crate) tls: bool,
    pub(crate) host: &'a str,
    pub(crate) server_addr: SocketAddr,
    pub(crate) request_id: &'a HeaderValue,
}

/// The forwarding header values of a connection's last request from an untrusted peer. They depend
/// only on the connection and the host, so the next request with the same host reuses them (a
/// reference-count increment each) instead of formatting and allocating five values.
#[derive(Debug, Default)]
pub(crate) struct ForwardCache(std::sync::Mutex<Option<CachedForwarding>>);

#[derive(Debug)]
struct CachedForwarding {
    host: String,
    client_ip: IpAddr,
    x_forwarded_for: Option<HeaderValue>,
    x_forwarded_host: Option<HeaderValue>,
    forwarded: Option<HeaderValue>,
}

/// Sets `X-Forwarded-*`, `Forwarded` and `X-Request-Id` on a request going upstream.
pub(crate) fn set_forwarding_headers(
    headers: &mut HeaderMap,
    facts: &ForwardFacts<'_>,
    cache: &ForwardCache,
) {
    let proto = if facts.tls { "https" } else { "http" };
    headers.reserve(5);
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    headers.insert(X_REQUEST_ID, facts.request_id.clone());
    // A trusted peer's own chain changes per request: only untrusted peers' values are cached.
    let mut cached = (!facts.peer_trusted).then(|| cache.0.lock().ok()).flatten();
    if let Some(Some(values)) = cached.as_deref()
        && values.host == facts.host
        && values.client_ip == facts.client_ip
    {
        put_or_remove(headers, X_FORWARDED_FOR, values.x_forwarded_for.clone());
        put_or_remove(headers, X_FORWARDED_HOST, values.x_forwarded_host.clone());
        put_or_remove(headers, FORWARDED, values.forwarded.clone());
        return;
    }
    // X-Forwarded-For: keep a trusted peer's chain and append the peer; otherwise start over.
    let mut xff = String::with_capacity(48);
    if facts.peer_trusted
        && let Some(previous) = join_values(headers, &X_FORWARDED_FOR)
    {
        xff.push_str(&previous);
        xff.push_str(", ");
    }
    push_ip(&mut xff, facts.peer);
    let x_forwarded_for = HeaderValue::from_str(&xff).ok();
    let x_forwarded_host = HeaderValue::from_str(facts.host).ok();
    // Forwarded (RFC 7239): one element for this hop, after a trusted peer's elements.
    let mut forwarded = String::with_capacity(96 + facts.host.len());
    if facts.peer_trusted
        && let Some(previous) = join_values(headers, &FORWARDED)
    {
        forwarded.push_str(&previous);
        forwarded.push_str(", ");
    }
    forwarded.push_str("for=");
    push_node(&mut forwarded, facts.client_ip);
    forwarded.push_str(";by=");
    push_node(&mut forwarded, facts.server_addr.ip());
    forwarded.push_str(";host=\"");
    forwarded.push_str(facts.host);
    forwarded.push_str("\";proto=");
    forwarded.push_str(proto);
    let forwarded = HeaderValue::from_str(&forwarded).ok();
    // `insert` replaces every earlier value (an untrusted client's included).
    put_or_remove(headers, X_FORWARDED_FOR, x_forwarded_for.clone());
    put_or_remove(headers, X_FORWARDED_HOST, x_forwarded_host.clone());
    put_or_remove(headers, FORWARDED, forwarded.clone());
    if let Some(slot) = cached.as_deref_mut() {
        *slot = Some(CachedForwarding {
            host: facts.host.to_owned(),
            client_ip: facts.client_ip,
            x_forwarded_for,
            x_forwarded_host,
            forwarded,
        });
    }
}

/// Replaces every value of `name` with `value`, or removes the header when there is none.
fn put_or_remove(headers: &mut HeaderMap, name: HeaderName, value: Option<HeaderValue>) {
    match value {
        Some(value) => drop(headers.insert(name, value)),
        None => drop(headers.remove(name)),
    }
}

/// Appends an address as text. IPv4 (every request's common case) is written digit by digit:
/// `core::fmt`'s padding-aware `Display` for `Ipv4Addr` was a measurable share of a request.
pub(crate) fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (index, octet) in v4.octets().into_iter().enumerate() {
                if index > 0 {
                    out.push('.');
                }
                if octet >= 100 {
                    out.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    out.push(char::from(b'0' + octet / 10 % 10));
                }
                out.push(char::from(b'0' + octet % 10));
            }
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{v6}");
        }
    }
}

/// Appends an RFC 7239 node: IPv4 bare, IPv6 quoted and bracketed.
fn push_node(out: &mut String, ip: IpAddr) {
    if ip.is_ipv6() {
        out.push_str("\"[");
        push_ip(out, ip);
        out.push_str("]\"");
    } else {
        push_ip(out, ip);
    }
}

fn join_values(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut values = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .peekable();
    values.peek()?;
    Some(values.collect::<Vec<_>>().join(", "))
}

/// Leaky response headers that name the upstream's software.
fn is_leaky(name: &str) -> bool {
    matches!(
        name,
        "server"
            | "x-powered-by"
            | "x-aspnet-version"
            | "x-aspnetmvc-version"
            | "x-generator"
            | "x-runtime"
    )
}

/// A site's header policy, compiled to header values once per configuration.
pub(crate) struct SecurityHeaders {
    hsts: Option<HeaderValue>,
    /// Always set (HSTS excepted): name and value.
    set: Vec<(HeaderName, HeaderValue)>,
    strip_leaky: bool,
    harden_cookies: bool,
    samesite: String,
}

impl SecurityHeaders {
    pub(crate) fn compile(
        site: &str,
        policy: &palisade_config::HeaderPolicy,
    ) -> Result<Self, GatewayError> {
        let mut set = Vec::new();
        let csp_name = if policy.csp_report_only {
            header::CONTENT_SECURITY_POLICY_REPORT_ONLY
        } else {
            header::CONTENT_SECURITY_POLICY
        };
        let entries: [(HeaderName, &str, &str); 6] = [
            (
                csp_name,
                "content_security_policy",
                &policy.content_security_policy,
            ),
            (
                header::X_FRAME_OPTIONS,
                "frame_options",
                &policy.frame_options,
            ),
            (
                header::REFERRER_POLICY,
                "referrer_policy",
                &policy.referrer_policy,
            ),
            (
                HeaderName::from_static("permissions-policy"),
                "permissions_policy",
                &policy.permissions_policy,
            ),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                "cross_origin_opener_policy",
                &policy.cross_origin_opener_policy,
            ),
            (
                HeaderName::from_static("cross-origin-resource-policy"),
                "cross_origin_resource_policy",
                &policy.cross_origin_resource_policy,
            ),
        ];
        for (name, what, value) in entries {
            if let Some(value) = config_header_value(site, what, value)? {
                set.push((name, value));
            }
        }
        if policy.content_type_options {
            set.push((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ));
        }
        let samesite = match policy.cookie_samesite.to_ascii_lowercase().as_str() {
            "lax" | "" => "Lax".to_owned(),
            "strict" => "Strict".to_owned(),
            "none" => "None".to_owned(),
            other => {
                return Err(GatewayError::config(format!(
                    "site {site:?}: cookie_samesite {other:?} must be Lax, Strict or None"
                )));
            }
        };
        Ok(SecurityHeaders {
            hsts: config_header_value(site, "hsts", &policy.hsts)?,
            set,
            strip_leaky: policy.strip_leaky_headers,
            harden_cookies: policy.harden_cookies,
            samesite,
        })
    }

    /// Applies the policy to a response (upstream's or Palisade's own).
    pub(crate) fn apply(&self, headers: &mut HeaderMap, tls: bool) {
        if self.strip_leaky {
            remove_matching(headers, is_leaky);
        }
        // One growth of the map for every header the policy may add, instead of one per insert.
        headers.reserve(self.set.len() + 1);
        if tls && let Some(hsts) = &self.hsts {
            headers
                .entry(header::STRICT_TRANSPORT_SECURITY)
                .or_insert_with(|| hsts.clone());
        }
        for (name, value) in &self.set {
            headers.entry(name).or_insert_with(|| value.clone());
        }
        if self.harden_cookies && headers.contains_key(header::SET_COOKIE) {
            let cookies: Vec<HeaderValue> = headers
                .get_all(header::SET_COOKIE)
                .iter()
                .cloned()
                .collect();
            headers.remove(header::SET_COOKIE);
            for cookie in cookies {
                headers.append(
                    header::SET_COOKIE,
                    harden_cookie(cookie, tls, &self.samesite),
                );
            }
        }
    }
}

/// Adds `Secure` (TLS only), `HttpOnly` and `SameSite` to a `Set-Cookie` value unless present.
/// `SameSite=None` requires `Secure`; on plain HTTP the policy falls back to `Lax` then.
fn harden_cookie(cookie: HeaderValue, tls: bool, samesite: &str) -> HeaderValue {
    let Ok(text) = cookie.to_str() else {
        return cookie;
    };
    let attributes: Vec<String> = text
        .split(';')
        .skip(1)
        .map(|a| {
            a.trim()
                .split('=')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        })
        .collect();
    let has = |name: &str| attributes.iter().any(|a| a == name);
    let mut out = text.trim_end().trim_end_matches(';').to_owned();
    if tls && !has("secure") {
        out.push_str("; Secure");
    }
    if !has("httponly") {
        out.push_str("; HttpOnly");
    }
    if !has("samesite") {
        let value = if samesite == "None" && !tls {
            "Lax"
        } else {
            samesite
        };
        out.push_str("; SameSite=");
        out.push_str(value);
    }
    HeaderValue::from_str(&out).unwrap_or(cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        for text in [
            "0.0.0.0",
            "9.10.99.100",
            "127.0.0.1",
            "255.255.255.255",
            "192.168.1.20",
            "::1",
            "2001:db8::7",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            let mut out = String::new();
            push_ip(&mut out, ip);
            assert_eq!(out, ip.to_string());
        }
        let mut node = String::new();
        push_node(&mut node, "2001:db8::7".parse().unwrap());
        assert_eq!(node, "\"[2001:db8::7]\"");
    }

    #[test]
    fn forwarding_values_are_reused_per_host_and_never_for_trusted_peers() {
        let request_id = HeaderValue::from_static("id-1");
        let facts = |host, peer_trusted| ForwardFacts {
            peer: "10.1.2.3".parse().unwrap_or_else(|_| unreachable!()),
            peer_trusted,
            client_ip: "10.1.2.3".parse().unwrap_or_else(|_| unreachable!()),
            tls: false,
            host,
            server_addr: "127.0.0.1:8080".parse().unwrap_or_else(|_| unreachable!()),
            request_id: &request_id,
        };
        let forwarded = |cache: &ForwardCache, host, trusted, client_xff: Option<&'static str>| {
            let mut headers = HeaderMap::new();
            if let Some(xff) = client_xff {
                headers.insert(X_FORWARDED_FOR, HeaderValue::from_static(xff));
                headers.insert(X_FORWARDED_HOST, HeaderValue::from_static("evil.example"));
            }
            set_forwarding_headers(&mut headers, &facts(host, trusted), cache);
            let get = |name: &HeaderName| {
                headers
                    .get(name)
                    .map(|v| v.to_str().unwrap_or("?").to_owned())
            };
            (
                get(&X_FORWARDED_FOR),
                get(&X_FORWARDED_HOST),
                get(&FORWARDED),
            )
        };
        let cache = ForwardCache::default();
        let first = forwarded(&cache, "a.example", false, None);
        assert_eq!(first.0.as_deref(), Some("10.1.2.3"));
        assert_eq!(
            first.2.as_deref(),
            Some("for=10.1.2.3;by=127.0.0.1;host=\"a.example\";proto=http")
        );
        // Reused values still replace what the client sent.
        assert_eq!(
            forwarded(&cache, "a.example", false, Some("6.6.6.6")),
            first
        );
        let other = forwarded(&cache, "b.example", false, None);
        assert_eq!(other.1.as_deref(), Some("b.example"));
        assert_eq!(
            other.2.as_deref(),
            Some("for=10.1.2.3;by=127.0.0.1;host=\"b.example\";proto=http")
        );
        // A trusted peer's chain is kept, request by request.
        let trusted = ForwardCache::default();
        let chain = forwarded(&trusted, "a.example", true, Some("1.1.1.1"));
        assert_eq!(chain.0.as_deref(), Some("1.1.1.1, 10.1.2.3"));
        let chain = forwarded(&trusted, "a.example", true, Some("2.2.2.2"));
        assert_eq!(chain.0.as_deref(), Some("2.2.2.2, 10.1.2.3"));
    }

    #[test]
    fn cookie_hardening_adds_missing_attributes_only() {
        let hardened = harden_cookie(
            HeaderValue::from_static("sid=1; Path=/; httponly"),
            true,
            "Strict",
        );
        assert_eq!(hardened, "sid=1; Path=/; httponly; Secure; SameSite=Strict");
        let plain = harden_cookie(HeaderValue::from_static("a=b"), false, "None");
        assert_eq!(plain, "a=b; HttpOnly; SameSite=Lax");
    }

    #[test]
    fn rightmost_untrusted_forwarded_address_wins() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())];
        let mut headers = HeaderMap::new();
        headers.insert(
            X_FORWARDED_FOR,
            HeaderValue::from_static("6.6.6.6, 1.2.3.4, 10.0.0.7"),
        );
        let peer: IpAddr = [10, 0, 0, 1].into();
        assert_eq!(
            resolve_client_ip(peer, &headers, &trusted),
            IpAddr::from([1, 2, 3, 4])
        );
        let untrusted_peer: IpAddr = [8, 8, 8, 8].into();
        assert_eq!(
            resolve_client_ip(untrusted_peer, &headers, &trusted),
            untrusted_peer
        );
    }
}
