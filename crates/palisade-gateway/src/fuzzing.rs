//! Entry points for fuzz targets without sockets, timers or a runtime: the HTTP/1 request-head guard
//! (`fuzz/fuzz_targets/http_head.rs`) and the lean upstream client's response decoding
//! (`fuzz/fuzz_targets/upstream_response.rs`).
//!
//! The guard reads what a client sends before hyper does: it holds each request head back until it
//! is complete, checks it the way hyper will parse it (refusing malformed heads with Palisade's own
//! answer), follows body framing to find the next head, and flags ambiguous framing. These functions
//! run exactly that code over bytes given in one piece or split into reads, and report what hyper
//! would have been given.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::h1_guard::{ConnActivity, Http1Guard};

/// Header byte limit the fuzzing guard runs with (the configuration default).
const MAX_HEAD: usize = 32 * 1024;
/// Header count limit the fuzzing guard runs with (the configuration default).
const MAX_HEADERS: usize = 100;

/// What the HTTP/1 guard made of the bytes a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeadCheck {
    /// Bytes released to the HTTP parser: checked heads (request targets possibly percent-encoded)
    /// and body bytes, up to a refused head.
    pub forwarded: Vec<u8>,
    /// Status of Palisade's own answer when a head was refused (400 or 431).
    pub refused: Option<u16>,
    /// Whether a head carried both `Content-Length` and `Transfer-Encoding` (answered 400 later).
    pub ambiguous: bool,
}

/// Runs the guard over `input` received in one read.
pub fn check_request_head(input: &[u8]) -> HeadCheck {
    check_request_stream(&[input])
}

/// Runs the guard over `reads`, received one after the other on one connection.
pub fn check_request_stream(reads: &[&[u8]]) -> HeadCheck {
    let activity = Arc::new(ConnActivity::new());
    let mut guard = Http1Guard::new((), activity.clone(), MAX_HEAD, MAX_HEADERS, None);
    for read in reads {
        guard.observe(read);
    }
    let (forwarded, refused) = guard.into_outcome();
    HeadCheck {
        forwarded,
        refused,
        ambiguous: activity.ambiguous.load(Ordering::Relaxed),
    }
}

/// What the lean upstream HTTP/1 client (`h1_upstream`) made of the bytes an upstream sent in
/// answer to a GET (a HEAD when `head_request`): the final status and the decoded body, or None
/// when the response was refused (malformed head, framing error, a body cut short). `reads` are
/// the bytes as they arrived; the connection is taken to close after the last one.
pub fn decode_upstream_response(head_request: bool, reads: &[&[u8]]) -> Option<(u16, Vec<u8>)> {
    let method = if head_request {
        http::Method::HEAD
    } else {
        http::Method::GET
    };
    crate::h1_upstream::decode_response(&method, reads, MAX_HEAD)
        .ok()
        .map(|(status, body)| (status.as_u16(), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_head_is_forwarded_unchanged_and_a_malformed_one_refused() {
        let head = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        let check = check_request_head(head);
        assert_eq!(check.forwarded, head);
        assert_eq!(check.refused, None);
        assert_eq!(
            check_request_head(b"GET /a HTTP/1.x\r\n\r\n").refused,
            Some(400)
        );
        assert_eq!(
            check_request_head(b"GET /a HTTP/7.0\r\n\r\n").refused,
            Some(505)
        );
    }

    #[test]
    fn a_long_chunk_extension_split_across_reads_does_not_stop_the_guard() {
        // The chunk-size line's extension is longer than the guard keeps; split or not, the guard
        // must go on following the framing and flag the next request's ambiguous framing.
        let extension = "e".repeat(3000);
        let first = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;{extension}\r\nabc\r\n0\r\n\r\n"
        );
        let second = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let whole = [first.as_bytes(), second.as_slice()].concat();
        let at_once = check_request_head(&whole);
        assert!(at_once.ambiguous);
        for split in [80, 1000, 1500, 2500] {
            let (a, b) = whole.split_at(split);
            assert_eq!(check_request_stream(&[a, b]), at_once, "split at {split}");
        }
    }
}
