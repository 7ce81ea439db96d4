//! LDAP injection (error-based).
//!
//! What: an unbalanced filter (`value)(`) makes the response show an LDAP filter error that
//! the baseline does not show, and a valid wildcard value (`value*`) does not.
//!
//! Why: LDAP injection bypasses directory logins and lists directory entries.
//!
//! Example: `?user=x)(` → `ldap.FILTER_ERROR: {'desc': 'Bad search filter'}`.
//!
//! References: CWE-90 (LDAP Injection); OWASP WSTG-INPV-06.

use std::sync::LazyLock;

use regex::Regex;

use super::{error_signature, re};
use crate::checks::{Info, ParamCheck, Probe};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "ldap",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "ldap.error",
    title: "LDAP injection (error-based)",
    cwe: 90,
    severity: Severity::High,
    fix: "Escape filter values (RFC 4515: ldap.filter.escape_filter_chars) or use a library that builds filters from values.",
};

static LDAP_ERRORS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)Bad search filter|FILTER_ERROR|javax\.naming\.directory\.InvalidSearchFilterException|LDAPException|ldap_search\(\)|Invalid DN syntax|InvalidFilterError",
    )
});

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    let v = probe.original();
    let broken = [format!("{v})("), format!("{v}))")];
    let repaired = [format!("{v}*")];
    Ok(error_signature(probe, &LDAP_ERRORS, &broken, &repaired)?
        .map(|e| probe.finding(&INFO, &e.exchange, &e.signature, e.detail("LDAP"))))
}
