//! Decoders: URL (`%XX`, `%uXXXX`), HTML entities, JavaScript, CSS, ANSI C
//! escapes, hex, SQL hex literals, Base64 and UTF-8 to `%uXXXX`.

use std::borrow::Cow;

use crate::{decode_if, hex_digit_value, is_c_space, x2c};

/// Copies the bytes from `i` up to the next byte `find` locates (or the end)
/// into `out` in one go, and returns that position.
fn copy_run(
    input: &[u8],
    i: usize,
    out: &mut Vec<u8>,
    find: impl Fn(&[u8]) -> Option<usize>,
) -> usize {
    let next = find(&input[i..]).map_or(input.len(), |offset| i + offset);
    out.extend_from_slice(&input[i..next]);
    next
}

fn is_octal(b: u8) -> bool {
    (b'0'..=b'7').contains(&b)
}

/// Maps the lower byte of a `%uXXXX` / `\uXXXX` code unit as libmodsecurity
/// does: full-width ASCII (U+FF01–U+FF5E) becomes the ASCII character.
fn unicode_low_byte(digits: &[u8]) -> u8 {
    let low = x2c(digits[2], digits[3]);
    if low > 0
        && low < 0x5f
        && digits[0].eq_ignore_ascii_case(&b'f')
        && digits[1].eq_ignore_ascii_case(&b'f')
    {
        low + 0x20
    } else {
        low
    }
}

pub(crate) fn url_decode(input: &[u8]) -> Cow<'_, [u8]> {
    url_decode_impl(input, false)
}

pub(crate) fn url_decode_uni(input: &[u8]) -> Cow<'_, [u8]> {
    url_decode_impl(input, true)
}

fn url_decode_impl(input: &[u8], unicode: bool) -> Cow<'_, [u8]> {
    let may_change = memchr::memchr2(b'%', b'+', input).is_some();
    decode_if(input, may_change, |input, out| {
        let len = input.len();
        let mut i = 0;
        while i < len {
            i = copy_run(input, i, out, |rest| memchr::memchr2(b'%', b'+', rest));
            if i >= len {
                break;
            }
            match input[i] {
                b'%' if unicode && matches!(input.get(i + 1), Some(b'u' | b'U')) => {
                    match input.get(i + 2..i + 6) {
                        Some(digits) if digits.iter().all(u8::is_ascii_hexdigit) => {
                            out.push(unicode_low_byte(digits));
                            i += 6;
                        }
                        _ => {
                            // Invalid or short %u: keep "%u" and continue after it.
                            out.extend_from_slice(&input[i..i + 2]);
                            i += 2;
                        }
                    }
                }
                b'%' => match input.get(i + 1..i + 3) {
                    Some(&[high, low]) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                        out.push(x2c(high, low));
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                },
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
    })
}

/// Parses a run of digits the way C `strtol` does (saturating at `i64::MAX`)
/// and keeps the low byte, as libmodsecurity's `(unsigned char)strtol(…)`.
fn strtol_low_byte(digits: &[u8], radix: u32) -> u8 {
    let mut value: i64 = 0;
    for &d in digits {
        let digit = i64::from(char::from(d).to_digit(radix).unwrap_or(0));
        value = value.saturating_mul(i64::from(radix)).saturating_add(digit);
    }
    (value & 0xff) as u8
}

/// `htmlEntityDecode` with libmodsecurity's rules: numeric entities keep the
/// low byte, named entities are only `quot amp lt gt nbsp` (case-insensitive),
/// the `;` is optional, anything else is copied unchanged.
pub(crate) fn html_entity_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change = memchr::memchr(b'&', input).is_some();
    decode_if(input, may_change, |input, out| {
        let len = input.len();
        let mut i = 0;
        while i < len {
            i = copy_run(input, i, out, |rest| memchr::memchr(b'&', rest));
            if i >= len {
                break;
            }
            if i + 1 >= len {
                out.push(input[i]);
                i += 1;
                continue;
            }
            let (value, digits_end, copy) = if input[i + 1] == b'#' {
                if input
                    .get(i + 2)
                    .is_some_and(|b| b.eq_ignore_ascii_case(&b'x'))
                {
                    let start = i + 3;
                    let end = start
                        + input[start.min(len)..]
                            .iter()
                            .take_while(|b| b.is_ascii_hexdigit())
                            .count();
                    let value = (end > start).then(|| strtol_low_byte(&input[start..end], 16));
                    (value, end, 3)
                } else {
                    let start = i + 2;
                    let end = start
                        + input[start.min(len)..]
                            .iter()
                            .take_while(|b| b.is_ascii_digit())
                            .count();
                    let value = (end > start).then(|| strtol_low_byte(&input[start..end], 10));
                    (value, end, 2)
                }
            } else {
                let start = i + 1;
                let end = start
                    + input[start..]
                        .iter()
                        .take_while(|b| b.is_ascii_alphanumeric())
                        .count();
                let name = &input[start..end];
                let value = [
                    (&b"quot"[..], b'"'),
                    (b"amp", b'&'),
                    (b"lt", b'<'),
                    (b"gt", b'>'),
                    (b"nbsp", 0xa0),
                ]
                .iter()
                .find(|(entity, _)| entity.eq_ignore_ascii_case(name))
                .map(|&(_, byte)| byte);
                (value, end, 1 + name.len())
            };
            match value {
                Some(byte) => {
                    out.push(byte);
                    i = if input.get(digits_end) == Some(&b';') {
                        digits_end + 1
                    } else {
                        digits_end
                    };
                }
                None => {
                    let copy_end = (i + copy).min(len);
                    out.extend_from_slice(&input[i..copy_end]);
                    i = copy_end;
                }
            }
        }
    })
}

/// Reads up to three octal digits after a backslash at `i` (libmodsecurity's loop).
fn octal_digits(input: &[u8], i: usize) -> usize {
    let mut count = 0;
    while i + 1 + count < input.len() && count < 3 {
        count += 1;
        if !input.get(i + 1 + count).copied().is_some_and(is_octal) {
            break;
        }
    }
    count
}

fn c_escape(b: u8) -> Option<u8> {
    Some(match b {
        b'a' => 0x07,
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 0x0b,
        _ => return None,
    })
}

/// `jsDecode`: `\uHHHH` (low byte, full-width ASCII mapped), `\xHH`, `\OOO`
/// (at most one byte), C escapes; any other `\C` becomes `C`.
pub(crate) fn js_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change = memchr::memchr(b'\\', input).is_some();
    decode_if(input, may_change, |input, out| {
        let len = input.len();
        let mut i = 0;
        while i < len {
            i = copy_run(input, i, out, |rest| memchr::memchr(b'\\', rest));
            if i >= len {
                break;
            }
            let next = input.get(i + 1).copied();
            if next == Some(b'u')
                && let Some(digits) = input.get(i + 2..i + 6)
                && digits.iter().all(u8::is_ascii_hexdigit)
            {
                out.push(unicode_low_byte(digits));
                i += 6;
            } else if next == Some(b'x')
                && let Some(&[high, low]) = input.get(i + 2..i + 4)
                && high.is_ascii_hexdigit()
                && low.is_ascii_hexdigit()
            {
                out.push(x2c(high, low));
                i += 4;
            } else if next.is_some_and(is_octal) {
                let mut count = octal_digits(input, i);
                if count == 3 && input[i + 1] > b'3' {
                    count = 2;
                }
                out.push(strtol_low_byte(&input[i + 1..i + 1 + count], 8));
                i += 1 + count;
            } else if let Some(escaped) = next {
                out.push(c_escape(escaped).unwrap_or(escaped));
                i += 2;
            } else {
                out.push(b'\\');
                i += 1;
            }
        }
    })
}

/// `cssDecode`: `\` + 1–6 hex digits (the last two give the byte, full-width
/// ASCII mapped, one following whitespace swallowed), `\` + newline is
/// removed, `\C` becomes `C`, a trailing `\` is dropped.
pub(crate) fn css_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change = memchr::memchr(b'\\', input).is_some();
    decode_if(input, may_change, |input, out| {
        let len = input.len();
        let mut i = 0;
        while i < len {
            i = copy_run(input, i, out, |rest| memchr::memchr(b'\\', rest));
            if i >= len {
                break;
            }
            i += 1;
            if i >= len {
                break;
            }
            let digits = input[i..]
                .iter()
                .take(6)
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            if digits > 0 {
                let hex = &input[i..i + digits];
                let byte = if digits == 1 {
                    hex_digit_value(hex[0])
                } else {
                    x2c(hex[digits - 2], hex[digits - 1])
                };
                let full_width_check = match digits {
                    4 => true,
                    5 => hex[0] == b'0',
                    6 => hex[0] == b'0' && hex[1] == b'0',
                    _ => false,
                };
                let is_full_width = full_width_check
                    && byte > 0
                    && byte < 0x5f
                    && hex[digits - 3].eq_ignore_ascii_case(&b'f')
                    && hex[digits - 4].eq_ignore_ascii_case(&b'f');
                out.push(if is_full_width { byte + 0x20 } else { byte });
                let mut consumed = digits;
                if input.get(i + digits).copied().is_some_and(is_c_space) {
                    consumed += 1;
                }
                i += consumed;
            } else if input[i] == b'\n' {
                i += 1;
            } else {
                out.push(input[i]);
                i += 1;
            }
        }
    })
}

/// `escapeSeqDecode`: ANSI C escapes `\a \b \f \n \r \t \v \\ \? \' \"`,
/// `\xHH`, `\O`…`\OOO`; an unrecognised `\C` becomes `C`.
pub(crate) fn escape_seq_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change = memchr::memchr(b'\\', input).is_some();
    decode_if(input, may_change, |input, out| {
        let len = input.len();
        let mut i = 0;
        while i < len {
            i = copy_run(input, i, out, |rest| memchr::memchr(b'\\', rest));
            if i >= len {
                break;
            }
            if i + 1 >= len {
                out.push(input[i]);
                i += 1;
                continue;
            }
            let next = input[i + 1];
            if let Some(byte) =
                c_escape(next).or(matches!(next, b'\\' | b'?' | b'\'' | b'"').then_some(next))
            {
                out.push(byte);
                i += 2;
            } else if (next == b'x' || next == b'X')
                && let Some(&[high, low]) = input.get(i + 2..i + 4)
                && high.is_ascii_hexdigit()
                && low.is_ascii_hexdigit()
            {
                out.push(x2c(high, low));
                i += 4;
            } else if is_octal(next) {
                let count = octal_digits(input, i);
                out.push(strtol_low_byte(&input[i + 1..i + 1 + count], 8));
                i += 1 + count;
            } else {
                out.push(next);
                i += 2;
            }
        }
    })
}

/// `hexDecode`: every pair of bytes becomes one byte (libmodsecurity does not
/// validate the digits); a trailing odd byte is dropped.
pub(crate) fn hex_decode(input: &[u8]) -> Vec<u8> {
    input
        .chunks_exact(2)
        .map(|pair| x2c(pair[0], pair[1]))
        .collect()
}

/// `sqlHexDecode`: `0x` followed by at least one pair of hex digits decodes
/// the pairs; everything else is copied.
pub(crate) fn sql_hex_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change = memchr::memchr(b'0', input).is_some();
    decode_if(input, may_change, |input, out| {
        let len = input.len();
        let mut i = 0;
        let is_pair = |at: usize| {
            input
                .get(at..at + 2)
                .is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit))
        };
        while i < len {
            if input[i] == b'0'
                && input
                    .get(i + 1)
                    .is_some_and(|b| b.eq_ignore_ascii_case(&b'x'))
                && is_pair(i + 2)
            {
                i += 2;
                while is_pair(i) {
                    out.push(x2c(input[i], input[i + 1]));
                    i += 2;
                }
            } else {
                out.push(input[i]);
                i += 1;
            }
        }
    })
}

const fn base64_value(b: u8) -> Option<u8> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

/// [`base64_value`] of every byte, 0xFF outside the alphabet (a table: the decoders look
/// at every byte of every value).
static BASE64_SEXTETS: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut byte = 0;
    while byte < 256 {
        if let Some(value) = base64_value(byte as u8) {
            table[byte] = value;
        }
        byte += 1;
    }
    table
};

/// Packs complete groups of four sextets (`pad` of them are `=`) into bytes.
fn push_base64_group(out: &mut Vec<u8>, sextets: [u8; 4], pad: usize) {
    let bits = sextets
        .iter()
        .fold(0u32, |acc, &s| (acc << 6) | u32::from(s));
    let bytes = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
    out.extend_from_slice(&bytes[..3usize.saturating_sub(pad)]);
}

/// `base64Decode` as libmodsecurity's mbedtls call: input up to the first NUL;
/// spaces allowed only at line ends, CR LF / LF skipped, at most two trailing
/// `=`; any other character makes the result empty. Only complete 4-character
/// groups produce output.
pub(crate) fn base64_decode_strict(input: &[u8]) -> Vec<u8> {
    let input = &input[..memchr::memchr(0, input).unwrap_or(input.len())];
    base64_decode_alphabet_only(input).unwrap_or_else(|| base64_decode_general(input))
}

/// [`base64_decode_strict`] of any input without NUL, byte by byte.
fn base64_decode_general(input: &[u8]) -> Vec<u8> {
    // Validation pass (mbedtls rejects the whole input on error).
    let mut pads = 0;
    let mut i = 0;
    while i < input.len() {
        let mut spaces = 0;
        while i < input.len() && input[i] == b' ' {
            i += 1;
            spaces += 1;
        }
        if i == input.len() {
            break;
        }
        let b = input[i];
        i += 1;
        if b == b'\n' || (b == b'\r' && input.get(i) == Some(&b'\n')) {
            continue;
        }
        if spaces != 0 {
            return Vec::new();
        }
        if b == b'=' {
            pads += 1;
            if pads > 2 {
                return Vec::new();
            }
        } else if base64_value(b).is_none() || pads != 0 {
            return Vec::new();
        }
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut group = [0u8; 4];
    let mut filled = 0;
    let mut group_pads = 0;
    for &b in input {
        let sextet = match b {
            b'\r' | b'\n' | b' ' => continue,
            b'=' => {
                group_pads += 1;
                0
            }
            _ => base64_value(b).unwrap_or(0),
        };
        group[filled] = sextet;
        filled += 1;
        if filled == 4 {
            push_base64_group(&mut out, group, group_pads);
            filled = 0;
        }
    }
    out
}

/// [`base64_decode_strict`] of an input made of alphabet characters only (no blank,
/// line end or `=`), the common case, in one pass: every complete group of four makes
/// three bytes, a partial last group none. `None` when some byte is not in the alphabet
/// (the general decoder decides then).
fn base64_decode_alphabet_only(input: &[u8]) -> Option<Vec<u8>> {
    let whole = input.len() / 4 * 4;
    let mut invalid = input[whole..]
        .iter()
        .fold(0u8, |invalid, &b| invalid | BASE64_SEXTETS[usize::from(b)]);
    let mut out = vec![0u8; whole / 4 * 3];
    invalid |= decode_base64_quads(&input[..whole], &BASE64_SEXTETS, &mut out);
    // A sextet is < 64; 0xFF (not in the alphabet) sets the high bit.
    (invalid & 0x80 == 0).then_some(out)
}

/// Decodes whole groups of four base64 symbols into `out` (three bytes a group; `quads.len()`
/// is a multiple of four and `out.len()` is three quarters of it), reading each symbol's value
/// from `sextets` (0xFF for a byte outside the alphabet). Returns the OR of the values read:
/// its high bit is set when some byte was outside the alphabet (and `out` is then garbage).
/// One table lookup per byte and no capacity checks: the decoders' hot loop, shared with
/// palisade-detect's base64 view (standard and URL-safe alphabets).
pub fn decode_base64_quads(quads: &[u8], sextets: &[u8; 256], out: &mut [u8]) -> u8 {
    debug_assert!(quads.len().is_multiple_of(4) && out.len() == quads.len() / 4 * 3);
    let mut seen = 0u8;
    for (group, bytes) in quads.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let values = [
            sextets[usize::from(group[0])],
            sextets[usize::from(group[1])],
            sextets[usize::from(group[2])],
            sextets[usize::from(group[3])],
        ];
        seen |= values[0] | values[1] | values[2] | values[3];
        let bits = (u32::from(values[0]) << 18)
            | (u32::from(values[1]) << 12)
            | (u32::from(values[2]) << 6)
            | u32::from(values[3]);
        bytes.copy_from_slice(&bits.to_be_bytes()[1..]);
    }
    seen
}

/// `base64DecodeExt` (libmodsecurity's forgiving decoder): characters outside
/// the alphabet are skipped, `-` and `_` are accepted as 62 and 63, `=` is
/// skipped except that a lone sextet before `=` voids the whole result.
pub(crate) fn base64_decode_forgiving(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut bits: u32 = 0;
    let mut count: usize = 0;
    for (index, &b) in input.iter().enumerate() {
        if b == b'=' {
            if input.get(index + 1) != Some(&b'=') && count % 4 == 1 {
                return Vec::new();
            }
            continue;
        }
        let Some(sextet) = base64_value(b).or(match b {
            b'-' => Some(62),
            b'_' => Some(63),
            _ => None,
        }) else {
            continue;
        };
        bits = (bits << 6) | u32::from(sextet);
        count += 1;
        match count % 4 {
            2 => out.push((bits >> 4) as u8),
            3 => out.push((bits >> 2) as u8),
            0 => out.push(bits as u8),
            _ => {}
        }
    }
    out
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64_encode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (k, &b)| acc | (u32::from(b) << (16 - 8 * k)));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(BASE64_ALPHABET[((bits >> (18 - 6 * k)) & 0x3f) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

/// `utf8toUnicode`: every well-formed 2–4 byte UTF-8 sequence (lead byte plus
/// continuation bytes) becomes `%u` + lowercase hex of the code point, at
/// least four digits. ASCII and bytes of malformed sequences are copied.
pub(crate) fn utf8_to_unicode(input: &[u8]) -> Cow<'_, [u8]> {
    let may_change = input.iter().any(|&b| b >= 0x80);
    decode_if(input, may_change, |input, out| {
        let len = input.len();
        let mut i = 0;
        while i < len {
            let lead = input[i];
            let (width, lead_bits) = match lead {
                0xc0..=0xdf => (2, u32::from(lead & 0x1f)),
                0xe0..=0xef => (3, u32::from(lead & 0x0f)),
                0xf0..=0xf7 => (4, u32::from(lead & 0x07)),
                _ => (1, 0),
            };
            let continuation = input.get(i + 1..i + width);
            match continuation {
                Some(rest) if width > 1 && rest.iter().all(|&b| b & 0xc0 == 0x80) => {
                    let code_point = rest
                        .iter()
                        .fold(lead_bits, |acc, &b| (acc << 6) | u32::from(b & 0x3f));
                    out.extend_from_slice(format!("%u{code_point:04x}").as_bytes());
                    i += width;
                }
                _ => {
                    out.push(lead);
                    i += 1;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn base64_alphabet_only_fast_path_decodes_as_the_general_decoder(
            input in proptest::collection::vec(
                proptest::sample::select(b"aZ09+/=- \r\n.".to_vec()),
                0..40,
            )
        ) {
            if let Some(fast) = base64_decode_alphabet_only(&input) {
                proptest::prop_assert_eq!(fast, base64_decode_general(&input));
            }
        }
    }

    #[test]
    fn base64_fast_path_takes_alphabet_only_inputs_of_any_length() {
        for input in [
            "",
            "Y",
            "Y2",
            "Y2F",
            "Y2F0",
            "Y2F0I",
            "Y2F0IC9ldGMvcGFzc3dk",
            "vvvvvvvvv",
        ] {
            let fast = base64_decode_alphabet_only(input.as_bytes());
            assert_eq!(
                fast,
                Some(base64_decode_general(input.as_bytes())),
                "{input}"
            );
        }
        assert_eq!(base64_decode_alphabet_only(b"Y2F0 IC9l"), None);
        assert_eq!(
            base64_decode_strict(b"Y2F0IC9ldGMvcGFzc3dk"),
            b"cat /etc/passwd"
        );
    }
}
