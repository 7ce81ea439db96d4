//! SBOMs: CycloneDX JSON (`components`, nested) and SPDX JSON (`packages[].externalRefs` purls).
//! Package identity comes from the package URL (purl).

use std::path::Path;

use super::{Dependency, MAX_PACKAGES, json_error, pinned, unpinned};
use crate::error::AuditError;
use crate::version::Ecosystem;

/// Deepest CycloneDX component nesting followed.
const MAX_NESTING: usize = 64;

/// A package URL: `pkg:type/namespace/name@version?qualifiers#subpath` → (ecosystem, OSV package
/// name, version).
pub fn parse_purl(purl: &str) -> Option<(Ecosystem, String, Option<String>)> {
    let rest = purl.trim().strip_prefix("pkg:")?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let rest = rest.split('?').next().unwrap_or(rest);
    let (kind, path) = rest.split_once('/')?;
    let (path, version) = match path.rsplit_once('@') {
        // npm scopes are percent-encoded (%40) in purls, but tolerate a literal leading '@'
        Some((path, version)) if !path.is_empty() && !path.ends_with('/') => {
            (path, Some(percent_decode(version)))
        }
        _ => (path, None),
    };
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let name = segments.last()?.clone();
    let namespace = segments[..segments.len() - 1].join("/");
    let ecosystem = match kind.to_ascii_lowercase().as_str() {
        "pypi" => Ecosystem::PyPI,
        "cargo" => Ecosystem::CratesIo,
        "npm" => Ecosystem::Npm,
        "golang" => Ecosystem::Go,
        "maven" => Ecosystem::Other("Maven".into()),
        "gem" => Ecosystem::Other("RubyGems".into()),
        "nuget" => Ecosystem::Other("NuGet".into()),
        "composer" => Ecosystem::Other("Packagist".into()),
        "hex" => Ecosystem::Other("Hex".into()),
        "pub" => Ecosystem::Other("Pub".into()),
        other => Ecosystem::Other(other.to_owned()),
    };
    let full_name = match (&ecosystem, namespace.is_empty()) {
        (_, true) => name,
        (Ecosystem::Other(kind), false) if kind == "Maven" => format!("{namespace}:{name}"),
        (_, false) => format!("{namespace}/{name}"),
    };
    Some((ecosystem, full_name, version))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let Some(value) = std::str::from_utf8(&bytes[index + 1..index + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(value);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn push_purl(path: &Path, purl: &str, out: &mut Vec<Dependency>) -> Result<(), AuditError> {
    if out.len() >= MAX_PACKAGES {
        return Err(AuditError::too_many(path, MAX_PACKAGES));
    }
    if let Some((ecosystem, name, version)) = parse_purl(purl) {
        out.push(match version {
            Some(version) => pinned(ecosystem, &name, &version, path, None),
            None => unpinned(ecosystem, &name, "no version in the purl", path, None),
        });
    }
    Ok(())
}

pub(crate) fn parse_cyclonedx(path: &Path, text: &str) -> Result<Vec<Dependency>, AuditError> {
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
    if document.get("bomFormat").and_then(|f| f.as_str()) != Some("CycloneDX") {
        return Err(AuditError::malformed(
            path,
            1,
            "not a CycloneDX JSON document (bomFormat)",
        ));
    }
    let mut out = Vec::new();
    if let Some(component) = document.get("metadata").and_then(|m| m.get("component")) {
        walk_components(path, std::slice::from_ref(component), 0, &mut out)?;
    }
    if let Some(components) = document.get("components").and_then(|c| c.as_array()) {
        walk_components(path, components, 0, &mut out)?;
    }
    Ok(out)
}

fn walk_components(
    path: &Path,
    components: &[serde_json::Value],
    depth: usize,
    out: &mut Vec<Dependency>,
) -> Result<(), AuditError> {
    if depth > MAX_NESTING {
        return Err(AuditError::malformed(
            path,
            1,
            "components nested too deeply",
        ));
    }
    for component in components {
        if let Some(purl) = component.get("purl").and_then(|p| p.as_str()) {
            push_purl(path, purl, out)?;
        }
        if let Some(nested) = component.get("components").and_then(|c| c.as_array()) {
            walk_components(path, nested, depth + 1, out)?;
        }
    }
    Ok(())
}

pub(crate) fn parse_spdx(path: &Path, text: &str) -> Result<Vec<Dependency>, AuditError> {
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
    if document.get("spdxVersion").is_none() {
        return Err(AuditError::malformed(
            path,
            1,
            "not an SPDX JSON document (spdxVersion)",
        ));
    }
    let mut out = Vec::new();
    for package in document
        .get("packages")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        for reference in package
            .get("externalRefs")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
        {
            let is_purl = reference.get("referenceType").and_then(|t| t.as_str()) == Some("purl");
            if let (true, Some(locator)) = (
                is_purl,
                reference.get("referenceLocator").and_then(|l| l.as_str()),
            ) {
                push_purl(path, locator, &mut out)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(
            parse_purl("pkg:npm/%40angular/core@12.0.0"),
            Some((
                Ecosystem::Npm,
                "@angular/core".into(),
                Some("12.0.0".into())
            ))
        );
        assert_eq!(
            parse_purl("pkg:golang/github.com/gin-gonic/gin@v1.6.0?type=module"),
            Some((
                Ecosystem::Go,
                "github.com/gin-gonic/gin".into(),
                Some("v1.6.0".into())
            ))
        );
        assert_eq!(
            parse_purl("pkg:pypi/django@3.2.1"),
            Some((Ecosystem::PyPI, "django".into(), Some("3.2.1".into())))
        );
        assert_eq!(
            parse_purl("pkg:cargo/rand"),
            Some((Ecosystem::CratesIo, "rand".into(), None))
        );
        assert_eq!(parse_purl("not a purl"), None);
        assert_eq!(percent_decode("%4"), "%4");
    }
}
