//! Debian's packaged CRS 3.3.4 (`apt-get install modsecurity-crs`: rules in
//! /usr/share/modsecurity-crs, setup in /etc/modsecurity/crs) loads unmodified
//! through the package's own load file, and blocks a SQL injection at
//! paranoia level 1. Runs only where the package is installed; elsewhere it
//! prints a notice (`PALISADE_DEBIAN_CRS_DIR` points at another copy).

use std::path::PathBuf;
use std::sync::Arc;

use palisade_waf::{RequestMeta, Waf, WafSettings};

fn debian_crs_load_file() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_DEBIAN_CRS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/modsecurity-crs"));
    let load = dir.join("owasp-crs.load");
    load.is_file().then_some(load)
}

#[test]
fn debian_crs_3_3_4_loads_and_blocks_sql_injection() {
    let Some(load_file) = debian_crs_load_file() else {
        eprintln!(
            "SKIPPED: Debian's CRS is not installed (/usr/share/modsecurity-crs/owasp-crs.load; apt-get install modsecurity-crs)"
        );
        return;
    };
    let settings = WafSettings {
        rule_paths: vec![load_file],
        leading_rules: vec![(
            "engine".to_owned(),
            "SecRuleEngine On\nSecRequestBodyAccess On\n".to_owned(),
        )],
        ..WafSettings::default()
    };
    let (waf, report) = Waf::load(&settings).expect("Debian's CRS loads unmodified");
    assert!(report.rules > 600, "only {} rules loaded", report.rules);
    // The one rule that cannot run: 910140's @rbl needs DNS lookups (reported, never matches).
    for unsupported in &report.unsupported_operators {
        assert!(unsupported.contains("@rbl"), "{unsupported}");
    }
    let waf = Arc::new(waf);
    let meta = RequestMeta {
        request_id: "debian-crs-1".to_owned(),
        client_addr: ([192, 0, 2, 10], 40000).into(),
        server_addr: ([127, 0, 0, 1], 80).into(),
        server_name: "localhost".to_owned(),
        method: "GET".to_owned(),
        uri: "/search?id=1%27%20or%201%3D1--".to_owned(),
        protocol: "HTTP/1.1".to_owned(),
        headers: vec![
            ("Host".to_owned(), b"localhost".to_vec()),
            ("User-Agent".to_owned(), b"Mozilla/5.0".to_vec()),
            ("Accept".to_owned(), b"text/html".to_vec()),
        ],
    };
    let mut transaction = waf.transaction(&meta);
    let intervention = transaction
        .process_request_headers()
        .or_else(|| transaction.process_request_body(b""));
    let matched = transaction.matched_rule_ids();
    assert!(matched.contains(&942100), "matched: {matched:?}");
    let intervention = intervention.expect("the anomaly score blocks");
    assert_eq!(intervention.rule_id, 949110);
    assert_eq!(intervention.status, 403);

    let benign = RequestMeta {
        request_id: "debian-crs-2".to_owned(),
        uri: "/search?q=garden+chairs&page=2".to_owned(),
        ..meta
    };
    let mut transaction = waf.transaction(&benign);
    let intervention = transaction
        .process_request_headers()
        .or_else(|| transaction.process_request_body(b""));
    assert!(intervention.is_none(), "{intervention:?}");
}
