//! Decoded views of an input, and [`scan_all`], the one entry point that runs
//! every detector over them.
//!
//! Attackers hide payloads behind encodings the application will undo:
//! `%2e%2e%2f`, `%252e` (double encoding), `%u002e`, `&#x3c;`, `\x3c`,
//! `\u003c`, CSS `\3c `, base64, overlong UTF-8 (`%c0%ae`). Detectors stay
//! simple by inspecting bytes as given; this module produces the views they
//! run over:
//!
//! 1. **raw** — the input itself (always);
//! 2. **decoded** — URL decoding (`%XX`, `%uXXXX`, `+` as space), HTML
//!    entities, overlong UTF-8, fullwidth ASCII and U+2215 folded to ASCII, repeated until nothing
//!    changes, at most [`MAX_DECODE_ROUNDS`] rounds (catches double/triple encoding);
//! 3. **unescaped** — the decoded view with JS (`\xHH`, `\uHHHH`, `\u{H}`)
//!    and CSS (`\HH `) escapes undone; kept separate because Windows paths
//!    (`..\boot.ini`) would otherwise be mangled by the CSS rule;
//! 4. **base64** — when the whole (trimmed) raw or decoded value is valid
//!    standard or URL-safe base64 of at least [`MIN_BASE64_LEN`] characters and
//!    decodes to text ([`is_text`]: valid UTF-8, no control bytes but blanks).
//!    Other binary (images, archives, random tokens that happen to be base64) is
//!    no view: no textual attack hides in it, and random bytes read as text only
//!    make false positives. The one exception is binary that opens with the header
//!    of a serialized object stream (Java, pickle, Ruby Marshal, .NET
//!    BinaryFormatter, gzip): a view for the deserialization detector only. The
//!    first three decoded bytes tell which, before the rest is decoded.
//!
//! Each view records which detectors' gates ([`AttackClass::may_fire`]) are open
//! on it, so a detector asked about a value none of whose views can hold its
//! attack answers with a test of one bit ([`DecodedViews::may_fire`]).
//!
//! Bounds: at most [`MAX_VIEWS`] views; every decoding step only shrinks its
//! input, so each view is no longer than the input; each round is one linear
//! pass. Views that equal an earlier view are dropped. No allocation happens
//! for inputs without `%`, `&`, `+`, `\`, bytes >= 0xC0 or a base64 shape.
//!
//! Each view carries its [`ByteClasses`], computed once in one pass: the
//! detectors gate on them, and the decoder itself uses the input's classes to
//! skip every step that cannot change it (no `%`, `+`, `&` or folded lead
//! byte: no URL/entity round; no `\`: no unescaping; a byte outside the
//! base64 alphabet and blanks: no base64 attempt).

use std::borrow::Cow;

use palisade_transform::decode_base64_quads;

use crate::gate::ByteClasses;
use crate::{AttackClass, Detection, GatedDetector};

/// Maximum decoding rounds for the decoded view (double/triple encoding).
pub const MAX_DECODE_ROUNDS: usize = 4;
/// Maximum number of views produced for one input.
pub const MAX_VIEWS: usize = 4;
/// Minimum length of a value considered for base64 decoding.
pub const MIN_BASE64_LEN: usize = 12;

/// The decoded views of one input (see the module doc): the input itself, borrowed,
/// and its [`DecodedViews`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Views<'a> {
    raw: &'a [u8],
    decoded: DecodedViews,
}

impl<'a> Views<'a> {
    /// Iterates over the views, raw first.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(self.raw).chain(self.decoded.iter())
    }

    /// Iterates over the views with their byte classes, raw first.
    pub fn iter_with_classes(&self) -> impl Iterator<Item = (&[u8], ByteClasses)> {
        std::iter::once((self.raw, self.decoded.raw_classes))
            .chain(self.decoded.iter_with_classes())
    }

    /// Number of views (1..=[`MAX_VIEWS`]).
    pub fn len(&self) -> usize {
        1 + self.decoded.len
    }

    /// Always false: the raw view is always present.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The views of a value beyond the raw one (decoded, unescaped, base64; see the module
/// doc), owned, with the byte classes of each and of the raw value: a caller that runs
/// several classes over one value builds them once ([`DecodedViews::of`]) and hands them
/// to each class ([`AttackClass::detect_with_views`]). The views lie back to back in one
/// buffer, which [`DecodedViews::rebuild`] reuses for another value; nothing is
/// allocated for a plain value. The default holds no view and [`ByteClasses::ALL`] as
/// the raw classes, which is right for any plain value (every gate open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedViews {
    raw_classes: ByteClasses,
    /// The attack classes whose gate is open on the raw value
    /// ([`AttackClass::open_gates`]).
    raw_open: u16,
    /// The attack classes whose gate is open on the raw value or some view.
    any_open: u16,
    /// The views, back to back.
    bytes: Vec<u8>,
    /// Where each view starts and ends in `bytes`, its classes and the attack classes
    /// whose gate is open on it (unused entries are zero).
    spans: [Span; MAX_VIEWS - 1],
    len: usize,
}

/// Where a view lies in [`DecodedViews::bytes`], its classes and open gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
    classes: ByteClasses,
    open: u16,
}

impl Span {
    const UNUSED: Span = Span {
        start: 0,
        end: 0,
        classes: ByteClasses::NONE,
        open: 0,
    };
}

/// Every attack class (each gate open).
const ALL_OPEN: u16 = (1 << AttackClass::ALL.len()) - 1;

impl Default for DecodedViews {
    fn default() -> Self {
        DecodedViews {
            raw_classes: ByteClasses::ALL,
            raw_open: ALL_OPEN,
            any_open: ALL_OPEN,
            bytes: Vec::new(),
            spans: [Span::UNUSED; MAX_VIEWS - 1],
            len: 0,
        }
    }
}

impl DecodedViews {
    /// The decoded views of `input` ([`views`] without the raw one).
    pub fn of(input: &[u8]) -> DecodedViews {
        let mut views = DecodedViews::default();
        views.rebuild(input);
        views
    }

    /// Makes these the decoded views of `input` (as [`DecodedViews::of`]), reusing the
    /// buffer.
    pub fn rebuild(&mut self, input: &[u8]) {
        VIEWS_BUILT.with(|count| count.set(count.get() + 1));
        self.bytes.clear();
        self.spans = [Span::UNUSED; MAX_VIEWS - 1];
        self.len = 0;
        let raw_classes = ByteClasses::of(input);
        self.raw_classes = raw_classes;
        self.raw_open = AttackClass::open_gates(raw_classes);
        self.any_open = self.raw_open;
        let (decoded, decoded_classes) = decode_repeatedly(input, raw_classes);
        // A borrowed result is the input itself, already the raw view.
        let decoded_changed = matches!(decoded, Cow::Owned(_));
        if decoded_changed {
            self.push_unless_seen(input, &decoded, decoded_classes);
        }
        if decoded_classes.has_any(classes!(b"\\"))
            && let Cow::Owned(bytes) = unescape_js_css(&decoded)
        {
            let classes = ByteClasses::of(&bytes);
            self.push_unless_seen(input, &bytes, classes);
        }
        // The base64 view is decoded straight into the buffer, then dropped again if an
        // earlier view holds the same bytes.
        let start = self.bytes.len();
        if self.len < MAX_VIEWS - 1
            && let Some(kind) =
                decode_base64_into(input, raw_classes, &mut self.bytes).or_else(|| {
                    decoded_changed
                        .then(|| decode_base64_into(&decoded, decoded_classes, &mut self.bytes))
                        .flatten()
                })
        {
            let candidate = &self.bytes[start..];
            if candidate == input || self.iter().any(|view| view == candidate) {
                self.bytes.truncate(start);
            } else {
                let classes = ByteClasses::of(candidate);
                self.push_span(start, classes, kind.detectors());
            }
        }
    }

    /// Appends `view` of `classes` unless it is the raw `input` or an earlier view.
    fn push_unless_seen(&mut self, input: &[u8], view: &[u8], classes: ByteClasses) {
        if self.len < MAX_VIEWS - 1 && view != input && self.iter().all(|earlier| earlier != view) {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(view);
            self.push_span(start, classes, ALL_OPEN);
        }
    }

    /// Records the view from `start` to the end of the buffer, of `classes`, for the
    /// `detectors` (attack class bits) only.
    fn push_span(&mut self, start: usize, classes: ByteClasses, detectors: u16) {
        let open = AttackClass::open_gates(classes) & detectors;
        self.spans[self.len] = Span {
            start,
            end: self.bytes.len(),
            classes,
            open,
        };
        self.any_open |= open;
        self.len += 1;
    }

    /// The byte classes of the raw value.
    pub fn raw_classes(&self) -> ByteClasses {
        self.raw_classes
    }

    /// Iterates over the decoded views, in [`views`] order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.iter_with_classes().map(|(view, _)| view)
    }

    /// Iterates over the decoded views with their byte classes, in [`views`] order.
    pub fn iter_with_classes(&self) -> impl Iterator<Item = (&[u8], ByteClasses)> {
        self.spans[..self.len]
            .iter()
            .map(|span| (&self.bytes[span.start..span.end], span.classes))
    }

    /// Whether the gate of `class` ([`AttackClass::may_fire`]) is open on the raw
    /// value or on some view: when false, its detector finds nothing in any of them.
    pub fn may_fire(&self, class: AttackClass) -> bool {
        self.any_open & class.bit() != 0
    }

    /// Whether the gate of `class` is open on the raw value.
    pub fn raw_may_fire(&self, class: AttackClass) -> bool {
        self.raw_open & class.bit() != 0
    }

    /// The decoded views, with their classes, on which the gate of `class` is open (in
    /// [`views`] order).
    pub fn gated_views(&self, class: AttackClass) -> impl Iterator<Item = (&[u8], ByteClasses)> {
        let bit = class.bit();
        self.spans[..self.len]
            .iter()
            .filter(move |span| span.open & bit != 0)
            .map(|span| (&self.bytes[span.start..span.end], span.classes))
    }

    /// Bytes held (for callers that bound what they keep).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes allocated (at least [`DecodedViews::heap_bytes`]; a rebuilt value keeps the
    /// buffer of an earlier one).
    pub fn heap_capacity(&self) -> usize {
        self.bytes.capacity()
    }
}

thread_local! {
    static VIEWS_BUILT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many times [`views`] (and so [`DecodedViews::of`] / [`DecodedViews::rebuild`])
/// decoded an input on this thread: lets tests and measurements check that a caller
/// decodes each value once.
pub fn views_built() -> u64 {
    VIEWS_BUILT.with(std::cell::Cell::get)
}

/// Every byte a whole-value base64 text may hold (alphabets, padding, the blanks
/// trimmed around it).
const BASE64_SHAPE: ByteClasses =
    ByteClasses::LETTERS.union(ByteClasses::bytes(b"0+/-_= \t\n\r\x0c"));

/// Produces the bounded set of decoded views of `input`.
pub fn views(input: &[u8]) -> Views<'_> {
    Views {
        raw: input,
        decoded: DecodedViews::of(input),
    }
}

/// Runs every detector (sqli and xss included) over every view of `input`;
/// returns at most one detection per class (the first view that fires wins;
/// its span refers to that view).
pub fn scan_all(input: &[u8]) -> Vec<Detection> {
    let views = views(input);
    let mut detections: Vec<Detection> = Vec::new();
    for class in AttackClass::ALL {
        let detector = class.gated_detector();
        if let Some(detection) = views
            .iter_with_classes()
            .find_map(|(view, classes)| detector(view, classes))
        {
            detections.push(detection);
        }
    }
    detections
}

/// One class's detector over every view of `input` (`CLASS` indexes
/// [`AttackClass::ALL`]); a detection on a decoded view spans the whole input,
/// since its offsets refer to bytes the input does not hold.
fn in_views<const CLASS: usize>(input: &[u8]) -> Option<Detection> {
    let detector = AttackClass::ALL[CLASS].gated_detector();
    let views = views(input);
    let mut views = views.iter_with_classes();
    let (raw, raw_classes) = views.next()?;
    if let Some(found) = detector(raw, raw_classes) {
        return Some(found);
    }
    in_decoded(detector, input, views)
}

/// The first detection of `detector` in the decoded views of `input` (after the raw
/// input did not fire), spanning the whole input.
pub(crate) fn in_decoded<'v>(
    detector: GatedDetector,
    input: &[u8],
    mut decoded: impl Iterator<Item = (&'v [u8], ByteClasses)>,
) -> Option<Detection> {
    decoded
        .find_map(|(view, classes)| detector(view, classes))
        .map(|mut found| {
            found.span = 0..input.len();
            found
        })
}

/// [`in_views`] for each class, in [`AttackClass::ALL`] order (what
/// [`AttackClass::detector`] hands out).
pub(crate) const IN_VIEWS: [crate::Detector; AttackClass::ALL.len()] = [
    in_views::<0>,
    in_views::<1>,
    in_views::<2>,
    in_views::<3>,
    in_views::<4>,
    in_views::<5>,
    in_views::<6>,
    in_views::<7>,
    in_views::<8>,
    in_views::<9>,
    in_views::<10>,
    in_views::<11>,
    in_views::<12>,
];

/// The classes [`scan_all`] reports for `input` (the shape [`crate::eval::evaluate`] wants).
pub fn classify(input: &[u8]) -> Vec<AttackClass> {
    scan_all(input)
        .into_iter()
        .map(|detection| detection.class)
        .collect()
}

/// URL/entity rounds until nothing changes (at most [`MAX_DECODE_ROUNDS`]), for
/// `input` of `classes`; returns the result and its classes. A round runs only
/// when its input holds a byte it may change, and the classes of each round's
/// output (which the caller needs for the last one anyway) tell whether another
/// round can change anything.
fn decode_repeatedly(input: &[u8], classes: ByteClasses) -> (Cow<'_, [u8]>, ByteClasses) {
    let mut current = Cow::Borrowed(input);
    let mut classes = classes;
    for round in 0..MAX_DECODE_ROUNDS {
        // `+` means space only in the raw form encoding, not after `%2B` was decoded.
        let plus_is_space = round == 0;
        match decode_round(&current, classes, plus_is_space) {
            Cow::Borrowed(_) => break,
            Cow::Owned(next) => {
                classes = ByteClasses::of(&next);
                current = Cow::Owned(next);
            }
        }
    }
    (current, classes)
}

/// Bytes the URL layer of [`decode_round`] may change: URL escapes, `+`, and the lead
/// bytes of overlong UTF-8 (C0, C1, E0), fullwidth ASCII (EF) and the folded slashes
/// (E2). Other UTF-8 text (accents, Cyrillic, CJK) passes untouched. A table: the
/// decoder tests every byte of every value.
const URL_LAYER_BYTES: [bool; 256] = crate::byte_set(b"%+\xC0\xC1\xE0\xE2\xEF");

/// [`URL_LAYER_BYTES`] as classes, without `+` (which changes only when it means a space).
const URL_LAYER: ByteClasses = ByteClasses::bytes(b"%\xC0\xC1\xE0\xE2\xEF");

/// One round of URL (`%XX`, `%uXXXX`, `+`), HTML entity and overlong UTF-8
/// decoding. Borrowed when nothing changed. Output is never longer than input.
pub fn decode_once(input: &[u8]) -> Cow<'_, [u8]> {
    decode_round(input, ByteClasses::ALL, true)
}

/// One decoding round over `input` of `classes` (or a superset): URL-level decoding
/// over the whole input first, then HTML entities over its result. The layers are
/// undone in the order they were applied outside in: `&#x3c%3B` (an entity whose
/// `;` was URL-encoded, as in a cookie) decodes to `<`, not `<;`. A layer runs only
/// when the input holds a byte it may change.
fn decode_round(input: &[u8], classes: ByteClasses, plus_is_space: bool) -> Cow<'_, [u8]> {
    let url_bytes = if plus_is_space {
        URL_LAYER.union(classes!(b"+"))
    } else {
        URL_LAYER
    };
    let url_decoded = if classes.has_any(url_bytes) {
        decode_url_layer(input, classes, plus_is_space)
    } else {
        Cow::Borrowed(input)
    };
    match url_decoded {
        Cow::Borrowed(input) if !classes.has_any(classes!(b"&")) => Cow::Borrowed(input),
        Cow::Borrowed(input) => decode_entity_layer(input),
        Cow::Owned(url_decoded) => match decode_entity_layer(&url_decoded) {
            Cow::Borrowed(_) => Cow::Owned(url_decoded),
            Cow::Owned(decoded) => Cow::Owned(decoded),
        },
    }
}

/// HTML entities (numeric and [`NAMED_ENTITIES`]). Borrowed when nothing changed; the
/// output is built only from the first entity on (an `&` that starts none, as between
/// form fields, costs no copy).
fn decode_entity_layer(input: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    // `input[..copied]` is accounted for in `out`.
    let mut copied = 0usize;
    for at in memchr::memchr_iter(b'&', input) {
        if at < copied {
            // Inside an entity already decoded (none holds `&`; kept for clarity).
            continue;
        }
        let (consumed, value) = html_entity(&input[at..]);
        if consumed == 0 {
            continue;
        }
        let out = out.get_or_insert_with(|| Vec::with_capacity(input.len()));
        out.extend_from_slice(&input[copied..at]);
        push_code_point(out, value);
        copied = at + consumed;
    }
    let Some(mut out) = out else {
        return Cow::Borrowed(input);
    };
    out.extend_from_slice(&input[copied..]);
    if out.as_slice() == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(out)
    }
}

/// URL (`%XX`, `%uXXXX`, `+`), overlong UTF-8, fullwidth ASCII and slash
/// folding. Borrowed when nothing changed.
fn decode_url_layer(input: &[u8], classes: ByteClasses, plus_is_space: bool) -> Cow<'_, [u8]> {
    // Without a lead byte to fold, only `%` (and `+`) matter: found by memchr.
    let folds = classes.has_any(classes!(b"\xC0\xC1\xE0\xE2\xEF"));
    // The index of the next byte the layer may change, from `from` on.
    let special_from = |from: usize| -> Option<usize> {
        let rest = &input[from..];
        let offset = if folds {
            rest.iter()
                .position(|&byte| URL_LAYER_BYTES[usize::from(byte)])
        } else if plus_is_space {
            memchr::memchr2(b'%', b'+', rest)
        } else {
            // A `+` after the first round stays a `+`.
            memchr::memchr(b'%', rest)
        };
        offset.map(|offset| from + offset)
    };
    let Some(first) = special_from(0) else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    while i < input.len() {
        // Runs of bytes the layer leaves alone are copied at once.
        let run = special_from(i).map_or(input.len() - i, |at| at - i);
        out.extend_from_slice(&input[i..i + run]);
        i += run;
        let Some(&byte) = input.get(i) else {
            break;
        };
        match byte {
            b'%' => {
                if let Some(value) = hex_value(input.get(i + 1..i + 3)) {
                    out.push(value as u8);
                    i += 3;
                    continue;
                }
                if matches!(input.get(i + 1), Some(b'u' | b'U'))
                    && let Some(value) = hex_value(input.get(i + 2..i + 6))
                {
                    push_code_point(&mut out, value);
                    i += 6;
                    continue;
                }
                out.push(byte);
                i += 1;
            }
            b'+' => {
                out.push(if plus_is_space { b' ' } else { b'+' });
                i += 1;
            }
            0xC0 | 0xC1 if input.get(i + 1).is_some_and(|&next| next & 0xC0 == 0x80) => {
                // Overlong two-byte encoding of an ASCII byte (e.g. C0 AE = '.').
                out.push(((byte & 0x1F) << 6) | (input[i + 1] & 0x3F));
                i += 2;
            }
            0xE0 if input.get(i + 1).is_some_and(|&next| next & 0xE0 == 0x80)
                && input.get(i + 2).is_some_and(|&next| next & 0xC0 == 0x80) =>
            {
                // Overlong three-byte encoding (E0 80..9F xx) of a code point < 0x800.
                let value = (u32::from(input[i + 1] & 0x3F) << 6) | u32::from(input[i + 2] & 0x3F);
                push_code_point(&mut out, value);
                i += 3;
            }
            // Fullwidth ASCII (U+FF01..U+FF5E, e.g. U+FF0E '．') folds to ASCII.
            0xEF if matches!(
                (input.get(i + 1), input.get(i + 2)),
                (Some(0xBC), Some(0x81..=0xBF)) | (Some(0xBD), Some(0x80..=0x9E))
            ) =>
            {
                let value =
                    0xF000 | (u32::from(input[i + 1] & 0x3F) << 6) | u32::from(input[i + 2] & 0x3F);
                out.push(u8::try_from(value.saturating_sub(0xFF00 - 0x20)).unwrap_or(b'?'));
                i += 3;
            }
            // Division slash U+2215 and fraction slash U+2044 fold to '/'.
            0xE2 if matches!(
                (input.get(i + 1), input.get(i + 2)),
                (Some(0x88), Some(0x95)) | (Some(0x81), Some(0x84))
            ) =>
            {
                out.push(b'/');
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    if out.as_slice() == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(out)
    }
}

/// Undoes JS (`\xHH`, `\uHHHH`, `\u{H..}`, `\r`, `\n`) and CSS (`\H{1,6}` +
/// optional space) escapes; other backslashes are kept. Output never longer than input.
pub fn unescape_js_css(input: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'\\', input) else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    while i < input.len() {
        if input[i] != b'\\' {
            out.push(input[i]);
            i += 1;
            continue;
        }
        let rest = &input[i + 1..];
        match rest.first() {
            Some(b'x') if hex_value(rest.get(1..3)).is_some() => {
                push_code_point(&mut out, hex_value(rest.get(1..3)).unwrap_or_default());
                i += 4;
            }
            Some(b'u') if rest.get(1) == Some(&b'{') => {
                let digits = rest[2..]
                    .iter()
                    .take(7)
                    .take_while(|byte| byte.is_ascii_hexdigit())
                    .count();
                if digits > 0 && rest.get(2 + digits) == Some(&b'}') {
                    push_code_point(
                        &mut out,
                        hex_value(rest.get(2..2 + digits)).unwrap_or_default(),
                    );
                    i += 4 + digits;
                } else {
                    out.push(b'\\');
                    i += 1;
                }
            }
            Some(b'u') if hex_value(rest.get(1..5)).is_some() => {
                push_code_point(&mut out, hex_value(rest.get(1..5)).unwrap_or_default());
                i += 6;
            }
            Some(b'r' | b'n') => {
                out.push(if rest[0] == b'r' { b'\r' } else { b'\n' });
                i += 2;
            }
            Some(byte) if byte.is_ascii_hexdigit() => {
                let digits = rest
                    .iter()
                    .take(6)
                    .take_while(|byte| byte.is_ascii_hexdigit())
                    .count();
                push_code_point(&mut out, hex_value(rest.get(..digits)).unwrap_or_default());
                i += 1 + digits;
                if input.get(i) == Some(&b' ') {
                    i += 1;
                }
            }
            _ => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
    if out.as_slice() == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(out)
    }
}

fn hex_value(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits?;
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &byte| {
        let digit = (byte as char).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(digit)
    })
}

fn push_code_point(out: &mut Vec<u8>, value: u32) {
    let ch = char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buffer = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
}

/// Named entities worth decoding for detection purposes.
const NAMED_ENTITIES: &[(&[u8], u32)] = &[
    (b"lt", 0x3C),
    (b"gt", 0x3E),
    (b"amp", 0x26),
    (b"quot", 0x22),
    (b"apos", 0x27),
    (b"sol", 0x2F),
    (b"bsol", 0x5C),
    (b"colon", 0x3A),
    (b"semi", 0x3B),
    (b"lpar", 0x28),
    (b"rpar", 0x29),
    (b"equals", 0x3D),
    (b"num", 0x23),
    (b"percnt", 0x25),
    (b"period", 0x2E),
    (b"comma", 0x2C),
    (b"excl", 0x21),
    (b"grave", 0x60),
    (b"lbrack", 0x5B),
    (b"rbrack", 0x5D),
    (b"lcub", 0x7B),
    (b"rcub", 0x7D),
    (b"vert", 0x7C),
    (b"dollar", 0x24),
    (b"tab", 0x09),
    (b"newline", 0x0A),
    (b"nbsp", 0xA0),
];

/// Parses an HTML entity at the start of `input` (which begins with `&`);
/// returns (bytes consumed, code point) or (0, 0) when there is none.
fn html_entity(input: &[u8]) -> (usize, u32) {
    if input.get(1) == Some(&b'#') {
        let (hex, start) = match input.get(2) {
            Some(b'x' | b'X') => (true, 3),
            _ => (false, 2),
        };
        let digits = input[start.min(input.len())..]
            .iter()
            .take(8)
            .take_while(|byte| {
                if hex {
                    byte.is_ascii_hexdigit()
                } else {
                    byte.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return (0, 0);
        }
        let text = &input[start..start + digits];
        let value = if hex {
            hex_value(Some(text))
        } else {
            std::str::from_utf8(text)
                .ok()
                .and_then(|text| text.parse::<u32>().ok())
        };
        let Some(value) = value else { return (0, 0) };
        let semicolon = usize::from(input.get(start + digits) == Some(&b';'));
        return (start + digits + semicolon, value);
    }
    let name_len = input[1..]
        .iter()
        .take(8)
        .take_while(|byte| byte.is_ascii_alphabetic())
        .count();
    let name = &input[1..1 + name_len];
    if input.get(1 + name_len) != Some(&b';') {
        return (0, 0);
    }
    NAMED_ENTITIES
        .iter()
        .find(|(entity, _)| entity.eq_ignore_ascii_case(name))
        .map_or((0, 0), |&(_, value)| (name_len + 2, value))
}

/// Decodes `input` when the whole trimmed value is base64 (standard or URL-safe
/// alphabet, padding optional) of at least [`MIN_BASE64_LEN`] chars and what it
/// decodes to is text or a serialized stream ([`Base64Content`]). `classes` must be exactly the input's: they rule
/// out other bytes and, without blanks or `=`, tell the alphabet without a look at
/// each byte.
#[cfg(test)]
fn decode_base64_value(input: &[u8], classes: ByteClasses) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    decode_base64_into(input, classes, &mut out).map(|_| out)
}

/// What a base64 value decodes to, when it is a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base64Content {
    /// Text ([`is_text`]): a view for every detector.
    Text,
    /// Binary that opens with the header of a serialized object stream (Java, pickle,
    /// Ruby Marshal, .NET BinaryFormatter, gzip): a view for the deserialization
    /// detector only.
    SerializedStream,
}

impl Base64Content {
    /// The detectors (attack class bits) the view is for.
    fn detectors(self) -> u16 {
        match self {
            Base64Content::Text => ALL_OPEN,
            Base64Content::SerializedStream => AttackClass::Deserialization.bit(),
        }
    }
}

/// Appends what `input` decodes to when the whole trimmed value is base64 of text or
/// of a serialized stream (see `decode_base64_value` and [`Base64Content`]) and says
/// which; appends nothing and returns `None` otherwise. `classes` must be exactly the
/// input's.
fn decode_base64_into(
    input: &[u8],
    classes: ByteClasses,
    out: &mut Vec<u8>,
) -> Option<Base64Content> {
    if !classes.only(BASE64_SHAPE) {
        return None;
    }
    // Without blanks there is nothing to trim.
    let trimmed = if classes.has_any(classes!(b" \t\n\r\x0c")) {
        input.trim_ascii()
    } else {
        input
    };
    if trimmed.len() < MIN_BASE64_LEN {
        return None;
    }
    let body_len = trimmed.len()
        - trimmed
            .iter()
            .rev()
            .take(2)
            .take_while(|&&byte| byte == b'=')
            .count();
    let body = &trimmed[..body_len];
    let (standard, url_safe) = if classes.has_any(classes!(b"= \t\n\r\x0c")) {
        // Blanks and `=` are fine only around the body: look at each byte.
        let mut standard = false;
        let mut url_safe = false;
        for &byte in body {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {}
                b'+' | b'/' => standard = true,
                b'-' | b'_' => url_safe = true,
                _ => return None,
            }
        }
        (standard, url_safe)
    } else {
        // Letters, digits and `+ / - _` only: the body is the input, and its
        // classes say which alphabet it uses.
        (
            classes.has_any(classes!(b"+/")),
            classes.has_any(classes!(b"-_")),
        )
    };
    if (standard && url_safe) || body.len() % 4 == 1 {
        return None;
    }
    let values = if url_safe {
        &URL_SAFE_VALUES
    } else {
        &STANDARD_VALUES
    };
    // Most base64 that is neither shows it in its first bytes: judged before the rest
    // is decoded.
    let content = decoded_start(body, values)?;
    let start = out.len();
    if !decode_base64_body(body, values, out) {
        return None;
    }
    if content == Base64Content::Text && !is_text(&out[start..]) {
        out.truncate(start);
        return None;
    }
    Some(content)
}

/// Whether `bytes` read as text: UTF-8 without control bytes other than the blanks
/// (tab, line feed, vertical tab, form feed, carriage return), but for a few stray
/// bytes: one per 16 bytes and one more (such as the NUL an attacker appends to cut a
/// string), and at most one in the first three. What base64 decodes to is a view only
/// when it is text (or a serialized stream, [`Base64Content`]): binary (images,
/// archives, keys, random tokens that happen to be base64) holds nothing a detector of
/// textual attacks could find, and random bytes read as text only invite false
/// positives. About every other byte of random binary is stray.
pub fn is_text(bytes: &[u8]) -> bool {
    text_start(&bytes[..bytes.len().min(3)])
        && stray_bytes_at_most(bytes, false, bytes.len() / 16 + 1)
}

/// Whether the first three bytes of a text may be `start` ([`is_text`]).
fn text_start(start: &[u8]) -> bool {
    // A sequence cut by the end of the three bytes may go on after them.
    stray_bytes_at_most(start, true, 1)
}

/// Whether `bytes` holds at most `most` stray bytes: control bytes other than blanks,
/// and the bytes of invalid UTF-8 sequences; with `cut_end`, an incomplete sequence at
/// the end (which more bytes may complete) is not counted. Stops counting past `most`.
fn stray_bytes_at_most(bytes: &[u8], cut_end: bool, most: usize) -> bool {
    let mut stray = 0;
    for &byte in bytes {
        stray += usize::from(NOT_TEXT_BYTES[usize::from(byte)]);
        if stray > most {
            return false;
        }
    }
    if bytes.is_ascii() {
        return true;
    }
    let mut rest = bytes;
    while let Err(error) = std::str::from_utf8(rest) {
        let valid = error.valid_up_to();
        let invalid = match error.error_len() {
            Some(invalid) => invalid,
            None if cut_end => 0,
            None => rest.len() - valid,
        };
        stray += invalid;
        if stray > most {
            return false;
        }
        if invalid == 0 {
            break;
        }
        rest = &rest[(valid + invalid).min(rest.len())..];
    }
    true
}

/// The control bytes [`is_text`] counts as stray.
const NOT_TEXT_BYTES: [bool; 256] = {
    let mut set = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        set[byte] = !matches!(byte as u8, b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
        byte += 1;
    }
    set[0x7F] = true;
    set
};

/// What the bytes `body` (base64 in the alphabet of `values`, at least
/// [`MIN_BASE64_LEN`] symbols) decodes to can be, told by the first quad's three
/// bytes: a serialized stream when they open with its header, else a text
/// ([`is_text`]) when they may start one, else neither (`None`, also when a symbol of
/// the quad is outside the alphabet: then the whole body is not base64 either).
fn decoded_start(body: &[u8], values: &[u8; 256]) -> Option<Base64Content> {
    let quad = body.first_chunk::<4>()?;
    let symbols = quad.map(|byte| values[usize::from(byte)]);
    if symbols.iter().any(|&symbol| symbol & 0x80 != 0) {
        return None;
    }
    let bits = symbols
        .iter()
        .fold(0u32, |bits, &symbol| (bits << 6) | u32::from(symbol));
    let [_, first, second, third] = bits.to_be_bytes();
    let bytes = [first, second, third];
    if is_serialized_stream_header(bytes) {
        return Some(Base64Content::SerializedStream);
    }
    text_start(&bytes).then_some(Base64Content::Text)
}

/// Whether three bytes open a binary serialized object stream: Java (`AC ED`), Python
/// pickle protocol 2 to 5 (`80 02`..`80 05`), Ruby Marshal 4.8 (`04 08`), .NET
/// BinaryFormatter (`00 01 00`, its SerializationHeaderRecord) or gzip (`1F 8B`, which
/// Java and .NET payloads are often wrapped in).
fn is_serialized_stream_header(bytes: [u8; 3]) -> bool {
    matches!(
        bytes,
        [0xAC, 0xED, _] | [0x80, 2..=5, _] | [0x04, 0x08, _] | [0x00, 0x01, 0x00] | [0x1F, 0x8B, _]
    )
}

/// Decodes a base64 body without padding (length not 1 modulo 4) whose every byte is
/// in the alphabet of `values`: four symbols make three bytes, a final two or three
/// make one or two, and the bits left over are ignored. Appends nothing and returns
/// false when a byte is outside the alphabet.
fn decode_base64_body(body: &[u8], values: &[u8; 256], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let whole = body.len() / 4 * 4;
    // The whole quads' bytes are written in place, without a capacity check each.
    out.resize(start + whole / 4 * 3, 0);
    // Every symbol's value is < 64; an invalid byte maps to 0xFF and sets bit 7 here.
    let mut invalid = decode_base64_quads(&body[..whole], values, &mut out[start..]);
    let rest = &body[whole..];
    if rest.len() >= 2 {
        let mut bits = 0u32;
        for (index, &byte) in rest.iter().enumerate() {
            let symbol = values[usize::from(byte)];
            invalid |= symbol;
            bits |= u32::from(symbol) << (18 - 6 * index);
        }
        out.extend_from_slice(&bits.to_be_bytes()[1..rest.len()]);
    } else if rest.len() == 1 {
        invalid = 0x80;
    }
    if invalid & 0x80 != 0 {
        out.truncate(start);
        return false;
    }
    true
}

/// The value of each byte in a base64 alphabet whose last two symbols are `s62` and
/// `s63`, 0xFF for bytes outside it.
const fn base64_values(s62: u8, s63: u8) -> [u8; 256] {
    let mut values = [0xFF; 256];
    let mut index = 0;
    while index < 26 {
        values[b'A' as usize + index] = index as u8;
        values[b'a' as usize + index] = 26 + index as u8;
        index += 1;
    }
    index = 0;
    while index < 10 {
        values[b'0' as usize + index] = 52 + index as u8;
        index += 1;
    }
    values[s62 as usize] = 62;
    values[s63 as usize] = 63;
    values
}

/// Symbol values of the standard (`+ /`) and URL-safe (`- _`) alphabets.
static STANDARD_VALUES: [u8; 256] = base64_values(b'+', b'/');
static URL_SAFE_VALUES: [u8; 256] = base64_values(b'-', b'_');

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    /// What the base64 oracle accepts: padding optional, stray trailing bits allowed.
    const BASE64_CONFIG: base64::engine::GeneralPurposeConfig =
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true);

    /// The `base64` crate's decoders: the oracle of [`decode_base64_body`].
    static STANDARD_BASE64: base64::engine::GeneralPurpose =
        base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, BASE64_CONFIG);
    static URL_SAFE_BASE64: base64::engine::GeneralPurpose =
        base64::engine::GeneralPurpose::new(&base64::alphabet::URL_SAFE, BASE64_CONFIG);

    fn all_views(input: &[u8]) -> Vec<Vec<u8>> {
        views(input).iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn double_url_encoding_is_undone() {
        assert!(all_views(b"%252e%252e%252fetc").contains(&b"../etc".to_vec()));
    }

    #[test]
    fn percent_u_html_and_overlong_are_folded() {
        assert_eq!(
            decode_repeatedly(b"%u002e&#x2f;&lt;%c0%ae", ByteClasses::ALL)
                .0
                .as_ref(),
            b"./<."
        );
    }

    #[test]
    fn url_layer_is_undone_before_entities() {
        assert_eq!(
            decode_repeatedly(b"&#x3c%3B&#x73%3Bvg&#x3e%3B", ByteClasses::ALL)
                .0
                .as_ref(),
            b"<svg>"
        );
    }

    #[test]
    fn js_and_css_escapes_get_their_own_view() {
        let views = all_views(b"\\x3cscript\\u003e\\3c img");
        assert!(views.contains(&b"<script><img".to_vec()), "{views:?}");
        assert_eq!(views[0], b"\\x3cscript\\u003e\\3c img".to_vec());
    }

    #[test]
    fn base64_value_is_decoded_only_when_whole_value_is_base64() {
        assert!(all_views(b"Y2F0IC9ldGMvcGFzc3dk").contains(&b"cat /etc/passwd".to_vec()));
        assert_eq!(all_views(b"hello world, not base64!").len(), 1);
    }

    #[test]
    fn base64_of_binary_is_a_view_only_for_a_serialized_stream() {
        // `vvvv…` is valid base64 of bytes that are no text (0xBE 0xFB 0xEF …).
        let binary = "v".repeat(60);
        assert_eq!(all_views(binary.as_bytes()).len(), 1);
        // The same length of base64 of text is a view.
        assert!(all_views(b"dnZ2dnZ2dnZ2dnZ2").contains(&b"vvvvvvvvvvvv".to_vec()));
        // A pickle (protocol 3) stream: binary, a view for the deserialization detector.
        let pickle = b"gANjcG9zaXgKc3lzdGVtCnEAWAIAAABpZHEBhXECUnEDLg==";
        let decoded = DecodedViews::of(pickle);
        assert_eq!(decoded.iter().count(), 1);
        assert!(
            decoded
                .iter()
                .all(|view| view.starts_with(b"\x80\x03cposix\nsystem"))
        );
        for class in AttackClass::ALL {
            assert_eq!(
                decoded.gated_views(class).count(),
                usize::from(class == AttackClass::Deserialization),
                "{class}"
            );
        }
        assert!(AttackClass::Deserialization.detector()(pickle).is_some());
    }

    #[test]
    fn is_text_allows_few_control_bytes_and_invalid_utf8() {
        assert!(is_text(b"plain\ttext\r\n"));
        assert!(is_text("caf\u{e9} \u{4e2d}\u{6587}".as_bytes()));
        // One stray byte per 16, and one more.
        assert!(is_text(b"../../etc/passwd\x00.png"));
        assert!(is_text(b"caf\xe9"));
        assert!(!is_text(b"nul\x00and\x01"));
        assert!(!is_text(b"\x7f\x7f"));
        assert!(!is_text(b"\xbe\xfb\xef\xbe\xfb\xef"));
        assert!(!is_text(&[
            0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n', 0, 0, 0, 0x0D
        ]));
    }

    #[test]
    fn operator_detectors_run_their_own_class_over_the_decoded_views() {
        for (index, class) in AttackClass::ALL.into_iter().enumerate() {
            assert_eq!(
                class as usize, index,
                "IN_VIEWS is indexed by declaration order"
            );
        }
        let encoded: [(AttackClass, &[u8]); 3] = [
            (AttackClass::Xss, b"%253Csvg%2520onload%253Dalert(1)%253E"),
            (
                AttackClass::PathTraversal,
                b"%252e%252e%252f%252e%252e%252fetc%252fpasswd",
            ),
            (AttackClass::CmdInjection, b"O2NhdCAvZXRjL3Bhc3N3ZA=="),
        ];
        for (class, input) in encoded {
            assert_eq!(class.raw_detector()(input), None, "{class} raw");
            let found = class.detector()(input).unwrap_or_else(|| panic!("{class} in views"));
            assert_eq!(found.class, class);
            assert_eq!(
                found.span,
                0..input.len(),
                "a decoded view's finding spans the input"
            );
        }
    }

    #[test]
    fn detection_over_views_built_once_equals_the_operator_detector() {
        let inputs: [&[u8]; 6] = [
            b"%253Csvg%2520onload%253Dalert(1)%253E",
            b"O2NhdCAvZXRjL3Bhc3N3ZA==",
            b"1' or '1'='1",
            b"value+number+0001",
            b"..\\..\\boot.ini",
            b"plain",
        ];
        for input in inputs {
            let before = views_built();
            let decoded = DecodedViews::of(input);
            assert_eq!(views_built(), before + 1);
            for class in AttackClass::ALL {
                let detection = class.detect_with_views(input, || &decoded);
                assert_eq!(
                    detection,
                    class.detector()(input),
                    "{class} on {:?}",
                    String::from_utf8_lossy(input)
                );
                assert_eq!(
                    class.fires_with_views(input, &decoded),
                    detection.is_some(),
                    "{class} on {:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn plain_input_has_one_borrowed_view() {
        let views = views(b"just a plain sentence");
        assert_eq!(views.len(), 1);
    }

    #[test]
    fn views_are_bounded_in_count_and_size() {
        let input = "%25".repeat(1000);
        let views = views(input.as_bytes());
        assert!(views.len() <= MAX_VIEWS);
        assert!(views.iter().all(|view| view.len() <= input.len()));
    }

    /// The decoder told an input's true classes (which skips layers and picks the
    /// memchr scan) decodes as when told every class is present (every layer, the
    /// byte-table scan).
    fn assert_class_skips_change_nothing(input: &[u8]) {
        let classes = ByteClasses::of(input);
        for plus_is_space in [true, false] {
            assert_eq!(
                decode_round(input, classes, plus_is_space),
                decode_round(input, ByteClasses::ALL, plus_is_space),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        let (decoded, decoded_classes) = decode_repeatedly(input, classes);
        assert_eq!(decoded, decode_repeatedly(input, ByteClasses::ALL).0);
        assert_eq!(decoded_classes, ByteClasses::of(&decoded));
    }

    #[test]
    fn class_skips_change_no_decoding_of_the_corpus() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
        let mut lines = 0;
        for kind in ["attacks", "benign"] {
            for entry in std::fs::read_dir(corpus.join(kind)).expect("corpus directory") {
                let path = entry.expect("corpus entry").path();
                for line in crate::eval::read_lines(&path).expect("corpus file") {
                    assert_class_skips_change_nothing(&line);
                    lines += 1;
                }
            }
        }
        assert!(lines > 15_000, "{lines} corpus lines");
    }

    /// What the whole-value base64 check of [`decode_base64_value`] decodes, byte by
    /// byte with the `base64` crate, whether or not it makes a view ([`makes_a_view`]).
    fn base64_by_bytes(input: &[u8]) -> Option<Vec<u8>> {
        let trimmed = input.trim_ascii();
        if trimmed.len() < MIN_BASE64_LEN {
            return None;
        }
        let padding = trimmed
            .iter()
            .rev()
            .take(2)
            .take_while(|&&byte| byte == b'=')
            .count();
        let body = &trimmed[..trimmed.len() - padding];
        let (mut standard, mut url_safe) = (false, false);
        for &byte in body {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {}
                b'+' | b'/' => standard = true,
                b'-' | b'_' => url_safe = true,
                _ => return None,
            }
        }
        if (standard && url_safe) || body.len() % 4 == 1 {
            return None;
        }
        let engine = if url_safe {
            &URL_SAFE_BASE64
        } else {
            &STANDARD_BASE64
        };
        engine.decode(body).ok()
    }

    /// Whether base64 that decodes to `decoded` makes a view: text or a serialized stream.
    fn makes_a_view(decoded: &[u8]) -> bool {
        is_text(decoded)
            || decoded
                .first_chunk::<3>()
                .is_some_and(|&start| is_serialized_stream_header(start))
    }

    #[test]
    fn base64_values_are_recognised_from_their_classes_as_byte_by_byte() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
        let (mut decoded, mut viewed) = (0, 0);
        for kind in ["attacks", "benign"] {
            for entry in std::fs::read_dir(corpus.join(kind)).expect("corpus directory") {
                let path = entry.expect("corpus entry").path();
                for line in crate::eval::read_lines(&path).expect("corpus file") {
                    let expected = base64_by_bytes(&line);
                    decoded += usize::from(expected.is_some());
                    let expected = expected.filter(|decoded| makes_a_view(decoded));
                    viewed += usize::from(expected.is_some());
                    assert_eq!(
                        decode_base64_value(&line, ByteClasses::of(&line)),
                        expected,
                        "{:?}",
                        String::from_utf8_lossy(&line)
                    );
                }
            }
        }
        assert!(decoded > 100, "only {decoded} base64 lines");
        assert!(
            viewed > 20,
            "only {viewed} base64 lines of text or serialized streams"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        #[test]
        fn base64_recognition_matches_the_byte_by_byte_check(
            input in proptest::prop_oneof![
                // The alphabets alone (the path decided by the classes) ...
                proptest::collection::vec(
                    proptest::sample::select(b"aZ09+/-_".to_vec()),
                    10..40,
                ),
                // ... and with blanks, padding and a stray byte (the byte-by-byte path).
                proptest::collection::vec(
                    proptest::sample::select(b"aZ09+/-_= \t\n\x0b\x0c.".to_vec()),
                    0..40,
                ),
            ]
        ) {
            proptest::prop_assert_eq!(
                decode_base64_value(&input, ByteClasses::of(&input)),
                base64_by_bytes(&input).filter(|decoded| makes_a_view(decoded))
            );
        }

        #[test]
        fn class_skips_change_no_decoding(
            input in proptest::collection::vec(
                proptest::sample::select(
                    b"%+&#;xX0aAfF9uU2Bc3ClLtT \\\xc0\xc1\xae\xe0\x80\xe2\x88\x95\xef\xbc\x8e".to_vec()
                ),
                0..48,
            )
        ) {
            assert_class_skips_change_nothing(&input);
        }
    }
}
