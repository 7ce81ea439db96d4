//! SecLang transformations (`t:urlDecodeUni`, `t:htmlEntityDecode`, `t:cmdLine`, `t:normalisePath` …) over bytes.
//!
//! This crate owns the transformation functions the WAF engine applies to a
//! variable's value before an operator runs. Each [`Transformation`] is a
//! byte-to-byte function with ModSecurity v3 semantics (the behaviour of
//! libmodsecurity's `src/actions/transformations/*.cc`, re-implemented from
//! scratch in safe Rust).
//!
//! Design notes:
//! - [`Transformation::apply`] returns [`Cow::Borrowed`] whenever the output
//!   equals the input. A cheap pre-scan (usually `memchr` for the trigger byte
//!   such as `%`, `&` or `\`) decides whether the full decoder must run, so the
//!   common benign path allocates nothing.
//! - Output length is bounded: no transformation produces more than
//!   `3 * input.len() + 40` bytes (`utf8toUnicode` and `hexEncode` are the
//!   growing ones; `md5`/`sha1`/`length` produce short fixed-size output).
//! - Every decoder is a single forward pass: linear time, no recursion.
//!
//! Known deliberate deviations from libmodsecurity (its behaviour there is a
//! bug that would only help evasion or read past the buffer end):
//! - `utf8toUnicode` keeps a byte of an invalid or truncated UTF-8 sequence
//!   (libmodsecurity silently drops it) and does not append the extra raw byte
//!   libmodsecurity emits after overlong or surrogate sequences.
//! - `removeComments` does not emit the NUL byte libmodsecurity reads past the
//!   end when a comment closes at the very end of the input.
//! - `sqlHexDecode` does not drop the final input byte and does not stop at an
//!   embedded NUL byte.
//! - `base64Decode` follows mbedtls 2.x (`mbedtls_base64_decode`): invalid input
//!   decodes to the empty string, only complete 4-character groups are decoded.
#![forbid(unsafe_code)]

mod decode;
mod path;
mod text;

pub use decode::decode_base64_quads;

use std::borrow::Cow;
use std::fmt;

/// One SecLang transformation (`t:NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transformation {
    /// `none`: identity (in a rule it also clears the inherited chain; the engine handles that).
    None,
    /// `lowercase`: ASCII lower-casing.
    Lowercase,
    /// `uppercase`: ASCII upper-casing.
    Uppercase,
    /// `urlDecode`: `%XX` and `+` decoding; invalid escapes are kept.
    UrlDecode,
    /// `urlDecodeUni`: `urlDecode` plus IIS `%uXXXX` (lower byte, full-width ASCII mapped).
    UrlDecodeUni,
    /// `htmlEntityDecode`: `&#NN;`, `&#xHH;`, `&quot; &amp; &lt; &gt; &nbsp;` (semicolon optional).
    HtmlEntityDecode,
    /// `jsDecode`: `\uHHHH`, `\xHH`, octal `\OOO` and C escapes.
    JsDecode,
    /// `cssDecode`: CSS 2 `\H…` escapes (1–6 hex digits).
    CssDecode,
    /// `cmdLine`: Windows/Unix command-line normalisation.
    CmdLine,
    /// `compressWhitespace`: runs of whitespace become one space.
    CompressWhitespace,
    /// `removeWhitespace`: drops whitespace and NBSP (0xA0).
    RemoveWhitespace,
    /// `removeNulls`: drops NUL bytes.
    RemoveNulls,
    /// `replaceNulls`: NUL bytes become spaces.
    ReplaceNulls,
    /// `removeComments`: drops `/* */`, `<!-- -->` comments; `--` and `#` end the value.
    RemoveComments,
    /// `replaceComments`: each `/* */` comment becomes one space.
    ReplaceComments,
    /// `removeCommentsChar`: drops comment markers `/*`, `*/`, `<!--`, `-->`, `--`, `#`.
    RemoveCommentsChar,
    /// `normalisePath` / `normalizePath`: removes `.` / `..` segments and repeated slashes.
    NormalisePath,
    /// `normalisePathWin` / `normalizePathWin`: like `normalisePath` with `\` treated as `/`.
    NormalisePathWin,
    /// `base64Decode`: strict Base64 decoding (invalid input gives the empty string).
    Base64Decode,
    /// `base64DecodeExt`: forgiving Base64 decoding (skips invalid characters, accepts `-_`).
    Base64DecodeExt,
    /// `base64Encode`: standard Base64 with padding.
    Base64Encode,
    /// `hexDecode`: pairs of hex digits to bytes.
    HexDecode,
    /// `hexEncode`: bytes to lowercase hex.
    HexEncode,
    /// `sqlHexDecode`: `0xHHHH…` SQL hex literals to bytes.
    SqlHexDecode,
    /// `escapeSeqDecode`: ANSI C escape sequences.
    EscapeSeqDecode,
    /// `utf8toUnicode`: multi-byte UTF-8 sequences to `%uXXXX`.
    Utf8ToUnicode,
    /// `urlEncode`: percent-encodes (lowercase hex) everything except `[A-Za-z0-9*_]`; space becomes `+`.
    UrlEncode,
    /// `length`: the decimal length of the value.
    Length,
    /// `md5`: the raw 16-byte MD5 digest.
    Md5,
    /// `sha1`: the raw 20-byte SHA-1 digest.
    Sha1,
    /// `trim`: strips leading and trailing whitespace.
    Trim,
    /// `trimLeft`: strips leading whitespace.
    TrimLeft,
    /// `trimRight`: strips trailing whitespace.
    TrimRight,
    /// `parityEven7bit`: bit 7 becomes the even-parity bit of the byte.
    ParityEven7bit,
    /// `parityOdd7bit`: bit 7 becomes the odd-parity bit of the byte.
    ParityOdd7bit,
    /// `parityZero7bit`: clears bit 7.
    ParityZero7bit,
}

/// Canonical SecLang names and aliases, matched ASCII-case-insensitively.
const NAMES: &[(&str, Transformation)] = &[
    ("none", Transformation::None),
    ("lowercase", Transformation::Lowercase),
    ("uppercase", Transformation::Uppercase),
    ("urlDecode", Transformation::UrlDecode),
    ("urlDecodeUni", Transformation::UrlDecodeUni),
    ("htmlEntityDecode", Transformation::HtmlEntityDecode),
    ("jsDecode", Transformation::JsDecode),
    ("cssDecode", Transformation::CssDecode),
    ("cmdLine", Transformation::CmdLine),
    ("compressWhitespace", Transformation::CompressWhitespace),
    ("removeWhitespace", Transformation::RemoveWhitespace),
    ("removeNulls", Transformation::RemoveNulls),
    ("replaceNulls", Transformation::ReplaceNulls),
    ("removeComments", Transformation::RemoveComments),
    ("replaceComments", Transformation::ReplaceComments),
    ("removeCommentsChar", Transformation::RemoveCommentsChar),
    ("normalisePath", Transformation::NormalisePath),
    ("normalizePath", Transformation::NormalisePath),
    ("normalisePathWin", Transformation::NormalisePathWin),
    ("normalizePathWin", Transformation::NormalisePathWin),
    ("base64Decode", Transformation::Base64Decode),
    ("base64DecodeExt", Transformation::Base64DecodeExt),
    ("base64Encode", Transformation::Base64Encode),
    ("hexDecode", Transformation::HexDecode),
    ("hexEncode", Transformation::HexEncode),
    ("sqlHexDecode", Transformation::SqlHexDecode),
    ("escapeSeqDecode", Transformation::EscapeSeqDecode),
    ("utf8toUnicode", Transformation::Utf8ToUnicode),
    ("urlEncode", Transformation::UrlEncode),
    ("length", Transformation::Length),
    ("md5", Transformation::Md5),
    ("sha1", Transformation::Sha1),
    ("trim", Transformation::Trim),
    ("trimLeft", Transformation::TrimLeft),
    ("trimRight", Transformation::TrimRight),
    ("parityEven7bit", Transformation::ParityEven7bit),
    ("parityOdd7bit", Transformation::ParityOdd7bit),
    ("parityZero7bit", Transformation::ParityZero7bit),
];

impl Transformation {
    /// Looks a transformation up by its SecLang name (`urlDecodeUni`, `normalizePath` …).
    ///
    /// Matching is ASCII-case-insensitive, as in libmodsecurity's parser
    /// (CRS itself writes both `t:base64Decode` and `t:base64decode`).
    pub fn from_name(name: &str) -> Option<Self> {
        NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|&(_, t)| t)
    }

    /// The canonical SecLang name (British spelling for the path normalisers).
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|&&(_, t)| t == self)
            .map_or("none", |&(name, _)| name)
    }

    /// Every transformation, once each.
    pub fn all() -> impl Iterator<Item = Self> {
        NAMES.iter().enumerate().filter_map(|(index, &(_, t))| {
            // Aliases share a variant; keep only the first name of each.
            (NAMES[..index].iter().all(|&(_, earlier)| earlier != t)).then_some(t)
        })
    }

    /// The bytes without which the transformation leaves its input as it is: an input
    /// that contains none of them comes back unchanged from [`Transformation::apply`]
    /// (as a bitset, bit `b % 64` of word `b / 64` for byte `b`). `None` for the
    /// transformations that change every input (`length`, `md5`, `base64Decode` …).
    ///
    /// The engine checks a value's bytes against these once for all the chains that
    /// read it, instead of running every chain over a value none of them changes.
    pub fn trigger_bytes(self) -> Option<[u64; 4]> {
        use Transformation as T;
        let bytes: &[u8] = match self {
            T::None => b"",
            T::UrlDecode | T::UrlDecodeUni => b"%+",
            T::HtmlEntityDecode => b"&",
            T::JsDecode | T::CssDecode | T::EscapeSeqDecode => b"\\",
            T::CmdLine => b"\"'\\^,;\t\r\n ",
            T::RemoveNulls | T::ReplaceNulls => b"\0",
            T::RemoveComments => b"/<-#",
            T::ReplaceComments => b"/",
            T::RemoveCommentsChar => b"/*-#<",
            T::NormalisePath => b"./",
            T::NormalisePathWin => b"./\\",
            T::SqlHexDecode => b"0",
            T::CompressWhitespace | T::Trim | T::TrimLeft | T::TrimRight => C_SPACES,
            T::RemoveWhitespace => b" \t\n\x0b\x0c\r\xa0",
            // Per-byte maps and filters: the bytes they map to something else (below).
            T::Lowercase
            | T::Uppercase
            | T::Utf8ToUnicode
            | T::UrlEncode
            | T::ParityEven7bit
            | T::ParityOdd7bit
            | T::ParityZero7bit => b"",
            T::Base64Decode
            | T::Base64DecodeExt
            | T::Base64Encode
            | T::HexDecode
            | T::HexEncode
            | T::Length
            | T::Md5
            | T::Sha1 => return None,
        };
        let mut set = [0u64; 4];
        let mut add = |b: u8| set[usize::from(b / 64)] |= 1 << (b % 64);
        bytes.iter().copied().for_each(&mut add);
        match self {
            T::Lowercase => (b'A'..=b'Z').for_each(add),
            T::Uppercase => (b'a'..=b'z').for_each(add),
            T::CmdLine => (b'A'..=b'Z').for_each(add),
            // Multi-byte UTF-8 sequences start and continue with bytes >= 0x80.
            T::Utf8ToUnicode => (0x80..=0xff).for_each(add),
            T::UrlEncode => (0..=0xff)
                .filter(|&b: &u8| !(b.is_ascii_alphanumeric() || b == b'*' || b == b'_'))
                .for_each(add),
            T::ParityEven7bit | T::ParityOdd7bit | T::ParityZero7bit => (0..=0xff)
                .filter(|&b: &u8| *self.apply(&[b]) != [b])
                .for_each(add),
            _ => {}
        }
        Some(set)
    }

    /// Applies the transformation. Borrows the input when the output is identical.
    pub fn apply<'a>(self, input: &'a [u8]) -> Cow<'a, [u8]> {
        use Transformation as T;
        match self {
            T::None => Cow::Borrowed(input),
            T::Lowercase => text::lowercase(input),
            T::Uppercase => text::uppercase(input),
            T::UrlDecode => decode::url_decode(input),
            T::UrlDecodeUni => decode::url_decode_uni(input),
            T::HtmlEntityDecode => decode::html_entity_decode(input),
            T::JsDecode => decode::js_decode(input),
            T::CssDecode => decode::css_decode(input),
            T::CmdLine => text::cmd_line(input),
            T::CompressWhitespace => text::compress_whitespace(input),
            T::RemoveWhitespace => text::remove_whitespace(input),
            T::RemoveNulls => text::remove_nulls(input),
            T::ReplaceNulls => text::replace_nulls(input),
            T::RemoveComments => text::remove_comments(input),
            T::ReplaceComments => text::replace_comments(input),
            T::RemoveCommentsChar => text::remove_comments_char(input),
            T::NormalisePath => path::normalise_path(input, false),
            T::NormalisePathWin => path::normalise_path(input, true),
            T::Base64Decode => Cow::Owned(decode::base64_decode_strict(input)),
            T::Base64DecodeExt => Cow::Owned(decode::base64_decode_forgiving(input)),
            T::Base64Encode => Cow::Owned(decode::base64_encode(input)),
            T::HexDecode => Cow::Owned(decode::hex_decode(input)),
            T::HexEncode => Cow::Owned(text::hex_encode(input)),
            T::SqlHexDecode => decode::sql_hex_decode(input),
            T::EscapeSeqDecode => decode::escape_seq_decode(input),
            T::Utf8ToUnicode => decode::utf8_to_unicode(input),
            T::UrlEncode => text::url_encode(input),
            T::Length => Cow::Owned(input.len().to_string().into_bytes()),
            T::Md5 => {
                use md5::Digest as _;
                Cow::Owned(md5::Md5::digest(input).to_vec())
            }
            T::Sha1 => {
                use sha1::Digest as _;
                Cow::Owned(sha1::Sha1::digest(input).to_vec())
            }
            T::Trim => text::trim(input, true, true),
            T::TrimLeft => text::trim(input, true, false),
            T::TrimRight => text::trim(input, false, true),
            // libmodsecurity computes the parity over all eight bits of the input byte.
            T::ParityEven7bit => text::map_bytes(input, |b| {
                if b.count_ones() % 2 == 1 {
                    b | 0x80
                } else {
                    b & 0x7f
                }
            }),
            T::ParityOdd7bit => text::map_bytes(input, |b| {
                if b.count_ones() % 2 == 1 {
                    b & 0x7f
                } else {
                    b | 0x80
                }
            }),
            T::ParityZero7bit => text::map_bytes(input, |b| b & 0x7f),
        }
    }
}

impl fmt::Display for Transformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `decoder` only when `may_change` says the input could change, and
/// borrows the input when the decoded output turns out identical.
fn decode_if<'a>(
    input: &'a [u8],
    may_change: bool,
    decoder: impl FnOnce(&[u8], &mut Vec<u8>),
) -> Cow<'a, [u8]> {
    if !may_change {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    decoder(input, &mut out);
    if out == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(out)
    }
}

/// libmodsecurity's `x2c`: two hex digits to a byte. With non-hex input it
/// yields the same wrapped value libmodsecurity does (only `hexDecode` relies on that).
fn x2c(high: u8, low: u8) -> u8 {
    hex_digit_value(high)
        .wrapping_mul(16)
        .wrapping_add(hex_digit_value(low))
}

/// libmodsecurity's single-digit conversion (`xsingle2c`).
fn hex_digit_value(digit: u8) -> u8 {
    if digit >= b'A' {
        (digit & 0xdf).wrapping_sub(b'A').wrapping_add(10)
    } else {
        digit.wrapping_sub(b'0')
    }
}

/// The bytes C `isspace` accepts in the "C" locale.
const C_SPACES: &[u8] = b" \t\n\x0b\x0c\r";

/// C `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}
