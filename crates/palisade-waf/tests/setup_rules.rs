//! Phase-1 setup rules (TX in, TX out — CRS's initialisation block) decide exactly as if
//! they ran per request, whatever runs around them: the engine evaluates them once at
//! load, so these cases pin the orders and interactions a user's rules rely on.

use std::sync::Arc;

use palisade_waf::{RequestMeta, Transaction, Waf, WafExclusions, WafSettings};

fn load(rules: &str) -> Arc<Waf> {
    let settings = WafSettings {
        extra_rules: vec![("setup.conf".to_owned(), rules.to_owned())],
        ..WafSettings::default()
    };
    Arc::new(Waf::load(&settings).expect("rules load").0)
}

fn request(headers: &[(&str, &str)]) -> RequestMeta {
    RequestMeta {
        request_id: "id".to_owned(),
        client_addr: "192.0.2.1:1234".parse().expect("addr"),
        server_addr: "127.0.0.1:80".parse().expect("addr"),
        server_name: "localhost".to_owned(),
        method: "GET".to_owned(),
        uri: "/".to_owned(),
        protocol: "HTTP/1.1".to_owned(),
        headers: headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.as_bytes().to_vec()))
            .collect(),
    }
}

fn run(waf: &Arc<Waf>, headers: &[(&str, &str)]) -> Transaction {
    let mut tx = waf.transaction(&request(headers));
    tx.process_request_headers();
    tx
}

fn tx_text(tx: &Transaction, name: &str) -> Option<String> {
    tx.tx_var(name)
        .map(|value| String::from_utf8_lossy(value).into_owned())
}

const SETUP: &str = r#"
SecAction "id:1,phase:1,pass,nolog,setvar:tx.level=2"
SecRule REQUEST_HEADERS:X-Mode "@streq fast" "id:2,phase:1,pass,nolog,setvar:tx.mode=fast"
SecRule &TX:threshold "@eq 0" "id:3,phase:1,pass,nolog,setvar:tx.threshold=5"
SecRule &TX:mode "@eq 0" "id:4,phase:1,pass,nolog,setvar:tx.mode=default"
SecAction "id:5,phase:1,pass,nolog,setvar:tx.score=0,setvar:tx.score=+%{tx.level}"
SecRule TX:score "@ge %{tx.threshold}" "id:6,phase:1,deny,status:403,log,msg:'never'"
SecRule TX:level "@eq 2" "id:7,phase:1,pass,log,severity:4,msg:'level %{tx.level}',skipAfter:END-SETUP"
SecAction "id:8,phase:1,pass,nolog,setvar:tx.skipped=1"
SecMarker "END-SETUP"
SecRule REQUEST_HEADERS:X-Mode "@rx ." "id:9,phase:1,pass,log,msg:'mode %{tx.mode} score %{tx.score}'"
"#;

#[test]
fn setup_rules_decide_as_written_around_request_rules() {
    let waf = load(SETUP);
    for _ in 0..2 {
        // Rule 4 reads TX:mode, which rule 2 writes from the request: it sees it.
        let tx = run(&waf, &[("X-Mode", "fast")]);
        assert_eq!(tx.matched_rule_ids(), vec![1, 2, 3, 5, 7, 9]);
        assert_eq!(tx_text(&tx, "mode").as_deref(), Some("fast"));
        assert_eq!(tx_text(&tx, "score").as_deref(), Some("2"));
        assert_eq!(tx_text(&tx, "threshold").as_deref(), Some("5"));
        assert_eq!(tx_text(&tx, "skipped"), None);
        assert!(tx.intervention().is_none());
        let messages: Vec<&str> = tx
            .matched_rules()
            .iter()
            .map(|m| m.message.as_str())
            .collect();
        assert_eq!(messages[4..], ["level 2", "mode fast score 2"]);

        let tx = run(&waf, &[("X-Mode", "slow")]);
        assert_eq!(tx.matched_rule_ids(), vec![1, 3, 4, 5, 7, 9]);
        assert_eq!(tx_text(&tx, "mode").as_deref(), Some("default"));
        assert_eq!(tx.matched_rules()[5].message, "mode default score 2");
    }
}

#[test]
fn route_exclusions_and_ctl_still_remove_setup_rules() {
    let waf = load(SETUP);
    let exclusions = WafExclusions {
        remove_rule_ids: vec![7],
        ..WafExclusions::default()
    }
    .compile()
    .expect("exclusions");
    let mut tx = waf.transaction(&request(&[]));
    tx.exclude(&exclusions);
    tx.process_request_headers();
    assert_eq!(tx.matched_rule_ids(), vec![1, 3, 4, 5, 8]);
    assert_eq!(tx_text(&tx, "skipped").as_deref(), Some("1"));

    let waf = load(&format!(
        "SecRule REQUEST_HEADERS:X-Skip \"@rx .\" \"id:10,phase:1,pass,nolog,ctl:ruleRemoveById=3\"\n{SETUP}"
    ));
    let tx = run(&waf, &[("X-Skip", "1")]);
    assert_eq!(tx_text(&tx, "threshold"), None);
    assert!(!tx.matched_rule_ids().contains(&3));
    let tx = run(&waf, &[]);
    assert_eq!(tx_text(&tx, "threshold").as_deref(), Some("5"));
}

#[test]
fn a_setup_rule_that_disrupts_still_disrupts() {
    let waf = load(
        "SecRule &TX:configured \"@eq 0\" \"id:20,phase:1,deny,status:500,log,msg:'no setup'\"\n\
         SecAction \"id:21,phase:1,pass,nolog,setvar:tx.after=1\"",
    );
    let tx = run(&waf, &[]);
    assert_eq!(tx.intervention().map(|i| i.status), Some(500));
    assert_eq!(tx.matched_rule_ids(), vec![20]);
    assert_eq!(tx_text(&tx, "after"), None);
}

const LEVELS: &str = r#"
SecAction "id:30,phase:1,pass,nolog,setvar:tx.pl=1"
SecRule REQUEST_HEADERS:X-Jump "@rx ." "id:31,phase:2,pass,nolog,skipAfter:END-A"
SecRule TX:pl "@lt 2" "id:33,phase:2,pass,nolog,skipAfter:END-B"
SecRule REQUEST_HEADERS:X-Level "@rx ^(\d)$" "id:32,phase:2,pass,nolog,capture,setvar:tx.pl=%{tx.1}"
SecMarker "END-A"
SecRule REQUEST_HEADERS:X-Jump "@rx ." "id:34,phase:2,pass,log,msg:'jumped'"
SecMarker "END-B"
SecRule TX:pl "@ge 1" "id:35,phase:2,pass,log,msg:'level %{tx.pl}'"
"#;

#[test]
fn level_rules_skip_as_written_after_request_rules() {
    let waf = load(LEVELS);
    let run_phase_2 = |headers: &[(&str, &str)]| {
        let mut tx = run(&waf, headers);
        tx.process_request_body(b"");
        tx
    };
    for _ in 0..2 {
        assert_eq!(run_phase_2(&[]).matched_rule_ids(), vec![30, 33, 35]);
        assert_eq!(
            run_phase_2(&[("X-Jump", "1")]).matched_rule_ids(),
            vec![30, 31, 34, 35]
        );
        // Rule 33 skips rule 32, which would raise the level.
        let tx = run_phase_2(&[("X-Level", "3")]);
        assert_eq!(tx.matched_rule_ids(), vec![30, 33, 35]);
        assert_eq!(tx.matched_rules()[2].message, "level 1");
        let tx = run_phase_2(&[("X-Level", "0"), ("X-Jump", "1")]);
        assert_eq!(tx.matched_rule_ids(), vec![30, 31, 34, 35]);
    }
    // Without phase 1 no setup rule ran: TX:pl is absent.
    let mut tx = waf.transaction(&request(&[]));
    tx.process_request_body(b"");
    assert_eq!(tx.matched_rule_ids(), Vec::<u64>::new());
}
