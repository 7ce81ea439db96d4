//! Every lockfile reader on small fixture files: the exact versions a user's lockfile pins, what
//! is reported unpinned, and malformed files failing with file and line.

use std::path::{Path, PathBuf};

use palisade_audit::lockfile::{Dependency, LockfileKind, parse_file};
use palisade_audit::version::Ecosystem;

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

fn read(relative: &str) -> Vec<Dependency> {
    let path = fixture(relative);
    let kind = LockfileKind::detect(&path).unwrap_or_else(|| panic!("{relative} is detected"));
    let parsed = parse_file(&path, kind).unwrap_or_else(|e| panic!("{relative}: {e}"));
    assert!(
        parsed.problems.is_empty(),
        "{relative}: {:?}",
        parsed.problems
    );
    parsed.dependencies
}

fn pins(dependencies: &[Dependency]) -> Vec<(String, String)> {
    let mut pins: Vec<(String, String)> = dependencies
        .iter()
        .filter_map(|d| d.version.clone().map(|v| (d.name.clone(), v)))
        .collect();
    pins.sort();
    pins
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = expected
        .iter()
        .map(|(n, v)| ((*n).into(), (*v).into()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn requirements_follow_includes_and_report_unpinned() {
    let path = fixture("project/python/requirements.txt");
    let parsed = parse_file(&path, LockfileKind::Requirements).unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert_eq!(
        pins(&parsed.dependencies),
        pairs(&[
            ("Django", "3.2.4"),
            ("requests", "2.31.0"),
            ("urllib3", "1.26.4")
        ])
    );
    let unpinned: Vec<&str> = parsed
        .dependencies
        .iter()
        .filter(|d| d.version.is_none())
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(unpinned, ["flask", "localpkg"]);
    let django = parsed
        .dependencies
        .iter()
        .find(|d| d.name == "Django")
        .map(|d| d.line);
    assert_eq!(
        django,
        Some(Some(4)),
        "the requirement's first physical line"
    );
}

#[test]
fn malformed_requirement_lines_are_reported_and_the_rest_is_read() {
    let path = fixture("broken/requirements.txt");
    let parsed = parse_file(&path, LockfileKind::Requirements).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pins(&parsed.dependencies),
        pairs(&[("django", "3.2.4"), ("requests", "2.31.0")])
    );
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(parsed.problems[0].line(), Some(2));
    assert!(
        parsed.problems[0]
            .to_string()
            .contains("requirements.txt:2"),
        "{}",
        parsed.problems[0]
    );
}

#[test]
fn malformed_lockfile_names_file_and_line() {
    let path = fixture("broken/poetry.lock");
    let error = parse_file(&path, LockfileKind::PoetryLock)
        .err()
        .map(|e| (e.line(), e.to_string()));
    let (line, message) = error.unwrap_or_else(|| panic!("broken poetry.lock is an error"));
    assert_eq!(line, Some(5), "{message}");
    assert!(message.contains("poetry.lock:5"), "{message}");
}

#[test]
fn python_lockfiles() {
    assert_eq!(
        pins(&read("project/python/poetry.lock")),
        pairs(&[("django", "4.0.1"), ("urllib3", "1.26.5")])
    );
    let pipfile = read("project/python/Pipfile.lock");
    assert_eq!(
        pins(&pipfile),
        pairs(&[("django", "3.2.7"), ("pytest", "8.0.0")])
    );
    assert!(
        pipfile
            .iter()
            .any(|d| d.name == "localthing" && d.version.is_none())
    );
    assert_eq!(
        pins(&read("project/python/uv.lock")),
        pairs(&[("urllib3", "1.26.0")]),
        "editable workspace member skipped"
    );
    assert_eq!(
        pins(&read("project/python/pdm.lock")),
        pairs(&[("jinja2", "3.1.4")])
    );
    assert_eq!(
        pins(&read("project/python/pylock.toml")),
        pairs(&[("attrs", "23.2.0"), ("django", "4.0.2")])
    );
    assert_eq!(
        pins(&read(
            "project/python/site-packages/Jinja2-2.10.dist-info/METADATA"
        )),
        pairs(&[("Jinja2", "2.10")])
    );
}

#[test]
fn cargo_lock_audits_only_crates_io_packages() {
    let dependencies = read("project/rust/Cargo.lock");
    assert!(
        dependencies
            .iter()
            .all(|d| d.ecosystem == Ecosystem::CratesIo)
    );
    assert_eq!(
        pins(&dependencies),
        pairs(&[
            ("ansi_term", "0.12.1"),
            ("smallvec", "0.6.14"),
            ("smallvec", "1.6.0")
        ])
    );
}

#[test]
fn javascript_lockfiles() {
    let v1 = read("project/js/v1/package-lock.json");
    assert_eq!(
        pins(&v1),
        pairs(&[
            ("express", "4.17.1"),
            ("lodash", "4.17.15"),
            ("lodash", "4.17.19"),
            ("lodash", "4.17.21")
        ])
    );
    assert!(v1.iter().any(|d| d.name == "local" && d.version.is_none()));
    assert_eq!(
        pins(&read("project/js/v3/package-lock.json")),
        pairs(&[
            ("@babel/traverse", "7.23.0"),
            ("lodash", "4.17.20"),
            ("lodash", "4.17.21")
        ])
    );
    assert_eq!(
        pins(&read("project/js/yarn-classic/yarn.lock")),
        pairs(&[("@babel/traverse", "7.22.0"), ("lodash", "4.17.19")])
    );
    assert_eq!(
        pins(&read("project/js/yarn-berry/yarn.lock")),
        pairs(&[("lodash", "4.17.10")])
    );
    assert_eq!(
        pins(&read("project/js/pnpm/pnpm-lock.yaml")),
        pairs(&[("@babel/traverse", "7.23.2"), ("lodash", "4.17.11")])
    );
}

#[test]
fn go_sum_takes_the_highest_built_version() {
    assert_eq!(
        pins(&read("project/go/go.sum")),
        pairs(&[
            ("github.com/gin-gonic/gin", "v1.7.0"),
            ("golang.org/x/net", "v0.0.0-20200202094626-16171245cfb2")
        ])
    );
}

#[test]
fn sboms() {
    let cyclonedx = read("project/sbom/app.cdx.json");
    assert_eq!(
        pins(&cyclonedx),
        pairs(&[
            ("@babel/traverse", "7.20.0"),
            ("django", "3.2.6"),
            ("github.com/gin-gonic/gin", "v1.9.0")
        ])
    );
    assert_eq!(
        pins(&read("project/sbom/app.spdx.json")),
        pairs(&[("smallvec", "0.6.10")])
    );
}

#[test]
fn hostile_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cases: [(&str, String); 5] = [
        (
            "package-lock.json",
            format!(
                "{{\"dependencies\":{}{}",
                "{\"a\":{\"version\":\"1.0.0\",\"dependencies\":".repeat(400),
                "{}"
            ),
        ),
        ("yarn.lock", "not a header\n".into()),
        ("go.sum", "only-two fields\n".into()),
        ("pnpm-lock.yaml", "packages: [unclosed\n".into()),
        ("Cargo.lock", "[[package]]\nname = 1\n".into()),
    ];
    for (name, text) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let kind = LockfileKind::detect(&path).unwrap_or_else(|| panic!("{name} detected"));
        let result = parse_file(&path, kind);
        assert!(result.is_err(), "{name} should be rejected");
    }
}
