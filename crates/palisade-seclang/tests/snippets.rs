//! Data-driven parser table: every `=== name` case in `data/snippets.txt` is parsed and
//! its AST (or error with `file:line:column`) compared with an insta snapshot.

use palisade_seclang::parse_str;

#[test]
fn snippet_table() {
    let table = include_str!("data/snippets.txt");
    let mut cases = 0;
    for case in table.split("=== ").filter(|c| !c.trim().is_empty()) {
        let (name, text) = case.split_once('\n').expect("case has a name line");
        let rendered = match parse_str(name, text) {
            Ok(config) => format!("{:#?}", config.directives),
            Err(error) => format!("ERROR {error}"),
        };
        insta::assert_snapshot!(name.trim(), rendered);
        if name.starts_with("error_") {
            assert!(rendered.starts_with("ERROR "), "{name} should fail");
        } else {
            assert!(
                !rendered.starts_with("ERROR "),
                "{name} should parse: {rendered}"
            );
        }
        cases += 1;
    }
    assert!(cases >= 15);
}

proptest::proptest! {
    #[test]
    fn random_input_never_panics(text in "(?s)[ -~\\n\\\\\"'|!&@:,%{}]{0,400}") {
        let _ = parse_str("fuzz", &text);
    }

    #[test]
    fn random_rules_never_panic(vars in "[A-Z_:!&|/'.a-z]{0,40}", op in "[ -~]{0,40}", acts in "[ -~]{0,80}") {
        let _ = parse_str("fuzz", &format!("SecRule {vars} \"{op}\" \"{acts}\""));
    }
}
