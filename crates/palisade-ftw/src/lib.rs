//! Runs go-ftw YAML regression tests (OWASP CRS) through the real gateway against an albedo-compatible backend.
#![forbid(unsafe_code)]
