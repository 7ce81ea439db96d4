//! Parses ALL of OWASP CRS (crs-setup.conf.example + rules/*.conf) when `PALISADE_CRS_DIR` is set.

use std::path::PathBuf;

use palisade_seclang::{Directive, Limits, Parser};

fn crs_dir() -> Option<PathBuf> {
    match std::env::var_os("PALISADE_CRS_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            eprintln!("\n\n*** SKIPPED: PALISADE_CRS_DIR not set ***\n");
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PALISADE_CRS_DIR must be set in CI"
            );
            None
        }
    }
}

#[test]
fn parses_all_of_crs() {
    let Some(dir) = crs_dir() else { return };
    let mut parser = Parser::new(Limits::default());
    parser
        .parse_file(&dir.join("crs-setup.conf.example"))
        .expect("crs-setup.conf.example parses");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("rules"))
        .expect("rules dir")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "conf"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 25,
        "expected the CRS rule files, found {}",
        files.len()
    );
    for file in &files {
        if let Err(error) = parser.parse_file(file) {
            panic!("{error}");
        }
    }
    let config = parser.finish();
    let rules = config
        .directives
        .iter()
        .filter(|d| matches!(d, Directive::Rule(_)))
        .count();
    let markers = config
        .directives
        .iter()
        .filter(|d| matches!(d, Directive::Marker(_)))
        .count();
    eprintln!("CRS: {rules} rules (SecRule+SecAction, chain links counted), {markers} markers");
    assert!(rules > 700, "only {rules} rules parsed");
    assert!(markers >= 30);
}
