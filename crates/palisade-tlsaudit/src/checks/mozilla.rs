//! Mozilla intermediate profile not met.
//!
//! What: the server accepts something Mozilla's intermediate profile (the recommended default
//! for general-purpose servers) does not allow, or its certificate falls outside the profile.
//! Why: the profile is a widely reviewed baseline; each deviation is a weaker option kept on.
//! Example: CBC or static-RSA suites, TLS 1.0, curves outside x25519/secp256r1/secp384r1.
//! References: CWE-327, Mozilla Server Side TLS guidelines 5.7.

use super::{finding, list};
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    let Some(intermediate) = report
        .mozilla_profiles
        .iter()
        .find(|v| v.profile == "intermediate")
    else {
        return Vec::new();
    };
    if intermediate.compliant {
        return Vec::new();
    }
    vec![finding(
        "tls.mozilla.intermediate",
        "Configuration does not meet Mozilla's intermediate profile",
        Severity::Low,
        327,
        format!(
            "{} deviation(s): {}",
            intermediate.deviations.len(),
            list(intermediate.deviations.iter().map(String::as_str), 4)
        ),
        "Apply Mozilla's intermediate configuration (ssl-config.mozilla.org) for your server.",
    )]
}
