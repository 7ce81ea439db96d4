//! Property tests: no processor panics on arbitrary input, and output stays
//! bounded by the limits.

use palisade_body::{
    BodyLimits, check_urlencoded, parse_json, parse_multipart, parse_urlencoded, parse_xml,
};
use proptest::prelude::*;

const LIMITS: BodyLimits = BodyLimits {
    max_bytes: 4096,
    max_depth: 8,
    max_args: 16,
};

/// Bytes drawn mostly from each format's meaningful characters.
fn structured_bytes(alphabet: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![prop::sample::select(alphabet), any::<u8>()],
        0..600,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn urlencoded_is_total_and_bounded(input in structured_bytes(b"a=&%+2F;")) {
        if let Ok(args) = parse_urlencoded(&input, b'&', &LIMITS) {
            prop_assert!(args.params.len() <= LIMITS.max_args);
            let out: usize = args.params.iter().map(|p| p.name.len() + p.value.len()).sum();
            prop_assert!(out <= input.len());
        }
    }

    #[test]
    fn urlencoded_check_decides_as_the_parser(input in structured_bytes(b"a=&%+2F;")) {
        let parsed = parse_urlencoded(&input, b'&', &LIMITS);
        let checked = check_urlencoded(&input, b'&', &LIMITS);
        match (parsed, checked) {
            (Ok(args), Ok(invalid)) => prop_assert_eq!(args.invalid_encoding, invalid),
            (Err(parsed), Err(checked)) => prop_assert_eq!(parsed.to_string(), checked.to_string()),
            (parsed, checked) => prop_assert!(false, "{:?} vs {:?}", parsed, checked),
        }
    }

    #[test]
    fn json_is_total_and_bounded(input in structured_bytes(b"{}[]\":,0-1e.tfnul\\ ")) {
        if let Ok(args) = parse_json(&input, &LIMITS) {
            prop_assert!(args.params.len() <= LIMITS.max_args);
        }
    }

    #[test]
    fn deep_json_is_refused(depth in 9usize..5000) {
        let input = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let error = parse_json(input.as_bytes(), &BodyLimits { max_bytes: 1 << 20, ..LIMITS });
        prop_assert!(error.is_err_and(|e| e.is_too_deep()));
    }

    #[test]
    fn xml_is_total_and_bounded(input in structured_bytes(b"<>/a=\"'&;![CDATA ?-")) {
        if let Ok(document) = parse_xml(&input, &LIMITS) {
            prop_assert!(document.attribute_values.len() <= LIMITS.max_args);
            prop_assert!(document.text_content.len() <= input.len() * 4);
        }
    }

    #[test]
    fn multipart_is_total_and_bounded(
        body in structured_bytes(b"-X\r\n:;=\" Content-Disposition form-data name filename"),
        quoted in any::<bool>(),
    ) {
        let content_type: &[u8] = if quoted {
            b"multipart/form-data; boundary=\"X\""
        } else {
            b"multipart/form-data; boundary=X"
        };
        let parsed = parse_multipart(content_type, &body, &LIMITS);
        prop_assert!(parsed.parts.len() <= LIMITS.max_args);
        let out: usize = parsed.parts.iter().map(|p| p.value.len()).sum();
        prop_assert!(out <= body.len());
    }

    #[test]
    fn oversized_input_is_refused(extra in 1usize..100) {
        let input = vec![b'a'; LIMITS.max_bytes + extra];
        prop_assert!(parse_urlencoded(&input, b'&', &LIMITS).is_err_and(|e| e.is_too_large()));
        prop_assert!(parse_json(&input, &LIMITS).is_err_and(|e| e.is_too_large()));
        prop_assert!(parse_xml(&input, &LIMITS).is_err_and(|e| e.is_too_large()));
        let parsed = parse_multipart(b"multipart/form-data; boundary=X", &input, &LIMITS);
        prop_assert!(parsed.error.is_some_and(|e| e.is_too_large()));
    }
}

#[test]
fn long_multipart_lines_are_cut_and_never_boundaries() {
    let mut body = b"--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".to_vec();
    body.extend(std::iter::repeat_n(b'z', 4094));
    body.extend_from_slice(b"--X\r\nmore\r\n--X--\r\n");
    let parsed = parse_multipart(
        b"multipart/form-data; boundary=X",
        &body,
        &BodyLimits::default(),
    );
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    assert_eq!(parsed.parts.len(), 1);
    assert!(parsed.parts[0].value.ends_with(b"zz--X\r\nmore"));
}

#[test]
fn overlong_part_header_line_is_an_error() {
    let mut body = b"--X\r\nContent-Disposition: form-data; name=\"".to_vec();
    body.extend(std::iter::repeat_n(b'n', 5000));
    body.extend_from_slice(b"\"\r\n\r\nv\r\n--X--\r\n");
    let parsed = parse_multipart(
        b"multipart/form-data; boundary=X",
        &body,
        &BodyLimits::default(),
    );
    assert!(
        parsed
            .error
            .is_some_and(|e| e.message().contains("over 4096 bytes"))
    );
    assert!(parsed.flags.strict_error);
}
