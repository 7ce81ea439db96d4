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
    check_size("urlencoded", input, limits)?;
    let mut args = UrlEncodedArgs::default();
    for piece in input.split(|&b| b == separator) {
        if piece.is_empty() {
            continue;
        }
        if args.params.len() >= limits.max_args {
            args.args_limit_exceeded = true;
            break;
        }
        let (raw_name, raw_value) = match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        let (name, name_invalid) = url_decode_nonstrict(raw_name);
        let (value, value_invalid) = url_decode_nonstrict(raw_value);
        args.invalid_encoding |= name_invalid || value_invalid;
        args.params.push(Param { name, value });
    }
    Ok(args)
}

/// Decodes `+` and `%XX` as ModSecurity's non-strict URL decoder does; returns
/// the decoded bytes and whether an invalid `%` sequence was kept literally.
pub fn url_decode_nonstrict(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    let mut invalid = false;
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let high = input.get(i + 1).copied().and_then(hex_value);
                let low = input.get(i + 2).copied().and_then(hex_value);
                match (high, low) {
                    (Some(high), Some(low)) => {
                        out.push(high << 4 | low);
                        i += 3;
                    }
                    _ => {
                        invalid = true;
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    (out, invalid)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}
