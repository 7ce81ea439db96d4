//! The real CRS regression suite (needs `PALISADE_CRS_DIR`): every file
//! loads, and the suite's size is what CRS v4.28.0 ships.

use std::path::PathBuf;

fn crs_dir() -> Option<PathBuf> {
    match std::env::var_os("PALISADE_CRS_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PALISADE_CRS_DIR must be set in CI"
            );
            eprintln!("SKIPPED: PALISADE_CRS_DIR not set");
            None
        }
    }
}

#[test]
fn every_crs_test_file_loads() {
    let Some(dir) = crs_dir() else {
        return;
    };
    let suite = palisade_ftw::load_suite(palisade_ftw::crs::tests_dir(&dir))
        .expect("suite directory readable");
    assert!(suite.load_errors.is_empty(), "{:#?}", suite.load_errors);
    let tests = suite.test_count();
    println!(
        "CRS regression suite: {} files, {tests} tests",
        suite.files.len()
    );
    assert!(tests >= 4900, "only {tests} tests loaded");
    let stages_with_data = suite
        .files
        .iter()
        .flat_map(|f| &f.file.tests)
        .flat_map(|t| &t.stages)
        .filter(|s| s.input.data.is_some())
        .count();
    assert!(
        stages_with_data > 2000,
        "bodies not read: {stages_with_data}"
    );
    for name in [
        "nginx-overrides.yaml",
        "coraza-overrides.yaml",
        "httpd-overrides.yaml",
    ] {
        let overrides = palisade_ftw::load_overrides(dir.join("tests/regression").join(name))
            .expect("overrides parse");
        assert!(!overrides.test_overrides.is_empty(), "{name}");
    }
    let (setup, rules) = palisade_ftw::crs::rule_files(&dir).expect("CRS layout");
    assert!(setup.is_file());
    assert!(
        rules
            .iter()
            .any(|r| r.ends_with("REQUEST-942-APPLICATION-ATTACK-SQLI.conf"))
    );
}
