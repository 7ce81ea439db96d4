//! CRS through the real gateway and WAF (needs `PALISADE_CRS_DIR`).
//!
//! Runs a sample by default (the first test of every file); set
//! `PALISADE_FTW_FULL=1` for the whole suite, `PALISADE_FTW_INCLUDE=REGEX`
//! to choose tests by `RULEID-TESTID`, and `PALISADE_FTW_REPORT=PATH` to
//! write the table report there. Prints the pass rate; asserts only that the
//! run happened (the engine's pass rate is measured, not assumed).

use std::path::PathBuf;

use palisade_ftw::{ReportFormat, RunOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crs_regression_suite_through_the_gateway() {
    let Some(dir) = std::env::var_os("PALISADE_CRS_DIR").map(PathBuf::from) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "PALISADE_CRS_DIR must be set in CI"
        );
        eprintln!("SKIPPED: PALISADE_CRS_DIR not set");
        return;
    };
    let include = match (
        std::env::var("PALISADE_FTW_INCLUDE"),
        std::env::var("PALISADE_FTW_FULL"),
    ) {
        (Ok(pattern), _) => Some(pattern),
        (Err(_), Ok(full)) if full == "1" => None,
        _ => Some(r"^\d+-1$".to_owned()),
    };
    let opts = RunOptions {
        include: include
            .as_deref()
            .map(|p| regex::Regex::new(p).expect("valid PALISADE_FTW_INCLUDE")),
        ..RunOptions::default()
    };
    let report = palisade_ftw::crs::run_crs(&dir, &opts)
        .await
        .expect("CRS loads and the gateway starts");
    let table = report.render(ReportFormat::Table);
    if let Ok(path) = std::env::var("PALISADE_FTW_REPORT") {
        std::fs::write(&path, &table).expect("report written");
    }
    let summary: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("pass rate") || l.starts_with("  "))
        .collect();
    println!("{}", summary.join("\n"));
    println!(
        "CRS go-ftw: {:.2}% passed ({} of {}), include={include:?}",
        report.pass_rate(),
        report.passed(),
        report.total()
    );
    assert!(report.total() > 0, "no test ran");
    assert!(report.load_errors.is_empty(), "{:?}", report.load_errors);
}
