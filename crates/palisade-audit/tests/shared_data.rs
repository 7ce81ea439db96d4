//! The real public advisory data in `../shared/advisories` (never copied into the repository):
//! every PyPA YAML and RustSec OSV advisory imports, and known-vulnerable versions are found.
//! Set `PALISADE_ADVISORIES_DIR` to point elsewhere; without the data the tests skip loudly,
//! or fail when `CI=true`.

use std::path::{Path, PathBuf};

use palisade_audit::lockfile::{Dependency, LockfileKind, parse_file};
use palisade_audit::scan::audit;
use palisade_audit::version::Ecosystem;
use palisade_audit::{AdvisoryStore, IgnoreList};

fn advisories_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_ADVISORIES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/advisories")
        });
    if dir.join("pypa/vulns").is_dir() && dir.join("rustsec-osv/crates").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "advisory data not found at {} (set PALISADE_ADVISORIES_DIR)",
        dir.display()
    );
    eprintln!(
        "SKIPPED: advisory data not found at {} (set PALISADE_ADVISORIES_DIR)",
        dir.display()
    );
    None
}

fn count_files(dir: &Path, extensions: &[&str]) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file()
                && e.path()
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| extensions.contains(&x))
        })
        .count()
}

#[test]
fn real_pypa_and_rustsec_data_import_and_match() {
    let Some(dir) = advisories_dir() else { return };
    let data = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut store = AdvisoryStore::create_in(data.path()).unwrap_or_else(|e| panic!("{e}"));

    let pypa = store
        .import_path("pypa", &dir.join("pypa/vulns"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        pypa.skipped.is_empty(),
        "{:?}",
        &pypa.skipped[..pypa.skipped.len().min(5)]
    );
    assert_eq!(
        pypa.advisories,
        count_files(&dir.join("pypa/vulns"), &["yaml", "yml"])
    );
    eprintln!(
        "imported {} PyPA advisories in {:?}",
        pypa.advisories, pypa.elapsed
    );

    let rustsec = store
        .import_path("rustsec-osv", &dir.join("rustsec-osv/crates"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        rustsec.skipped.is_empty(),
        "{:?}",
        &rustsec.skipped[..rustsec.skipped.len().min(5)]
    );
    assert_eq!(
        rustsec.advisories,
        count_files(&dir.join("rustsec-osv/crates"), &["json"])
    );

    // every stored advisory for a PyPI package has at least one parseable range or version
    let django = store
        .advisories_for(&Ecosystem::PyPI, "Django")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        django.len() > 10,
        "Django has many PyPA advisories, got {}",
        django.len()
    );

    let pinned = |ecosystem: Ecosystem, name: &str, version: &str| Dependency {
        ecosystem,
        name: name.into(),
        version: Some(version.into()),
        requirement: None,
        source: PathBuf::from("test"),
        line: None,
    };
    let report = audit(
        &store,
        &[
            pinned(Ecosystem::PyPI, "django", "1.11"),
            pinned(Ecosystem::CratesIo, "smallvec", "1.6.0"),
        ],
        &IgnoreList::default(),
        "2026-01-01",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let django = report
        .packages
        .iter()
        .find(|p| p.name == "django")
        .unwrap_or_else(|| panic!("django 1.11 is vulnerable"));
    assert!(django.findings.len() > 5);
    let smallvec = report
        .packages
        .iter()
        .find(|p| p.name == "smallvec")
        .unwrap_or_else(|| panic!("smallvec 1.6.0"));
    assert!(
        smallvec
            .findings
            .iter()
            .any(|f| f.id == "RUSTSEC-2021-0003"),
        "{:?}",
        smallvec.findings
    );
    assert_eq!(smallvec.smallest_fix.as_deref(), Some("1.6.1"));

    // this repository's own Cargo.lock audits without errors
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    let parsed = parse_file(&lock, LockfileKind::CargoLock).unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.dependencies.len() > 100);
    audit(
        &store,
        &parsed.dependencies,
        &IgnoreList::default(),
        "2026-01-01",
    )
    .unwrap_or_else(|e| panic!("{e}"));
}
