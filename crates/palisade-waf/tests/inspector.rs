//! The gateway contract: a WafInspector blocks in On mode with the matched rule ids and
//! reports one security event per transaction with every matched id and the scores.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use palisade_core::{ExchangeSummary, Inspector, RequestHead, Verdict};
use palisade_waf::{Waf, WafExclusions, WafInspector, WafSettings};

const RULES: &str = r#"
SecRuleEngine On
SecAction "id:1,phase:1,pass,nolog,setvar:tx.blocking_inbound_anomaly_score=0"
SecRule ARGS "@contains <script" "id:2,phase:1,pass,log,msg:'xss in %{MATCHED_VAR_NAME}',severity:CRITICAL,setvar:tx.blocking_inbound_anomaly_score=+5"
SecRule TX:BLOCKING_INBOUND_ANOMALY_SCORE "@ge 5" "id:3,phase:1,deny,status:403,msg:'score %{tx.blocking_inbound_anomaly_score}'"
"#;

fn head(target: &str) -> RequestHead {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("example.test"));
    RequestHead {
        request_id: "req-42".to_owned(),
        method: Method::GET,
        raw_target: target.to_owned(),
        version: Version::HTTP_11,
        headers,
        client_addr: "192.0.2.9:4000".parse().expect("addr"),
        server_addr: "127.0.0.1:8080".parse().expect("addr"),
        host: "example.test".to_owned(),
        tls: false,
        route: "default".to_owned(),
        client_cert_subject: None,
        context: Default::default(),
    }
}

fn inspector(exclusions: WafExclusions) -> WafInspector {
    let settings = WafSettings {
        extra_rules: vec![("rules".to_owned(), RULES.to_owned())],
        ..WafSettings::default()
    };
    let (waf, _) = Waf::load(&settings).expect("rules load");
    WafInspector::new(Arc::new(waf), &exclusions).expect("exclusions compile")
}

fn summary() -> ExchangeSummary {
    ExchangeSummary {
        status: StatusCode::FORBIDDEN,
        duration: Duration::from_millis(1),
        response_bytes: 0,
        blocked: true,
    }
}

#[test]
fn blocks_and_reports_one_event() {
    let inspector = inspector(WafExclusions::default());
    let head = head("/?q=%3Cscript%3Ealert(1)");
    let mut inspection = inspector.start(&head);
    let verdict = inspection.request_headers(&head);
    let Verdict::Block {
        status,
        rule_ids,
        reason,
    } = verdict
    else {
        panic!("expected a block, got {verdict:?}")
    };
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(rule_ids, vec!["1", "2", "3"]);
    assert!(reason.contains("rule 3: score 5"), "{reason}");
    let events = inspection.logging(&head, &summary());
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.action, "waf_rules_matched");
    assert!(
        event.message.contains("disrupted by rule 3"),
        "{}",
        event.message
    );
    assert_eq!(event.request_id.as_deref(), Some("req-42"));
    assert_eq!(event.rule_ids, vec!["1", "2", "3"]);
    assert_eq!(
        event
            .fields
            .get("palisade.waf.blocking_inbound_anomaly_score"),
        Some(&serde_json::json!(5))
    );
}

#[test]
fn invalid_route_exclusion_is_an_error() {
    let settings = WafSettings {
        extra_rules: vec![("rules".to_owned(), RULES.to_owned())],
        ..WafSettings::default()
    };
    let (waf, _) = Waf::load(&settings).expect("rules load");
    let exclusions = WafExclusions {
        remove_rule_ids: vec![],
        remove_targets: vec![(vec![], "ARGZ:q".to_owned())],
    };
    let error = WafInspector::new(Arc::new(waf), &exclusions).expect_err("unknown variable");
    assert!(error.to_string().contains("ARGZ"), "{error}");
}

#[test]
fn route_exclusions_apply() {
    let exclusions = WafExclusions {
        remove_rule_ids: vec![],
        remove_targets: vec![(vec![2], "ARGS:q".to_owned())],
    };
    let inspector = inspector(exclusions);
    let head = head("/?q=%3Cscript%3Ealert(1)");
    let mut inspection = inspector.start(&head);
    assert_eq!(inspection.request_headers(&head), Verdict::Allow);
    let events = inspection.logging(&head, &summary());
    assert!(
        events.is_empty(),
        "only the nolog rule 1 matched, so nothing is reported: {events:?}"
    );
}
