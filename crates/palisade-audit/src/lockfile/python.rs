//! Python: pip requirements files (pins, hashes, `-r` includes, extras, markers, editable and URL
//! requirements), poetry.lock / uv.lock / pdm.lock / pylock.toml (TOML package tables),
//! Pipfile.lock (JSON) and installed distributions' `*.dist-info/METADATA`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    Dependency, MAX_LOCKFILE_BYTES, MAX_PACKAGES, ParsedFile, json_error, pinned, toml_error,
    unpinned,
};
use crate::error::{AuditError, read_limited};
use crate::version::{Ecosystem, SpecifierSet};

/// Deepest `-r` include chain followed.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Parses a requirements file and, recursively, the files it includes with `-r`.
pub(crate) fn parse_requirements(path: &Path, text: &str) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    let mut visited = HashSet::new();
    visited.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()));
    parse_requirements_text(path, text, &mut parsed, &mut visited, 0);
    parsed
}

fn parse_requirements_text(
    path: &Path,
    text: &str,
    parsed: &mut ParsedFile,
    visited: &mut HashSet<PathBuf>,
    depth: usize,
) {
    for (line_number, line) in logical_lines(text) {
        if parsed.dependencies.len() >= MAX_PACKAGES {
            parsed
                .problems
                .push(AuditError::too_many(path, MAX_PACKAGES));
            return;
        }
        if let Some(include) = option_value(&line, &["-r", "--requirement"]) {
            let target = path.parent().unwrap_or(Path::new(".")).join(include);
            if depth >= MAX_INCLUDE_DEPTH {
                parsed.problems.push(AuditError::malformed(
                    path,
                    line_number,
                    "-r includes nested too deeply",
                ));
                continue;
            }
            let key = std::fs::canonicalize(&target).unwrap_or_else(|_| target.clone());
            if !visited.insert(key) {
                continue;
            }
            match read_limited(&target, MAX_LOCKFILE_BYTES) {
                Ok(included) => {
                    parse_requirements_text(&target, &included, parsed, visited, depth + 1)
                }
                Err(error) => parsed.problems.push(AuditError::malformed(
                    path,
                    line_number,
                    format!("included requirements file: {error}"),
                )),
            }
            continue;
        }
        if let Some(editable) = option_value(&line, &["-e", "--editable"]) {
            let name = editable
                .split_once("#egg=")
                .map(|(_, egg)| egg.split('&').next().unwrap_or(egg).to_owned())
                .unwrap_or_else(|| editable.to_owned());
            parsed.dependencies.push(unpinned(
                Ecosystem::PyPI,
                &name,
                &format!("editable {editable}"),
                path,
                Some(line_number),
            ));
            continue;
        }
        if line.starts_with('-') {
            // -c constraints, -i/--index-url, --hash on its own, -f … install nothing by themselves
            continue;
        }
        match parse_requirement(&line) {
            Ok(Some((name, Some(version)))) => parsed.dependencies.push(pinned(
                Ecosystem::PyPI,
                &name,
                &version,
                path,
                Some(line_number),
            )),
            Ok(Some((name, None))) => {
                let requirement = strip_options(&line);
                let requirement = requirement.trim()[name.len()..].trim();
                parsed.dependencies.push(unpinned(
                    Ecosystem::PyPI,
                    &name,
                    requirement,
                    path,
                    Some(line_number),
                ))
            }
            Ok(None) => parsed.dependencies.push(unpinned(
                Ecosystem::PyPI,
                line.trim(),
                "a URL or path, not a named requirement",
                path,
                Some(line_number),
            )),
            Err(message) => parsed
                .problems
                .push(AuditError::malformed(path, line_number, message)),
        }
    }
}

/// Logical lines: comments removed, `\` continuations joined, blank lines dropped; each with the
/// number of its first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (index, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = index + 1;
        }
        let without_comment = strip_comment(raw);
        if let Some(continued) = without_comment.strip_suffix('\\') {
            current.push_str(continued);
            current.push(' ');
            continue;
        }
        current.push_str(without_comment);
        let line = current.trim().to_owned();
        current.clear();
        if !line.is_empty() {
            lines.push((start, line));
        }
    }
    let line = current.trim().to_owned();
    if !line.is_empty() {
        lines.push((start, line));
    }
    lines
}

/// pip's comment rule: `#` at the start of a line or after whitespace.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        if *byte == b'#' && (index == 0 || bytes[index - 1].is_ascii_whitespace()) {
            return line[..index].trim_end();
        }
    }
    line.trim_end()
}

/// The value of `-r FILE`, `-rFILE`, `--requirement FILE` or `--requirement=FILE`.
fn option_value<'a>(line: &'a str, names: &[&str]) -> Option<&'a str> {
    for name in names {
        if let Some(rest) = line.strip_prefix(name) {
            if name.starts_with("--") {
                if let Some(value) = rest.strip_prefix('=') {
                    return Some(value.trim());
                }
                if rest.starts_with(char::is_whitespace) {
                    return Some(rest.trim());
                }
            } else if !rest.is_empty() {
                return Some(rest.trim_start_matches('=').trim());
            }
        }
    }
    None
}

/// The requirement without per-requirement options (`--hash=…`, `--config-settings …`).
fn strip_options(line: &str) -> &str {
    match line.find(" --").or_else(|| line.find("\t--")) {
        Some(index) => &line[..index],
        None => line,
    }
}

/// `name[extras] specifiers ; markers` → (name, pinned version). `Ok(None)` for a bare URL or
/// path; an error for a requirement that is not PEP 508.
fn parse_requirement(line: &str) -> Result<Option<(String, Option<String>)>, String> {
    let requirement = strip_options(line).trim();
    let without_marker = match requirement.split_once(';') {
        Some((before, _marker)) if !before.contains("://") => before.trim(),
        _ => requirement,
    };
    let name_end = without_marker
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(without_marker.len());
    let name = &without_marker[..name_end];
    if name.is_empty()
        || without_marker.contains("://")
            && !without_marker[name_end..].trim_start().starts_with('@')
    {
        if without_marker.contains("://")
            || without_marker.contains('/')
            || without_marker.ends_with(".whl")
        {
            return Ok(None);
        }
        return Err(format!("not a requirement: {without_marker:?}"));
    }
    let mut rest = without_marker[name_end..].trim_start();
    if let Some(after_bracket) = rest.strip_prefix('[') {
        let close = after_bracket
            .find(']')
            .ok_or_else(|| format!("unclosed extras in {without_marker:?}"))?;
        rest = after_bracket[close + 1..].trim_start();
    }
    if rest.starts_with('@') {
        // a direct reference (name @ URL): no version to look up
        return Ok(Some((name.to_owned(), None)));
    }
    let specifiers = rest.trim().trim_start_matches('(').trim_end_matches(')');
    let set: SpecifierSet = specifiers
        .parse()
        .map_err(|e| format!("{e} in {without_marker:?}"))?;
    Ok(Some((name.to_owned(), set.pinned())))
}

#[derive(Deserialize)]
struct PackageTables {
    #[serde(default)]
    package: Vec<LockedPackage>,
    #[serde(default)]
    packages: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct LockedPackage {
    name: toml::Spanned<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: Option<toml::Value>,
}

/// poetry.lock, uv.lock and pdm.lock (`[[package]]`) and pylock.toml (`[[packages]]`). Local
/// workspace members (uv's `editable`/`virtual` sources) are not audited.
pub(crate) fn parse_package_table_lock(
    path: &Path,
    text: &str,
    table: &str,
) -> Result<Vec<Dependency>, AuditError> {
    let tables: PackageTables = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    let packages = if table == "packages" {
        tables.packages
    } else {
        tables.package
    };
    let mut dependencies = Vec::with_capacity(packages.len());
    for package in packages {
        let local = package
            .source
            .as_ref()
            .and_then(toml::Value::as_table)
            .is_some_and(|source| {
                source.contains_key("editable") || source.contains_key("virtual")
            });
        if local {
            continue;
        }
        let line = Some(crate::error::line_of(text, package.name.span().start));
        let name = package.name.into_inner();
        dependencies.push(match package.version {
            Some(version) => pinned(Ecosystem::PyPI, &name, &version, path, line),
            None => unpinned(
                Ecosystem::PyPI,
                &name,
                "no version in the lockfile",
                path,
                line,
            ),
        });
    }
    Ok(dependencies)
}

/// Pipfile.lock: the `default` and `develop` sections, versions written `==X`.
pub(crate) fn parse_pipfile_lock(path: &Path, text: &str) -> Result<Vec<Dependency>, AuditError> {
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
    let mut dependencies = Vec::new();
    for section in ["default", "develop"] {
        let Some(packages) = document.get(section).and_then(|s| s.as_object()) else {
            continue;
        };
        for (name, entry) in packages {
            match entry.get("version").and_then(|v| v.as_str()) {
                Some(version) => match version.trim().strip_prefix("==") {
                    Some(exact) => {
                        dependencies.push(pinned(Ecosystem::PyPI, name, exact.trim(), path, None))
                    }
                    None => dependencies.push(unpinned(Ecosystem::PyPI, name, version, path, None)),
                },
                None => dependencies.push(unpinned(
                    Ecosystem::PyPI,
                    name,
                    "no version (VCS or path)",
                    path,
                    None,
                )),
            }
        }
    }
    Ok(dependencies)
}

/// `*.dist-info/METADATA`: the `Name:` and `Version:` headers of an installed distribution.
pub(crate) fn parse_metadata(path: &Path, text: &str) -> Result<Vec<Dependency>, AuditError> {
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Name:") {
            name = Some(value.trim().to_owned());
        } else if let Some(value) = line.strip_prefix("Version:") {
            version = Some(value.trim().to_owned());
        }
    }
    match (name, version) {
        (Some(name), Some(version)) => {
            Ok(vec![pinned(Ecosystem::PyPI, &name, &version, path, None)])
        }
        _ => Err(AuditError::malformed(
            path,
            1,
            "METADATA without Name and Version headers",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_lines() {
        assert_eq!(
            parse_requirement("Django[argon2]==3.2.1 ; python_version >= '3.8' --hash=sha256:abc"),
            Ok(Some(("Django".into(), Some("3.2.1".into()))))
        );
        assert_eq!(
            parse_requirement("requests>=2.0"),
            Ok(Some(("requests".into(), None)))
        );
        assert_eq!(
            parse_requirement("pkg @ https://example.invalid/pkg.whl"),
            Ok(Some(("pkg".into(), None)))
        );
        assert_eq!(
            parse_requirement("https://example.invalid/pkg-1.0.tar.gz"),
            Ok(None)
        );
        assert!(parse_requirement("flask=>2").is_err());
        assert_eq!(
            parse_requirement("name (==1.0)"),
            Ok(Some(("name".into(), Some("1.0".into()))))
        );
    }

    #[test]
    fn continuation_and_comments() {
        let lines =
            logical_lines("a==1 \\\n  --hash=sha256:x # c\n# only comment\n\nb==2#not-a-comment\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].0, 1);
        assert_eq!(lines[1], (5, "b==2#not-a-comment".to_owned()));
    }
}
