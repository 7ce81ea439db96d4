//! Rule-level semantics as data: each `tests/rules/*.conf` holds SecLang rules and a
//! request in `#>` header lines; the harness runs phases 1–2 and compares the matched
//! rule ids and the intervention status.

use std::path::Path;
use std::sync::Arc;

use palisade_waf::{RequestMeta, Waf, WafSettings};

struct Case {
    method: String,
    uri: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    expect_ids: Vec<u64>,
    expect_status: Option<u16>,
}

fn parse_case(text: &str) -> Case {
    let mut case = Case {
        method: String::new(),
        uri: String::new(),
        headers: vec![("Host".to_owned(), b"localhost".to_vec())],
        body: Vec::new(),
        expect_ids: Vec::new(),
        expect_status: None,
    };
    for line in text.lines().filter_map(|l| l.strip_prefix("#> ")) {
        let (key, value) = line.split_once(": ").expect("`#> key: value`");
        match key {
            "request" => {
                let (method, uri) = value.split_once(' ').expect("METHOD URI");
                case.method = method.to_owned();
                case.uri = uri.to_owned();
            }
            "header" => {
                let (name, value) = value.split_once(": ").expect("Name: value");
                case.headers
                    .push((name.to_owned(), value.as_bytes().to_vec()));
            }
            "body" => case.body = value.as_bytes().to_vec(),
            "expect-ids" => {
                case.expect_ids = value
                    .split_whitespace()
                    .map(|id| id.parse().expect("id"))
                    .collect()
            }
            "expect-status" => case.expect_status = value.parse().ok(),
            other => panic!("unknown case key {other}"),
        }
    }
    case
}

fn run_case(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case = parse_case(&text);
    let settings = WafSettings {
        extra_rules: vec![(path.display().to_string(), text.clone())],
        ..WafSettings::default()
    };
    let (waf, _report) = Waf::load(&settings).map_err(|e| e.to_string())?;
    let waf = Arc::new(waf);
    let meta = RequestMeta {
        request_id: "case".to_owned(),
        client_addr: "192.0.2.1:5000".parse().map_err(|_| "addr")?,
        server_addr: "127.0.0.1:80".parse().map_err(|_| "addr")?,
        server_name: "localhost".to_owned(),
        method: case.method.clone(),
        uri: case.uri.clone(),
        protocol: "HTTP/1.1".to_owned(),
        headers: case.headers.clone(),
    };
    let mut tx = waf.transaction(&meta);
    let mut intervention = tx.process_request_headers();
    if intervention.is_none() {
        intervention = tx.process_request_body(&case.body);
    }
    tx.process_logging();
    let ids = tx.matched_rule_ids();
    let status = intervention.map(|i| i.status);
    if ids != case.expect_ids || status != case.expect_status {
        return Err(format!(
            "{}: matched {ids:?} status {status:?}, expected {:?} status {:?}",
            path.display(),
            case.expect_ids,
            case.expect_status
        ));
    }
    Ok(())
}

#[test]
fn rule_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/rules")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10);
    let failures: Vec<String> = paths.iter().filter_map(|p| run_case(p).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}
