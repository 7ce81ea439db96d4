//! CRS through the real gateway and WAF (needs `PALISADE_CRS_DIR`).
//!
//! Runs the whole suite (4,966 tests; about 75 s in a debug build) with the
//! listed ModSecurity v3 exceptions applied, and fails
//! when the pass rate drops below [`FULL_SUITE_FLOOR`], the rate measured
//! when it was last raised — so a regression in the gateway, the engine or a
//! body processor fails CI. `PALISADE_FTW_INCLUDE=REGEX` chooses tests by
//! `RULEID-TESTID` (no floor then), and `PALISADE_FTW_REPORT=PATH` writes the
//! table report there.

use std::path::PathBuf;

use palisade_ftw::{ReportFormat, RunOptions};

/// Lowest acceptable pass rate of the whole suite, in percent, with the listed
/// ModSecurity v3 exceptions (`palisade_ftw::crs::MODSECURITY_V3_EXCEPTIONS`) applied
/// (measured: 99.82%, 4,957 of 4,966, 38 of them under an exception). Raise it as the
/// engine improves (one test of headroom for a timing-sensitive case); never lower it silently.
const FULL_SUITE_FLOOR: f64 = 99.78;

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
    let include = std::env::var("PALISADE_FTW_INCLUDE").ok();
    let opts = RunOptions {
        include: include
            .as_deref()
            .map(|p| regex::Regex::new(p).expect("valid PALISADE_FTW_INCLUDE")),
        overrides: Some(palisade_ftw::crs::known_exceptions(None)),
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
    if include.is_none() {
        assert!(
            report.pass_rate() >= FULL_SUITE_FLOOR,
            "CRS regression pass rate {:.2}% fell below {FULL_SUITE_FLOOR}%:\n{table}",
            report.pass_rate()
        );
    }
}
