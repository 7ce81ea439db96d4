//! Measurement tool (not the real go-ftw runner — that is `palisade-ftw`, through the
//! gateway): runs CRS's regression YAML tests directly against the engine, without HTTP,
//! and prints the share of stages whose `expect_ids` / `no_expect_ids` hold. Bodies
//! without a Content-Type are parsed as urlencoded, as CRS's test setup does with
//! `tx.enforce_bodyproc_urlencoded=1`.
//!
//! Usage: `PALISADE_CRS_DIR=/path/to/crs cargo run --example ftw_direct -p palisade-waf [-- FILTER]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_waf::{RequestMeta, Waf, WafSettings};
use serde_json::Value;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn ids(value: Option<&Value>) -> Vec<u64> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn main() {
    let Some(dir) = std::env::var_os("PALISADE_CRS_DIR").map(PathBuf::from) else {
        eprintln!("SKIPPED: PALISADE_CRS_DIR not set");
        return;
    };
    let filter = std::env::args().nth(1).unwrap_or_default();
    let settings = WafSettings {
        rule_paths: vec![dir.join("crs-setup.conf.example"), dir.join("rules/*.conf")],
        extra_rules: vec![(
            "ftw-engine".to_owned(),
            "SecRuleEngine DetectionOnly\nSecRequestBodyAccess On\nSecResponseBodyAccess On\n\
             SecRule REQUEST_HEADERS:Content-Type \"@rx ^(?:application(?:/soap\\+|/)|text/)xml\" \"id:200000,phase:1,pass,nolog,ctl:requestBodyProcessor=XML\"\n\
             SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/json\" \"id:200001,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON\"\n\
             SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/[a-z0-9.-]+[+]json\" \"id:200006,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON\"\n\
             SecRule &REQUEST_HEADERS:Content-Type \"@eq 0\" \"id:200007,phase:1,pass,nolog,ctl:requestBodyProcessor=URLENCODED\""
                .to_owned(),
        )],
        paranoia_level: Some(4),
        detection_only: true,
        ..WafSettings::default()
    };
    let (waf, report) = Waf::load(&settings).expect("CRS loads");
    eprintln!("loaded {} rules in {:?}", report.rules, report.load_time);
    let waf = Arc::new(waf);
    let mut files = Vec::new();
    yaml_files(&dir.join("tests/regression/tests"), &mut files);
    files.sort();
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    let mut failures_by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for file in files
        .iter()
        .filter(|f| f.to_string_lossy().contains(&filter))
    {
        let Ok(source) = std::fs::read_to_string(file) else {
            continue;
        };
        let Ok(doc) = serde_saphyr::from_str::<Value>(&source) else {
            skipped += 1;
            continue;
        };
        for test in doc
            .get("tests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let test_id = test.get("test_id").and_then(text).unwrap_or_default();
            for stage in test
                .get("stages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(input), Some(output)) = (stage.get("input"), stage.get("output")) else {
                    continue;
                };
                let log = output.get("log");
                let expect = ids(log.and_then(|l| l.get("expect_ids")));
                let refuse = ids(log.and_then(|l| l.get("no_expect_ids")));
                if input.get("encoded_request").is_some()
                    || (expect.is_empty() && refuse.is_empty())
                {
                    skipped += 1;
                    continue;
                }
                let method = input
                    .get("method")
                    .and_then(text)
                    .unwrap_or_else(|| "GET".to_owned());
                let uri = input
                    .get("uri")
                    .and_then(text)
                    .unwrap_or_else(|| "/".to_owned());
                let version = input
                    .get("version")
                    .and_then(text)
                    .unwrap_or_else(|| "HTTP/1.1".to_owned());
                let data = input.get("data").and_then(text).unwrap_or_default();
                let mut headers: Vec<(String, Vec<u8>)> = input
                    .get("headers")
                    .and_then(Value::as_object)
                    .map(|h| {
                        h.iter()
                            .filter_map(|(k, v)| text(v).map(|v| (k.clone(), v.into_bytes())))
                            .collect()
                    })
                    .unwrap_or_default();
                let has = |headers: &[(String, Vec<u8>)], name: &str| {
                    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
                };
                if !data.is_empty() && !has(&headers, "content-length") {
                    headers.push((
                        "Content-Length".to_owned(),
                        data.len().to_string().into_bytes(),
                    ));
                }
                let meta = RequestMeta {
                    request_id: format!("{}-{test_id}", file.display()),
                    client_addr: "127.0.0.1:50000".parse().expect("addr"),
                    server_addr: "127.0.0.1:80".parse().expect("addr"),
                    server_name: "localhost".to_owned(),
                    method,
                    uri,
                    protocol: version,
                    headers,
                };
                let mut tx = waf.transaction(&meta);
                tx.process_request_headers();
                tx.process_request_body(data.as_bytes());
                tx.process_response_headers(
                    200,
                    "HTTP/1.1",
                    &[("Content-Type".to_owned(), b"text/html".to_vec())],
                );
                tx.process_response_body(b"<html><body>ok</body></html>");
                tx.process_logging();
                let matched = tx.matched_rule_ids();
                let ok = expect.iter().all(|id| matched.contains(id))
                    && !refuse.iter().any(|id| matched.contains(id));
                let rule = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if ok {
                    passed += 1;
                } else {
                    failed += 1;
                    *failures_by_rule.entry(rule.clone()).or_default() += 1;
                    if std::env::var_os("FTW_VERBOSE").is_some() {
                        println!("FAIL {rule}-{test_id}: expect {expect:?} refuse {refuse:?}");
                    }
                }
            }
        }
    }
    let total = passed + failed;
    println!(
        "direct ftw: {passed}/{total} stages pass ({:.1}%), {skipped} skipped (encoded_request/status-only)",
        if total == 0 {
            0.0
        } else {
            passed as f64 * 100.0 / total as f64
        }
    );
    let mut worst: Vec<_> = failures_by_rule.into_iter().collect();
    worst.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    for (rule, count) in worst.iter().take(40) {
        println!("  {rule}: {count} failing stages");
    }
}
