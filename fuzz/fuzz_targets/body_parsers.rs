//! Fuzz target: every request body processor on arbitrary bytes, with default limits.
//! The first byte picks a multipart boundary style so the parser's deeper states are reached.
#![no_main]
use libfuzzer_sys::fuzz_target;
use palisade_body::{BodyLimits, parse_json, parse_multipart, parse_urlencoded, parse_xml};

fuzz_target!(|data: &[u8]| {
    let limits = BodyLimits { max_bytes: 1 << 20, max_depth: 64, max_args: 256 };
    let _ = parse_urlencoded(data, b'&', &limits);
    let _ = parse_json(data, &limits);
    let _ = parse_xml(data, &limits);
    let content_type: &[u8] = match data.first().map(|b| b % 3) {
        Some(0) => b"multipart/form-data; boundary=XyZ",
        Some(1) => b"multipart/form-data; boundary=\"XyZ\"",
        _ => b"multipart/form-data; boundary= XyZ",
    };
    let _ = parse_multipart(content_type, data, &limits);
});
