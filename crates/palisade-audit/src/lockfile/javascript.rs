//! JavaScript: package-lock.json / npm-shrinkwrap.json (lockfile v1 nested `dependencies`, v2/v3
//! flat `packages`), yarn.lock (classic and berry) and pnpm-lock.yaml (v5–v9 key syntaxes).

use std::collections::BTreeSet;
use std::path::Path;

use super::{Dependency, MAX_PACKAGES, json_error, pinned, unpinned};
use crate::error::AuditError;
use crate::version::Ecosystem;

/// Deepest v1 `dependencies` nesting followed.
const MAX_NESTING: usize = 256;

pub(crate) fn parse_package_lock(path: &Path, text: &str) -> Result<Vec<Dependency>, AuditError> {
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
    let mut dependencies = Vec::new();
    let mut seen = BTreeSet::new();
    if let Some(packages) = document.get("packages").and_then(|p| p.as_object()) {
        for (key, entry) in packages {
            if key.is_empty() || entry.get("link").and_then(|l| l.as_bool()) == Some(true) {
                continue;
            }
            let Some(install_name) = key.rsplit_once("node_modules/").map(|(_, name)| name) else {
                continue; // a workspace member directory
            };
            let name = entry
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or(install_name);
            push_npm(
                path,
                name,
                entry.get("version").and_then(|v| v.as_str()),
                &mut seen,
                &mut dependencies,
            )?;
        }
    } else if let Some(nested) = document.get("dependencies").and_then(|d| d.as_object()) {
        walk_v1(path, nested, 0, &mut seen, &mut dependencies)?;
    }
    Ok(dependencies)
}

fn walk_v1(
    path: &Path,
    dependencies_object: &serde_json::Map<String, serde_json::Value>,
    depth: usize,
    seen: &mut BTreeSet<(String, String)>,
    out: &mut Vec<Dependency>,
) -> Result<(), AuditError> {
    if depth > MAX_NESTING {
        return Err(AuditError::malformed(
            path,
            1,
            "dependencies nested too deeply",
        ));
    }
    for (name, entry) in dependencies_object {
        push_npm(
            path,
            name,
            entry.get("version").and_then(|v| v.as_str()),
            seen,
            out,
        )?;
        if let Some(nested) = entry.get("dependencies").and_then(|d| d.as_object()) {
            walk_v1(path, nested, depth + 1, seen, out)?;
        }
    }
    Ok(())
}

/// Adds `name@version` once; aliases (`npm:real@1.0.0`) resolve to the real package; git/file
/// versions are reported unpinned.
fn push_npm(
    path: &Path,
    name: &str,
    version: Option<&str>,
    seen: &mut BTreeSet<(String, String)>,
    out: &mut Vec<Dependency>,
) -> Result<(), AuditError> {
    if out.len() >= MAX_PACKAGES {
        return Err(AuditError::too_many(path, MAX_PACKAGES));
    }
    let Some(version) = version else {
        out.push(unpinned(
            Ecosystem::Npm,
            name,
            "no version in the lockfile",
            path,
            None,
        ));
        return Ok(());
    };
    let (name, version) = match version.strip_prefix("npm:") {
        Some(alias) => match alias.rsplit_once('@') {
            Some((real, version)) if !real.is_empty() => (real, version),
            _ => (name, version),
        },
        None => (name, version),
    };
    if Ecosystem::Npm.parse_version(version).is_none() {
        out.push(unpinned(Ecosystem::Npm, name, version, path, None));
        return Ok(());
    }
    if seen.insert((name.to_owned(), version.to_owned())) {
        out.push(pinned(Ecosystem::Npm, name, version, path, None));
    }
    Ok(())
}

/// The package name of a yarn/pnpm descriptor such as `@scope/name@^1.0.0` or `name@npm:1.0.0`.
fn descriptor_name(descriptor: &str) -> &str {
    let descriptor = descriptor.trim().trim_matches('"');
    let search_from = usize::from(descriptor.starts_with('@'));
    match descriptor[search_from..].find('@') {
        Some(at) => &descriptor[..at + search_from],
        None => descriptor,
    }
}

/// yarn.lock: entries are unindented descriptor lines ending in `:`, followed by indented fields;
/// classic writes `version "1.2.3"`, berry `version: 1.2.3`. Berry workspace entries are skipped.
pub(crate) fn parse_yarn_lock(path: &Path, text: &str) -> Result<Vec<Dependency>, AuditError> {
    let mut dependencies = Vec::new();
    let mut seen = BTreeSet::new();
    let mut current: Option<(String, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            let Some(header) = line.strip_suffix(':') else {
                return Err(AuditError::malformed(
                    path,
                    line_number,
                    "expected an entry header ending in ':'",
                ));
            };
            let first = header.split(", ").next().unwrap_or(header);
            let name = descriptor_name(first);
            current = if name == "__metadata"
                || first.contains("@workspace:")
                || first.contains("@link:")
            {
                None
            } else {
                Some((name.to_owned(), line_number))
            };
            continue;
        }
        let field = line.trim();
        let version = field
            .strip_prefix("version ")
            .or_else(|| field.strip_prefix("version: "))
            .map(|v| v.trim().trim_matches('"'));
        if let (Some(version), Some((name, header_line))) = (version, current.as_ref()) {
            if dependencies.len() >= MAX_PACKAGES {
                return Err(AuditError::too_many(path, MAX_PACKAGES));
            }
            if version.contains("use.local") {
                continue;
            }
            if seen.insert((name.clone(), version.to_owned())) {
                dependencies.push(pinned(
                    Ecosystem::Npm,
                    name,
                    version,
                    path,
                    Some(*header_line),
                ));
            }
        }
    }
    Ok(dependencies)
}

/// pnpm-lock.yaml: the keys of `packages` (v5 `/name/1.0.0`, v6 `/name@1.0.0`, v9 `name@1.0.0`,
/// each possibly with a peer-dependency suffix).
pub(crate) fn parse_pnpm_lock(path: &Path, text: &str) -> Result<Vec<Dependency>, AuditError> {
    let document: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| {
        let message = e.to_string();
        let line = message
            .split("line ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        AuditError::malformed(path, line, message)
    })?;
    let mut dependencies = Vec::new();
    let mut seen = BTreeSet::new();
    let Some(packages) = document.get("packages").and_then(|p| p.as_object()) else {
        return Ok(dependencies);
    };
    let v5 = match document.get("lockfileVersion") {
        Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|v| v < 6.0),
        Some(serde_json::Value::String(s)) => s.starts_with('5'),
        _ => false,
    };
    for (key, entry) in packages {
        let key = key.trim_start_matches('/');
        let key = key.split('(').next().unwrap_or(key);
        let (name, version) = if v5 {
            // /name/1.0.0 or /@scope/name/1.0.0_peer@1.0.0
            match key.rsplit_once('/') {
                Some((name, version)) => (name, version.split('_').next().unwrap_or(version)),
                None => continue,
            }
        } else {
            match key.rfind('@').filter(|at| *at > 0) {
                Some(at) => (&key[..at], &key[at + 1..]),
                None => continue,
            }
        };
        let version = entry
            .get("version")
            .and_then(|v| v.as_str())
            .unwrap_or(version);
        push_npm(path, name, Some(version), &mut seen, &mut dependencies)?;
    }
    Ok(dependencies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        assert_eq!(descriptor_name("\"@babel/core@^7.0.0\""), "@babel/core");
        assert_eq!(descriptor_name("lodash@npm:^4.17.0"), "lodash");
    }
}
