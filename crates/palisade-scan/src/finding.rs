//! What a scan reports: one [`Finding`] per confirmed problem, with its CWE, severity, the
//! evidence that proves it and a fix hint. The shape is shared with other auditors (the TLS
//! audit converts its results into it), so nothing here is HTTP-check specific beyond
//! optional request/parameter fields.

use serde::{Deserialize, Serialize};

pub use palisade_core::Severity;

/// The proof of a finding: what was sent and the part of the answer that shows the problem.
/// Credentials configured for the scan are never part of it (they are added on the wire only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The request as sent (request line, non-secret headers, body), possibly shortened.
    pub request: String,
    /// The response excerpt that proves the finding (status line, a header or body lines).
    pub response: String,
    /// How the finding was confirmed, in one sentence.
    pub detail: String,
}

/// One confirmed problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The check that found it, `category.variant` (e.g. `sqli.boolean`, `headers.csp`,
    /// `tls.protocol`). The part before the dot is the category used for scoring.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// CWE number.
    pub cwe: u32,
    /// Severity.
    pub severity: Severity,
    /// The URL the finding is about (page, endpoint, origin or `tls://host:port`).
    pub url: String,
    /// HTTP method of the vulnerable request, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The vulnerable parameter, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The proof.
    pub evidence: Evidence,
    /// How to fix it.
    pub fix: String,
}

impl Finding {
    /// The category: the part of [`Finding::id`] before the first dot.
    pub fn category(&self) -> &str {
        self.id.split('.').next().unwrap_or(&self.id)
    }

    /// A stable identity for baselines and de-duplication: check, method, URL without its
    /// query, parameter. Evidence (random canaries, timings) does not enter it.
    pub fn fingerprint(&self) -> String {
        let url = self.url.split(['?', '#']).next().unwrap_or(&self.url);
        format!(
            "{}|{}|{}|{}",
            self.id,
            self.method.as_deref().unwrap_or("-"),
            url,
            self.parameter.as_deref().unwrap_or("-")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn fingerprint_ignores_query_and_evidence() {
        let mut a = Finding {
            id: "sqli.boolean".into(),
            title: "t".into(),
            cwe: 89,
            severity: Severity::High,
            url: "http://h/p?id=1".into(),
            method: Some("GET".into()),
            parameter: Some("id".into()),
            evidence: Evidence::default(),
            fix: String::new(),
        };
        let b = Finding {
            url: "http://h/p?id=2".into(),
            evidence: Evidence {
                detail: "other".into(),
                ..Evidence::default()
            },
            ..a.clone()
        };
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.category(), "sqli");
        a.parameter = Some("name".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
