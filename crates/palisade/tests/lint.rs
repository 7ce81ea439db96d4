//! End-to-end tests of `palisade lint` on a small project written to a temporary directory:
//! exit codes, formats, suppressions, baselines and `.gitignore`.

use std::path::Path;
use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_palisade");

const VIEWS: &str = r#"from flask import Flask, request
import sqlite3
from app.db import run_query

app = Flask(__name__)

@app.route("/search")
def search():
    term = request.args.get("q", "")
    return {"rows": run_query(term)}

@app.route("/safe")
def safe():
    term = request.args.get("q", "")
    cur = sqlite3.connect("x").cursor()
    cur.execute("SELECT * FROM t WHERE name = ?", (term,))
    return {"rows": cur.fetchall()}
"#;

const DB: &str = r#"import sqlite3

def run_query(term):
    cur = sqlite3.connect("x").cursor()
    cur.execute("SELECT * FROM t WHERE name = '" + term + "'")
    return cur.fetchall()
"#;

fn lint(dir: &Path, args: &[&str]) -> Output {
    Command::new(BINARY)
        .arg("lint")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("palisade runs")
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    std::fs::write(dir.path().join("app/__init__.py"), "").expect("write");
    std::fs::write(dir.path().join("app/views.py"), VIEWS).expect("write");
    std::fs::write(dir.path().join("app/db.py"), DB).expect("write");
    dir
}

#[test]
fn a_flow_across_modules_is_reported_at_the_sink_with_its_source_and_exit_1() {
    let dir = project();
    let out = lint(dir.path(), &["."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("app/db.py:5:5: PLT089 [sql-injection]"),
        "sink in the helper module:\n{stdout}"
    );
    assert!(stdout.contains("Source: app/views.py:9:12"), "{stdout}");
    assert!(
        !stdout.contains("app/views.py:16"),
        "the parameterised query is not reported:\n{stdout}"
    );
    assert!(stdout.contains("5 | "), "code frame:\n{stdout}");
}

#[test]
fn sarif_carries_cwe_tags_and_json_is_machine_readable() {
    let dir = project();
    let out = lint(
        dir.path(),
        &[".", "--format", "sarif", "--output", "lint.sarif"],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("lint.sarif")).expect("sarif"))
            .expect("valid JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let sqli = rules
        .iter()
        .find(|r| r["id"] == "PLT089")
        .expect("PLT089 described");
    assert!(
        sqli["properties"]["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .any(|t| t == "external/cwe/cwe-89")
    );
    assert_eq!(run["results"][0]["ruleId"], "PLT089");

    let out = lint(dir.path(), &[".", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["findings"][0]["cwe"], 89);
    assert_eq!(json["files_scanned"], 3);
}

#[test]
fn suppressions_and_baselines_silence_known_findings() {
    let dir = project();
    // A baseline records today's findings; the same tree is then clean.
    let out = lint(dir.path(), &[".", "--write-baseline", "baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = lint(dir.path(), &[".", "--baseline", "baseline.json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // An inline suppression with a reason silences the finding too.
    let suppressed = DB.replace(
        "+ term + \"'\")",
        "+ term + \"'\")  # palisade: ignore[PLT089] term is validated by the caller",
    );
    std::fs::write(dir.path().join("app/db.py"), suppressed).expect("write");
    let out = lint(dir.path(), &["."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 suppressed"), "{stdout}");
}

#[test]
fn gitignored_files_are_skipped_and_bad_input_is_a_usage_error() {
    let dir = project();
    std::fs::write(dir.path().join(".gitignore"), "app/db.py\n").expect("write");
    let out = lint(dir.path(), &["."]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = lint(dir.path(), &["no-such-dir"]);
    assert_eq!(out.status.code(), Some(2));
    let out = lint(dir.path(), &[".", "--select", "NOPE1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE1"));
}

#[test]
fn explain_prints_the_rule_documentation() {
    let dir = project();
    let out = lint(dir.path(), &["--explain", "B602"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for section in ["What:", "Why:", "Example:", "Fix:", "CWE-78"] {
        assert!(stdout.contains(section), "{section} missing:\n{stdout}");
    }
}
