//! Fuzz target: the lean upstream HTTP/1 client's response decoding
//! (`palisade_gateway::fuzzing::decode_upstream_response`) on arbitrary upstream bytes — never
//! panic, never hang, never yield more body than was received, and the outcome must not depend on
//! how the bytes were split into reads.
//!
//! Input: byte 0 picks the request method (GET or HEAD) and two split points, the rest is what the
//! upstream sent before closing the connection.
#![no_main]
use libfuzzer_sys::fuzz_target;
use palisade_gateway::fuzzing::decode_upstream_response;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let head_request = selector & 1 == 1;
    let whole = decode_upstream_response(head_request, &[stream]);
    if let Some((_, body)) = &whole {
        assert!(body.len() <= stream.len());
    }
    let len = stream.len();
    let mut points = [
        len * usize::from((selector >> 1) & 0x07) / 8,
        len * usize::from(selector >> 4) / 16,
    ];
    points.sort_unstable();
    let reads = [
        &stream[..points[0]],
        &stream[points[0]..points[1]],
        &stream[points[1]..],
    ];
    assert_eq!(
        whole,
        decode_upstream_response(head_request, &reads),
        "outcome depends on read boundaries {points:?}"
    );
});
