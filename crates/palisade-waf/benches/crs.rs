//! Criterion bench: OWASP CRS (from `PALISADE_CRS_DIR`, paranoia level 1) over a benign
//! GET with 5 args and browser headers, a 4 KB form POST, a 16 KB JSON POST and an attack.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use palisade_waf::{RequestMeta, Waf, WafSettings};

fn meta(method: &str, uri: &str, extra: &[(&str, &str)]) -> RequestMeta {
    let mut headers: Vec<(String, Vec<u8>)> = [
        ("Host", "shop.example.com"),
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
        ("Cookie", "session=3f2a9c1d7e; theme=dark"),
        ("Connection", "keep-alive"),
    ]
    .iter()
    .chain(extra)
    .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
    .collect();
    headers.dedup_by(|a, b| a.0 == b.0);
    RequestMeta {
        request_id: "bench".to_owned(),
        client_addr: "198.51.100.7:51234".parse().expect("addr"),
        server_addr: "127.0.0.1:8080".parse().expect("addr"),
        server_name: "shop.example.com".to_owned(),
        method: method.to_owned(),
        uri: uri.to_owned(),
        protocol: "HTTP/1.1".to_owned(),
        headers,
    }
}

fn run(waf: &Arc<Waf>, meta: &RequestMeta, body: &[u8]) -> usize {
    let mut tx = waf.transaction(meta);
    if tx.process_request_headers().is_none() {
        tx.process_request_body(body);
    }
    tx.process_logging();
    tx.matched_rule_ids().len()
}

fn bench(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("PALISADE_CRS_DIR").map(PathBuf::from) else {
        eprintln!("SKIPPED: PALISADE_CRS_DIR not set");
        return;
    };
    let settings = WafSettings {
        rule_paths: vec![dir.join("crs-setup.conf.example"), dir.join("rules/*.conf")],
        extra_rules: vec![(
            "engine".to_owned(),
            "SecRuleEngine On\nSecRequestBodyAccess On\n\
             SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/json\" \
             \"id:200001,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON\""
                .to_owned(),
        )],
        paranoia_level: Some(1),
        detection_only: false,
        ..WafSettings::default()
    };
    let (waf, _) = Waf::load(&settings).expect("CRS loads");
    let waf = Arc::new(waf);

    let get = meta(
        "GET",
        "/products/list?category=shoes&size=42&color=blue&sort=price&page=3",
        &[],
    );
    let form_body: String = (0..64)
        .map(|i| format!("field{i}=value+number+{i:040}&"))
        .collect();
    let form = meta(
        "POST",
        "/checkout",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", "4096"),
        ],
    );
    let json_body = {
        let items: Vec<String> = (0..160)
            .map(|i| {
                format!("{{\"sku\":\"SKU-{i:06}\",\"qty\":{i},\"note\":\"gift wrap please\"}}")
            })
            .collect();
        format!("{{\"order\":{{\"items\":[{}]}}}}", items.join(","))
    };
    let json = meta(
        "POST",
        "/api/orders",
        &[("Content-Type", "application/json")],
    );
    let attack = meta(
        "GET",
        "/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--&x=<script>alert(1)</script>",
        &[],
    );

    let mut group = c.benchmark_group("crs_pl1");
    group.bench_function("benign_get_5_args", |b| b.iter(|| run(&waf, &get, b"")));
    group.bench_function("form_post_4k", |b| {
        b.iter(|| run(&waf, &form, form_body.as_bytes()))
    });
    group.bench_function("json_post_16k", |b| {
        b.iter(|| run(&waf, &json, json_body.as_bytes()))
    });
    group.bench_function("attack_sqli_xss", |b| b.iter(|| run(&waf, &attack, b"")));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
