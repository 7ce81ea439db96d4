//! The OSV advisory model (<https://ossf.github.io/osv-schema/>): the subset of fields that
//! matching and reporting use. Unknown fields are ignored, so newer schema versions load.

use serde::{Deserialize, Serialize};

/// One OSV advisory ("vulnerability" in the schema).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Advisory {
    /// The advisory's id, e.g. `PYSEC-2021-19` or `RUSTSEC-2023-0071`.
    pub id: String,
    /// Last modification time (RFC 3339).
    pub modified: String,
    /// Publication time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the advisory was withdrawn; withdrawn advisories never match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Other ids for the same vulnerability (CVE, GHSA, PYSEC, RUSTSEC …).
    pub aliases: Vec<String>,
    /// One-line summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Long description (Markdown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Severity vectors.
    pub severity: Vec<SeverityEntry>,
    /// The affected packages and their version ranges.
    pub affected: Vec<Affected>,
    /// Links.
    pub references: Vec<Reference>,
    /// Database-specific extras (RustSec puts `informational` here, per affected package).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A severity entry: a CVSS vector (or an ecosystem-specific rating).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeverityEntry {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4` or `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector string.
    pub score: String,
}

/// One affected package with its ranges and explicit versions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Affected {
    /// The package.
    pub package: Package,
    /// Version ranges, each a list of events.
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    pub versions: Vec<String>,
    /// Per-package severity (schema 1.5+).
    pub severity: Vec<SeverityEntry>,
    /// Ecosystem-specific data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database-specific data (RustSec: `informational`, `cvss`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A package identity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Package {
    /// The OSV ecosystem name (`PyPI`, `crates.io`, `npm`, `Go` …).
    pub ecosystem: String,
    /// The package name as the ecosystem spells it.
    pub name: String,
    /// Package URL, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A version range: a type and an ordered list of events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM` or `GIT` (git ranges never match a package version).
    #[serde(rename = "type")]
    pub kind: String,
    /// The events.
    pub events: Vec<Event>,
}

/// One range event. Exactly one field is set in valid data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Event {
    /// Versions from here on are affected (`"0"` means from the start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// Versions from here on are not affected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Versions after this one are not affected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// Versions from here on are outside the range (an upper limit, not a fix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// A reference link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reference {
    /// `ADVISORY`, `WEB`, `FIX`, `PACKAGE` …
    #[serde(rename = "type")]
    pub kind: String,
    /// The URL.
    pub url: String,
}

impl Advisory {
    /// The RustSec `informational` class (`unmaintained`, `unsound`, `notice`) when the advisory
    /// is not a vulnerability; cargo-audit reports these as warnings, not vulnerabilities.
    pub fn informational(&self) -> Option<&str> {
        self.affected.iter().find_map(|affected| {
            affected
                .database_specific
                .as_ref()?
                .get("informational")?
                .as_str()
        })
    }

    /// The URL of the advisory's own page, when it lists one.
    pub fn advisory_url(&self) -> Option<&str> {
        self.references
            .iter()
            .find(|reference| reference.kind == "ADVISORY")
            .or_else(|| self.references.first())
            .map(|reference| reference.url.as_str())
    }
}
