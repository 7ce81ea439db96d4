//! The requests of the CRS benchmark, shared by `benches/crs.rs` and
//! `examples/crs_profile.rs`: CRS (from `PALISADE_CRS_DIR`) at paranoia level 1 in blocking
//! mode, and a benign GET with 5 args and browser headers (the GET of `bench/waf.sh`), a 4 KB
//! form POST, the 4 KiB POST of `bench/waf.sh` (`bench/post4k.lua`), a 16 KB JSON POST and an
//! attack.

use std::path::Path;
use std::sync::Arc;

use palisade_waf::{RequestMeta, Waf, WafSettings};

/// One benchmark request: its name, head and body.
pub struct BenchRequest {
    pub name: &'static str,
    pub meta: RequestMeta,
    pub body: Vec<u8>,
}

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

/// Loads CRS from `dir` at paranoia level 1, blocking, with the JSON body processor rule.
pub fn load_crs(dir: &Path) -> Arc<Waf> {
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
    Arc::new(waf)
}

/// The benchmark requests.
pub fn requests() -> Vec<BenchRequest> {
    let form_body: String = (0..64)
        .map(|i| format!("field{i}=value+number+{i:040}&"))
        .collect();
    // bench/post4k.lua's body: `fieldN=` + 60 `v`s, `&`-joined, cut at 4096 bytes.
    let wrk_form_body: String = {
        let fields: Vec<String> = (0..64)
            .map(|i| format!("field{i}={}", "v".repeat(60)))
            .collect();
        let mut body = fields.join("&");
        body.truncate(4096);
        body
    };
    let json_body = {
        let items: Vec<String> = (0..160)
            .map(|i| {
                format!("{{\"sku\":\"SKU-{i:06}\",\"qty\":{i},\"note\":\"gift wrap please\"}}")
            })
            .collect();
        format!("{{\"order\":{{\"items\":[{}]}}}}", items.join(","))
    };
    vec![
        BenchRequest {
            name: "benign_get_5_args",
            meta: meta(
                "GET",
                "/products/list?category=shoes&size=42&color=blue&sort=price&page=3",
                &[],
            ),
            body: Vec::new(),
        },
        BenchRequest {
            name: "form_post_4k",
            meta: meta(
                "POST",
                "/checkout",
                &[
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Content-Length", "4096"),
                ],
            ),
            body: form_body.into_bytes(),
        },
        BenchRequest {
            name: "wrk_post_4k",
            meta: meta(
                "POST",
                "/checkout",
                &[
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Content-Length", "4096"),
                ],
            ),
            body: wrk_form_body.into_bytes(),
        },
        BenchRequest {
            name: "json_post_16k",
            meta: meta(
                "POST",
                "/api/orders",
                &[("Content-Type", "application/json")],
            ),
            body: json_body.into_bytes(),
        },
        BenchRequest {
            name: "attack_sqli_xss",
            meta: meta(
                "GET",
                "/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--&x=<script>alert(1)</script>",
                &[],
            ),
            body: Vec::new(),
        },
    ]
}

/// Runs one request through phases 1, 2 and 5; returns the number of matched rules.
pub fn run(waf: &Arc<Waf>, request: &BenchRequest) -> usize {
    let mut tx = waf.transaction(&request.meta);
    if tx.process_request_headers().is_none() {
        tx.process_request_body(&request.body);
    }
    tx.process_logging();
    tx.matched_rule_ids().len()
}
