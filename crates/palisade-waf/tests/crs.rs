//! Loads all of OWASP CRS (with `PALISADE_CRS_DIR`) at paranoia level 4, reports the load
//! time and checks the engine's decisions on a benign request and on attacks.

use std::path::PathBuf;
use std::sync::Arc;

use palisade_waf::{RequestMeta, Waf, WafSettings};

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

fn load(dir: &std::path::Path, paranoia: u8) -> Arc<Waf> {
    let settings = WafSettings {
        rule_paths: vec![dir.join("crs-setup.conf.example"), dir.join("rules/*.conf")],
        extra_rules: vec![(
            "engine".to_owned(),
            "SecRuleEngine On\nSecRequestBodyAccess On".to_owned(),
        )],
        paranoia_level: Some(paranoia),
        detection_only: false,
        ..WafSettings::default()
    };
    let (waf, report) = Waf::load(&settings).unwrap_or_else(|error| panic!("CRS loads: {error}"));
    eprintln!(
        "CRS loaded at PL{paranoia}: {} files, {} rules in {:?}; {} unsupported operators, {} backtracking patterns",
        report.files,
        report.rules,
        report.load_time,
        report.unsupported_operators.len(),
        report.backtracking_patterns.len()
    );
    for line in &report.unsupported_operators {
        eprintln!("  unsupported: {line}");
    }
    assert!(report.rules > 500);
    Arc::new(waf)
}

fn get(uri: &str, headers: &[(&str, &str)]) -> RequestMeta {
    RequestMeta {
        request_id: "test-1".to_owned(),
        client_addr: "192.0.2.10:40000".parse().expect("addr"),
        server_addr: "127.0.0.1:8080".parse().expect("addr"),
        server_name: "localhost".to_owned(),
        method: "GET".to_owned(),
        uri: uri.to_owned(),
        protocol: "HTTP/1.1".to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect(),
    }
}

const BROWSER: &[(&str, &str)] = &[
    ("Host", "localhost"),
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ),
    (
        "Accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ),
    ("Accept-Language", "en-US,en;q=0.5"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Connection", "keep-alive"),
];

fn run(waf: &Arc<Waf>, meta: &RequestMeta) -> (Vec<u64>, Option<u16>) {
    let mut tx = waf.transaction(meta);
    let mut status = tx.process_request_headers().map(|i| i.status);
    if status.is_none() {
        status = tx.process_request_body(b"").map(|i| i.status);
    }
    tx.process_logging();
    (tx.matched_rule_ids(), status)
}

#[test]
fn crs_loads_and_decides() {
    let Some(dir) = crs_dir() else { return };
    let waf = load(&dir, 4);
    let (ids, status) = run(&waf, &get("/index.html?q=hello&page=2", BROWSER));
    eprintln!("benign: {ids:?} {status:?}");
    assert_eq!(status, None, "benign request must pass, matched {ids:?}");

    let (ids, status) = run(
        &waf,
        &get(
            "/?id=1%27%20UNION%20SELECT%20password%20FROM%20users--",
            BROWSER,
        ),
    );
    eprintln!("sqli: {ids:?} {status:?}");
    assert_eq!(status, Some(403));
    assert!(ids.contains(&949110), "949110 blocks: {ids:?}");

    let (ids, status) = run(&waf, &get("/?file=../../../../etc/passwd", BROWSER));
    eprintln!("lfi: {ids:?} {status:?}");
    assert_eq!(status, Some(403));
    assert!(ids.contains(&930120) || ids.contains(&930100), "{ids:?}");

    let (ids, status) = run(&waf, &get("/?x=<script>alert(1)</script>", BROWSER));
    eprintln!("xss: {ids:?} {status:?}");
    assert_eq!(status, Some(403));
}
