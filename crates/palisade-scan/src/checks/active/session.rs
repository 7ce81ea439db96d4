//! Weak session identifiers and predictable tokens.
//!
//! What: session-like cookies (`SESSID`, `sid`, `token`, `auth`, …), hidden form fields and
//! `<meta>` tags carrying tokens (`csrf`, `nonce`, `reset_token`, …) and token-named JSON
//! string fields are collected from the crawled pages and from an anonymous request to the
//! start page. Each page that hands one out is then fetched again [`SAMPLES`] times as a fresh
//! session (no cookie, none of the configured authentication), and the values are judged:
//! identical for every session; a number (decimal or hexadecimal) that is a current Unix time
//! in seconds to nanoseconds; a number that increases by small steps from one session to the
//! next; fewer than 64 bits even if every character were random (length × the bits of the
//! alphabet seen); or fewer than 64 bits in the character positions that vary between
//! sessions. A verdict is reported only when a second, independent batch of fresh sessions
//! gets the same verdict. Signed data (JSON Web Tokens, Flask/itsdangerous cookies) is not an
//! identifier and is not judged; nor are cookies whose names say they hold a time, a counter
//! or a preference.
//!
//! With a scripted login configured ([`crate::login`]), session fixation is tested too: the
//! login page is fetched as a fresh browser, the form is submitted carrying the cookies that
//! page set, and each of those cookies the login did not replace is used alone to fetch the
//! page signing in led to; a finding needs that page to be the signed-in one (the login's
//! success text, absent from the same page fetched without cookies).
//!
//! Why: whoever predicts or guesses another user's session identifier or reset token acts as
//! that user (OWASP asks for at least 64 bits of entropy in session identifiers); whoever
//! plants a session identifier before the victim signs in (a link, a subdomain cookie) is
//! signed in with the victim when the identifier survives the login.
//!
//! Example: ten fresh sessions get `LEGACYSESSID=100012` … `100021`; the next user's session
//! is `100022`.
//!
//! References: CWE-330 (Use of Insufficiently Random Values), CWE-341 (Predictable from
//! Observable State), CWE-331 (Insufficient Entropy), CWE-384 (Session Fixation); OWASP
//! Session Management Cheat Sheet; OWASP WSTG-SESS-01, WSTG-SESS-03.

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use regex::Regex;
use scraper::{Html, Selector};
use url::Url;

use super::re;
use crate::checks::{Info, Site, SiteCheck};
use crate::crawl::page_key;
use crate::error::ScanError;
use crate::extract;
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange, Request};

/// The check.
pub const CHECK: SiteCheck = SiteCheck {
    name: "session",
    run,
};

const FIXED: Info = Info {
    id: "session.fixed_token",
    title: "Session token identical for every session",
    cwe: 330,
    severity: Severity::High,
    fix: "Generate session identifiers and tokens per session with a cryptographically secure random generator (at least 128 bits), e.g. secrets.token_urlsafe(32).",
};
const TIMESTAMP: Info = Info {
    id: "session.timestamp_token",
    title: "Session token derived from the clock",
    cwe: 341,
    severity: Severity::High,
    fix: "Do not derive identifiers or tokens from the time; use a cryptographically secure random generator (at least 128 bits).",
};
const SEQUENTIAL: Info = Info {
    id: "session.sequential_token",
    title: "Sequential session token",
    cwe: 330,
    severity: Severity::High,
    fix: "Replace counters with cryptographically secure random identifiers (at least 128 bits); keep database ids out of session and reset tokens.",
};
const SHORT: Info = Info {
    id: "session.short_token",
    title: "Session token too short to resist guessing",
    cwe: 331,
    severity: Severity::High,
    fix: "Use tokens of at least 128 random bits (e.g. 32 hexadecimal or 22 base64url characters).",
};
const LOW_ENTROPY: Info = Info {
    id: "session.low_entropy_token",
    title: "Session token with low entropy",
    cwe: 331,
    severity: Severity::Medium,
    fix: "Generate the whole token from a cryptographically secure random source (at least 128 bits) instead of a fixed pattern with a few random characters.",
};

const FIXATION: Info = Info {
    id: "session.fixation",
    title: "Session fixation: the session identifier survives signing in",
    cwe: 384,
    severity: Severity::High,
    fix: "Issue a new session identifier when the user signs in (and when privileges change), and invalidate the old one; accept only identifiers the server issued.",
};

/// Fresh sessions per batch (two batches when the first shows a weakness).
pub const SAMPLES: usize = 10;
/// Token sources sampled per scan.
const MAX_SOURCES: usize = 20;
/// OWASP's minimum for session identifiers.
const MIN_BITS: f64 = 64.0;
/// Largest step between consecutive sessions still called sequential.
const MAX_STEP: u128 = 1000;
/// How far a time-derived token may be from the scanner's clock.
const CLOCK_WINDOW_SECS: f64 = 2.0 * 86_400.0;
/// Longest token judged.
const MAX_TOKEN_LEN: usize = 512;

/// Cookie names that carry a session or an authentication token.
static SESSION_COOKIE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)sess|sid|token|auth|jwt|remember|login|csrf|xsrf|nonce"));
/// Field and JSON key names that carry a token.
static TOKEN_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)token|csrf|xsrf|nonce|sess|sid$|^sid|secret|otp|invite|reset|verif|api_?key")
});
/// Names that say the value is a time, a counter or a preference, not an identifier.
static NOT_A_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)expir|time|date|_ts$|^ts_|age|count|visit|last|lang|locale|theme|consent|pref|tz")
});
static JSON_FIELD: LazyLock<Regex> =
    LazyLock::new(|| re(r#""([A-Za-z0-9_\-]{1,64})"\s*:\s*"([!#-\[\]-~]{1,512})""#));
static HIDDEN: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("input[type=hidden][name][value], meta[name][content]")
        .unwrap_or_else(|e| panic!("{e}"))
});

/// Where a token travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    /// A `Set-Cookie` header.
    Cookie,
    /// A hidden form field or `<meta>` tag.
    Field,
    /// A JSON string field.
    Json,
}

impl Carrier {
    fn describe(self) -> &'static str {
        match self {
            Carrier::Cookie => "cookie",
            Carrier::Field => "hidden field",
            Carrier::Json => "JSON field",
        }
    }
}

/// A page that hands out a token, and which token.
#[derive(Debug, Clone)]
struct Source {
    url: Url,
    carrier: Carrier,
    name: String,
}

/// What is wrong with the tokens of a batch of fresh sessions.
#[derive(Debug, Clone, PartialEq)]
enum Weakness {
    Fixed,
    Timestamp { unit: &'static str },
    Sequential { largest_step: u128 },
    Short { bits: f64 },
    LowEntropy { bits: f64, varying: usize },
}

impl Weakness {
    fn info(&self) -> &'static Info {
        match self {
            Weakness::Fixed => &FIXED,
            Weakness::Timestamp { .. } => &TIMESTAMP,
            Weakness::Sequential { .. } => &SEQUENTIAL,
            Weakness::Short { .. } => &SHORT,
            Weakness::LowEntropy { .. } => &LOW_ENTROPY,
        }
    }

    fn same_kind(&self, other: &Weakness) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    fn describe(&self) -> String {
        match self {
            Weakness::Fixed => "every fresh session got the same value".to_owned(),
            Weakness::Timestamp { unit } => {
                format!("the values are the current Unix time in {unit}")
            }
            Weakness::Sequential { largest_step } => format!(
                "the values increase from one session to the next by at most {largest_step}"
            ),
            Weakness::Short { bits } => format!(
                "even if every character were random the token holds at most {bits:.0} bits (< {MIN_BITS:.0})"
            ),
            Weakness::LowEntropy { bits, varying } => format!(
                "only {varying} character positions vary between sessions: about {bits:.0} bits (< {MIN_BITS:.0})"
            ),
        }
    }
}

fn run(client: &Client, site: &Site<'_>) -> Result<Vec<Finding>, ScanError> {
    // The start page as a fresh session: applications that set their session cookie only
    // for visitors without one have not set it for an authenticated crawl.
    let fresh_start = client.send(&Request::get(site.start.clone()).anonymous())?;
    let pages = site
        .pages
        .iter()
        .chain(std::iter::once(&fresh_start))
        .filter(|p| p.request.method == "GET" && p.status < 400);
    let mut sources: Vec<Source> = Vec::new();
    for page in pages {
        for (carrier, name, _) in tokens(page) {
            let known = sources.iter().any(|s| {
                s.carrier == carrier
                    && s.name == name
                    && (carrier == Carrier::Cookie
                        || page_key(&s.url) == page_key(&page.request.url))
            });
            if !known && sources.len() < MAX_SOURCES {
                sources.push(Source {
                    url: page.request.url.clone(),
                    carrier,
                    name,
                });
            }
        }
    }
    let mut findings = Vec::new();
    if let Some(config) = client.login_config()
        && let Some(fixation) = crate::login::fixation(client, config)?
    {
        let detail = format!(
            "signed in through {} carrying the cookies the login page set; cookie {} kept its value, \
             and alone it opens {} as the signed-in user (HTTP {}), which without cookies answers HTTP {}",
            config.url,
            fixation.cookie,
            fixation.proof.request.url,
            fixation.proof.status,
            fixation.anonymous.status
        );
        let mut url = config.url.clone();
        url.set_query(None);
        let needle = match &config.check {
            crate::login::LoginCheck::Text(text) => text.as_str(),
            crate::login::LoginCheck::Status(_) => "",
        };
        findings.push(FIXATION.finding_at(
            client,
            url.as_str(),
            &fixation.proof,
            Some(&fixation.cookie),
            fixation.proof.excerpt(needle),
            detail,
        ));
    }
    for source in &sources {
        let Some((first, sample)) = batch(client, source)? else {
            continue;
        };
        let Some(weakness) = judge(&first) else {
            continue;
        };
        let Some((second, _)) = batch(client, source)? else {
            continue;
        };
        if !judge(&second).is_some_and(|w| w.same_kind(&weakness)) {
            continue;
        }
        findings.push(finding(client, source, &weakness, &sample, &first, &second));
    }
    Ok(findings)
}

/// [`SAMPLES`] fresh sessions of `source`'s page: the token values in request order and the
/// last exchange; `None` when a session did not get the token.
fn batch(client: &Client, source: &Source) -> Result<Option<(Vec<String>, Exchange)>, ScanError> {
    let mut values = Vec::with_capacity(SAMPLES);
    let mut last = None;
    for _ in 0..SAMPLES {
        let exchange = client.send(&Request::get(source.url.clone()).anonymous())?;
        let Some(value) = tokens(&exchange)
            .into_iter()
            .find(|(c, n, _)| *c == source.carrier && *n == source.name)
            .map(|(_, _, v)| v)
        else {
            return Ok(None);
        };
        values.push(value);
        last = Some(exchange);
    }
    Ok(last.map(|exchange| (values, exchange)))
}

fn finding(
    client: &Client,
    source: &Source,
    weakness: &Weakness,
    sample: &Exchange,
    first: &[String],
    second: &[String],
) -> Finding {
    let mut url = source.url.clone();
    url.set_query(None);
    let shown = |values: &[String]| {
        values
            .iter()
            .map(|v| crate::http::shorten(v, 80))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let response = format!(
        "{} {} in {} fresh sessions: {}\nsecond batch: {}",
        source.carrier.describe(),
        source.name,
        first.len(),
        shown(first),
        shown(second)
    );
    weakness.info().finding_at(
        client,
        url.as_str(),
        sample,
        Some(&source.name),
        response,
        format!(
            "{} {} handed out by {} to {} fresh sessions (no cookie sent): {}; a second batch of {} sessions confirmed it",
            source.carrier.describe(),
            source.name,
            source.url,
            first.len(),
            weakness.describe(),
            second.len()
        ),
    )
}

/// Every token a response hands out: (carrier, name, value).
fn tokens(exchange: &Exchange) -> Vec<(Carrier, String, String)> {
    let mut out = Vec::new();
    for (name, value) in extract::set_cookies(&exchange.headers) {
        if SESSION_COOKIE.is_match(&name) && !NOT_A_TOKEN.is_match(&name) {
            push_token(&mut out, Carrier::Cookie, &name, &value);
        }
    }
    if exchange.is_html() {
        let document = Html::parse_document(&exchange.body);
        for element in document.select(&HIDDEN) {
            let attrs = element.value();
            let (Some(name), Some(value)) = (
                attrs.attr("name"),
                attrs.attr("value").or_else(|| attrs.attr("content")),
            ) else {
                continue;
            };
            if TOKEN_FIELD.is_match(name) && !NOT_A_TOKEN.is_match(name) {
                push_token(&mut out, Carrier::Field, name, value);
            }
        }
    } else if exchange
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("json"))
    {
        for captures in JSON_FIELD.captures_iter(&exchange.body).take(200) {
            let (name, value) = (&captures[1], &captures[2]);
            if TOKEN_FIELD.is_match(name) && !NOT_A_TOKEN.is_match(name) {
                push_token(&mut out, Carrier::Json, name, value);
            }
        }
    }
    out
}

fn push_token(out: &mut Vec<(Carrier, String, String)>, carrier: Carrier, name: &str, value: &str) {
    let printable = value.bytes().all(|b| b.is_ascii_graphic());
    if !value.is_empty() && value.len() <= MAX_TOKEN_LEN && printable {
        out.push((carrier, name.to_owned(), value.to_owned()));
    }
}

/// The verdict on the tokens of one batch of fresh sessions, in request order.
fn judge(values: &[String]) -> Option<Weakness> {
    let first = values.first()?;
    if values.len() < 3 || values.iter().any(|v| is_signed_data(v)) {
        return None;
    }
    if values.iter().all(|v| v == first) {
        return looks_like_a_secret(first).then_some(Weakness::Fixed);
    }
    let prefix = common_prefix(values);
    let suffix = common_suffix(values, prefix);
    if let Some(numbers) = numeric_window(values, prefix, suffix) {
        if let Some(unit) = clock_unit(&numbers) {
            return Some(Weakness::Timestamp { unit });
        }
        let steps: Option<Vec<u128>> = numbers
            .windows(2)
            .map(|w| {
                w[1].checked_sub(w[0])
                    .filter(|s| (1..=MAX_STEP).contains(s))
            })
            .collect();
        if let Some(largest_step) = steps.and_then(|s| s.into_iter().max()) {
            return Some(Weakness::Sequential { largest_step });
        }
    }
    let alphabet = alphabet_bits(values);
    let shortest = values.iter().map(String::len).min().unwrap_or(0);
    let bits = shortest as f64 * alphabet;
    if bits < MIN_BITS {
        return Some(Weakness::Short { bits });
    }
    let varying = varying_positions(values, prefix, suffix);
    let bits = varying as f64 * alphabet;
    (bits < MIN_BITS).then_some(Weakness::LowEntropy { bits, varying })
}

/// JSON Web Tokens and Flask/itsdangerous cookies: signed data, not random identifiers.
fn is_signed_data(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() < 3 {
        return false;
    }
    let compressed = parts[0].is_empty() && parts[1].starts_with("eJ");
    let payload = if parts[0].is_empty() {
        parts[1]
    } else {
        parts[0]
    };
    compressed
        || base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .is_ok_and(|bytes| bytes.first() == Some(&b'{'))
}

/// A constant worth reporting: long, with letters and digits (not `guest` or `1`).
fn looks_like_a_secret(value: &str) -> bool {
    value.len() >= 16
        && value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b.is_ascii_alphabetic())
}

fn common_prefix(values: &[String]) -> usize {
    let first = values[0].as_bytes();
    values.iter().fold(first.len(), |n, v| {
        first
            .iter()
            .zip(v.as_bytes())
            .take(n)
            .take_while(|(a, b)| a == b)
            .count()
    })
}

/// Common suffix length that does not overlap the common prefix.
fn common_suffix(values: &[String], prefix: usize) -> usize {
    let first = values[0].as_bytes();
    values.iter().fold(first.len() - prefix, |n, v| {
        let room = v.len() - prefix.min(v.len());
        first
            .iter()
            .rev()
            .zip(v.as_bytes().iter().rev())
            .take(n.min(room))
            .take_while(|(a, b)| a == b)
            .count()
    })
}

/// The varying part of every value widened to the whole run of digits around it, read as a
/// decimal (or else hexadecimal) number; `None` when it is not one.
fn numeric_window(values: &[String], prefix: usize, suffix: usize) -> Option<Vec<u128>> {
    for radix in [10, 16] {
        let digit = |b: &u8| char::from(*b).is_digit(radix);
        let numbers: Option<Vec<u128>> = values
            .iter()
            .map(|value| {
                let bytes = value.as_bytes();
                let (mut start, mut end) = (prefix, bytes.len() - suffix);
                while start > 0 && digit(&bytes[start - 1]) {
                    start -= 1;
                }
                while end < bytes.len() && digit(&bytes[end]) {
                    end += 1;
                }
                let window = &value[start..end];
                (!window.is_empty() && window.len() <= 30 && window.bytes().all(|b| digit(&b)))
                    .then(|| u128::from_str_radix(window, radix).ok())
                    .flatten()
            })
            .collect();
        if numbers.is_some() {
            return numbers;
        }
    }
    None
}

/// The unit in which every number is the current Unix time, if any.
fn clock_unit(numbers: &[u128]) -> Option<&'static str> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    [
        ("seconds", 1.0),
        ("milliseconds", 1e3),
        ("microseconds", 1e6),
        ("nanoseconds", 1e9),
    ]
    .into_iter()
    .find(|(_, scale)| {
        numbers
            .iter()
            .all(|&n| (n as f64 / scale - now).abs() <= CLOCK_WINDOW_SECS)
    })
    .map(|(unit, _)| unit)
}

/// Bits per character of the alphabet the values use: digits, hexadecimal or whole
/// letter cases, and each other symbol seen.
fn alphabet_bits(values: &[String]) -> f64 {
    let bytes = || values.iter().flat_map(|v| v.bytes());
    let lower = bytes().any(|b| b.is_ascii_lowercase());
    let upper = bytes().any(|b| b.is_ascii_uppercase());
    let beyond_hex = |b: u8| b.is_ascii_alphabetic() && !b.is_ascii_hexdigit();
    let mut size = 10.0;
    if bytes().any(beyond_hex) {
        size += if lower { 26.0 } else { 0.0 } + if upper { 26.0 } else { 0.0 };
    } else if lower || upper {
        size += if lower && upper { 12.0 } else { 6.0 };
    }
    let mut symbols: Vec<u8> = bytes().filter(|b| !b.is_ascii_alphanumeric()).collect();
    symbols.sort_unstable();
    symbols.dedup();
    size += symbols.len() as f64;
    f64::log2(size)
}

/// Character positions that differ between the values (equal lengths), else the length of
/// the longest varying middle.
fn varying_positions(values: &[String], prefix: usize, suffix: usize) -> usize {
    let length = values[0].len();
    if values.iter().all(|v| v.len() == length) {
        (0..length)
            .filter(|&i| {
                values
                    .iter()
                    .any(|v| v.as_bytes()[i] != values[0].as_bytes()[i])
            })
            .count()
    } else {
        values
            .iter()
            .map(|v| v.len().saturating_sub(prefix + suffix))
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(items: impl IntoIterator<Item = String>) -> Vec<String> {
        items.into_iter().collect()
    }

    fn random_hex(bytes: usize) -> String {
        (0..bytes)
            .map(|_| format!("{:02x}", crate::checks::random_in(0..256)))
            .collect()
    }

    #[test]
    fn counters_clocks_and_constants_are_weak() {
        let counter = values((100_012..100_022).map(|n| n.to_string()));
        assert!(matches!(
            judge(&counter),
            Some(Weakness::Sequential { largest_step: 1 })
        ));
        let prefixed = values((7..17).map(|n| format!("SESS-{n:08}-node1")));
        assert!(matches!(
            judge(&prefixed),
            Some(Weakness::Sequential { .. })
        ));
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let clock = values((0..10).map(|i| format!("{:x}", micros + i * 1375)));
        assert_eq!(
            judge(&clock),
            Some(Weakness::Timestamp {
                unit: "microseconds"
            })
        );
        let constant = values((0..10).map(|_| "d41d8cd98f00b204e9800998ecf8427e".to_owned()));
        assert_eq!(judge(&constant), Some(Weakness::Fixed));
        let guest = values((0..10).map(|_| "guest".to_owned()));
        assert_eq!(judge(&guest), None, "a constant that is no secret");
        let short = values((0..10).map(|_| random_hex(3)));
        assert!(matches!(judge(&short), Some(Weakness::Short { .. })));
        let patterned = values(
            (0..10).map(|_| format!("INV-2024-ALICE-{:03}", crate::checks::random_in(0..1000))),
        );
        assert!(
            matches!(judge(&patterned), Some(Weakness::LowEntropy { .. })),
            "{:?}",
            judge(&patterned)
        );
    }

    #[test]
    fn random_tokens_and_signed_data_are_not_reported() {
        for _ in 0..20 {
            assert_eq!(judge(&values((0..10).map(|_| random_hex(16)))), None);
            assert_eq!(judge(&values((0..10).map(|_| random_hex(8)))), None);
        }
        let uuids = values((0..10).map(|_| {
            let h = random_hex(16);
            format!(
                "{}-{}-4{}-a{}-{}",
                &h[..8],
                &h[8..12],
                &h[13..16],
                &h[17..20],
                &h[20..32]
            )
        }));
        assert_eq!(judge(&uuids), None);
        // Flask cookies made in the same second are equal: signed data, not an identifier.
        let flask = values(
            (0..10)
                .map(|_| "eyJ0aGVtZSI6ImxpZ2h0In0.Zk9xYQ.1d2c3b4a5f6e7d8c9b0a1f2e3d4c".to_owned()),
        );
        assert_eq!(judge(&flask), None);
        assert!(is_signed_data(".eJyrVkrLz1eyUkpKLFKqBQAaXgQz.Zk9xYQ.sig"));
        assert!(!is_signed_data("a1b2c3d4e5f6"));
    }

    #[test]
    fn tokens_are_taken_from_cookies_fields_and_json() {
        let url = Url::parse("http://app.test/account").unwrap_or_else(|e| panic!("{e}"));
        let mut exchange = Exchange {
            request: Request::get(url),
            status: 200,
            headers: vec![
                ("content-type".into(), "text/html".into()),
                ("set-cookie".into(), "PHPSESSID=abc123def456; Path=/".into()),
                ("set-cookie".into(), "theme=dark; Path=/".into()),
                ("set-cookie".into(), "session_expiry=1717171717; Path=/".into()),
                ("set-cookie".into(), "sid=; Max-Age=0".into()),
            ],
            body: r#"<form><input type="hidden" name="csrf_token" value="t0k3n">
                <input type="hidden" name="step" value="2"><input name="token" value="typed"></form>"#
                .into(),
            elapsed: std::time::Duration::ZERO,
        };
        let found: Vec<(Carrier, String, String)> = tokens(&exchange);
        assert_eq!(
            found,
            [
                (Carrier::Cookie, "PHPSESSID".into(), "abc123def456".into()),
                (Carrier::Field, "csrf_token".into(), "t0k3n".into())
            ]
        );
        exchange.headers = vec![("content-type".into(), "application/json".into())];
        exchange.body =
            r#"{"invite_token": "INV-1", "name": "x", "reset": {"token":"abc"}}"#.into();
        let json: Vec<String> = tokens(&exchange).into_iter().map(|(_, n, _)| n).collect();
        assert_eq!(json, ["invite_token", "token"]);
    }
}
