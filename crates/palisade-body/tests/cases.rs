//! Data-driven cases for every body processor: `tests/data/<processor>.json`,
//! each an array of cases with the input, optional limits and the expected
//! arguments, flags or error.

use palisade_body::{BodyLimits, Param, parse_json, parse_multipart, parse_urlencoded, parse_xml};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    input: String,
    #[serde(default)]
    separator: Option<String>,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    max_bytes: Option<usize>,
    #[serde(default)]
    max_depth: Option<usize>,
    #[serde(default)]
    max_args: Option<usize>,
    #[serde(default)]
    params: Vec<(String, String)>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    attributes: Vec<String>,
    #[serde(default)]
    parts: Vec<ExpectedPart>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    invalid_encoding: bool,
    #[serde(default)]
    args_limit_exceeded: bool,
}

#[derive(Deserialize, Debug, PartialEq)]
struct ExpectedPart {
    name: String,
    value: String,
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    header_lines: Option<Vec<String>>,
}

impl Case {
    fn limits(&self) -> BodyLimits {
        let default = BodyLimits::default();
        BodyLimits {
            max_bytes: self.max_bytes.unwrap_or(default.max_bytes),
            max_depth: self.max_depth.unwrap_or(default.max_depth),
            max_args: self.max_args.unwrap_or(default.max_args),
        }
    }

    fn expected_params(&self) -> Vec<Param> {
        self.params
            .iter()
            .map(|(name, value)| Param {
                name: name.as_bytes().to_vec(),
                value: value.as_bytes().to_vec(),
            })
            .collect()
    }
}

fn load(file: &str) -> Vec<Case> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check_error(case: &Case, error: Option<String>) {
    match (&case.error, error) {
        (Some(expected), Some(actual)) => {
            assert!(
                actual.contains(expected.as_str()),
                "{}: error {actual:?} lacks {expected:?}",
                case.name
            )
        }
        (Some(expected), None) => {
            panic!("{}: expected an error containing {expected:?}", case.name)
        }
        (None, Some(actual)) => panic!("{}: unexpected error {actual:?}", case.name),
        (None, None) => {}
    }
}

#[test]
fn urlencoded_cases() {
    for case in load("urlencoded.json") {
        let separator = case.separator.as_deref().map_or(b'&', |s| s.as_bytes()[0]);
        match parse_urlencoded(case.input.as_bytes(), separator, &case.limits()) {
            Ok(args) => {
                check_error(&case, None);
                assert_eq!(args.params, case.expected_params(), "{}", case.name);
                assert_eq!(
                    args.invalid_encoding, case.invalid_encoding,
                    "{}",
                    case.name
                );
                assert_eq!(
                    args.args_limit_exceeded, case.args_limit_exceeded,
                    "{}",
                    case.name
                );
            }
            Err(error) => check_error(&case, Some(error.to_string())),
        }
    }
}

#[test]
fn json_cases() {
    for case in load("json.json") {
        match parse_json(case.input.as_bytes(), &case.limits()) {
            Ok(args) => {
                check_error(&case, None);
                assert_eq!(args.params, case.expected_params(), "{}", case.name);
                assert_eq!(
                    args.args_limit_exceeded, case.args_limit_exceeded,
                    "{}",
                    case.name
                );
            }
            Err(error) => check_error(&case, Some(error.to_string())),
        }
    }
}

#[test]
fn xml_cases() {
    for case in load("xml.json") {
        match parse_xml(case.input.as_bytes(), &case.limits()) {
            Ok(document) => {
                check_error(&case, None);
                assert_eq!(
                    String::from_utf8_lossy(&document.text_content),
                    case.text,
                    "{}",
                    case.name
                );
                let attributes: Vec<String> = document
                    .attribute_values
                    .iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect();
                assert_eq!(attributes, case.attributes, "{}", case.name);
                assert_eq!(
                    document.args_limit_exceeded, case.args_limit_exceeded,
                    "{}",
                    case.name
                );
            }
            Err(error) => check_error(&case, Some(error.to_string())),
        }
    }
}

#[test]
fn multipart_cases() {
    for case in load("multipart.json") {
        let parsed = parse_multipart(
            case.content_type.as_bytes(),
            case.body.as_bytes(),
            &case.limits(),
        );
        check_error(&case, parsed.error.as_ref().map(ToString::to_string));
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let parts: Vec<ExpectedPart> = parsed
            .parts
            .iter()
            .zip(
                case.parts
                    .iter()
                    .map(|p| p.header_lines.is_some())
                    .chain(std::iter::repeat(false)),
            )
            .map(|(part, want_lines)| ExpectedPart {
                name: text(&part.name),
                value: text(&part.value),
                filename: part.filename.as_deref().map(text),
                content_type: part.content_type.as_deref().map(text),
                header_lines: want_lines
                    .then(|| part.header_lines.iter().map(|l| text(l)).collect()),
            })
            .collect();
        assert_eq!(parts, case.parts, "{}", case.name);
        let f = parsed.flags;
        let mut flags: Vec<&str> = [
            ("strict_error", f.strict_error),
            ("unmatched_boundary", f.unmatched_boundary),
            ("boundary_quoted", f.boundary_quoted),
            ("boundary_whitespace", f.boundary_whitespace),
            ("data_before", f.data_before),
            ("data_after", f.data_after),
            ("header_folding", f.header_folding),
            ("lf_line", f.lf_line),
            ("crlf_lf_lines", f.crlf_lf_lines),
            ("missing_semicolon", f.missing_semicolon),
            ("invalid_quoting", f.invalid_quoting),
            ("invalid_part", f.invalid_part),
            ("invalid_header_folding", f.invalid_header_folding),
            ("file_limit_exceeded", f.file_limit_exceeded),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        flags.sort_unstable();
        let mut expected: Vec<&str> = case.flags.iter().map(String::as_str).collect();
        expected.sort_unstable();
        assert_eq!(flags, expected, "{}", case.name);
        assert_eq!(
            parsed.args_limit_exceeded, case.args_limit_exceeded,
            "{}",
            case.name
        );
    }
}
