//! Data-driven transformation tests: every line of `data/transformations.tsv`
//! is `NAME<TAB>INPUT<TAB>EXPECTED` with `\\ \t \n \r \0 \xHH` escapes.
//! Plus property tests: no input panics, output length stays bounded, and an
//! unchanged output is borrowed rather than allocated.

use std::borrow::Cow;
use std::collections::BTreeSet;

use palisade_transform::Transformation;
use proptest::prelude::*;

const CASES: &str = include_str!("data/transformations.tsv");

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
        let Some(&kind) = bytes.get(i + 1) else {
            panic!("line {line}: dangling backslash in {field:?}");
        };
        match kind {
            b'\\' => out.push(b'\\'),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'0' => out.push(0),
            b'x' => {
                let hex = field
                    .get(i + 2..i + 4)
                    .unwrap_or_else(|| panic!("line {line}: short \\x escape"));
                out.push(
                    u8::from_str_radix(hex, 16)
                        .unwrap_or_else(|_| panic!("line {line}: bad \\x escape {hex}")),
                );
                i += 2;
            }
            other => panic!("line {line}: unknown escape \\{}", char::from(other)),
        }
        i += 2;
    }
    out
}

fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

#[test]
fn data_file_cases() {
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    let mut count = 0;
    for (index, line) in CASES.lines().enumerate() {
        let line_no = index + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            fields.len(),
            3,
            "line {line_no}: expected 3 tab-separated fields: {line:?}"
        );
        let transformation = Transformation::from_name(fields[0])
            .unwrap_or_else(|| panic!("line {line_no}: unknown transformation {}", fields[0]));
        covered.insert(transformation.name());
        let input = unescape(fields[1], line_no);
        let expected = unescape(fields[2], line_no);
        let actual = transformation.apply(&input);
        count += 1;
        if actual.as_ref() != expected.as_slice() {
            failures.push(format!(
                "line {line_no}: {}({}) = {} expected {}",
                fields[0],
                show(&input),
                show(&actual),
                show(&expected)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let missing: Vec<_> = Transformation::all()
        .map(Transformation::name)
        .filter(|name| !covered.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "transformations without a test case: {missing:?}"
    );
}

#[test]
fn names_round_trip_and_aliases() {
    for transformation in Transformation::all() {
        assert_eq!(
            Transformation::from_name(transformation.name()),
            Some(transformation)
        );
    }
    assert_eq!(
        Transformation::from_name("normalizePath"),
        Some(Transformation::NormalisePath)
    );
    assert_eq!(
        Transformation::from_name("NORMALIZEPATHWIN"),
        Some(Transformation::NormalisePathWin)
    );
    assert_eq!(
        Transformation::from_name("base64decode"),
        Some(Transformation::Base64Decode)
    );
    assert_eq!(Transformation::from_name("nonexistent"), None);
    assert_eq!(Transformation::from_name(""), None);
}

#[test]
fn unchanged_input_is_borrowed() {
    let benign = b"/index.php?id=42&name=alice";
    for transformation in [
        Transformation::None,
        Transformation::Lowercase,
        Transformation::UrlDecode,
        Transformation::UrlDecodeUni,
        Transformation::HtmlEntityDecode,
        Transformation::JsDecode,
        Transformation::CssDecode,
        Transformation::CmdLine,
        Transformation::CompressWhitespace,
        Transformation::RemoveWhitespace,
        Transformation::RemoveNulls,
        Transformation::ReplaceNulls,
        Transformation::ReplaceComments,
        Transformation::NormalisePath,
        Transformation::NormalisePathWin,
        Transformation::EscapeSeqDecode,
        Transformation::Utf8ToUnicode,
        Transformation::Trim,
    ] {
        assert!(
            matches!(transformation.apply(benign), Cow::Borrowed(_)),
            "{transformation} allocated for an input it does not change"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_output_is_bounded(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        for transformation in Transformation::all() {
            let output = transformation.apply(&input);
            prop_assert!(output.len() <= 3 * input.len() + 40, "{} grew {} -> {}", transformation, input.len(), output.len());
        }
    }

    #[test]
    fn encoded_text_never_panics(input in "[%&\\\\#/.u0-9a-fA-FxX;+*<!-]{0,64}") {
        for transformation in Transformation::all() {
            let output = transformation.apply(input.as_bytes());
            prop_assert!(output.len() <= 3 * input.len() + 40);
        }
    }
}

/// The bytes of `set` (a `trigger_bytes` bitset).
fn members(set: [u64; 4]) -> Vec<u8> {
    (0..=255u8)
        .filter(|&b| set[usize::from(b / 64)] & (1 << (b % 64)) != 0)
        .collect()
}

#[test]
fn trigger_bytes_are_what_the_transformations_react_to() {
    let of = |t: Transformation| members(t.trigger_bytes().expect("has a trigger set"));
    assert_eq!(of(Transformation::None), Vec::<u8>::new());
    assert_eq!(of(Transformation::UrlDecodeUni), b"%+".to_vec());
    assert_eq!(
        of(Transformation::Lowercase),
        (b'A'..=b'Z').collect::<Vec<_>>()
    );
    assert_eq!(
        of(Transformation::ParityZero7bit),
        (0x80..=0xff).collect::<Vec<_>>()
    );
    for always in [
        Transformation::Length,
        Transformation::Md5,
        Transformation::Base64Decode,
    ] {
        assert_eq!(always.trigger_bytes(), None, "{always} changes every input");
    }
    // Each byte of a per-byte map's set does change.
    for t in [
        Transformation::Uppercase,
        Transformation::ParityEven7bit,
        Transformation::UrlEncode,
    ] {
        for b in of(t) {
            assert_ne!(&*t.apply(&[b]), &[b], "{t} leaves {b:#04x} as it is");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The engine skips a transformation for a value without its trigger bytes: that
    /// must give what running it gives.
    #[test]
    fn inputs_without_trigger_bytes_come_back_unchanged(
        input in proptest::collection::vec(any::<u8>(), 0..64),
        spice in proptest::collection::vec(
            proptest::sample::select(b"%+&\\\"'^,;\t\r\n /*-#<.0AZaz\x80\xa0\xff\x00_".to_vec()),
            0..16,
        ),
    ) {
        let mut input = input;
        input.extend(spice);
        for transformation in Transformation::all() {
            let Some(triggers) = transformation.trigger_bytes() else {
                continue;
            };
            let triggers = members(triggers);
            let quiet: Vec<u8> = input.iter().copied().filter(|b| !triggers.contains(b)).collect();
            prop_assert_eq!(&*transformation.apply(&quiet), &quiet[..], "{} changed {:?}", transformation, quiet);
        }
    }
}
