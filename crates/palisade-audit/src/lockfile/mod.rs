//! Lockfile and manifest readers: each turns one file into the exact package versions it pins.
//! Requirements that pin nothing are reported as unpinned, never guessed. Every reader bounds
//! the bytes it reads and the entries it returns; a malformed file is an error naming the file
//! and line, and the scan carries on with the other files.

mod go;
mod javascript;
mod python;
mod rust;
mod sbom;

use std::path::{Path, PathBuf};

use crate::error::{AuditError, read_limited};
use crate::version::Ecosystem;

/// Largest lockfile read.
pub const MAX_LOCKFILE_BYTES: u64 = 64 * 1024 * 1024;
/// Most packages one file may list.
pub const MAX_PACKAGES: usize = 500_000;

/// One package a file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Its name as the file spells it.
    pub name: String,
    /// The exact version, or `None` when the file does not pin one.
    pub version: Option<String>,
    /// The requirement as written when unpinned (`>=2.0`, a URL, an editable path …).
    pub requirement: Option<String>,
    /// The file it came from.
    pub source: PathBuf,
    /// The 1-based line, when the format has meaningful lines.
    pub line: Option<usize>,
}

/// What one file yielded: dependencies, plus problems that did not stop the rest of the file
/// (a malformed requirement line, a missing `-r` include).
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// The packages.
    pub dependencies: Vec<Dependency>,
    /// Non-fatal problems.
    pub problems: Vec<AuditError>,
}

/// The formats Palisade reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockfileKind {
    /// pip `requirements*.txt`.
    Requirements,
    /// `poetry.lock`.
    PoetryLock,
    /// `Pipfile.lock`.
    PipfileLock,
    /// `uv.lock`.
    UvLock,
    /// `pdm.lock`.
    PdmLock,
    /// PEP 751 `pylock.toml` / `pylock.*.toml`.
    PyLock,
    /// An installed distribution's `*.dist-info/METADATA`.
    DistInfoMetadata,
    /// `Cargo.lock`.
    CargoLock,
    /// `package-lock.json` / `npm-shrinkwrap.json` (v1–v3).
    NpmLock,
    /// `yarn.lock`, classic or berry.
    YarnLock,
    /// `pnpm-lock.yaml`.
    PnpmLock,
    /// `go.sum`.
    GoSum,
    /// CycloneDX JSON SBOM.
    CycloneDx,
    /// SPDX JSON SBOM.
    Spdx,
}

impl LockfileKind {
    /// The format of a file by its name (SBOMs: `*.cdx.json`, `bom.json`, `*.spdx.json`).
    pub fn detect(path: &Path) -> Option<LockfileKind> {
        let name = path.file_name()?.to_str()?;
        let lower = name.to_ascii_lowercase();
        Some(match name {
            "poetry.lock" => LockfileKind::PoetryLock,
            "Pipfile.lock" => LockfileKind::PipfileLock,
            "uv.lock" => LockfileKind::UvLock,
            "pdm.lock" => LockfileKind::PdmLock,
            "Cargo.lock" => LockfileKind::CargoLock,
            "package-lock.json" | "npm-shrinkwrap.json" => LockfileKind::NpmLock,
            "yarn.lock" => LockfileKind::YarnLock,
            "pnpm-lock.yaml" => LockfileKind::PnpmLock,
            "go.sum" => LockfileKind::GoSum,
            "METADATA"
                if path
                    .parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".dist-info")) =>
            {
                LockfileKind::DistInfoMetadata
            }
            _ if lower.starts_with("requirements") && lower.ends_with(".txt") => {
                LockfileKind::Requirements
            }
            _ if lower == "pylock.toml"
                || (lower.starts_with("pylock.") && lower.ends_with(".toml")) =>
            {
                LockfileKind::PyLock
            }
            _ if lower.ends_with(".cdx.json")
                || lower == "bom.json"
                || lower.ends_with(".cyclonedx.json") =>
            {
                LockfileKind::CycloneDx
            }
            _ if lower.ends_with(".spdx.json") => LockfileKind::Spdx,
            _ => return None,
        })
    }

    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LockfileKind::Requirements => "requirements",
            LockfileKind::PoetryLock => "poetry.lock",
            LockfileKind::PipfileLock => "Pipfile.lock",
            LockfileKind::UvLock => "uv.lock",
            LockfileKind::PdmLock => "pdm.lock",
            LockfileKind::PyLock => "pylock.toml",
            LockfileKind::DistInfoMetadata => "dist-info",
            LockfileKind::CargoLock => "Cargo.lock",
            LockfileKind::NpmLock => "package-lock.json",
            LockfileKind::YarnLock => "yarn.lock",
            LockfileKind::PnpmLock => "pnpm-lock.yaml",
            LockfileKind::GoSum => "go.sum",
            LockfileKind::CycloneDx => "cyclonedx",
            LockfileKind::Spdx => "spdx",
        }
    }

    /// The format of a JSON file named on the command line by its content (SBOMs).
    pub fn sniff_json(text: &str) -> Option<LockfileKind> {
        let head: String = text.chars().take(4096).collect();
        if head.contains("\"bomFormat\"") {
            Some(LockfileKind::CycloneDx)
        } else if head.contains("\"spdxVersion\"") {
            Some(LockfileKind::Spdx)
        } else {
            None
        }
    }
}

/// Reads `path` as `kind`.
pub fn parse_file(path: &Path, kind: LockfileKind) -> Result<ParsedFile, AuditError> {
    let text = read_limited(path, MAX_LOCKFILE_BYTES)?;
    let dependencies = match kind {
        LockfileKind::Requirements => return Ok(python::parse_requirements(path, &text)),
        LockfileKind::PoetryLock | LockfileKind::UvLock | LockfileKind::PdmLock => {
            python::parse_package_table_lock(path, &text, "package")?
        }
        LockfileKind::PyLock => python::parse_package_table_lock(path, &text, "packages")?,
        LockfileKind::PipfileLock => python::parse_pipfile_lock(path, &text)?,
        LockfileKind::DistInfoMetadata => python::parse_metadata(path, &text)?,
        LockfileKind::CargoLock => rust::parse_cargo_lock(path, &text)?,
        LockfileKind::NpmLock => javascript::parse_package_lock(path, &text)?,
        LockfileKind::YarnLock => javascript::parse_yarn_lock(path, &text)?,
        LockfileKind::PnpmLock => javascript::parse_pnpm_lock(path, &text)?,
        LockfileKind::GoSum => go::parse_go_sum(path, &text)?,
        LockfileKind::CycloneDx => sbom::parse_cyclonedx(path, &text)?,
        LockfileKind::Spdx => sbom::parse_spdx(path, &text)?,
    };
    if dependencies.len() > MAX_PACKAGES {
        return Err(AuditError::too_many(path, MAX_PACKAGES));
    }
    Ok(ParsedFile {
        dependencies,
        problems: Vec::new(),
    })
}

/// A pinned dependency.
pub(crate) fn pinned(
    ecosystem: Ecosystem,
    name: &str,
    version: &str,
    source: &Path,
    line: Option<usize>,
) -> Dependency {
    Dependency {
        ecosystem,
        name: name.to_owned(),
        version: Some(version.to_owned()),
        requirement: None,
        source: source.to_owned(),
        line,
    }
}

/// A dependency whose exact version the file does not give.
pub(crate) fn unpinned(
    ecosystem: Ecosystem,
    name: &str,
    requirement: &str,
    source: &Path,
    line: Option<usize>,
) -> Dependency {
    Dependency {
        ecosystem,
        name: name.to_owned(),
        version: None,
        requirement: Some(requirement.to_owned()),
        source: source.to_owned(),
        line,
    }
}

/// A TOML/JSON/YAML syntax error as a malformed-file error with its line.
pub(crate) fn toml_error(path: &Path, text: &str, error: &toml::de::Error) -> AuditError {
    let line = error
        .span()
        .map(|span| crate::error::line_of(text, span.start))
        .unwrap_or(1);
    AuditError::malformed(path, line, error.message().to_owned())
}

pub(crate) fn json_error(path: &Path, error: &serde_json::Error) -> AuditError {
    AuditError::malformed(path, error.line(), error.to_string())
}

pub use sbom::parse_purl;
