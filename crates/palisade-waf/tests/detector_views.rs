//! The `@detectXxx` rules of a transaction decode each value once (issue #4): the
//! decoded views the first detector builds for a value are reused by every other
//! detector rule on the same value, and the detections stay those of each operator on
//! its own.

use std::sync::Arc;

use palisade_detect::AttackClass;
use palisade_detect::normalize::views_built;
use palisade_waf::{RequestMeta, Waf, WafSettings};

const ENGINE_SETTINGS: &str = include_str!("../../../rules/palisade-engine.conf");
const DEFAULT_RULESET: &str = include_str!("../../../rules/palisade-default.conf");

fn load(rules: &[(&str, &str)]) -> Arc<Waf> {
    let settings = WafSettings {
        extra_rules: rules
            .iter()
            .map(|(origin, text)| ((*origin).to_owned(), (*text).to_owned()))
            .collect(),
        ..WafSettings::default()
    };
    Arc::new(Waf::load(&settings).expect("rules load").0)
}

fn get(uri: &str) -> RequestMeta {
    RequestMeta {
        request_id: "views".to_owned(),
        client_addr: "192.0.2.1:40000".parse().expect("addr"),
        server_addr: "127.0.0.1:8080".parse().expect("addr"),
        server_name: "example.test".to_owned(),
        method: "GET".to_owned(),
        uri: uri.to_owned(),
        protocol: "HTTP/1.1".to_owned(),
        headers: vec![("Host".to_owned(), b"example.test".to_vec())],
    }
}

/// Runs phases 1, 2 and 5; returns the matched rule ids and how many values were decoded.
fn run(waf: &Arc<Waf>, meta: &RequestMeta) -> (Vec<u64>, u64) {
    let before = views_built();
    let mut tx = waf.transaction(meta);
    if tx.process_request_headers().is_none() {
        tx.process_request_body(b"");
    }
    tx.process_logging();
    (tx.matched_rule_ids(), views_built() - before)
}

#[test]
fn each_value_is_decoded_once_for_all_detector_rules() {
    let rules = r#"
SecRuleEngine On
SecAction "id:1,phase:1,pass,nolog,setvar:tx.copy=%{ARGS.b}"
SecRule ARGS|TX:copy "@detectSQLi" "id:10,phase:2,pass,t:none"
SecRule ARGS|TX:copy "@detectXSS" "id:11,phase:2,pass,t:none"
SecRule ARGS|TX:copy "@detectPathTraversal" "id:12,phase:2,pass,t:none"
SecRule ARGS|TX:copy "@detectCmdInjection" "id:13,phase:2,pass,t:none"
"#;
    let waf = load(&[("rules", rules)]);
    // Three argument values (two need decoding) and one TX value (a copy of `b`, not
    // stable in place, so looked up by content): four decodings, not one per rule.
    let (ids, decoded) = run(&waf, &get("/?a=1+1&b=x%2520y&c=plain"));
    assert_eq!(ids, vec![1]);
    assert_eq!(
        decoded, 4,
        "one decoding per value, shared by the four detectors"
    );

    // An encoded attack is found through the shared views exactly as each operator
    // finds it on its own.
    let (ids, _) = run(
        &waf,
        &get("/?a=%253Csvg%2520onload%253Dalert(1)%253E&b=ok&c=plain"),
    );
    let values: [&[u8]; 4] = [b"%3Csvg%20onload%3Dalert(1)%3E", b"ok", b"plain", b"ok"];
    let mut expected = vec![1];
    for (id, class) in [
        (10, AttackClass::Sqli),
        (11, AttackClass::Xss),
        (12, AttackClass::PathTraversal),
        (13, AttackClass::CmdInjection),
    ] {
        if values.iter().any(|value| class.detector()(value).is_some()) {
            expected.push(id);
        }
    }
    assert!(
        expected.contains(&11),
        "the XSS detector sees through the encoding"
    );
    assert_eq!(ids, expected);
}

#[test]
fn default_ruleset_decodes_each_inspected_value_once() {
    let waf = load(&[
        ("palisade-engine.conf", ENGINE_SETTINGS),
        ("palisade-default.conf", DEFAULT_RULESET),
    ]);
    // The values the detector rules inspect: REQUEST_FILENAME `/item/a`, the path
    // segment `a` (TX), REQUEST_URI_RAW, the argument name `x` and value `1 1`, the Host
    // header and the (empty) request body: seven values, each decoded once although up
    // to thirteen detector rules inspect it.
    let (ids, decoded) = run(&waf, &get("/item/a?x=1+1"));
    assert!(
        !ids.iter().any(|id| (9_501_000..9_502_000).contains(id)),
        "no detector fires: {ids:?}"
    );
    assert_eq!(decoded, 7, "matched: {ids:?}");
}

/// Runs `detectors` (one `@detectXxx` rule a line, ids below 30) after `prelude`, once
/// as consecutive rules (which the engine decides as a batch while none matches) and
/// once with an action between each two (which makes every rule run on its own);
/// returns the matched ids below 30 and `tx.score` of both.
fn batched_and_one_by_one(
    prelude: &str,
    detectors: &[&str],
    meta: &RequestMeta,
) -> [(Vec<u64>, Option<Vec<u8>>); 2] {
    let separated: Vec<String> = detectors
        .iter()
        .enumerate()
        .map(|(index, rule)| format!("{rule}\nSecAction \"id:{},phase:2,pass,nolog\"", 30 + index))
        .collect();
    [detectors.join("\n"), separated.join("\n")].map(|body| {
        let waf = load(&[("rules", &format!("SecRuleEngine On\n{prelude}\n{body}\n"))]);
        let mut tx = waf.transaction(meta);
        if tx.process_request_headers().is_none() {
            tx.process_request_body(b"");
        }
        tx.process_logging();
        let ids = tx
            .matched_rule_ids()
            .into_iter()
            .filter(|id| *id < 30)
            .collect();
        (ids, tx.tx_var("score").map(<[u8]>::to_vec))
    })
}

#[test]
fn detector_rules_in_a_row_decide_as_rules_run_one_by_one() {
    let detectors = [
        r#"SecRule ARGS|ARGS_NAMES "@detectSQLi" "id:10,phase:2,pass,t:none,capture,setvar:tx.score=+1,setvar:tx.sqli=%{TX.0}""#,
        r#"SecRule ARGS|REQUEST_HEADERS:User-Agent "@detectXSS" "id:11,phase:2,pass,t:none,setvar:tx.score=+2""#,
        r#"SecRule ARGS|REQUEST_FILENAME "@detectPathTraversal" "id:12,phase:2,pass,t:none,setvar:tx.score=+4""#,
        r#"SecRule ARGS "@detectCmdInjection" "id:13,phase:2,pass,t:none,setvar:tx.score=+8""#,
    ];
    let cases = [
        ("", "/?a=plain&b=words"),
        ("", "/?a=plain&b=..%2f..%2f..%2fetc%2fpasswd"),
        ("", "/?a=1'+or+'1'='1&b=%3Cscript%3Ealert(1)%3C/script%3E"),
        ("", "/?a=x;cat+/etc/passwd"),
        // An exclusion set at run time applies to the rule it names only.
        (
            r#"SecAction "id:2,phase:1,pass,nolog,ctl:ruleRemoveTargetById=12;ARGS:b""#,
            "/?a=plain&b=..%2f..%2f..%2fetc%2fpasswd",
        ),
        (
            r#"SecAction "id:2,phase:1,pass,nolog,ctl:ruleRemoveById=13""#,
            "/?a=x;cat+/etc/passwd",
        ),
    ];
    for (prelude, uri) in cases {
        let [batched, one_by_one] = batched_and_one_by_one(prelude, &detectors, &get(uri));
        assert_eq!(batched, one_by_one, "{prelude} {uri}");
    }
    // The cases exercise both outcomes.
    let [(plain, score), _] = batched_and_one_by_one("", &detectors, &get("/?a=plain"));
    assert_eq!((plain, score), (vec![], None));
    let [(attack, score), _] = batched_and_one_by_one(
        "",
        &detectors,
        &get("/?a=plain&b=..%2f..%2f..%2fetc%2fpasswd"),
    );
    assert_eq!((attack, score), (vec![12], Some(b"4".to_vec())));
    let [(excluded, _), _] = batched_and_one_by_one(
        r#"SecAction "id:2,phase:1,pass,nolog,ctl:ruleRemoveTargetById=12;ARGS:b""#,
        &detectors,
        &get("/?a=plain&b=..%2f..%2f..%2fetc%2fpasswd"),
    );
    assert_eq!(excluded, vec![2], "only the action that excludes matched");
}
