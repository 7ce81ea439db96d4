//! The WAF engine: runs SecLang rules (OWASP CRS unmodified) over HTTP transactions with ModSecurity's semantics.
#![forbid(unsafe_code)]
