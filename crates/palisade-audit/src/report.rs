//! Audit reports and their renderings: a table grouped by package (advisories, severity, summary,
//! fixed versions, the smallest upgrade that fixes them all), JSON, SARIF 2.1.0 and CycloneDX
//! VEX (1.5), plus the exit decision for `--fail-on`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;
use serde_json::json;

use crate::ignore::IgnoreEntry;
use crate::lockfile::Dependency;
use crate::severity::Severity;

/// One vulnerability (advisories merged by alias) affecting one package version.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The advisory id shown (the ecosystem database's own when there is one).
    pub id: String,
    /// Every other id of the same vulnerability.
    pub aliases: Vec<String>,
    /// One-line summary.
    pub summary: String,
    /// Severity rating.
    pub severity: Severity,
    /// CVSS base score, when a vector scored.
    pub cvss_score: Option<f64>,
    /// The scored vector.
    pub cvss_vector: Option<String>,
    /// Versions that fix it, ascending.
    pub fixed: Vec<String>,
    /// RustSec's informational class (`unmaintained`, `unsound`, `notice`): a warning, not a
    /// vulnerability; never fails the audit.
    pub informational: Option<String>,
    /// Link to the advisory.
    pub url: Option<String>,
}

/// A vulnerable package version and its findings.
#[derive(Debug, Clone, Serialize)]
pub struct PackageFindings {
    /// OSV ecosystem.
    pub ecosystem: String,
    /// Package name.
    pub name: String,
    /// Installed / locked version.
    pub version: String,
    /// Package URL.
    pub purl: String,
    /// Files that pin it.
    pub sources: Vec<PathBuf>,
    /// Line in the first file, when known.
    pub line: Option<usize>,
    /// Its findings, most severe first.
    pub findings: Vec<Finding>,
    /// The smallest version that none of the findings affects (`None`: no such fixed version).
    pub smallest_fix: Option<String>,
}

/// A finding suppressed by the ignore file.
#[derive(Debug, Clone, Serialize)]
pub struct IgnoredFinding {
    /// OSV ecosystem.
    pub ecosystem: String,
    /// Package name.
    pub package: String,
    /// Version.
    pub version: String,
    /// Advisory id.
    pub id: String,
    /// The recorded reason.
    pub reason: String,
    /// The entry's expiry.
    pub expires: String,
    /// The suppressed finding.
    #[serde(skip)]
    pub finding: Finding,
}

/// A file that was read.
#[derive(Debug, Clone, Serialize)]
pub struct ScannedFile {
    /// Path.
    pub path: PathBuf,
    /// Format.
    pub kind: &'static str,
    /// Packages it named.
    pub packages: usize,
}

/// The full result of an audit.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Files read.
    pub files: Vec<ScannedFile>,
    /// Distinct pinned package versions audited.
    pub packages_audited: usize,
    /// Vulnerable packages.
    pub packages: Vec<PackageFindings>,
    /// Requirements without an exact version (not audited).
    #[serde(serialize_with = "serialize_dependencies")]
    pub unpinned: Vec<Dependency>,
    /// Versions that do not parse in their ecosystem's scheme while ranges exist for the package.
    #[serde(serialize_with = "serialize_dependencies")]
    pub unresolvable: Vec<Dependency>,
    /// Findings suppressed by the ignore file.
    pub ignored: Vec<IgnoredFinding>,
    /// Ignore entries whose expiry has passed.
    pub expired_ignores: Vec<IgnoreEntry>,
    /// Files that could not be read (file and line), the scan went on without them.
    pub errors: Vec<String>,
}

fn serialize_dependencies<S: serde::Serializer>(
    dependencies: &[Dependency],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq as _;
    let mut seq = serializer.serialize_seq(Some(dependencies.len()))?;
    for dependency in dependencies {
        seq.serialize_element(&json!({
            "ecosystem": dependency.ecosystem.osv_name(),
            "name": dependency.name,
            "version": dependency.version,
            "requirement": dependency.requirement,
            "source": dependency.source,
            "line": dependency.line,
        }))?;
    }
    seq.end()
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Human-readable, grouped by package.
    Table,
    /// The [`Report`] as JSON.
    Json,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// CycloneDX 1.5 VEX.
    CycloneDxVex,
}

/// A format name that is not table/json/sarif/vex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format {0:?}: expected table, json, sarif or vex")]
pub struct UnknownFormat(String);

impl FromStr for ReportFormat {
    type Err = UnknownFormat;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "table" => ReportFormat::Table,
            "json" => ReportFormat::Json,
            "sarif" => ReportFormat::Sarif,
            "vex" | "cyclonedx" | "cyclonedx-vex" => ReportFormat::CycloneDxVex,
            _ => return Err(UnknownFormat(text.to_owned())),
        })
    }
}

/// The `--fail-on` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Every (non-informational) finding fails.
    Any,
    /// Findings at or above this severity fail; findings without a usable severity fail at every
    /// threshold, since they cannot be shown to be below it.
    AtLeast(Severity),
    /// Never fail on findings.
    Never,
}

impl FromStr for FailOn {
    type Err = crate::severity::UnknownSeverity;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "any" => Ok(FailOn::Any),
            "never" => Ok(FailOn::Never),
            other => other.parse().map(FailOn::AtLeast),
        }
    }
}

impl Report {
    /// Vulnerability findings (informational ones excluded).
    pub fn vulnerabilities(&self) -> impl Iterator<Item = (&PackageFindings, &Finding)> {
        self.packages
            .iter()
            .flat_map(|package| {
                package
                    .findings
                    .iter()
                    .map(move |finding| (package, finding))
            })
            .filter(|(_, finding)| finding.informational.is_none())
    }

    /// Whether the findings fail the audit at `threshold`.
    pub fn fails(&self, threshold: FailOn) -> bool {
        self.vulnerabilities().any(|(_, finding)| match threshold {
            FailOn::Any => true,
            FailOn::Never => false,
            FailOn::AtLeast(minimum) => {
                finding.severity == Severity::Unknown || finding.severity >= minimum
            }
        })
    }

    /// Renders the report.
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Table => self.render_table(),
            ReportFormat::Json => serde_json::to_string_pretty(self).unwrap_or_default(),
            ReportFormat::Sarif => serde_json::to_string_pretty(&self.sarif()).unwrap_or_default(),
            ReportFormat::CycloneDxVex => {
                serde_json::to_string_pretty(&self.vex()).unwrap_or_default()
            }
        }
    }

    fn render_table(&self) -> String {
        let mut out = String::new();
        for package in &self.packages {
            let sources: Vec<String> = package
                .sources
                .iter()
                .map(|s| s.display().to_string())
                .collect();
            let _ = writeln!(
                out,
                "{} {} ({}) in {}",
                package.name,
                package.version,
                package.ecosystem,
                sources.join(", ")
            );
            for finding in &package.findings {
                let severity = match (finding.informational.as_deref(), finding.cvss_score) {
                    (Some(class), _) => format!("warning: {class}"),
                    (None, Some(score)) => format!("{} {score:.1}", finding.severity),
                    (None, None) => finding.severity.to_string(),
                };
                let _ = writeln!(
                    out,
                    "  {:<20} {:<14} {}",
                    finding.id, severity, finding.summary
                );
                if !finding.aliases.is_empty() {
                    let _ = writeln!(out, "  {:<20} aliases: {}", "", finding.aliases.join(", "));
                }
                let fixed = if finding.fixed.is_empty() {
                    "no fixed version".to_owned()
                } else {
                    finding.fixed.join(", ")
                };
                let _ = writeln!(out, "  {:<20} fixed in: {fixed}", "");
            }
            match &package.smallest_fix {
                Some(version) => {
                    let _ = writeln!(
                        out,
                        "  => upgrade to {version} (smallest version that fixes all of the above)"
                    );
                }
                None => {
                    let _ = writeln!(out, "  => no single fixed version clears all of the above");
                }
            }
            out.push('\n');
        }
        for ignored in &self.ignored {
            let _ = writeln!(
                out,
                "ignored: {} in {} {} ({}; until {})",
                ignored.id, ignored.package, ignored.version, ignored.reason, ignored.expires
            );
        }
        for entry in &self.expired_ignores {
            let _ = writeln!(
                out,
                "warning: ignore entry {} expired on {}; it no longer applies",
                entry.id, entry.expires
            );
        }
        for dependency in &self.unpinned {
            let _ = writeln!(
                out,
                "unpinned: {} {} in {}{} (not audited)",
                dependency.name,
                dependency.requirement.as_deref().unwrap_or(""),
                dependency.source.display(),
                dependency.line.map(|l| format!(":{l}")).unwrap_or_default()
            );
        }
        for dependency in &self.unresolvable {
            let _ = writeln!(
                out,
                "unresolvable: {} {} in {} (not audited)",
                dependency.name,
                dependency.requirement.as_deref().unwrap_or(""),
                dependency.source.display()
            );
        }
        for error in &self.errors {
            let _ = writeln!(out, "error: {error}");
        }
        let vulnerabilities = self.vulnerabilities().count();
        let warnings = self.packages.iter().flat_map(|p| &p.findings).count() - vulnerabilities;
        let _ = writeln!(
            out,
            "{} files, {} packages audited: {} vulnerabilities in {} packages, {} warnings, {} ignored, {} unpinned, {} errors",
            self.files.len(),
            self.packages_audited,
            vulnerabilities,
            self.packages
                .iter()
                .filter(|p| p.findings.iter().any(|f| f.informational.is_none()))
                .count(),
            warnings,
            self.ignored.len(),
            self.unpinned.len() + self.unresolvable.len(),
            self.errors.len()
        );
        out
    }

    fn sarif(&self) -> serde_json::Value {
        let mut rules = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut results = Vec::new();
        for package in &self.packages {
            for finding in &package.findings {
                if seen.insert(finding.id.clone()) {
                    let mut properties = json!({ "tags": ["security", "dependency"] });
                    if let Some(score) = finding.cvss_score {
                        properties["security-severity"] = json!(format!("{score:.1}"));
                    }
                    let mut rule = json!({
                        "id": finding.id,
                        "shortDescription": { "text": if finding.summary.is_empty() { finding.id.clone() } else { finding.summary.clone() } },
                        "properties": properties,
                    });
                    if let Some(url) = &finding.url {
                        rule["helpUri"] = json!(url);
                    }
                    rules.push(rule);
                }
                let level = match (finding.informational.is_some(), finding.severity) {
                    (true, _) => "note",
                    (false, Severity::Critical | Severity::High | Severity::Unknown) => "error",
                    (false, Severity::Medium) => "warning",
                    (false, _) => "note",
                };
                let fix = package
                    .smallest_fix
                    .as_deref()
                    .map(|v| format!(" Upgrade to {v}."))
                    .unwrap_or_else(|| " No fixed version.".to_owned());
                let locations: Vec<serde_json::Value> = package
                    .sources
                    .iter()
                    .map(|source| {
                        let mut location = json!({
                            "physicalLocation": { "artifactLocation": { "uri": source.display().to_string().replace('\\', "/") } }
                        });
                        if let (Some(line), true) = (package.line, package.sources.len() == 1) {
                            location["physicalLocation"]["region"] = json!({ "startLine": line });
                        }
                        location
                    })
                    .collect();
                results.push(json!({
                    "ruleId": finding.id,
                    "level": level,
                    "message": { "text": format!("{} {} ({}) is affected by {}: {}.{fix}", package.name, package.version, package.ecosystem, finding.id, finding.summary) },
                    "locations": locations,
                    "partialFingerprints": { "package": format!("{}@{}/{}", package.name, package.version, finding.id) },
                }));
            }
        }
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "palisade-audit",
                    "informationUri": "https://example.invalid/palisade",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "results": results,
            }],
        })
    }

    fn vex(&self) -> serde_json::Value {
        let mut components = Vec::new();
        let mut vulnerabilities = Vec::new();
        let mut add = |package: &str,
                       version: &str,
                       ecosystem: &str,
                       purl: &str,
                       finding: &Finding,
                       analysis: serde_json::Value| {
            if !components
                .iter()
                .any(|c: &serde_json::Value| c["bom-ref"] == purl)
            {
                components.push(json!({
                    "type": "library", "bom-ref": purl, "name": package, "version": version, "purl": purl,
                    "properties": [{ "name": "palisade:ecosystem", "value": ecosystem }],
                }));
            }
            let mut vulnerability = json!({
                "id": finding.id,
                "description": finding.summary,
                "affects": [{ "ref": purl }],
                "analysis": analysis,
                "references": finding.aliases.iter().map(|alias| json!({ "id": alias, "source": { "name": source_name(alias) } })).collect::<Vec<_>>(),
                "source": { "name": source_name(&finding.id) },
            });
            if let Some(url) = &finding.url {
                vulnerability["source"]["url"] = json!(url);
            }
            if let (Some(score), Some(vector)) = (finding.cvss_score, &finding.cvss_vector) {
                let method = if vector.starts_with("CVSS:4") {
                    "CVSSv4"
                } else if vector.starts_with("CVSS:3.0") {
                    "CVSSv3"
                } else {
                    "CVSSv31"
                };
                vulnerability["ratings"] = json!([{ "score": score, "severity": finding.severity.as_str(), "method": method, "vector": vector }]);
            }
            if !finding.fixed.is_empty() {
                vulnerability["recommendation"] = json!(format!(
                    "Upgrade to a fixed version: {}",
                    finding.fixed.join(", ")
                ));
            }
            vulnerabilities.push(vulnerability);
        };
        for package in &self.packages {
            for finding in &package.findings {
                add(
                    &package.name,
                    &package.version,
                    &package.ecosystem,
                    &package.purl,
                    finding,
                    json!({ "state": "in_triage" }),
                );
            }
        }
        for ignored in &self.ignored {
            let ecosystem = crate::version::Ecosystem::from_osv(&ignored.ecosystem);
            let purl = crate::scan::purl(&ecosystem, &ignored.package, &ignored.version);
            add(
                &ignored.package,
                &ignored.version,
                &ignored.ecosystem,
                &purl,
                &ignored.finding,
                json!({ "state": "not_affected", "detail": format!("{} (accepted until {})", ignored.reason, ignored.expires) }),
            );
        }
        json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "metadata": { "tools": { "components": [{ "type": "application", "name": "palisade-audit", "version": env!("CARGO_PKG_VERSION") }] } },
            "components": components,
            "vulnerabilities": vulnerabilities,
        })
    }
}

/// The database an id comes from.
fn source_name(id: &str) -> &'static str {
    match id.split('-').next().unwrap_or("") {
        "CVE" => "NVD",
        "GHSA" => "GitHub Advisories",
        "PYSEC" => "PyPA Advisory Database",
        "RUSTSEC" => "RustSec Advisory Database",
        "GO" => "Go Vulnerability Database",
        _ => "OSV",
    }
}
