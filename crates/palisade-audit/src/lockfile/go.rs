//! Go: `go.sum`. It lists every module version the build consulted; the versions whose module
//! content (not only `go.mod`) is hashed are the ones built, and of several the highest is the
//! one minimal version selection picked.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Dependency, pinned};
use crate::error::AuditError;
use crate::version::{Ecosystem, Version};

pub(crate) fn parse_go_sum(path: &Path, text: &str) -> Result<Vec<Dependency>, AuditError> {
    let ecosystem = Ecosystem::Go;
    let mut selected: BTreeMap<String, (Option<Version>, String, usize)> = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(module), Some(version), Some(hash), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(AuditError::malformed(
                path,
                index + 1,
                "expected `module version hash`",
            ));
        };
        if !hash.starts_with("h1:") && !hash.contains(':') {
            return Err(AuditError::malformed(
                path,
                index + 1,
                "expected a hash such as h1:…",
            ));
        }
        if version.ends_with("/go.mod") {
            continue;
        }
        let parsed = ecosystem.parse_version(version);
        let keep = match selected.get(module) {
            None => true,
            Some((current, _, _)) => match (&parsed, current) {
                (Some(new), Some(current)) => new > current,
                (Some(_), None) => true,
                _ => false,
            },
        };
        if keep {
            selected.insert(module.to_owned(), (parsed, version.to_owned(), index + 1));
        }
    }
    Ok(selected
        .into_iter()
        .map(|(module, (_, version, line))| {
            pinned(ecosystem.clone(), &module, &version, path, Some(line))
        })
        .collect())
}
