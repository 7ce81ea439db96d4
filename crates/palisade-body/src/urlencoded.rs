//! `application/x-www-form-urlencoded` bodies and query strings (ARGS_POST / ARGS_GET).
//!
//! Follows ModSecurity v3's `extractArguments`: the input is split on one
//! separator byte (`&` by default, `SecArgumentSeparator`), each piece at its
//! first `=` (a piece without `=` is a name with an empty value), and name and
//! value are decoded non-strictly: `+` becomes a space, `%XX` with two hex
//! digits becomes that byte, any other `%` is kept literally (and counted as an
//! invalid encoding). Empty pieces (`a&&b`) produce no argument.

use crate::{BodyError, BodyLimits, Param, check_size};

/// The arguments of one urlencoded input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlEncodedArgs {
    /// Arguments in input order.
    pub params: Vec<Param>,
    /// True when more than `max_args` arguments were present (the rest were dropped).
    pub args_limit_exceeded: bool,
    /// True when some `%` was not followed by two hex digits (ModSecurity's
    /// `URLENCODED_ERROR`).
    pub invalid_encoding: bool,
}

/// Parses a urlencoded body or query string split on `separator`.
pub fn parse_urlencoded(
    input: &[u8],
    separator: u8,
    limits: &BodyLimits,
) -> Result<UrlEncodedArgs, BodyError> {
    parse_urlencoded_with(input, separator, limits, Vec::new)
}

/// [`parse_urlencoded`] decoding each name and value into a buffer `buffer` supplies
/// (empty; a caller that reuses buffers hands out spare ones, whose capacity saves an
/// allocation).
pub fn parse_urlencoded_with(
    input: &[u8],
    separator: u8,
    limits: &BodyLimits,
    mut buffer: impl FnMut() -> Vec<u8>,
) -> Result<UrlEncodedArgs, BodyError> {
    check_size("urlencoded", input, limits)?;
    // Room for every piece up front (one count, no regrowth while pushing).
    let pieces = memchr::memchr_iter(separator, input).count() + 1;
    let mut args = UrlEncodedArgs {
        params: Vec::with_capacity(pieces.min(limits.max_args)),
        ..UrlEncodedArgs::default()
    };
    args.args_limit_exceeded =
        for_each_raw_argument(input, separator, limits.max_args, |raw_name, raw_value| {
            let (mut name, mut value) = (buffer(), buffer());
            let name_invalid = url_decode_into(raw_name, &mut name);
            let value_invalid = url_decode_into(raw_value, &mut value);
            args.invalid_encoding |= name_invalid || value_invalid;
            args.params.push(Param { name, value });
        });
    Ok(args)
}

/// What [`parse_urlencoded`] decides about `input` without building its arguments
/// (nothing is decoded or allocated): its error, or whether an argument it would keep
/// has an invalid encoding ([`UrlEncodedArgs::invalid_encoding`]).
pub fn check_urlencoded(
    input: &[u8],
    separator: u8,
    limits: &BodyLimits,
) -> Result<bool, BodyError> {
    check_size("urlencoded", input, limits)?;
    if memchr::memchr(b'%', input).is_none() {
        return Ok(false);
    }
    let mut invalid = false;
    for_each_raw_argument(input, separator, limits.max_args, |raw_name, raw_value| {
        invalid |= has_invalid_escape(raw_name) || has_invalid_escape(raw_value);
    });
    Ok(invalid)
}

/// Calls `each(raw name, raw value)` for the first `max_args` arguments of `input`;
/// returns true when there were more.
fn for_each_raw_argument<'a>(
    input: &'a [u8],
    separator: u8,
    max_args: usize,
    mut each: impl FnMut(&'a [u8], &'a [u8]),
) -> bool {
    let mut count = 0;
    // Separators and `=` are found by memchr, not byte by byte.
    let mut start = 0;
    let ends = memchr::memchr_iter(separator, input).chain(std::iter::once(input.len()));
    for end in ends {
        let piece = &input[start..end];
        start = end + 1;
        if piece.is_empty() {
            continue;
        }
        if count >= max_args {
            return true;
        }
        count += 1;
        let (raw_name, raw_value) = match memchr::memchr(b'=', piece) {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        each(raw_name, raw_value);
    }
    false
}

/// The value of the `%XX` escape at `input[at]` (`input[at]` is `%`), if valid.
fn escape_at(input: &[u8], at: usize) -> Option<u8> {
    let high = input.get(at + 1).copied().and_then(hex_value)?;
    let low = input.get(at + 2).copied().and_then(hex_value)?;
    Some(high << 4 | low)
}

/// True when some `%` of `input` does not start a valid escape (the decoder reaches
/// every `%`: the hex digits of a valid escape are never `%`).
fn has_invalid_escape(input: &[u8]) -> bool {
    memchr::memchr_iter(b'%', input).any(|at| escape_at(input, at).is_none())
}

/// Decodes `+` and `%XX` as ModSecurity's non-strict URL decoder does; returns
/// the decoded bytes and whether an invalid `%` sequence was kept literally.
pub fn url_decode_nonstrict(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    let invalid = url_decode_into(input, &mut out);
    (out, invalid)
}

/// [`url_decode_nonstrict`] appending to `out`; returns whether some `%` was invalid.
pub fn url_decode_into(input: &[u8], out: &mut Vec<u8>) -> bool {
    out.reserve(input.len());
    let mut invalid = false;
    let mut rest = input;
    // Runs without `+` or `%` are copied at once.
    while let Some(at) = memchr::memchr2(b'+', b'%', rest) {
        out.extend_from_slice(&rest[..at]);
        if rest[at] == b'+' {
            out.push(b' ');
            rest = &rest[at + 1..];
        } else if let Some(byte) = escape_at(rest, at) {
            out.push(byte);
            rest = &rest[at + 3..];
        } else {
            invalid = true;
            out.push(b'%');
            rest = &rest[at + 1..];
        }
    }
    out.extend_from_slice(rest);
    invalid
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}
