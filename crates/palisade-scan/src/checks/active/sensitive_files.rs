//! Sensitive files.
//!
//! What: files that should never be served, requested at the site root and recognised by
//! their content, never by status code alone (a soft-404 page answering 200 for everything
//! is not reported): `.git/HEAD` and `.git/config`, `.env`, SQL dumps, backup archives,
//! `.htpasswd`, `.DS_Store`, server status and phpinfo pages, the Werkzeug console, Spring
//! actuator environment.
//!
//! Why: a readable `.git` gives the source code, `.env` and dumps give credentials and data.
//!
//! Example: `GET /.git/HEAD` → `ref: refs/heads/main`.
//!
//! References: CWE-538 (Insertion of Sensitive Information into Externally-Accessible File),
//! CWE-530 (Exposure of Backup File), CWE-527 (Exposure of Version-Control Repository).

use std::sync::LazyLock;

use regex::Regex;

use super::re;
use crate::checks::{Info, Site, SiteCheck};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange, Request};

/// The check.
pub const CHECK: SiteCheck = SiteCheck { name: "files", run };

const VCS: Info = Info {
    id: "files.vcs",
    title: "Version-control metadata exposed",
    cwe: 527,
    severity: Severity::High,
    fix: "Do not deploy the .git directory; deny dot-directories in the web server.",
};
const SECRETS: Info = Info {
    id: "files.secrets",
    title: "Secrets file exposed",
    cwe: 538,
    severity: Severity::Critical,
    fix: "Keep .env and credential files outside the web root and rotate what was exposed.",
};
const BACKUP: Info = Info {
    id: "files.backup",
    title: "Backup or dump file exposed",
    cwe: 530,
    severity: Severity::High,
    fix: "Remove backups and dumps from the web root.",
};
const CONSOLE: Info = Info {
    id: "files.console",
    title: "Administrative or debug console exposed",
    cwe: 489,
    severity: Severity::High,
    fix: "Disable debug consoles and status pages in production or restrict them to administrators.",
};

static ENV_LINE: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^[A-Z][A-Z0-9_]{1,60}=\S*\r?$"));
static SQL_DUMP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(?:--|/\*|CREATE TABLE|INSERT INTO|DROP TABLE)[\s\S]{0,4000}(?:CREATE TABLE|INSERT INTO)",
    )
});
static HTPASSWD: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^[\w.-]+:(?:\$apr1\$|\$2[aby]\$|\{SHA\}|\$6\$)"));

type Recogniser = fn(&Exchange) -> bool;

fn not_html(exchange: &Exchange) -> bool {
    !exchange.is_html() && !exchange.body.trim_start().starts_with('<')
}

const FILES: [(&str, &Info, Recogniser); 14] = [
    ("/.git/HEAD", &VCS, |e| {
        let b = e.body.trim();
        b.starts_with("ref: refs/") || (b.len() == 40 && b.bytes().all(|c| c.is_ascii_hexdigit()))
    }),
    ("/.git/config", &VCS, |e| {
        e.body.contains("[core]") && not_html(e)
    }),
    ("/.svn/entries", &VCS, |e| {
        not_html(e) && (e.body.starts_with("10\n") || e.body.starts_with("12\n"))
    }),
    ("/.env", &SECRETS, |e| {
        not_html(e) && ENV_LINE.find_iter(&e.body).count() >= 2
    }),
    ("/.htpasswd", &SECRETS, |e| {
        not_html(e) && HTPASSWD.is_match(&e.body)
    }),
    ("/backup.sql", &BACKUP, |e| {
        not_html(e) && SQL_DUMP.is_match(&e.body)
    }),
    ("/dump.sql", &BACKUP, |e| {
        not_html(e) && SQL_DUMP.is_match(&e.body)
    }),
    ("/backup.zip", &BACKUP, |e| {
        e.body.starts_with("PK\u{3}\u{4}")
    }),
    ("/backup.tar.gz", &BACKUP, |e| {
        e.body.starts_with("\u{1f}\u{fffd}\u{8}")
    }),
    ("/.DS_Store", &BACKUP, |e| {
        e.body.starts_with("\0\0\0\u{1}Bud1")
    }),
    ("/server-status", &CONSOLE, |e| {
        e.body.contains("Apache Server Status for")
    }),
    ("/phpinfo.php", &CONSOLE, |e| {
        e.body.contains("<title>PHP ") && e.body.contains("phpinfo()")
    }),
    ("/console", &CONSOLE, |e| {
        e.body.contains("Werkzeug") && e.body.contains("console")
    }),
    ("/actuator/env", &CONSOLE, |e| {
        e.body.contains("\"propertySources\"")
    }),
];

fn run(client: &Client, site: &Site<'_>) -> Result<Vec<Finding>, ScanError> {
    let start = site.start;
    let mut findings = Vec::new();
    for (path, info, recognise) in FILES {
        let Ok(url) = start.join(path) else { continue };
        let exchange = client.send(&Request::get(url.clone()))?;
        if exchange.status == 200 && recognise(&exchange) {
            findings.push(info.finding(
                client,
                &exchange,
                None,
                "",
                format!("{path} is served and its content is recognised"),
            ));
        }
    }
    Ok(findings)
}
