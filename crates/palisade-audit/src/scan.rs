//! Finding lockfiles under a path and auditing the packages they pin against the store: the
//! walk (skipping VCS, build and `node_modules` directories), per-file errors that do not stop
//! the scan, and grouping of matched advisories by package with aliases merged.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{AuditError, read_limited};
use crate::ignore::IgnoreList;
use crate::lockfile::{Dependency, LockfileKind, MAX_LOCKFILE_BYTES, parse_file};
use crate::matcher::{fixed_versions, is_affected, smallest_upgrade};
use crate::osv::Advisory;
use crate::report::{Finding, IgnoredFinding, PackageFindings, Report, ScannedFile};
use crate::severity::{Severity, advisory_severity};
use crate::store::AdvisoryStore;
use crate::version::Ecosystem;

/// Deepest directory level searched.
const MAX_DEPTH: usize = 32;
/// Most directory entries looked at.
const MAX_ENTRIES: usize = 2_000_000;
/// Directories never searched.
const SKIPPED_DIRECTORIES: [&str; 6] = [
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "target",
    "__pycache__",
];

/// The lockfiles under `path` (or `path` itself when it names one), with problems met on the way.
pub fn discover(path: &Path) -> (Vec<(PathBuf, LockfileKind)>, Vec<AuditError>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    if path.is_file() {
        match LockfileKind::detect(path) {
            Some(kind) => found.push((path.to_owned(), kind)),
            None => {
                let sniffed = path
                    .extension()
                    .is_some_and(|e| e == "json")
                    .then(|| read_limited(path, MAX_LOCKFILE_BYTES).ok())
                    .flatten()
                    .and_then(|text| LockfileKind::sniff_json(&text));
                match sniffed {
                    Some(kind) => found.push((path.to_owned(), kind)),
                    None => problems.push(AuditError::invalid(
                        path,
                        "not a lockfile, manifest or SBOM Palisade reads",
                    )),
                }
            }
        }
        return (found, problems);
    }
    let walker = walkdir::WalkDir::new(path)
        .follow_links(false)
        .max_depth(MAX_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0
                || !entry.file_type().is_dir()
                || !entry
                    .file_name()
                    .to_str()
                    .is_some_and(|name| SKIPPED_DIRECTORIES.contains(&name))
        });
    for (count, entry) in walker.enumerate() {
        if count >= MAX_ENTRIES {
            problems.push(AuditError::too_many(path, MAX_ENTRIES));
            break;
        }
        match entry {
            Ok(entry) if entry.file_type().is_file() => {
                if let Some(kind) = LockfileKind::detect(entry.path()) {
                    found.push((entry.path().to_owned(), kind));
                }
            }
            Ok(_) => {}
            Err(error) => {
                let at = error.path().unwrap_or(path).to_owned();
                problems.push(AuditError::invalid(&at, format!("cannot search: {error}")));
            }
        }
    }
    if found.is_empty() && problems.is_empty() {
        problems.push(AuditError::invalid(
            path,
            "no lockfile, manifest or SBOM found",
        ));
    }
    (found, problems)
}

/// Everything the files under `path` pin, with per-file problems.
pub fn collect(path: &Path) -> (Vec<ScannedFile>, Vec<Dependency>, Vec<AuditError>) {
    let (files, mut problems) = discover(path);
    let mut scanned = Vec::new();
    let mut dependencies = Vec::new();
    for (file, kind) in files {
        match parse_file(&file, kind) {
            Ok(parsed) => {
                scanned.push(ScannedFile {
                    path: file,
                    kind: kind.as_str(),
                    packages: parsed.dependencies.len(),
                });
                dependencies.extend(parsed.dependencies);
                problems.extend(parsed.problems);
            }
            Err(error) => problems.push(error),
        }
    }
    (scanned, dependencies, problems)
}

/// A pinned package version with the name as first written and every file that pins it.
struct Pinned {
    name: String,
    sources: BTreeSet<PathBuf>,
    line: Option<usize>,
}

/// Audits `dependencies` against `store`; `today` is `YYYY-MM-DD` for ignore-file expiry.
pub fn audit(
    store: &AdvisoryStore,
    dependencies: &[Dependency],
    ignores: &IgnoreList,
    today: &str,
) -> Result<Report, AuditError> {
    // one entry per (ecosystem, normalised name, version), remembering every file that pins it
    let mut packages: BTreeMap<(Ecosystem, String, String), Pinned> = BTreeMap::new();
    let mut report = Report::default();
    for dependency in dependencies {
        match &dependency.version {
            Some(version) => {
                let key = (
                    dependency.ecosystem.clone(),
                    dependency.ecosystem.normalize_name(&dependency.name),
                    version.clone(),
                );
                let entry = packages.entry(key).or_insert_with(|| Pinned {
                    name: dependency.name.clone(),
                    sources: BTreeSet::new(),
                    line: dependency.line,
                });
                entry.sources.insert(dependency.source.clone());
            }
            None => report.unpinned.push(dependency.clone()),
        }
    }
    report.packages_audited = packages.len();
    let mut cache: BTreeMap<(Ecosystem, String), Vec<Advisory>> = BTreeMap::new();
    for (
        (ecosystem, key, version),
        Pinned {
            name,
            sources,
            line,
        },
    ) in packages
    {
        let advisories = match cache.get(&(ecosystem.clone(), key.clone())) {
            Some(advisories) => advisories,
            None => {
                let loaded = store.advisories_for(&ecosystem, &key)?;
                cache
                    .entry((ecosystem.clone(), key.clone()))
                    .or_insert(loaded)
            }
        };
        let mut matched = Vec::new();
        let mut undecidable = false;
        for advisory in advisories {
            match is_affected(advisory, &ecosystem, &name, &version) {
                Some(true) => matched.push(advisory),
                Some(false) => {}
                None => undecidable = true,
            }
        }
        if undecidable && matched.is_empty() {
            report.unresolvable.push(Dependency {
                ecosystem: ecosystem.clone(),
                name: name.clone(),
                version: Some(version.clone()),
                requirement: Some(format!("version {version:?} is not valid for {ecosystem}")),
                source: sources.iter().next().cloned().unwrap_or_default(),
                line,
            });
        }
        if matched.is_empty() {
            continue;
        }
        let upgrade = smallest_upgrade(&matched, &ecosystem, &name, &version);
        let mut findings = Vec::new();
        for group in merge_aliases(&matched) {
            let finding = finding_for(&group, &ecosystem, &name);
            match ignores.matching(&finding.id, &finding.aliases, today) {
                Some(entry) => report.ignored.push(IgnoredFinding {
                    ecosystem: ecosystem.osv_name().to_owned(),
                    package: name.clone(),
                    version: version.clone(),
                    id: finding.id.clone(),
                    reason: entry.reason.clone(),
                    expires: entry.expires.clone(),
                    finding,
                }),
                None => findings.push(finding),
            }
        }
        if findings.is_empty() {
            continue;
        }
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        report.packages.push(PackageFindings {
            ecosystem: ecosystem.osv_name().to_owned(),
            purl: purl(&ecosystem, &name, &version),
            name,
            version,
            sources: sources.into_iter().collect(),
            line,
            findings,
            smallest_fix: upgrade,
        });
    }
    report.expired_ignores = ignores.expired(today);
    Ok(report)
}

/// The package URL of a package version.
pub fn purl(ecosystem: &Ecosystem, name: &str, version: &str) -> String {
    let name = match ecosystem {
        Ecosystem::Npm if name.starts_with('@') => name.replacen('@', "%40", 1),
        Ecosystem::PyPI => crate::version::normalize_python_name(name),
        _ => name.to_owned(),
    };
    format!("pkg:{}/{name}@{version}", ecosystem.purl_type())
}

/// Groups advisories that name each other (or share an alias) as one vulnerability.
fn merge_aliases<'a>(advisories: &[&'a Advisory]) -> Vec<Vec<&'a Advisory>> {
    let mut groups: Vec<(BTreeSet<&'a str>, Vec<&'a Advisory>)> = Vec::new();
    for advisory in advisories {
        let mut ids: BTreeSet<&str> = advisory.aliases.iter().map(String::as_str).collect();
        ids.insert(advisory.id.as_str());
        let mut members = vec![*advisory];
        // absorb every existing group that shares an id
        let mut index = 0;
        while index < groups.len() {
            if groups[index].0.intersection(&ids).next().is_some() {
                let (other_ids, other_members) = groups.swap_remove(index);
                ids.extend(other_ids);
                members.extend(other_members);
            } else {
                index += 1;
            }
        }
        groups.push((ids, members));
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// Which id names a merged group: the ecosystem database's own id first.
fn id_rank(id: &str) -> u8 {
    const ORDER: [&str; 5] = ["RUSTSEC-", "PYSEC-", "GO-", "GHSA-", "OSV-"];
    ORDER
        .iter()
        .position(|prefix| id.starts_with(prefix))
        .map(|p| p as u8)
        .unwrap_or(if id.starts_with("CVE-") { 7 } else { 6 })
}

fn finding_for(group: &[&Advisory], ecosystem: &Ecosystem, name: &str) -> Finding {
    let primary = group
        .iter()
        .min_by(|a, b| {
            id_rank(&a.id)
                .cmp(&id_rank(&b.id))
                .then_with(|| a.id.cmp(&b.id))
        })
        .copied()
        .unwrap_or(group[0]);
    let mut aliases: BTreeSet<String> = BTreeSet::new();
    let mut fixed: BTreeSet<String> = BTreeSet::new();
    let mut severity = Severity::Unknown;
    let mut cvss = None;
    for advisory in group {
        aliases.insert(advisory.id.clone());
        aliases.extend(advisory.aliases.iter().cloned());
        fixed.extend(fixed_versions(advisory, ecosystem, name));
        let (advisory_severity, advisory_cvss) = advisory_severity(advisory);
        if advisory_severity > severity {
            severity = advisory_severity;
            cvss = advisory_cvss;
        }
    }
    aliases.remove(&primary.id);
    let mut fixed: Vec<(Option<crate::version::Version>, String)> = fixed
        .into_iter()
        .map(|f| (ecosystem.parse_version(&f), f))
        .collect();
    fixed.sort_by(|a, b| match (&a.0, &b.0) {
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.1.cmp(&b.1),
    });
    let summary = group
        .iter()
        .find_map(|a| a.summary.clone().filter(|s| !s.trim().is_empty()))
        .or_else(|| {
            group.iter().find_map(|a| {
                a.details
                    .as_deref()
                    .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
                    .map(|line| line.chars().take(160).collect())
            })
        })
        .unwrap_or_default();
    Finding {
        id: primary.id.clone(),
        aliases: aliases.into_iter().collect(),
        summary,
        severity,
        cvss_score: cvss.as_ref().map(|c| c.score),
        cvss_vector: cvss.map(|c| c.vector),
        fixed: fixed.into_iter().map(|(_, f)| f).collect(),
        informational: primary.informational().map(str::to_owned),
        url: primary.advisory_url().map(str::to_owned),
    }
}
