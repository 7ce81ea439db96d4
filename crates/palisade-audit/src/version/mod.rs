//! Version schemes per ecosystem: PEP 440 for PyPI, SemVer for crates.io, npm and Go, and a
//! generic dotted ordering for anything else. A [`Version`] is parsed once and compared with
//! versions of the same scheme; versions that do not parse are not comparable (never guessed).

pub mod pep440;

use std::cmp::Ordering;
use std::fmt;

pub use pep440::{Pep440Version, Specifier, SpecifierSet};

/// The package ecosystems Palisade reads lockfiles for (others come from SBOM purls).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ecosystem {
    /// Python packages.
    PyPI,
    /// Rust crates.
    CratesIo,
    /// JavaScript packages.
    Npm,
    /// Go modules.
    Go,
    /// Any other OSV ecosystem name, kept as written (`Maven`, `RubyGems` …).
    Other(String),
}

impl Ecosystem {
    /// The ecosystem for an OSV `ecosystem` string (`"Debian:11"` → `Other("Debian")`).
    pub fn from_osv(name: &str) -> Ecosystem {
        let base = name.split(':').next().unwrap_or(name);
        match base.to_ascii_lowercase().as_str() {
            "pypi" => Ecosystem::PyPI,
            "crates.io" => Ecosystem::CratesIo,
            "npm" => Ecosystem::Npm,
            "go" => Ecosystem::Go,
            _ => Ecosystem::Other(base.to_owned()),
        }
    }

    /// The OSV spelling.
    pub fn osv_name(&self) -> &str {
        match self {
            Ecosystem::PyPI => "PyPI",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "Go",
            Ecosystem::Other(name) => name,
        }
    }

    /// The purl type (`pkg:<type>/…`).
    pub fn purl_type(&self) -> String {
        match self {
            Ecosystem::PyPI => "pypi".into(),
            Ecosystem::CratesIo => "cargo".into(),
            Ecosystem::Npm => "npm".into(),
            Ecosystem::Go => "golang".into(),
            Ecosystem::Other(name) => name.to_ascii_lowercase(),
        }
    }

    /// The key the store indexes names by: PEP 503 normalisation for PyPI, the name as written
    /// elsewhere.
    pub fn normalize_name(&self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => normalize_python_name(name),
            _ => name.trim().to_owned(),
        }
    }

    /// Parses `text` in this ecosystem's version scheme.
    pub fn parse_version(&self, text: &str) -> Option<Version> {
        match self {
            Ecosystem::PyPI => text.parse().ok().map(Version::Pep440),
            Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Go => {
                parse_semver(text).map(Version::Semver)
            }
            Ecosystem::Other(_) => GenericVersion::parse(text).map(Version::Generic),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.osv_name())
    }
}

/// PEP 503: lower case, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_python_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            in_separator = true;
        } else {
            if in_separator && !out.is_empty() {
                out.push('-');
            }
            in_separator = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// SemVer with the leniency lockfiles need: a `v` prefix (Go), missing minor/patch (`1.2`).
fn parse_semver(text: &str) -> Option<semver::Version> {
    let text = text.trim();
    let text = text.strip_prefix('v').unwrap_or(text);
    if let Ok(version) = semver::Version::parse(text) {
        return Some(version);
    }
    // pad "1" / "1.2" (before any pre-release or build suffix)
    let split = text.find(['-', '+']).unwrap_or(text.len());
    let (core, rest) = text.split_at(split);
    let parts = core.split('.').count();
    if core.is_empty() || parts >= 3 {
        return None;
    }
    let padded = format!("{core}{}{rest}", ".0".repeat(3 - parts));
    semver::Version::parse(&padded).ok()
}

/// A dotted version of an ecosystem without a dedicated scheme: numeric runs compare as numbers,
/// letter runs as text (which sorts before numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericVersion {
    parts: Vec<GenericPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum GenericPart {
    Text(String),
    Number(u64),
}

impl GenericVersion {
    fn parse(text: &str) -> Option<GenericVersion> {
        let text = text.trim();
        if text.is_empty() || text.len() > 256 {
            return None;
        }
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut digits = false;
        let flush = |current: &mut String, digits: bool, parts: &mut Vec<GenericPart>| {
            if !current.is_empty() {
                parts.push(if digits {
                    GenericPart::Number(current.parse().unwrap_or(u64::MAX))
                } else {
                    GenericPart::Text(current.to_ascii_lowercase())
                });
                current.clear();
            }
        };
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                if !current.is_empty() && c.is_ascii_digit() != digits {
                    flush(&mut current, digits, &mut parts);
                }
                digits = c.is_ascii_digit();
                current.push(c);
            } else {
                flush(&mut current, digits, &mut parts);
            }
        }
        flush(&mut current, digits, &mut parts);
        Some(GenericVersion { parts })
    }
}

impl Ord for GenericVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.parts.len().max(other.parts.len());
        for index in 0..len {
            let zero = GenericPart::Number(0);
            let a = self.parts.get(index).unwrap_or(&zero);
            let b = other.parts.get(index).unwrap_or(&zero);
            match a.cmp(b) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GenericVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed version in one of the schemes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// PEP 440.
    Pep440(Pep440Version),
    /// SemVer 2.0.
    Semver(semver::Version),
    /// Generic dotted.
    Generic(GenericVersion),
}

impl PartialOrd for Version {
    /// Versions of different schemes are not comparable.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Version::Pep440(a), Version::Pep440(b)) => Some(a.cmp(b)),
            (Version::Semver(a), Version::Semver(b)) => Some(a.cmp_precedence(b)),
            (Version::Generic(a), Version::Generic(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_names_normalise() {
        assert_eq!(
            normalize_python_name("Django_REST.framework"),
            "django-rest-framework"
        );
        assert_eq!(normalize_python_name("zope..interface"), "zope-interface");
    }

    #[test]
    fn lenient_semver() {
        let go = Ecosystem::Go;
        assert!(go.parse_version("v1.2.3") < go.parse_version("v1.10.0"));
        assert!(go.parse_version("v0.0.0-20200101000000-abcdef123456") < go.parse_version("0.0.1"));
        assert!(Ecosystem::Npm.parse_version("1.2").is_some());
    }
}
