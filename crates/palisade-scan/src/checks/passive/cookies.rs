//! Cookie flags.
//!
//! What: a `Set-Cookie` without `HttpOnly`, without `SameSite`, or over HTTPS without
//! `Secure`. Reported per cookie name.
//!
//! Why: script-readable session cookies are stolen by any XSS; cookies without `Secure` leak
//! over plain HTTP; without `SameSite` they ride along on cross-site requests (CSRF).
//!
//! Example: `Set-Cookie: session=abc; Path=/`.
//!
//! References: CWE-1004 (Sensitive Cookie Without 'HttpOnly'), CWE-614 (Sensitive Cookie in
//! HTTPS Session Without 'Secure'), CWE-1275 (Sensitive Cookie with Improper SameSite).

use super::origin;
use crate::checks::{Info, PassiveCheck};
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange};

/// The check.
pub const CHECK: PassiveCheck = PassiveCheck {
    name: "cookies",
    run,
};

const HTTPONLY: Info = Info {
    id: "cookies.httponly",
    title: "Cookie without HttpOnly",
    cwe: 1004,
    severity: Severity::Low,
    fix: "Set the HttpOnly attribute on cookies scripts do not need (all session cookies).",
};
const SECURE: Info = Info {
    id: "cookies.secure",
    title: "Cookie without Secure on an HTTPS site",
    cwe: 614,
    severity: Severity::Low,
    fix: "Set the Secure attribute so the cookie is never sent over plain HTTP.",
};
const SAMESITE: Info = Info {
    id: "cookies.samesite",
    title: "Cookie without SameSite",
    cwe: 1275,
    severity: Severity::Low,
    fix: "Set SameSite=Lax (or Strict) on session cookies.",
};

fn run(client: &Client, exchange: &Exchange) -> Vec<Finding> {
    let mut findings = Vec::new();
    let site = origin(exchange);
    for cookie in exchange.headers_named("set-cookie") {
        let mut parts = cookie.split(';');
        let name = parts
            .next()
            .and_then(|p| p.split_once('='))
            .map(|(n, _)| n.trim().to_owned())
            .unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        let attributes: Vec<String> = parts
            .map(|p| {
                p.split('=')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        let has = |a: &str| attributes.iter().any(|x| x == a);
        // The cookie value is shown as "…": it may be a session token.
        let shown = format!("HTTP {}\nset-cookie: {name}=…; {}", exchange.status, {
            cookie.split_once(';').map_or("", |(_, rest)| rest.trim())
        });
        let mut push = |info: &Info, what: &str| {
            findings.push(info.finding_at(
                client,
                &site,
                exchange,
                Some(&name),
                shown.clone(),
                format!("cookie {name} set by {} {what}", exchange.request.url),
            ));
        };
        if !has("httponly") {
            push(&HTTPONLY, "lacks HttpOnly");
        }
        if !has("samesite") {
            push(&SAMESITE, "lacks SameSite");
        }
        if exchange.request.url.scheme() == "https" && !has("secure") {
            push(&SECURE, "lacks Secure");
        }
    }
    findings
}
