//! `palisade audit` through the real binary: importing advisories, auditing fixture projects,
//! exit codes for CI (0 clean, 1 findings at or above --fail-on, 2 input errors), report files,
//! the ignore file, `db status` with its staleness warning, and `db update` from a local HTTP
//! server (tests never reach the internet).

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_palisade");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-audit/tests/fixtures")
}

fn palisade(args: &[&str], dir: &Path) -> Output {
    Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("palisade runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exit code")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A working directory with the fixture advisories imported into ./palisade-data.
fn imported() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for source in ["pypi", "other"] {
        let path = fixtures().join("advisories").join(source);
        let output = palisade(
            &["audit", "db", "import", path.to_str().expect("utf-8")],
            dir.path(),
        );
        assert_eq!(code(&output), 0, "{}", text(&output.stderr));
        assert!(
            text(&output.stdout).starts_with("imported "),
            "{}",
            text(&output.stdout)
        );
    }
    dir
}

fn project(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(&project).expect("mkdir");
    for (name, contents) in files {
        std::fs::write(project.join(name), contents).expect("write");
    }
    project
}

#[test]
fn findings_exit_1_and_json_report_lists_them() {
    let dir = imported();
    let path = fixtures().join("project/python");
    let output = palisade(
        &["audit", path.to_str().expect("utf-8"), "--format", "json"],
        dir.path(),
    );
    assert_eq!(code(&output), 1, "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let django = report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["version"] == "3.2.4")
        .expect("django 3.2.4 reported");
    assert_eq!(django["smallest_fix"], "3.2.7");
    assert_eq!(django["findings"][0]["id"], "PYSEC-0000-0001");
}

#[test]
fn fail_on_threshold_and_clean_projects() {
    let dir = imported();
    // urllib3 1.26.4: one low-severity finding (CVSS 3.1)
    let low = project(dir.path(), &[("requirements.txt", "urllib3==1.26.4\n")]);
    let low = low.to_str().expect("utf-8");
    assert_eq!(
        code(&palisade(
            &["audit", low, "--fail-on", "medium"],
            dir.path()
        )),
        0
    );
    assert_eq!(
        code(&palisade(&["audit", low, "--fail-on", "low"], dir.path())),
        1
    );
    assert_eq!(
        code(&palisade(&["audit", low], dir.path())),
        1,
        "default: any finding fails"
    );
    let clean = dir.path().join("clean");
    std::fs::create_dir_all(&clean).expect("mkdir");
    std::fs::write(clean.join("requirements.txt"), "requests==2.31.0\n").expect("write");
    let output = palisade(&["audit", clean.to_str().expect("utf-8")], dir.path());
    assert_eq!(
        code(&output),
        0,
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(
        text(&output.stdout).contains("0 vulnerabilities"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn input_errors_exit_2_naming_file_and_line() {
    let dir = imported();
    let broken = fixtures().join("broken/poetry.lock");
    let output = palisade(&["audit", broken.to_str().expect("utf-8")], dir.path());
    assert_eq!(code(&output), 2);
    assert!(
        text(&output.stderr).contains("poetry.lock:5"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        code(&palisade(
            &["audit", "/nonexistent/palisade/path"],
            dir.path()
        )),
        2
    );
    assert_eq!(
        code(&palisade(&["audit", ".", "--format", "xml"], dir.path())),
        2,
        "usage error"
    );
    // no advisory store in this data directory
    let empty = tempfile::tempdir().expect("tempdir");
    let output = palisade(
        &["audit", fixtures().join("project").to_str().expect("utf-8")],
        empty.path(),
    );
    assert_eq!(code(&output), 2);
    assert!(
        text(&output.stderr).contains("db import"),
        "{}",
        text(&output.stderr)
    );
    // one malformed file does not stop the others: findings still reported (exit 1)
    let broken_dir = fixtures().join("broken");
    let output = palisade(&["audit", broken_dir.to_str().expect("utf-8")], dir.path());
    assert_eq!(code(&output), 1);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("django 3.2.4"), "{stdout}");
    assert!(
        stdout.contains("error: ") && stdout.contains("requirements.txt:2"),
        "{stdout}"
    );
}

#[test]
fn sarif_and_vex_written_to_output_files() {
    let dir = imported();
    let path = fixtures().join("project/rust/Cargo.lock");
    let sarif = dir.path().join("audit.sarif");
    let output = palisade(
        &[
            "audit",
            path.to_str().expect("utf-8"),
            "--format",
            "sarif",
            "--output",
            sarif.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code(&output), 1);
    assert!(output.stdout.is_empty());
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif).expect("sarif written")).expect("JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let mut rules: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    rules.sort_unstable();
    assert_eq!(rules, ["RUSTSEC-0000-0001", "RUSTSEC-0000-0002"]);
    let output = palisade(
        &["audit", path.to_str().expect("utf-8"), "--format", "vex"],
        dir.path(),
    );
    let vex: serde_json::Value = serde_json::from_slice(&output.stdout).expect("VEX JSON");
    assert_eq!(vex["specVersion"], "1.5");
    let smallvec = vex["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
        .iter()
        .find(|v| v["id"] == "RUSTSEC-0000-0001")
        .expect("RUSTSEC-0000-0001 in the VEX");
    assert_eq!(smallvec["affects"][0]["ref"], "pkg:cargo/smallvec@1.6.0");
    assert_eq!(smallvec["ratings"][0]["score"], 9.8);
}

#[test]
fn informational_warnings_do_not_fail() {
    let dir = imported();
    let lock = "version = 4\n\n[[package]]\nname = \"ansi_term\"\nversion = \"0.12.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
    let project = project(dir.path(), &[("Cargo.lock", lock)]);
    let output = palisade(&["audit", project.to_str().expect("utf-8")], dir.path());
    assert_eq!(code(&output), 0, "{}", text(&output.stdout));
    assert!(
        text(&output.stdout).contains("warning: unmaintained"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn ignore_file_in_the_project_is_applied() {
    let dir = imported();
    let project = project(
        dir.path(),
        &[
            ("requirements.txt", "urllib3==1.26.4\n"),
            (
                ".palisade-audit-ignore.toml",
                "[[ignore]]\nid = \"PYSEC-0000-0005\"\nreason = \"header values are constants\"\nexpires = \"2099-01-01\"\n",
            ),
        ],
    );
    let output = palisade(&["audit", project.to_str().expect("utf-8")], dir.path());
    assert_eq!(code(&output), 0, "{}", text(&output.stdout));
    assert!(
        text(&output.stdout).contains("ignored: PYSEC-0000-0005"),
        "{}",
        text(&output.stdout)
    );
    // an entry without a reason is an input error
    std::fs::write(
        project.join(".palisade-audit-ignore.toml"),
        "[[ignore]]\nid = \"PYSEC-0000-0005\"\nreason = \"\"\nexpires = \"2099-01-01\"\n",
    )
    .expect("write");
    assert_eq!(
        code(&palisade(
            &["audit", project.to_str().expect("utf-8")],
            dir.path()
        )),
        2
    );
}

#[test]
fn db_status_reports_sources_and_warns_when_stale() {
    let dir = imported();
    let output = palisade(&["audit", "db", "status", "--format", "json"], dir.path());
    assert_eq!(code(&output), 0);
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let names: Vec<&str> = status
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["other", "pypi"]);
    assert_eq!(status[1]["advisories"], 6);
    assert_eq!(status[1]["withdrawn"], 1);
    assert!(
        text(&output.stderr).contains("warning: advisory source"),
        "fixture data from January is stale"
    );
    let output = palisade(
        &["audit", "db", "status", "--max-age", "100000d"],
        dir.path(),
    );
    assert!(text(&output.stdout).contains("pypi"));
    assert!(
        !text(&output.stderr).contains("warning"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn db_update_downloads_and_imports_an_archive() {
    let mut archive = Vec::new();
    {
        let mut zip = zip_writer(&mut archive);
        let body =
            std::fs::read(fixtures().join("advisories/other/GO-0000-0001.json")).expect("fixture");
        zip.start_file(
            "GO-0000-0001.json",
            zip::write::SimpleFileOptions::default(),
        )
        .expect("zip");
        zip.write_all(&body).expect("zip");
        zip.finish().expect("zip");
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            archive.len()
        );
        stream.write_all(head.as_bytes()).expect("write");
        stream.write_all(&archive).expect("write");
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{address}/Go/all.zip");
    let output = palisade(&["audit", "db", "update", &url], dir.path());
    server.join().expect("server");
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("imported 1 advisories"),
        "{}",
        text(&output.stdout)
    );
    assert!(
        text(&output.stdout).contains("osv-go"),
        "{}",
        text(&output.stdout)
    );
}

fn zip_writer(buffer: &mut Vec<u8>) -> zip::ZipWriter<std::io::Cursor<&mut Vec<u8>>> {
    zip::ZipWriter::new(std::io::Cursor::new(buffer))
}

/// `(package, version, advisory id)` triples, vulnerabilities and informational warnings apart.
type Findings = std::collections::BTreeSet<(String, String, String)>;

/// The RustSec advisories cargo-audit reports for `lock` from the native advisory database `db`
/// (yanked-crate warnings need the crates.io index and are left out).
fn cargo_audit_findings(cargo_audit: &Path, db: &Path, lock: &Path) -> (Findings, Findings) {
    let output = Command::new(cargo_audit)
        .arg("audit")
        .arg("--db")
        .arg(db)
        .args(["--no-fetch", "--stale", "--json", "-f"])
        .arg(lock)
        .output()
        .expect("cargo-audit runs");
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "cargo-audit failed: {}",
        text(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let triple = |item: &serde_json::Value| {
        (
            item["package"]["name"].as_str().expect("name").to_owned(),
            item["package"]["version"]
                .as_str()
                .expect("version")
                .to_owned(),
            item["advisory"]["id"].as_str().expect("id").to_owned(),
        )
    };
    let vulnerabilities = report["vulnerabilities"]["list"]
        .as_array()
        .expect("list")
        .iter()
        .map(triple)
        .collect();
    let warnings = report["warnings"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(kind, _)| kind.as_str() != "yanked")
        .flat_map(|(_, items)| items.as_array().into_iter().flatten())
        .filter(|item| !item["advisory"].is_null())
        .map(triple)
        .collect();
    (vulnerabilities, warnings)
}

/// The RustSec advisories `palisade audit` reports for `lock` (ids and RUSTSEC aliases).
fn palisade_findings(data_dir: &Path, lock: &Path) -> (Findings, Findings) {
    let output = palisade(
        &[
            "audit",
            lock.to_str().expect("utf-8"),
            "--data-dir",
            data_dir.to_str().expect("utf-8"),
            "--format",
            "json",
            "--fail-on",
            "never",
            "--max-age",
            "100000d",
        ],
        data_dir,
    );
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let (mut vulnerabilities, mut warnings) = (Findings::new(), Findings::new());
    for package in report["packages"].as_array().expect("packages") {
        for finding in package["findings"].as_array().expect("findings") {
            let aliases = finding["aliases"].as_array().into_iter().flatten();
            let ids = std::iter::once(&finding["id"])
                .chain(aliases)
                .filter_map(serde_json::Value::as_str)
                .filter(|id| id.starts_with("RUSTSEC-"));
            for id in ids {
                let triple = (
                    package["name"].as_str().expect("name").to_owned(),
                    package["version"].as_str().expect("version").to_owned(),
                    id.to_owned(),
                );
                // `informational` is RustSec's class ("unmaintained", "unsound", "notice").
                if !finding["informational"].is_null() {
                    warnings.insert(triple);
                } else {
                    vulnerabilities.insert(triple);
                }
            }
        }
    }
    (vulnerabilities, warnings)
}

/// Parity with cargo-audit on this repository's own lockfiles, both reading the same RustSec data
/// (cargo-audit the native database, Palisade its OSV export). Needs cargo-audit (`cargo install
/// cargo-audit --locked`; `PALISADE_CARGO_AUDIT` names the binary) and the advisory data
/// (`PALISADE_ADVISORIES_DIR`); skipped with a notice without them, failed when `CI=true`.
/// `bash bench/audit-parity.sh` runs the same comparison over more lockfiles, with timings.
#[test]
fn same_rustsec_findings_as_cargo_audit() {
    let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
    let advisories = std::env::var_os("PALISADE_ADVISORIES_DIR").map(PathBuf::from);
    let cargo_audit = std::env::var_os("PALISADE_CARGO_AUDIT")
        .map(PathBuf::from)
        .or_else(|| {
            let home = std::env::var_os("CARGO_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))?;
            Some(home.join("bin/cargo-audit")).filter(|path| path.is_file())
        });
    let (Some(advisories), Some(cargo_audit)) = (advisories, cargo_audit) else {
        assert!(
            !in_ci,
            "CI=true needs PALISADE_ADVISORIES_DIR and cargo-audit (PALISADE_CARGO_AUDIT)"
        );
        eprintln!(
            "SKIPPED cargo-audit parity: set PALISADE_ADVISORIES_DIR and install cargo-audit (cargo install cargo-audit --locked)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let osv = advisories.join("rustsec-osv/crates");
    let output = palisade(
        &[
            "audit",
            "db",
            "import",
            osv.to_str().expect("utf-8"),
            "--data-dir",
            dir.path().to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut compared = 0;
    for lock in ["Cargo.lock", "fuzz/Cargo.lock"] {
        let lock = repository.join(lock);
        let expected = cargo_audit_findings(&cargo_audit, &advisories.join("rustsec"), &lock);
        let found = palisade_findings(dir.path(), &lock);
        assert_eq!(found.0, expected.0, "vulnerabilities in {}", lock.display());
        assert_eq!(found.1, expected.1, "warnings in {}", lock.display());
        compared += expected.0.len() + expected.1.len();
    }
    // The comparison means something only if there is something to compare.
    assert!(compared > 0, "cargo-audit found nothing to compare");
}
