//! Data-driven operator tests: every line of `data/operators.tsv` is
//! `OPERATOR<TAB>ARGUMENT<TAB>INPUT<TAB>EXPECTED` (see the file header).
//! Also: compile errors name the operator, macros defer compilation, and
//! unsupported operators are rejected.

use std::path::Path;

use palisade_operators::{Captures, Operator, OperatorContext};

const CASES: &str = include_str!("data/operators.tsv");

fn unescape(field: &str, line: usize) -> Vec<u8> {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'\\') => out.push(b'\\'),
            Some(b't') => out.push(b'\t'),
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b'0') => out.push(0),
            Some(b'x') => {
                let hex = field
                    .get(i + 2..i + 4)
                    .unwrap_or_else(|| panic!("line {line}: short \\x escape"));
                out.push(
                    u8::from_str_radix(hex, 16)
                        .unwrap_or_else(|_| panic!("line {line}: bad \\x escape")),
                );
                i += 2;
            }
            _ => panic!("line {line}: unknown escape in {field:?}"),
        }
        i += 2;
    }
    out
}

fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

#[test]
fn data_file_cases() {
    let ctx = OperatorContext::new(data_dir());
    let mut failures = Vec::new();
    let mut count = 0;
    for (index, line) in CASES.lines().enumerate() {
        let line_no = index + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            fields.len(),
            4,
            "line {line_no}: expected 4 tab-separated fields: {line:?}"
        );
        let (name, argument, input, expected) = (
            fields[0],
            fields[1],
            unescape(fields[2], line_no),
            fields[3],
        );
        // Arguments are UTF-8 text in rule files; \xHH above 0x7F in a pattern is written raw.
        let argument = String::from_utf8(unescape(argument, line_no))
            .unwrap_or_else(|_| panic!("line {line_no}: argument not UTF-8"));
        let operator = match Operator::compile(name, &argument, &ctx) {
            Ok(operator) => operator,
            Err(error) => {
                failures.push(format!("line {line_no}: compile failed: {error}"));
                continue;
            }
        };
        count += 1;
        let mut captures = Captures::new();
        let matched = operator.matches(&input, Some(&mut captures));
        let matched_without_captures = operator.matches(&input, None);
        if matched != matched_without_captures {
            failures.push(format!(
                "line {line_no}: result differs with and without captures"
            ));
        }
        if name == "rx" && operator.matches_without_prefilter(&input) != matched {
            failures.push(format!("line {line_no}: prefilter changed the result"));
        }
        let (want_match, want_captures) = match expected.split_once('=') {
            Some(("match", values)) => (true, Some(values)),
            None if expected == "match" => (true, None),
            None if expected == "no" => (false, None),
            _ => panic!("line {line_no}: bad EXPECTED {expected:?}"),
        };
        if matched != want_match {
            failures.push(format!("line {line_no}: @{name} {argument:?} on {:?}: matched={matched}, expected {expected}", input.escape_ascii().to_string()));
            continue;
        }
        if let Some(values) = want_captures {
            let wanted: Vec<&str> = if name == "rx" {
                values.split('|').collect()
            } else {
                vec![values]
            };
            for (slot, want) in wanted.iter().enumerate() {
                let actual = captures.get(slot);
                let ok = if *want == "-" {
                    actual.is_none()
                } else {
                    actual == Some(unescape(want, line_no).as_slice())
                };
                if !ok {
                    failures.push(format!(
                        "line {line_no}: TX:{slot} = {:?}, expected {want:?}",
                        actual.map(|a| a.escape_ascii().to_string())
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures in {count} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count > 100, "only {count} cases ran");
}

#[test]
fn macros_defer_compilation() {
    let ctx = OperatorContext::new(data_dir());
    let deferred =
        Operator::compile("within", "%{tx.allowed_methods}", &ctx).expect("deferred compile");
    assert!(deferred.needs_runtime_argument());
    assert!(!deferred.matches(b"GET", None));
    let expanded = Operator::compile("within", "GET POST", &ctx).expect("expanded compile");
    assert!(!expanded.needs_runtime_argument());
    assert!(expanded.matches(b"GET", None));
    assert!(
        Operator::compile("ipMatch", "%{tx.trusted}", &ctx)
            .expect("deferred ipMatch")
            .needs_runtime_argument()
    );
    assert!(deferred.matches_expanded("GET POST", b"GET", None, &ctx));
    assert!(!deferred.matches_expanded("POST", b"GET", None, &ctx));
    let numeric = Operator::compile("lt", "%{tx.limit}", &ctx).expect("deferred lt");
    assert!(numeric.matches_expanded("10", b"9", None, &ctx));
    assert!(!numeric.matches_expanded("10", b"10", None, &ctx));
    let regex = Operator::compile("rx", "^%{tx.prefix}", &ctx).expect("deferred rx");
    assert!(regex.needs_runtime_argument());
    assert!(regex.matches_expanded("ab", b"abc", None, &ctx));
    assert!(!regex.matches_expanded("(", b"abc", None, &ctx));
}

#[test]
fn errors_name_the_operator_and_problem() {
    let ctx = OperatorContext::new(data_dir());
    let cases = [
        ("rx", "(unclosed", "@rx: invalid regular expression"),
        ("rx", "\\G", "\\G is not supported"),
        (
            "ipMatch",
            "300.1.1.1",
            "@ipMatch: invalid argument: '300.1.1.1'",
        ),
        ("ipMatch", "10.0.0.0/33", "invalid prefix length"),
        (
            "validateByteRange",
            "1-300",
            "@validateByteRange: invalid argument",
        ),
        ("validateByteRange", "9-1", "reversed"),
        (
            "pmFromFile",
            "missing.data",
            "@pmFromFile: cannot load data file",
        ),
        ("pm", "", "@pm: invalid argument: no phrases"),
        ("rbl", "sbl-xbl.spamhaus.org", "@rbl: not supported"),
        ("inspectFile", "/bin/true", "@inspectFile: not supported"),
        ("frobnicate", "", "@frobnicate: unknown operator"),
    ];
    for (name, argument, wanted) in cases {
        match Operator::compile(name, argument, &ctx) {
            Ok(_) => panic!("@{name} {argument:?} compiled"),
            Err(error) => assert!(
                error.to_string().contains(wanted),
                "@{name} {argument:?}: {error} (wanted {wanted:?})"
            ),
        }
    }
    let unsupported = Operator::compile("rbl", "x", &ctx).expect_err("rbl is rejected");
    assert!(unsupported.is_unsupported());
}

#[test]
fn names_are_case_insensitive() {
    let ctx = OperatorContext::new(data_dir());
    let operator = Operator::compile("PMFROMFILE", "phrases.data", &ctx).expect("compiles");
    assert_eq!(operator.name(), "pmFromFile");
    assert_eq!(
        Operator::compile("RX", "a", &ctx).expect("compiles").name(),
        "rx"
    );
    assert_eq!(
        Operator::compile("detectsqli", "", &ctx)
            .expect("compiles")
            .name(),
        "detectSQLi"
    );
}

#[test]
fn geo_lookup_without_database_never_matches() {
    let ctx = OperatorContext::new(data_dir());
    let operator = Operator::compile("geoLookup", "", &ctx).expect("compiles");
    assert!(!operator.matches(b"8.8.8.8", None));
}
