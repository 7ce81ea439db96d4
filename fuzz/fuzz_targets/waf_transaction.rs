//! Fuzz target: one WAF transaction per input through a tiny fixed SecLang ruleset.
//!
//! The input is read as an HTTP/1 request: everything up to the first `\r\n\r\n` (or the whole
//! input) is the head — a request line `METHOD URI PROTOCOL` then `Name: value` header lines —
//! and the rest is the body. The ruleset (loaded once) switches body processors on the
//! Content-Type, captures and rewrites through transformations, expands macros, runs chains,
//! `ctl` and the libinjection-style detectors, so the engine's deeper paths see hostile data.
#![no_main]
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use palisade_waf::{RequestMeta, Waf, WafSettings};

const RULES: &str = r#"
SecRuleEngine On
SecRequestBodyAccess On
SecResponseBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)^application/json" "id:10,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)xml" "id:11,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)^multipart/" "id:12,phase:1,pass,nolog,ctl:requestBodyProcessor=MULTIPART"
SecRule REQUEST_URI|REQUEST_LINE|QUERY_STRING "@validateUrlEncoding" "id:20,phase:1,pass,t:none"
SecRule ARGS|ARGS_NAMES|REQUEST_BODY "@validateUtf8Encoding" "id:21,phase:2,pass,t:none"
SecRule ARGS|REQUEST_COOKIES|XML:/* "@rx ([a-z]+)=([0-9]+)" "id:30,phase:2,pass,capture,multiMatch,t:none,t:urlDecodeUni,t:htmlEntityDecode,t:lowercase,t:compressWhitespace,setvar:'tx.c_%{tx.1}=%{tx.2}',setvar:tx.hits=+1"
SecRule ARGS|ARGS_NAMES|REQUEST_HEADERS|FILES|FILES_NAMES "@detectSQLi" "id:31,phase:2,block,t:none,t:utf8toUnicode,t:urlDecodeUni,t:removeNulls,msg:'sqli %{MATCHED_VAR_NAME}'"
SecRule ARGS|REQUEST_FILENAME "@detectXSS" "id:32,phase:2,block,t:none,t:jsDecode,t:cssDecode,t:normalizePath,t:base64Decode"
SecRule ARGS "@pm select union <script ../" "id:33,phase:2,pass,chain,t:lowercase"
    SecRule MATCHED_VAR "@validateByteRange 9,10,13,32-126" "t:none,setvar:tx.anomaly=+5"
SecRule TX:/^c_/ "@ipMatch 10.0.0.0/8,192.0.2.1,::1" "id:34,phase:2,pass"
SecRule &ARGS "@gt 3" "id:35,phase:2,pass,ctl:ruleRemoveTargetById=31;ARGS:q"
SecRule REQBODY_ERROR|MULTIPART_STRICT_ERROR "!@eq 0" "id:36,phase:2,deny,status:400"
SecRule TX:ANOMALY "@ge 10" "id:40,phase:2,deny,status:403,msg:'score %{tx.anomaly}'"
"#;

fn waf() -> &'static Arc<Waf> {
    static WAF: OnceLock<Arc<Waf>> = OnceLock::new();
    WAF.get_or_init(|| {
        let settings = WafSettings {
            extra_rules: vec![("fuzz.conf".to_owned(), RULES.to_owned())],
            ..WafSettings::default()
        };
        match Waf::load(&settings) {
            Ok((waf, _report)) => Arc::new(waf),
            Err(error) => panic!("fuzz ruleset must load: {error}"),
        }
    })
}

fn split_head(data: &[u8]) -> (&[u8], &[u8]) {
    match data.windows(4).position(|window| window == b"\r\n\r\n") {
        Some(end) => (&data[..end], &data[end + 4..]),
        None => (data, &[]),
    }
}

fn request_meta(head: &[u8]) -> RequestMeta {
    let mut lines = head
        .split(|&byte| byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let request_line = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let mut parts = request_line.splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let uri = parts.next().unwrap_or_default().to_owned();
    let protocol = parts.next().unwrap_or("HTTP/1.1").to_owned();
    let headers = lines
        .filter_map(|line| {
            let colon = line.iter().position(|&byte| byte == b':')?;
            let name = String::from_utf8_lossy(&line[..colon]).into_owned();
            let value = line[colon + 1..].trim_ascii().to_vec();
            Some((name, value))
        })
        .collect();
    RequestMeta {
        request_id: "fuzz".to_owned(),
        client_addr: ([192, 0, 2, 1], 40000).into(),
        server_addr: ([127, 0, 0, 1], 8080).into(),
        server_name: "fuzz.test".to_owned(),
        method,
        uri,
        protocol,
        headers,
    }
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = split_head(data);
    let meta = request_meta(head);
    let mut tx = waf().transaction(&meta);
    if tx.process_request_headers().is_none() {
        tx.process_request_body(body);
    }
    tx.process_logging();
    let _ = tx.matched_rules();
});
