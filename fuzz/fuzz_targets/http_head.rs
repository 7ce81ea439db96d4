//! Fuzz target: the gateway's HTTP/1 request-head guard (`palisade_gateway::fuzzing`) on arbitrary
//! client bytes — never panic, never hang, and the outcome must not depend on how the bytes were
//! split into reads (a guard whose verdict changes with TCP segmentation can be bypassed).
//!
//! Input: byte 0 picks up to three split points (as fractions of the rest), the rest is the
//! byte stream a client sends on one connection.
#![no_main]
use libfuzzer_sys::fuzz_target;
use palisade_gateway::fuzzing::{check_request_head, check_request_stream};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let whole = check_request_head(stream);
    if let Some(status) = whole.refused {
        assert!(status == 400 || status == 431, "refused with {status}");
    }
    assert!(
        whole.forwarded.len() <= stream.len() * 3,
        "forwarded more than the percent-encoded input"
    );
    // Split points derived from the selector, in order.
    let len = stream.len();
    let mut points = [
        len * usize::from(selector & 0x0F) / 16,
        len * usize::from(selector >> 4) / 16,
        len.saturating_sub(usize::from(selector % 7)),
    ];
    points.sort_unstable();
    let reads = [
        &stream[..points[0]],
        &stream[points[0]..points[1]],
        &stream[points[1]..points[2]],
        &stream[points[2]..],
    ];
    let split = check_request_stream(&reads);
    assert_eq!(whole, split, "outcome depends on read boundaries {points:?}");
});
