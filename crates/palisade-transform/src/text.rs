//! Character-level transformations: case, whitespace, NUL bytes, comments,
//! `cmdLine`, trimming, encoders and per-byte maps.

use std::borrow::Cow;

use crate::{decode_if, is_c_space};

/// Applies a per-byte map, borrowing when no byte changes.
pub(crate) fn map_bytes(input: &[u8], map: impl Fn(u8) -> u8) -> Cow<'_, [u8]> {
    match input.iter().position(|&b| map(b) != b) {
        None => Cow::Borrowed(input),
        Some(first) => {
            let mut out = input.to_vec();
            for b in &mut out[first..] {
                *b = map(*b);
            }
            Cow::Owned(out)
        }
    }
}

pub(crate) fn lowercase(input: &[u8]) -> Cow<'_, [u8]> {
    map_bytes(input, |b| b.to_ascii_lowercase())
}

pub(crate) fn uppercase(input: &[u8]) -> Cow<'_, [u8]> {
    map_bytes(input, |b| b.to_ascii_uppercase())
}

/// Keeps the bytes for which `keep` holds, borrowing when all are kept.
fn retain_bytes(input: &[u8], keep: impl Fn(u8) -> bool) -> Cow<'_, [u8]> {
    if input.iter().all(|&b| keep(b)) {
        return Cow::Borrowed(input);
    }
    Cow::Owned(input.iter().copied().filter(|&b| keep(b)).collect())
}

pub(crate) fn remove_nulls(input: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(0, input).is_none() {
        return Cow::Borrowed(input);
    }
    retain_bytes(input, |b| b != 0)
}

pub(crate) fn replace_nulls(input: &[u8]) -> Cow<'_, [u8]> {
    map_bytes(input, |b| if b == 0 { b' ' } else { b })
}

/// Whitespace for `removeWhitespace`: C `isspace` plus NBSP (0xA0).
pub(crate) fn remove_whitespace(input: &[u8]) -> Cow<'_, [u8]> {
    retain_bytes(input, |b| !is_c_space(b) && b != 0xa0)
}

pub(crate) fn compress_whitespace(input: &[u8]) -> Cow<'_, [u8]> {
    // Changes only if some whitespace byte is not a lone ' '.
    let may_change = input.iter().enumerate().any(|(index, &b)| {
        is_c_space(b) && (b != b' ' || input.get(index + 1).is_some_and(|&next| is_c_space(next)))
    });
    decode_if(input, may_change, |input, out| {
        let mut in_whitespace = false;
        for &b in input {
            if is_c_space(b) {
                if !in_whitespace {
                    out.push(b' ');
                    in_whitespace = true;
                }
            } else {
                out.push(b);
                in_whitespace = false;
            }
        }
    })
}

pub(crate) fn trim(input: &[u8], left: bool, right: bool) -> Cow<'_, [u8]> {
    let mut start = 0;
    let mut end = input.len();
    if left {
        while start < end && is_c_space(input[start]) {
            start += 1;
        }
    }
    if right {
        while end > start && is_c_space(input[end - 1]) {
            end -= 1;
        }
    }
    Cow::Borrowed(&input[start..end])
}

/// `cmdLine`: deletes `" ' \ ^`, turns runs of `space , ; \t \r \n` into one
/// space, drops a space before `/` and `(`, lower-cases everything else.
pub(crate) fn cmd_line(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change = input.iter().any(|&b| {
        matches!(
            b,
            b'"' | b'\'' | b'\\' | b'^' | b',' | b';' | b'\t' | b'\r' | b'\n' | b' '
        ) || b.is_ascii_uppercase()
    });
    decode_if(input, may_change, |input, out| {
        let mut space = false;
        for &b in input {
            match b {
                b'"' | b'\'' | b'\\' | b'^' => {}
                b' ' | b',' | b';' | b'\t' | b'\r' | b'\n' => {
                    if !space {
                        out.push(b' ');
                        space = true;
                    }
                }
                b'/' | b'(' => {
                    if space {
                        out.pop();
                    }
                    space = false;
                    out.push(b);
                }
                _ => {
                    out.push(b.to_ascii_lowercase());
                    space = false;
                }
            }
        }
    })
}

/// `removeComments` (libmodsecurity semantics): `/* … */` and `<!-- … -->`
/// are removed (the byte right after a closing marker is copied unexamined),
/// `--` or `#` outside a comment ends the value, an unterminated comment
/// becomes one trailing space.
pub(crate) fn remove_comments(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change =
        memchr::memchr3(b'/', b'<', b'-', input).is_some() || memchr::memchr(b'#', input).is_some();
    decode_if(input, may_change, |input, out| {
        let len = input.len();
        let mut i = 0;
        let mut in_comment = false;
        while i < len {
            let rest = &input[i..];
            if !in_comment {
                if rest.starts_with(b"/*") {
                    in_comment = true;
                    i += 2;
                } else if rest.starts_with(b"<!--") {
                    in_comment = true;
                    i += 4;
                } else if rest.starts_with(b"--") || rest[0] == b'#' {
                    break;
                } else {
                    out.push(rest[0]);
                    i += 1;
                }
            } else if rest.starts_with(b"*/") || rest.starts_with(b"-->") {
                in_comment = false;
                i += if rest[0] == b'*' { 2 } else { 3 };
                if let Some(&next) = input.get(i) {
                    out.push(next);
                }
                i += 1;
            } else {
                i += 1;
            }
        }
        if in_comment {
            out.push(b' ');
        }
    })
}

/// `replaceComments`: each C comment `/* … */` (or an unterminated one) becomes one space.
pub(crate) fn replace_comments(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change = memchr::memmem::find(input, b"/*").is_some();
    decode_if(input, may_change, |input, out| {
        let mut rest = input;
        while let Some(start) = memchr::memmem::find(rest, b"/*") {
            out.extend_from_slice(&rest[..start]);
            out.push(b' ');
            match memchr::memmem::find(&rest[start + 2..], b"*/") {
                Some(end) => rest = &rest[start + 2 + end + 2..],
                None => return,
            }
        }
        out.extend_from_slice(rest);
    })
}

/// `removeCommentsChar`: deletes the markers `/*`, `*/`, `<!--`, `-->`, `--` and `#`.
pub(crate) fn remove_comments_char(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change = memchr::memchr3(b'/', b'*', b'-', input).is_some()
        || memchr::memchr2(b'#', b'<', input).is_some();
    decode_if(input, may_change, |input, out| {
        const MARKERS: [&[u8]; 6] = [b"/*", b"*/", b"<!--", b"-->", b"--", b"#"];
        let mut i = 0;
        while i < input.len() {
            let rest = &input[i..];
            match MARKERS.iter().find(|marker| rest.starts_with(marker)) {
                Some(marker) => i += marker.len(),
                None => {
                    out.push(rest[0]);
                    i += 1;
                }
            }
        }
    })
}

const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

pub(crate) fn hex_encode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() * 2);
    for &b in input {
        out.push(LOWER_HEX[usize::from(b >> 4)]);
        out.push(LOWER_HEX[usize::from(b & 0x0f)]);
    }
    out
}

/// `urlEncode`: keeps `[A-Za-z0-9*_]`, space becomes `+`, the rest `%hh`.
pub(crate) fn url_encode(input: &[u8]) -> Cow<'_, [u8]> {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b == b'*' || b == b'_';
    if input.iter().all(|&b| keep(b)) {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len() * 3);
    for &b in input {
        if keep(b) {
            out.push(b);
        } else if b == b' ' {
            out.push(b'+');
        } else {
            out.push(b'%');
            out.push(LOWER_HEX[usize::from(b >> 4)]);
            out.push(LOWER_HEX[usize::from(b & 0x0f)]);
        }
    }
    Cow::Owned(out)
}
