//! The store and the audit end to end on fixture advisories and lockfiles: import (JSON, YAML,
//! zip), matching with merged aliases, smallest upgrades, withdrawn and informational
//! advisories, the ignore file and every report format.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use palisade_audit::report::{FailOn, ReportFormat};
use palisade_audit::scan::{audit, collect};
use palisade_audit::{AdvisoryStore, IgnoreList, Report, Severity};

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

fn store_with_fixtures(dir: &Path) -> AdvisoryStore {
    let mut store = AdvisoryStore::create_in(dir).unwrap_or_else(|e| panic!("{e}"));
    let pypi = store
        .import_path("fixtures-pypi", &fixture("advisories/pypi"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (pypi.files, pypi.advisories, pypi.skipped.len()),
        (6, 6, 0),
        "{:?}",
        pypi.skipped
    );
    let other = store
        .import_path("fixtures-other", &fixture("advisories/other"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (other.advisories, other.skipped.len()),
        (4, 1),
        "broken.json is skipped, the rest imported"
    );
    store
}

fn run(store: &AdvisoryStore, path: &Path, ignores: &IgnoreList) -> Report {
    let (files, dependencies, problems) = collect(path);
    let mut report =
        audit(store, &dependencies, ignores, "2026-06-01").unwrap_or_else(|e| panic!("{e}"));
    report.files = files;
    report.errors = problems.iter().map(ToString::to_string).collect();
    report
}

fn finding_ids(report: &Report, name: &str, version: &str) -> Vec<String> {
    report
        .packages
        .iter()
        .filter(|p| p.name.eq_ignore_ascii_case(name) && p.version == version)
        .flat_map(|p| p.findings.iter().map(|f| f.id.clone()))
        .collect()
}

#[test]
fn python_project_findings_with_merged_aliases_and_smallest_fix() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = store_with_fixtures(dir.path());
    let report = run(&store, &fixture("project/python"), &IgnoreList::default());
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    // requirements.txt: Django 3.2.4 — PYSEC-0000-0001 and its GHSA twin merge; PYSEC-0000-0002 too
    let django = report
        .packages
        .iter()
        .find(|p| p.version == "3.2.4")
        .unwrap_or_else(|| panic!("django 3.2.4"));
    let ids: Vec<&str> = django.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        ["PYSEC-0000-0001", "PYSEC-0000-0002"],
        "most severe first, GHSA merged by alias"
    );
    assert_eq!(
        django.findings[0].aliases,
        ["CVE-0000-0001", "GHSA-0000-0000-0001"]
    );
    assert_eq!(django.findings[0].severity, Severity::Critical);
    assert_eq!(django.findings[0].cvss_score, Some(9.8));
    assert_eq!(
        django.findings[1].severity,
        Severity::High,
        "CVSS v4.0 vector scored"
    );
    assert_eq!(django.smallest_fix.as_deref(), Some("3.2.7"));

    // poetry.lock: Django 4.0.1 on the second branch, fixed in 4.0.2
    assert_eq!(finding_ids(&report, "django", "4.0.1"), ["PYSEC-0000-0001"]);
    let django4 = report
        .packages
        .iter()
        .find(|p| p.version == "4.0.1")
        .unwrap_or_else(|| panic!("4.0.1"));
    assert_eq!(django4.smallest_fix.as_deref(), Some("4.0.2"));
    // Pipfile.lock 3.2.7 and pylock.toml 4.0.2 are fixed
    assert!(finding_ids(&report, "django", "3.2.7").is_empty());
    assert!(finding_ids(&report, "django", "4.0.2").is_empty());
    // last_affected: 1.26.4 affected (requirements), 1.26.5 not (poetry), 1.26.0 affected (uv)
    assert_eq!(
        finding_ids(&report, "urllib3", "1.26.4"),
        ["PYSEC-0000-0005"]
    );
    assert_eq!(
        finding_ids(&report, "urllib3", "1.26.0"),
        ["PYSEC-0000-0005"]
    );
    assert!(finding_ids(&report, "urllib3", "1.26.5").is_empty());
    // versions list: installed Jinja2 2.10 (dist-info), not pdm's 3.1.4; no fix → no upgrade
    assert_eq!(finding_ids(&report, "jinja2", "2.10"), ["PYSEC-0000-0003"]);
    assert!(finding_ids(&report, "jinja2", "3.1.4").is_empty());
    // withdrawn advisory never matches requests
    assert!(finding_ids(&report, "requests", "2.31.0").is_empty());
    // unpinned requirements are listed, not guessed
    let unpinned: Vec<&str> = report.unpinned.iter().map(|d| d.name.as_str()).collect();
    assert!(
        unpinned.contains(&"flask") && unpinned.contains(&"localpkg"),
        "{unpinned:?}"
    );
    assert!(report.fails(FailOn::Any));
    assert!(report.fails(FailOn::AtLeast(Severity::Critical)));
}

#[test]
fn other_ecosystems_and_informational_advisories() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = store_with_fixtures(dir.path());
    let report = run(&store, &fixture("project"), &IgnoreList::default());
    assert_eq!(
        finding_ids(&report, "smallvec", "1.6.0"),
        ["RUSTSEC-0000-0001"]
    );
    assert!(
        finding_ids(&report, "smallvec", "0.6.14").is_empty(),
        "0.6.14 is the fix"
    );
    assert_eq!(
        finding_ids(&report, "smallvec", "0.6.10"),
        ["RUSTSEC-0000-0001"],
        "from the SPDX SBOM"
    );
    let ansi = report
        .packages
        .iter()
        .find(|p| p.name == "ansi_term")
        .unwrap_or_else(|| panic!("ansi_term"));
    assert_eq!(
        ansi.findings[0].informational.as_deref(),
        Some("unmaintained")
    );
    assert!(
        report.vulnerabilities().all(|(p, _)| p.name != "ansi_term"),
        "warnings are not vulnerabilities"
    );
    for (version, affected) in [
        ("4.17.10", true),
        ("4.17.11", true),
        ("4.17.15", true),
        ("4.17.19", true),
        ("4.17.20", true),
        ("4.17.21", false),
    ] {
        assert_eq!(
            !finding_ids(&report, "lodash", version).is_empty(),
            affected,
            "lodash {version}"
        );
    }
    assert_eq!(
        finding_ids(&report, "@babel/traverse", "7.23.0"),
        ["GHSA-0000-0000-0101"]
    );
    assert!(finding_ids(&report, "@babel/traverse", "7.23.2").is_empty());
    assert_eq!(
        finding_ids(&report, "github.com/gin-gonic/gin", "v1.7.0"),
        ["GO-0000-0001"]
    );
    let gin = report
        .packages
        .iter()
        .find(|p| p.version == "v1.7.0")
        .unwrap_or_else(|| panic!("gin"));
    assert_eq!(gin.smallest_fix.as_deref(), Some("1.9.1"));
}

#[test]
fn ignore_file_suppresses_until_expiry() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = store_with_fixtures(dir.path());
    let ignore_path = dir.path().join("ignore.toml");
    std::fs::write(
        &ignore_path,
        "[[ignore]]\nid = \"CVE-0000-0001\"\nreason = \"ordering is never user input\"\nexpires = \"2027-01-01\"\n\
         [[ignore]]\nid = \"PYSEC-0000-0005\"\nreason = \"old\"\nexpires = \"2026-01-01\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ignores = IgnoreList::load(&ignore_path).unwrap_or_else(|e| panic!("{e}"));
    let report = run(
        &store,
        &fixture("project/python/requirements.txt"),
        &ignores,
    );
    assert_eq!(
        finding_ids(&report, "django", "3.2.4"),
        ["PYSEC-0000-0002"],
        "ignored through its alias"
    );
    assert_eq!(report.ignored.len(), 1);
    assert_eq!(report.ignored[0].reason, "ordering is never user input");
    assert_eq!(
        finding_ids(&report, "urllib3", "1.26.4"),
        ["PYSEC-0000-0005"],
        "expired entry no longer applies"
    );
    assert_eq!(report.expired_ignores.len(), 1);
}

#[test]
fn report_formats() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = store_with_fixtures(dir.path());
    let report = run(
        &store,
        &fixture("project/python/requirements.txt"),
        &IgnoreList::default(),
    );
    let table = report.render(ReportFormat::Table);
    assert!(table.contains("Django 3.2.4 (PyPI)"), "{table}");
    assert!(table.contains("upgrade to 3.2.7"), "{table}");
    assert!(table.contains("unpinned: flask >=2.0"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&report.render(ReportFormat::Json)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["packages"][0]["findings"][0]["severity"], "critical");
    let sarif: serde_json::Value =
        serde_json::from_str(&report.render(ReportFormat::Sarif)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert_eq!(results, 3, "two Django findings and one urllib3");
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    let vex: serde_json::Value = serde_json::from_str(&report.render(ReportFormat::CycloneDxVex))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(vex["bomFormat"], "CycloneDX");
    assert_eq!(
        vex["vulnerabilities"][0]["affects"][0]["ref"],
        "pkg:pypi/django@3.2.4"
    );
    assert_eq!(vex["vulnerabilities"][0]["ratings"][0]["method"], "CVSSv31");
}

#[test]
fn zip_archive_import_and_status() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let archive_path = dir.path().join("all.zip");
    {
        let file = std::fs::File::create(&archive_path).unwrap_or_else(|e| panic!("{e}"));
        let mut zip = zip::ZipWriter::new(file);
        for name in ["RUSTSEC-0000-0001.json", "GO-0000-0001.json"] {
            let text = std::fs::read(fixture(&format!("advisories/other/{name}")))
                .unwrap_or_else(|e| panic!("{e}"));
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
            zip.write_all(&text).unwrap_or_else(|e| panic!("{e}"));
        }
        zip.finish().unwrap_or_else(|e| panic!("{e}"));
    }
    let mut store =
        AdvisoryStore::create_in(&dir.path().join("data")).unwrap_or_else(|e| panic!("{e}"));
    let summary = store
        .import_path("archive", &archive_path)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.advisories, 2);
    // re-import replaces the source rather than adding to it
    store
        .import_path("archive", &archive_path)
        .unwrap_or_else(|e| panic!("{e}"));
    let status = store.status().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].advisories, 2);
    assert_eq!(
        status[0].newest_modified.as_deref(),
        Some("2026-01-02T00:00:00Z")
    );
    assert!(
        store
            .advisory("CVE-0000-0101")
            .unwrap_or_else(|e| panic!("{e}"))
            .is_some(),
        "found by alias"
    );
}
