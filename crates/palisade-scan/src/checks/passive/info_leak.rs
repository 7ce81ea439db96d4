//! Information leaks.
//!
//! What: stack traces, framework debug pages (the Werkzeug interactive debugger, Django's
//! technical 500 page), version banners in `Server`/`X-Powered-By`, private (RFC 1918)
//! addresses and secret keys in responses.
//!
//! Why: a debug console is remote code execution; traces and versions tell an attacker which
//! exploit to use; internal addresses map the network; keys are credentials.
//!
//! Example: `Traceback (most recent call last):` in a 500 page; `Server: Apache/2.4.49`.
//!
//! References: CWE-209 (Error Message Containing Sensitive Information), CWE-215 (Debug
//! Information), CWE-489 (Active Debug Code), CWE-200 (Exposure of Sensitive Information),
//! CWE-798 (Hard-coded Credentials).

use std::sync::LazyLock;

use regex::Regex;

use super::origin;
use crate::checks::{Info, PassiveCheck};
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange};

/// The check.
pub const CHECK: PassiveCheck = PassiveCheck { name: "info", run };

const WERKZEUG: Info = Info {
    id: "info.werkzeug_debugger",
    title: "Werkzeug interactive debugger exposed",
    cwe: 489,
    severity: Severity::Critical,
    fix: "Never run Flask with debug=True in production; the console executes Python.",
};
const DJANGO: Info = Info {
    id: "info.django_debug",
    title: "Django technical error page (DEBUG = True)",
    cwe: 215,
    severity: Severity::Medium,
    fix: "Set DEBUG = False in production settings.",
};
const STACK_TRACE: Info = Info {
    id: "info.stack_trace",
    title: "Stack trace in response",
    cwe: 209,
    severity: Severity::Medium,
    fix: "Show a generic error page; log the exception server-side.",
};
const BANNER: Info = Info {
    id: "info.version_banner",
    title: "Server version disclosed",
    cwe: 200,
    severity: Severity::Info,
    fix: "Remove version numbers from Server and X-Powered-By headers.",
};
const PRIVATE_IP: Info = Info {
    id: "info.private_ip",
    title: "Private IP address disclosed",
    cwe: 200,
    severity: Severity::Low,
    fix: "Do not include internal addresses in responses.",
};
const SECRET_KEY: Info = Info {
    id: "info.secret_key",
    title: "Secret key in response",
    cwe: 798,
    severity: Severity::High,
    fix: "Remove the key from the response and rotate it.",
};

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("{e}"))
}

static TRACE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"Traceback \(most recent call last\)|(?m)^\s+at [\w$.]+\([\w$]+\.java:\d+\)|Exception in thread "|\.php on line \d+|(?m)^\s+at .+ in .+\.cs:line \d+"#,
    )
});
static PRIVATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(10\.(?:\d{1,3}\.){2}\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3})\b",
    )
});
static KEY: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\bAKIA[0-9A-Z]{16}\b|-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----")
});
static VERSION: LazyLock<Regex> = LazyLock::new(|| re(r"\d+\.\d+"));

fn run(client: &Client, exchange: &Exchange) -> Vec<Finding> {
    let mut findings = Vec::new();
    let body = &exchange.body;
    let page = {
        let mut url = exchange.request.url.clone();
        url.set_query(None);
        url.to_string()
    };
    let mut report = |info: &Info, needle: &str, detail: String, url: &str| {
        findings.push(info.finding_at(
            client,
            url,
            exchange,
            None,
            exchange.excerpt(needle),
            detail,
        ));
    };
    if body.contains("Werkzeug Debugger") || body.contains("__debugger__") {
        report(
            &WERKZEUG,
            "Werkzeug",
            "the page embeds the Werkzeug debugger console".into(),
            &page,
        );
    } else if body.contains("You're seeing this error because you have <code>DEBUG = True</code>") {
        report(
            &DJANGO,
            "DEBUG = True",
            "Django's technical 500 page is shown".into(),
            &page,
        );
    } else if let Some(m) = TRACE.find(body) {
        report(
            &STACK_TRACE,
            m.as_str(),
            format!("stack trace marker {:?}", m.as_str()),
            &page,
        );
    }
    if let Some(m) = KEY.find(body) {
        report(
            &SECRET_KEY,
            m.as_str(),
            "a key pattern (AWS access key id or private key block) appears".into(),
            &page,
        );
    }
    if let Some(m) = PRIVATE.find(body)
        && !exchange.request.url.as_str().contains(m.as_str())
    {
        report(
            &PRIVATE_IP,
            m.as_str(),
            format!("private address {}", m.as_str()),
            &page,
        );
    }
    for header in ["server", "x-powered-by", "x-aspnet-version"] {
        if let Some(value) = exchange.header(header)
            && VERSION.is_match(value)
        {
            findings.push(BANNER.finding_at(
                client,
                &origin(exchange),
                exchange,
                Some(header),
                exchange.header_excerpt(header),
                format!("{header}: {value}"),
            ));
        }
    }
    findings
}
