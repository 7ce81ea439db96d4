//! SQL injection, error-based.
//!
//! What: a quote appended to the parameter makes the response show a database syntax error
//! that the baseline does not show, and the same quote doubled (a balanced, escaped quote)
//! makes it go away again — so the value reaches SQL text unescaped.
//!
//! Why: SQL injection reads and changes the whole database and often leads to code
//! execution.
//!
//! Example: `?id=1'` → `sqlite3.OperationalError: unrecognized token: "'"`; `?id=1''` → no
//! error.
//!
//! References: CWE-89 (SQL Injection); OWASP WSTG-INPV-05.

use std::sync::LazyLock;

use regex::Regex;

use super::{error_signature, re};
use crate::checks::{Info, ParamCheck, Probe};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "sqli",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "sqli.error",
    title: "SQL injection (error-based)",
    cwe: 89,
    severity: Severity::Critical,
    fix: "Use parameterised queries (placeholders) for every value; never build SQL by string concatenation.",
};

/// Database error messages (SQLite, MySQL/MariaDB, PostgreSQL, SQL Server, Oracle).
pub(crate) static SQL_ERRORS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)sqlite3?\.OperationalError|unrecognized token: |near "[^"]{0,40}": syntax error|SQLITE_ERROR|You have an error in your SQL syntax|check the manual that corresponds to your (?:MySQL|MariaDB)|mysql_fetch_|SQLSTATE\[|syntax error at or near "|unterminated quoted string at or near|pg_query\(\)|psycopg2?\.errors?\.|Unclosed quotation mark after the character string|Incorrect syntax near '|\bORA-\d{5}\b|quoted string not properly terminated"#,
    )
});

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    let v = probe.original();
    let broken = [format!("{v}'"), format!("{v}\"")];
    let repaired = [
        format!("{v}''"),
        format!("{v}\"\""),
        format!("{v}-0"),
        format!("{v}'-- -"),
    ];
    Ok(error_signature(probe, &SQL_ERRORS, &broken, &repaired)?
        .map(|e| probe.finding(&INFO, &e.exchange, &e.signature, e.detail("database"))))
}
