//! Hostile input never panics: random request lines, headers and bodies (for every body
//! processor) run through rules touching every variable family, macros and ctl.

use std::sync::{Arc, OnceLock};

use palisade_waf::{RequestMeta, Waf, WafSettings};
use proptest::prelude::*;

const RULES: &str = r#"
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecResponseBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)json" "id:1,phase:1,pass,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)xml" "id:2,phase:1,pass,ctl:requestBodyProcessor=XML"
SecRule ARGS|ARGS_NAMES|REQUEST_COOKIES|REQUEST_COOKIES_NAMES|REQUEST_HEADERS|XML:/*|FILES|FILES_NAMES|MULTIPART_PART_HEADERS "@rx (.)(.)" "id:3,phase:2,pass,capture,multiMatch,t:none,t:urlDecodeUni,t:htmlEntityDecode,t:lowercase,t:cmdLine,setvar:'tx.v_%{MATCHED_VAR_NAME}=%{tx.1}%{tx.2}',setvar:tx.n=+1"
SecRule REQUEST_FILENAME|REQUEST_BASENAME|REQUEST_LINE|QUERY_STRING|REQUEST_URI|REQUEST_BODY "@contains a" "id:4,phase:2,pass,t:normalizePath,t:base64Decode,t:jsDecode,t:cssDecode"
SecRule &ARGS "@gt %{tx.n}" "id:5,phase:2,pass,ctl:ruleRemoveTargetById=3;ARGS:x"
SecRule TX:/^v_/ "@pm ab cd" "id:6,phase:2,deny,msg:'%{MATCHED_VAR} %{REQUEST_HEADERS.host} %{rule.id}'"
SecRule REQBODY_ERROR|MULTIPART_STRICT_ERROR|ARGS_COMBINED_SIZE "!@eq 0" "id:7,phase:2,pass"
SecRule RESPONSE_BODY|RESPONSE_HEADERS "@detectXSS" "id:8,phase:4,pass"
"#;

fn waf() -> Arc<Waf> {
    static WAF: OnceLock<Arc<Waf>> = OnceLock::new();
    Arc::clone(WAF.get_or_init(|| {
        let settings = WafSettings {
            extra_rules: vec![("hostile".to_owned(), RULES.to_owned())],
            ..WafSettings::default()
        };
        Arc::new(Waf::load(&settings).expect("rules load").0)
    }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn random_requests_never_panic(
        uri in prop_oneof!["/[ -~]{0,80}", "[a-z]{0,5}://[ -~]{0,40}", "/\\?[a-z]=[a-z]{0,4}://[ -~]{0,20}"],
        cookie in "[ -~]{0,60}",
        content_type in prop::sample::select(vec![
            "application/x-www-form-urlencoded", "multipart/form-data; boundary=XX", "application/json", "text/xml", "",
        ]),
        body in prop::collection::vec(any::<u8>(), 0..300),
        response in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let meta = RequestMeta {
            request_id: "p".to_owned(),
            client_addr: "192.0.2.1:1".parse().expect("addr"),
            server_addr: "127.0.0.1:2".parse().expect("addr"),
            server_name: "h".to_owned(),
            method: "POST".to_owned(),
            uri,
            protocol: "HTTP/1.1".to_owned(),
            headers: vec![
                ("Host".to_owned(), b"h".to_vec()),
                ("Cookie".to_owned(), cookie.into_bytes()),
                ("Content-Type".to_owned(), content_type.as_bytes().to_vec()),
            ],
        };
        let mut tx = waf().transaction(&meta);
        tx.process_request_headers();
        tx.process_request_body(&body);
        tx.process_response_headers(200, "HTTP/1.1", &[("Content-Type".to_owned(), b"text/html".to_vec())]);
        tx.process_response_body(&response);
        tx.process_logging();
        prop_assert!(tx.intervention().is_none(), "DetectionOnly never intervenes");
    }
}
