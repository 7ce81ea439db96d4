//! Checks that send requests of their own: per origin (sensitive files, CORS) and per
//! parameter (injections). Every parameter check confirms before it reports.

pub mod cmdi;
pub mod cors;
pub mod crlf;
pub mod deser;
pub mod differential;
pub mod ldap;
pub mod redirect;
pub mod sensitive_files;
pub mod session;
pub mod sqli_boolean;
pub mod sqli_error;
pub mod sqli_time;
pub mod sqli_union;
pub mod ssrf;
pub mod ssti;
pub mod traversal;
pub mod xpath;
pub mod xss;
pub mod xss_stored;
pub mod xxe;

use regex::Regex;

use crate::checks::Probe;
use crate::error::ScanError;
use crate::http::Exchange;

/// Compiles a pattern literal of this crate.
pub(crate) fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("{e}"))
}

/// Error-signature confirmation shared by the SQL, XPath and LDAP error checks: a broken
/// value (an unbalanced quote or parenthesis) must produce a signature that the baseline does
/// not show, and one of the repaired values (the same syntax made valid again: the quote
/// doubled, closed by a true condition, a numeric expression) must not. Returns the broken
/// exchange, its value, the matched signature and the repairing value.
pub(crate) fn error_signature(
    probe: &Probe<'_>,
    signatures: &Regex,
    broken_values: &[String],
    repaired_values: &[String],
) -> Result<Option<ErrorEvidence>, ScanError> {
    if signatures.is_match(&probe.baseline.body) {
        return Ok(None);
    }
    for broken in broken_values {
        let exchange = probe.send(broken)?;
        let Some(signature) = signatures
            .find(&exchange.body)
            .map(|m| m.as_str().to_owned())
        else {
            continue;
        };
        for repaired in repaired_values {
            let check = probe.send(repaired)?;
            if !signatures.is_match(&check.body) {
                return Ok(Some(ErrorEvidence {
                    exchange,
                    broken: broken.clone(),
                    signature,
                    repaired: repaired.clone(),
                }));
            }
        }
        return Ok(None);
    }
    Ok(None)
}

/// What [`error_signature`] confirmed.
#[derive(Debug)]
pub(crate) struct ErrorEvidence {
    /// The response with the error.
    pub(crate) exchange: Exchange,
    /// The value that broke the syntax.
    pub(crate) broken: String,
    /// The error text matched.
    pub(crate) signature: String,
    /// The value that repaired it.
    pub(crate) repaired: String,
}

impl ErrorEvidence {
    /// The finding's confirmation sentence.
    pub(crate) fn detail(&self, kind: &str) -> String {
        format!(
            "{:?} produced the {kind} error {:?}, absent from the baseline; the repaired value {:?} did not",
            self.broken, self.signature, self.repaired
        )
    }
}
