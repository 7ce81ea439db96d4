//! Rust: `Cargo.lock` (v1–v4). Only crates.io packages are audited, as cargo-audit does: path
//! and git dependencies and workspace members are not crates.io releases.

use std::path::Path;

use serde::Deserialize;

use super::{Dependency, pinned, toml_error};
use crate::error::AuditError;
use crate::version::Ecosystem;

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<CargoPackage>,
}

#[derive(Deserialize)]
struct CargoPackage {
    name: toml::Spanned<String>,
    version: String,
    #[serde(default)]
    source: Option<String>,
}

/// Whether a Cargo.lock `source` is the crates.io registry (git index or sparse).
fn is_crates_io(source: &str) -> bool {
    matches!(
        source,
        "registry+https://github.com/rust-lang/crates.io-index" | "sparse+https://index.crates.io/"
    )
}

pub(crate) fn parse_cargo_lock(path: &Path, text: &str) -> Result<Vec<Dependency>, AuditError> {
    let lock: CargoLock = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    Ok(lock
        .package
        .into_iter()
        .filter(|package| package.source.as_deref().is_some_and(is_crates_io))
        .map(|package| {
            let line = Some(crate::error::line_of(text, package.name.span().start));
            pinned(
                Ecosystem::CratesIo,
                package.name.get_ref(),
                &package.version,
                path,
                line,
            )
        })
        .collect())
}
