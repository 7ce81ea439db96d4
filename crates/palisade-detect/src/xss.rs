//! Cross-site scripting detector.
//!
//! # What
//! Finds input that makes a browser run script wherever it is reflected:
//! - markup (text context): script-executing tags (`<script>`, `<iframe>`,
//!   `<object>`, `<embed>`, `<applet>`, `<base href>`, `<meta http-equiv=refresh>`,
//!   `<link rel=import>`) and attributes on any tag, SVG and MathML included —
//!   `on*=` event handlers, `javascript:`/`vbscript:`/`data:text/html` URLs in
//!   URL attributes (`href`, `src`, `action`, `formaction`, `xlink:href`,
//!   SVG `values`/`to`…), `srcdoc`, and `style` with `expression(`,
//!   `url(javascript:…)`, `-moz-binding`, `behavior`;
//! - attribute context: a quote that closes the value followed by such an
//!   attribute (`" onmouseover="alert(1)`), or unquoted-value injection
//!   (`x onerror=alert(1)`);
//! - URL context: a value that *is* a script URL (`javascript:alert(1)`);
//! - JavaScript string context: a quote that ends the string followed by an
//!   operator and a call (`'-alert(1)-'`, `";alert(1)//`), `${…}` template
//!   injection, and `</script>` breakouts;
//! - CSS context: `expression(` and `url(javascript:` anywhere in the input.
//!
//! # Why / design
//! Everything is built on [`html`], an HTML5-style tokenizer, so harmless
//! markup from rich-text editors (`<p style="color:red">`, `<a href="https://x">`,
//! `<b>`, `<3`, `a < b`) is judged by what it is rather than by keywords.
//! Attribute values are decoded (character references, the tab/newline
//! stripping browsers apply to URL schemes, CSS comments and escapes) as a
//! stream, never into a buffer, before they are judged; values that contain
//! markup are tokenized again (one level) to catch mutation payloads hidden
//! in attributes. All scans are single passes or are bounded by the next
//! quote, so the detector is linear and allocates only the fingerprint of a
//! detection.
//!
//! # Gate
//! Every payload holds a tag opener `<`, an attribute `=`, a quote, backtick
//! or `$` to break out of a string, a URL scheme's `:` (or `&`, which may
//! encode one), or a call's `(`; a value with none of them is skipped. The
//! input's byte classes then pick the scans that can fire:
//! markup only with `<`, script URLs only with `:`/`&` or a call, injected
//! attributes only with `=`, breakouts only with a quote and a call, CSS only
//! with `@`, `\` or a `(` after `:`/`=`.
//!
//! # Example
//! `<svg/onload=alert&#40;1&#41;>` → `Xss`, fingerprint `attr:onload`.
//!
//! # References
//! CWE-79; OWASP CRS REQUEST-941-APPLICATION-ATTACK-XSS (941100 libinjection,
//! 941110–941380); WHATWG HTML §13.2.5 (tokenization).
#![forbid(unsafe_code)]

mod html;

use html::{Attribute, AttributeMode, Attributes, Decoded, Tag, Tokenizer};

use crate::{AttackClass, ByteClasses, Detection};

/// How many times attribute values holding markup are tokenized again.
const MAX_NESTING: u8 = 2;
/// Characters of a value inspected by the JavaScript / URL checks.
const MAX_VALUE_CHARS: usize = 4096;
/// Bytes a string-breakout probe looks ahead.
const MAX_BREAKOUT_LOOKAHEAD: usize = 256;

/// Which of the bytes the scans depend on occur in an input; the input's
/// [`ByteClasses`] decide which scans can possibly find anything.
#[derive(Clone, Copy)]
struct Present(u8);

impl Present {
    /// `<`: markup to tokenize.
    const TAG: u8 = 1;
    /// `=`: an attribute (injected attribute text needs one).
    const EQUALS: u8 = 2;
    /// `(`, `` ` ``, `[`: a call or computed member, needed by every JS breakout.
    const CALL: u8 = 4;
    /// `@`, `\`: CSS `@import`, or a CSS escape that may spell anything.
    const CSS_AT_OR_ESCAPE: u8 = 8;
    /// A quote, backtick or `$`: where breakout probes start.
    const QUOTE: u8 = 16;
    /// `:` or `&` (which may encode one): a URL scheme.
    const SCHEME: u8 = 32;
    /// `(`: a call, or CSS `expression(` / `url(`.
    const PAREN: u8 = 64;
    /// `:` itself.
    const COLON: u8 = 128;
    /// Bytes at least one of which every detectable payload contains (tag
    /// opener, quote, backtick, `$`, URL colon, call parenthesis, attribute
    /// `=`, character reference); input without any of them is returned at once.
    const ANY_PAYLOAD: u8 = Self::TAG | Self::EQUALS | Self::QUOTE | Self::SCHEME | Self::PAREN;

    /// Each flag and the bytes that set it.
    const FLAGS: [(u8, ByteClasses); 8] = [
        (Self::TAG, ByteClasses::bytes(b"<")),
        (Self::EQUALS, ByteClasses::bytes(b"=")),
        (Self::CALL, ByteClasses::bytes(b"(`[")),
        (Self::CSS_AT_OR_ESCAPE, ByteClasses::bytes(b"@\\")),
        (Self::QUOTE, ByteClasses::bytes(b"\"'`$")),
        (Self::SCHEME, ByteClasses::bytes(b":&")),
        (Self::PAREN, ByteClasses::bytes(b"(")),
        (Self::COLON, ByteClasses::bytes(b":")),
    ];

    /// Whether [`css_danger`] over the raw bytes can find anything. Without a
    /// CSS escape every character it judges is a byte of the input, and each
    /// of its findings needs `@` (`@import`) or a `(` with a `:` or `=`
    /// before it (`:expression(`, `=expression(`, `url(javascript:`,
    /// `-moz-binding:url(`, `behavior:url(`).
    fn css_possible(self) -> bool {
        self.has(Self::CSS_AT_OR_ESCAPE)
            || self.has(Self::PAREN) && self.has(Self::COLON | Self::EQUALS)
    }

    /// The flags of each byte value ([`Present::FLAGS`] as a table).
    const TABLE: [u8; 256] = {
        let mut table = [0u8; 256];
        let mut byte = 0;
        while byte < 256 {
            let class = ByteClasses::bytes(&[byte as u8]);
            let mut flag = 0;
            while flag < Self::FLAGS.len() {
                if class.has_any(Self::FLAGS[flag].1) {
                    table[byte] |= Self::FLAGS[flag].0;
                }
                flag += 1;
            }
            byte += 1;
        }
        table
    };

    /// The flags of an input of `classes`.
    fn of_classes(classes: ByteClasses) -> Present {
        Present(
            Self::FLAGS
                .iter()
                .filter(|(_, bytes)| classes.has_any(*bytes))
                .fold(0u8, |seen, (flag, _)| seen | flag),
        )
    }

    /// The flags of `input`, in one pass over it: cheaper than its full
    /// [`ByteClasses`] when nothing else needs them.
    fn of_bytes(input: &[u8]) -> Present {
        let add = |seen, &byte: &u8| seen | Self::TABLE[usize::from(byte)];
        // Eight bytes a round: the loop's own cost spread over more lookups.
        let (chunks, rest) = input.as_chunks::<8>();
        let seen = chunks
            .iter()
            .fold(0u8, |seen, chunk| chunk.iter().fold(seen, add));
        Present(rest.iter().fold(seen, add))
    }

    fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }
}

/// The bytes of [`Present::ANY_PAYLOAD`]: a value holding none of them is skipped.
const ANY_PAYLOAD_BYTES: ByteClasses = ByteClasses::bytes(b"<=\"'`$:&(");

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    scan(input, Present::of_bytes(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    classes.has_any(ANY_PAYLOAD_BYTES)
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    scan(input, Present::of_classes(classes))
}

/// The scans `present` allows, in order.
fn scan(input: &[u8], present: Present) -> Option<Detection> {
    if !present.has(Present::ANY_PAYLOAD) {
        return None;
    }
    if present.has(Present::TAG)
        && let Some(found) = scan_markup(input, 0, 0)
    {
        return Some(found);
    }
    // A sink call needs a call; a script or data URL needs its colon.
    if present.has(Present::CALL | Present::SCHEME)
        && let Some(found) = scan_script_url(input)
    {
        return Some(found);
    }
    // Injected attributes need an `=`; string breakouts and `${…}` need a
    // quote (or `$`) and a call after a name.
    let attributes = present.has(Present::EQUALS);
    let calls =
        present.has(Present::QUOTE) && present.has(Present::CALL) && js_call_possible(input);
    if (attributes || calls)
        && let Some(found) = scan_quote_breakouts(input, attributes, calls)
    {
        return Some(found);
    }
    if !present.css_possible() || !css_finding_possible(input, present) {
        return None;
    }
    css_danger(input.iter().map(|&b| u32::from(b))).map(|what| finding(what, "", 0..input.len(), 8))
}

fn finding(kind: &str, detail: &str, span: std::ops::Range<usize>, score: u8) -> Detection {
    let mut fingerprint = String::with_capacity(kind.len() + detail.len() + 1);
    fingerprint.push_str(kind);
    if !detail.is_empty() {
        fingerprint.push(':');
        fingerprint.push_str(detail);
    }
    Detection {
        class: AttackClass::Xss,
        score,
        span,
        fingerprint,
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_ascii_lowercase()
}

/// The local part of a possibly namespaced name (`x:script` → `script`).
fn local_name(name: &[u8]) -> &[u8] {
    name.rsplit(|&b| b == b':').next().unwrap_or(name)
}

/// `word` in ASCII lower case in `buf`; `None` when longer than `N` (then
/// it is none of the short names this module compares against).
fn lowercase<'b, const N: usize>(word: &[u8], buf: &'b mut [u8; N]) -> Option<&'b [u8]> {
    let out = buf.get_mut(..word.len())?;
    out.copy_from_slice(word);
    out.make_ascii_lowercase();
    Some(out)
}

/// Tags that run or embed active content by themselves (namespace prefixes,
/// as in `<x:script xmlns:x="http://www.w3.org/1999/xhtml">`, are ignored).
fn dangerous_tag(name: &[u8]) -> bool {
    // Every name below has 5 to 8 letters; most markup (`a`, `p`, `b`, `img`, `span`) has fewer.
    if !(5..=8).contains(&name.len()) && !name.contains(&b':') {
        return false;
    }
    let mut buf = [0u8; 8];
    lowercase(local_name(name), &mut buf).is_some_and(|name| {
        matches!(
            name,
            b"script"
                | b"iframe"
                | b"frame"
                | b"object"
                | b"embed"
                | b"applet"
                | b"portal"
                | b"vmlframe"
        )
    })
}

/// A frame (`<iframe>`, `<frame>`, `<portal>`) whose `src` is an ordinary
/// URL (`https://www.youtube.com/embed/…`, a relative path). Such a frame
/// loads a document in that document's own origin — an embed the site may
/// allow in rich text, not script running in the page. What makes a frame
/// execute script in the page's origin is judged per attribute before this is
/// asked: event handlers, `srcdoc`, `javascript:`/`vbscript:` and `data:`
/// sources. A frame without `src` stays suspicious (it is only useful with
/// one of those, or as injected markup waiting for one).
fn frame_of_plain_url(tag: &Tag<'_>, mode: AttributeMode) -> bool {
    let name = local_name(tag.name);
    let is_frame = [&b"iframe"[..], b"frame", b"portal"]
        .iter()
        .any(|frame| name.eq_ignore_ascii_case(frame));
    is_frame
        && attribute_value(tag, b"src", mode).is_some_and(|src| {
            !src.trim_ascii().is_empty() && classify_url(Decoded::new(src)) == UrlKind::Plain
        })
}

/// Attributes whose value the browser treats as a URL to load or navigate to.
fn url_attribute(name: &[u8]) -> bool {
    let mut buf = [0u8; 10];
    lowercase(name, &mut buf).is_some_and(|name| {
        matches!(
            name,
            b"href"
                | b"src"
                | b"action"
                | b"formaction"
                | b"data"
                | b"xlink:href"
                | b"background"
                | b"dynsrc"
                | b"lowsrc"
                | b"poster"
                | b"codebase"
                | b"code"
                | b"classid"
                | b"cite"
                | b"longdesc"
                | b"usemap"
                | b"profile"
                | b"values"
                | b"to"
                | b"from"
                | b"by"
                | b"srcset"
                | b"ping"
                | b"manifest"
                | b"icon"
                | b"archive"
                | b"datasrc"
                | b"folder"
        )
    })
}

/// `on` followed by at least three letters: an event-handler attribute.
fn event_handler(name: &[u8]) -> bool {
    name.len() >= 5
        && name[..2].eq_ignore_ascii_case(b"on")
        && name[2..].iter().all(u8::is_ascii_alphabetic)
}

/// What a URL value does when followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlKind {
    Plain,
    /// `javascript:`, `vbscript:`, `livescript:`.
    Script,
    /// `data:` with a type that renders markup or script.
    DataActive,
    /// Other `data:` URLs (images…), active only where script is loaded.
    DataOther,
}

/// Classifies a URL the way a browser reads its scheme: leading controls and
/// blanks dropped, tab/CR/LF removed anywhere, case folded.
/// Reading stops as soon as the characters read cannot begin any of these
/// schemes, so an ordinary URL or word costs a character or two.
fn classify_url(chars: impl Iterator<Item = u32>) -> UrlKind {
    const SCHEMES: [&[u8]; 4] = [b"javascript:", b"vbscript:", b"livescript:", b"data:"];
    let mut buf = [0u8; 40];
    let mut len = 0;
    for code in chars {
        if len == buf.len() {
            break;
        }
        if len == 0 && code <= 0x20 || matches!(code, 0x09 | 0x0a | 0x0d | 0x00) {
            continue;
        }
        buf[len] = u8::try_from(code).map_or(0xff, |b| b.to_ascii_lowercase());
        len += 1;
        if len <= SCHEMES[0].len()
            && !SCHEMES.iter().any(|scheme| {
                let common = len.min(scheme.len());
                scheme[..common] == buf[..common]
            })
        {
            return UrlKind::Plain;
        }
    }
    let url = &buf[..len];
    if url.starts_with(b"javascript:")
        || url.starts_with(b"vbscript:")
        || url.starts_with(b"livescript:")
    {
        return UrlKind::Script;
    }
    let Some(media) = url.strip_prefix(b"data:") else {
        return UrlKind::Plain;
    };
    let active = [
        &b"text/html"[..],
        b"image/svg+xml",
        b"application/xhtml+xml",
        b"text/xml",
        b"application/xml",
        b"text/javascript",
        b"application/javascript",
        b"application/x-javascript",
        b"text/ecmascript",
        b"application/ecmascript",
    ];
    if active.iter().any(|m| media.starts_with(m)) {
        UrlKind::DataActive
    } else {
        UrlKind::DataOther
    }
}

fn is_js_ident(code: u32) -> bool {
    char::from_u32(code).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Whether decoded text does something as JavaScript: a call (`f(…)`,
/// `` f`…` ``), a computed member access (`top['x']`) or an assignment
/// (`location=…`).
fn looks_like_js(chars: impl Iterator<Item = u32>) -> bool {
    let mut previous = 0u32;
    for code in chars.take(MAX_VALUE_CHARS) {
        match code {
            0x28 | 0x60 | 0x5b if is_js_ident(previous) || previous == 0x29 || previous == 0x5d => {
                return true;
            }
            0x3d if is_js_ident(previous) || previous == 0x5d => return true,
            _ => {}
        }
        if !matches!(code, 0x20 | 0x09 | 0x0a | 0x0d) {
            previous = code;
        }
    }
    false
}

/// The last significant characters of a CSS stream, as a ring buffer (no
/// shifting per character; suffixes are compared in place, newest first, so
/// most comparisons end at their first character).
struct CssWindow {
    ring: [u8; 32],
    written: usize,
}

impl CssWindow {
    fn push(&mut self, byte: u8) {
        self.ring[self.written % self.ring.len()] = byte;
        self.written += 1;
    }

    /// Whether the window without its newest `skip` characters ends with `pattern`.
    fn ends_with(&self, skip: usize, pattern: &[u8]) -> bool {
        let len = self.written.min(self.ring.len());
        pattern.len() + skip <= len
            && pattern.iter().rev().enumerate().all(|(i, &byte)| {
                self.ring[(self.written - 1 - skip - i) % self.ring.len()] == byte
            })
    }
}

/// Bytes a CSS reader skips between a function name and its `(`.
fn css_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0c | 0x00)
}

/// Whether [`css_danger`] over the whole input can find anything: always
/// with a CSS escape (`\`, which may spell any character); otherwise only
/// with a literal `@import` or a `(` that can end a dangerous call
/// ([`css_call_possible`]).
fn css_finding_possible(input: &[u8], present: Present) -> bool {
    if present.has(Present::CSS_AT_OR_ESCAPE) {
        if memchr::memchr(b'\\', input).is_some() {
            return css_escaped_finding_possible(input);
        }
        let at_import = memchr::memchr_iter(b'@', input).any(|at| {
            input
                .get(at + 1..at + 7)
                .is_some_and(|word| word.eq_ignore_ascii_case(b"import"))
        });
        if at_import {
            return true;
        }
    }
    css_call_possible(input)
}

/// [`css_finding_possible`] for an input holding a `\\`, which may start a CSS
/// escape spelling any character. Every finding of [`css_danger`] still needs a
/// `(` (the calls) or an `@` directly followed by `import` (blanks and comments
/// dropped): a decoded `(` or `@` is a literal one or a hex escape (`\\28`, `\\40`),
/// and the character after a literal `@` starts with its next byte, blanks
/// skipped, which is `i`, or a `\\` or `/` that may start an escape or a comment.
/// Backslashes in JSON text and Windows paths thus skip the CSS reading.
fn css_escaped_finding_possible(input: &[u8]) -> bool {
    memchr::memchr(b'(', input).is_some()
        || memchr::memchr_iter(b'\\', input)
            .any(|at| matches!(css_hex_escape(&input[at + 1..]), Some(0x28 | 0x40)))
        || memchr::memchr_iter(b'@', input).any(|at| {
            input[at + 1..]
                .iter()
                .find(|&&byte| !css_blank(byte))
                .is_none_or(|&byte| matches!(byte, b'i' | b'I' | b'\\' | b'/'))
        })
}

/// The value of the hex digits (at most six) that open `rest`, as [`css_danger`]
/// reads the escape `\\` + `rest`; `None` without a hex digit.
fn css_hex_escape(rest: &[u8]) -> Option<u32> {
    rest.iter()
        .take(6)
        .map_while(|&byte| char::from(byte).to_digit(16))
        .fold(None, |value: Option<u32>, digit| {
            Some(value.unwrap_or_default() * 16 + digit)
        })
}

/// Whether some `(` in `input` (which holds no CSS escape) can
/// end a call [`css_danger`] reports: every one of them is `expression(` or
/// `url(`, possibly split by comments, so the `(` is preceded, blanks
/// skipped, by `expression`, `url` or a comment's `*/` close by. Each
/// look-back is bounded; a run of blanks longer than the bound counts as possible.
fn css_call_possible(input: &[u8]) -> bool {
    const LOOK_BACK: usize = 64;
    memchr::memchr_iter(b'(', input).any(|paren| {
        let before = &input[paren.saturating_sub(LOOK_BACK)..paren];
        let Some(last) = before.iter().rposition(|&byte| !css_blank(byte)) else {
            return before.len() == LOOK_BACK;
        };
        let word = &before[..=last];
        let tail = &word[word.len().saturating_sub(16)..];
        word.len() >= 3 && word[word.len() - 3..].eq_ignore_ascii_case(b"url")
            || word.len() >= 10 && word[word.len() - 10..].eq_ignore_ascii_case(b"expression")
            || memchr::memmem::find(tail, b"*/").is_some()
    })
}

/// CSS that runs script or pulls in foreign style: `expression(`,
/// `url(javascript:`, `-moz-binding:url(`, `behavior:url(`, `@import '…'`.
/// Comments, blanks and escapes are removed first.
fn css_danger(chars: impl Iterator<Item = u32>) -> Option<&'static str> {
    let mut window = CssWindow {
        ring: [0; 32],
        written: 0,
    };
    let mut chars = chars.peekable();
    let mut in_comment = false;
    while let Some(mut code) = chars.next() {
        if in_comment {
            if code == u32::from(b'*') && chars.peek() == Some(&u32::from(b'/')) {
                chars.next();
                in_comment = false;
            }
            continue;
        }
        match code {
            0x2f if chars.peek() == Some(&0x2a) => {
                chars.next();
                in_comment = true;
                continue;
            }
            0x5c => {
                // CSS escape: up to six hex digits and one optional blank, or a literal.
                let mut value = 0u32;
                let mut digits = 0;
                while digits < 6
                    && let Some(digit) = chars
                        .peek()
                        .and_then(|&c| char::from_u32(c))
                        .and_then(|c| c.to_digit(16))
                {
                    value = value * 16 + digit;
                    digits += 1;
                    chars.next();
                }
                if digits > 0 {
                    if chars
                        .peek()
                        .is_some_and(|&c| matches!(c, 0x20 | 0x09 | 0x0a))
                    {
                        chars.next();
                    }
                    code = value;
                } else {
                    match chars.next() {
                        Some(0x0a) | None => continue,
                        Some(escaped) => code = escaped,
                    }
                }
            }
            0x20 | 0x09 | 0x0a | 0x0d | 0x0c | 0x00 => continue,
            _ => {}
        }
        let byte = u8::try_from(code).map_or(0xff, |b| b.to_ascii_lowercase());
        window.push(byte);
        if matches!(byte, b'\'' | b'"' | b'(')
            && (window.ends_with(1, b"@import") || window.ends_with(0, b"@importurl("))
        {
            return Some("css-import");
        }
        if byte == b'(' {
            if window.ends_with(0, b":expression(") || window.ends_with(0, b"=expression(") {
                return Some("css-expression");
            }
            if window.ends_with(0, b"-moz-binding:url(") || window.ends_with(0, b"behavior:url(") {
                return Some("css-binding");
            }
        } else if byte == b':' {
            for scheme in [&b"javascript:"[..], b"vbscript:"] {
                if !window.ends_with(0, scheme) {
                    continue;
                }
                let quoted =
                    window.ends_with(scheme.len(), b"'") || window.ends_with(scheme.len(), b"\"");
                if window.ends_with(scheme.len() + usize::from(quoted), b"url(") {
                    return Some("css-url-script");
                }
            }
        }
    }
    None
}

/// Judges one attribute. `in_tag` is false for attribute text injected
/// outside a real tag, where event handlers must also carry real script.
fn attribute_danger(
    tag_name: &[u8],
    name: &[u8],
    value: &[u8],
    in_tag: bool,
) -> Option<(&'static str, u8)> {
    let decoded = || Decoded::new(value);
    if event_handler(name) && !value.is_empty() && (in_tag || looks_like_js(decoded())) {
        return Some(("attr", 9));
    }
    if url_attribute(name) {
        match classify_url(decoded()) {
            UrlKind::Script => return Some(("url-script", 9)),
            UrlKind::DataActive => return Some(("url-data", 8)),
            UrlKind::DataOther if dangerous_tag(tag_name) => return Some(("url-data", 8)),
            _ => {}
        }
    }
    if name.eq_ignore_ascii_case(b"srcdoc") && !value.is_empty() {
        return Some(("attr", 8));
    }
    if name.eq_ignore_ascii_case(b"style") {
        // Every CSS finding needs a `(` or an `@`, which only a CSS escape or a
        // character reference can hide: plain `color:red` is not decoded at all.
        let possible = value
            .iter()
            .any(|byte| matches!(byte, b'(' | b'@' | b'\\' | b'&'));
        return possible
            .then(|| css_danger(decoded()).map(|what| (what, 8)))
            .flatten();
    }
    None
}

fn attribute_value<'a>(tag: &Tag<'a>, wanted: &[u8], mode: AttributeMode) -> Option<&'a [u8]> {
    Attributes::new(tag.attributes, mode)
        .find(|attribute| attribute.name.eq_ignore_ascii_case(wanted))
        .map(|attribute| attribute.value.unwrap_or_default())
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Judges one start tag by its name and its attributes, read as HTML5 reads
/// them and, when a `/` runs into an unquoted value that holds another `=`
/// (`<img/src=x/onerror=alert(1)>`), read again with `/` as a separator.
fn tag_danger(tag: &Tag<'_>, offset: usize, nesting: u8) -> Option<Detection> {
    let mut slash_glued = false;
    if let Some(found) = judge_tag(tag, offset, nesting, AttributeMode::InTag, &mut slash_glued) {
        return Some(found);
    }
    if slash_glued {
        return judge_tag(
            tag,
            offset,
            nesting,
            AttributeMode::SlashSeparated,
            &mut false,
        );
    }
    None
}

/// An unquoted attribute value holding `/` and, after it, `=`: attribute text
/// glued on with `/`, the separator HTML5 accepts only between attributes.
fn slash_glued_value(attributes: &[u8], attribute: &Attribute<'_>) -> bool {
    let Some(value) = attribute.value else {
        return false;
    };
    let quoted = attribute
        .value_start
        .checked_sub(1)
        .and_then(|before| attributes.get(before))
        .is_some_and(|&byte| matches!(byte, b'"' | b'\''));
    !quoted
        && memchr::memchr(b'/', value)
            .is_some_and(|slash| memchr::memchr(b'=', &value[slash..]).is_some())
}

/// [`tag_danger`] for one way of reading the attributes. In the
/// slash-separated reading an event handler must also carry script, as in
/// injected attribute text, and nested markup is not scanned again. The
/// HTML5 reading also notes in `slash_glued` whether a value calls for the
/// slash-separated one ([`slash_glued_value`]).
fn judge_tag(
    tag: &Tag<'_>,
    offset: usize,
    nesting: u8,
    mode: AttributeMode,
    slash_glued: &mut bool,
) -> Option<Detection> {
    let span = offset + tag.start..offset + tag.end;
    let in_tag = mode == AttributeMode::InTag;
    for attribute in Attributes::new(tag.attributes, mode) {
        let value = attribute.value.unwrap_or_default();
        if let Some((kind, score)) = attribute_danger(tag.name, attribute.name, value, in_tag) {
            return Some(finding(kind, &lossy(attribute.name), span, score));
        }
        if in_tag && !*slash_glued {
            *slash_glued = slash_glued_value(tag.attributes, &attribute);
        }
        if in_tag && nesting < MAX_NESTING && value.contains(&b'<') {
            // Character references are not decoded here on purpose: only
            // literal markup in a value can turn into markup later.
            let value_offset = offset + tag.attributes_start + attribute.value_start;
            if let Some(found) = scan_markup(value, value_offset, nesting + 1) {
                return Some(found);
            }
        }
    }
    let name = tag.name;
    if dangerous_tag(name) && !frame_of_plain_url(tag, mode) {
        return Some(finding(
            "tag",
            &lossy(name),
            span,
            if local_name(name).eq_ignore_ascii_case(b"script") {
                9
            } else {
                7
            },
        ));
    }
    if name.eq_ignore_ascii_case(b"base") && attribute_value(tag, b"href", mode).is_some() {
        return Some(finding("tag", "base-href", span, 7));
    }
    if name.eq_ignore_ascii_case(b"meta")
        && let Some(equiv) = attribute_value(tag, b"http-equiv", mode)
        && (equiv.eq_ignore_ascii_case(b"refresh") || equiv.eq_ignore_ascii_case(b"set-cookie"))
    {
        return Some(finding("tag", "meta-http-equiv", span, 7));
    }
    if name.eq_ignore_ascii_case(b"link")
        && attribute_value(tag, b"rel", mode)
            .is_some_and(|rel| contains_ignore_case(rel, b"import"))
    {
        return Some(finding("tag", "link-import", span, 7));
    }
    None
}

/// Tokenizes `src` (located at `offset` in the inspected input) and judges its tags.
fn scan_markup(src: &[u8], offset: usize, nesting: u8) -> Option<Detection> {
    for tag in Tokenizer::new(src) {
        if tag.end_tag {
            if local_name(tag.name).eq_ignore_ascii_case(b"script") {
                return Some(finding(
                    "tag",
                    "/script",
                    offset + tag.start..offset + tag.end,
                    6,
                ));
            }
            continue;
        }
        if let Some(found) = tag_danger(&tag, offset, nesting) {
            return Some(found);
        }
    }
    None
}

/// The whole value is a script URL (URL-attribute context), or a data URL
/// that renders markup.
fn scan_script_url(input: &[u8]) -> Option<Detection> {
    if starts_with_sink_call(input) {
        return Some(finding("js-sink", "value", 0..input.len(), 6));
    }
    match classify_url(Decoded::new(input)) {
        UrlKind::Script if looks_like_js(Decoded::new(input)) => {
            Some(finding("url-script", "value", 0..input.len(), 8))
        }
        UrlKind::DataActive => Some(finding("url-data", "value", 0..input.len(), 7)),
        _ => None,
    }
}

/// Probes after every quote (and at the start, for unquoted attribute
/// values): injected attributes when `attributes` (the input holds an `=`), and
/// JavaScript string breakouts and `${…}` when `calls` (it may hold a call,
/// [`js_call_possible`]).
fn scan_quote_breakouts(input: &[u8], attributes: bool, calls: bool) -> Option<Detection> {
    if attributes && let Some(found) = injected_attributes(input, 0) {
        return Some(found);
    }
    let mut from = 0;
    loop {
        let index = if calls {
            input[from..]
                .iter()
                .position(|&b| matches!(b, b'"' | b'\'' | b'`' | b'$'))
        } else {
            memchr::memchr2(b'"', b'\'', &input[from..])
        };
        let at = from + index?;
        from = at + 1;
        if input[at] == b'$' {
            if input.get(at + 1) == Some(&b'{') && js_call_at(input, at + 2) {
                return Some(finding(
                    "js-template",
                    "",
                    at..input.len().min(at + MAX_BREAKOUT_LOOKAHEAD),
                    7,
                ));
            }
            continue;
        }
        if attributes
            && input[at] != b'`'
            && let Some(found) = injected_attributes(input, at + 1)
        {
            return Some(found);
        }
        if calls && js_string_breakout(input, at + 1) {
            return Some(finding(
                "js-breakout",
                "",
                at..input.len().min(at + MAX_BREAKOUT_LOOKAHEAD),
                8,
            ));
        }
    }
}

/// Attribute text starting at `start` that carries a dangerous attribute.
fn injected_attributes(input: &[u8], start: usize) -> Option<Detection> {
    let text = input.get(start..)?;
    // Injected attribute text ends at a quote, `<` or `>` that is not a value
    // delimiter; without an `=` before the first of them it holds no value.
    let equals = text
        .iter()
        .position(|&byte| matches!(byte, b'=' | b'"' | b'\'' | b'<' | b'>'))?;
    if text[equals] != b'=' {
        return None;
    }
    for attribute in Attributes::new(text, AttributeMode::Injected) {
        let Some(value) = attribute.value else {
            continue;
        };
        if let Some((kind, score)) = attribute_danger(b"", attribute.name, value, false) {
            let end = start + attribute.value_start + value.len();
            return Some(finding(kind, &lossy(attribute.name), start..end, score));
        }
    }
    None
}

/// The value is itself a call to a well-known script sink (`alert(1)`,
/// `eval('…')`, ``prompt`1` ``, `setTimeout(…)`): script-context injection
/// without any quote to break out of.
fn starts_with_sink_call(input: &[u8]) -> bool {
    const SINKS: &[&[u8]] = &[
        b"alert",
        b"prompt",
        b"confirm",
        b"eval",
        b"settimeout",
        b"setinterval",
        b"function",
        b"atob",
        b"document.write",
        b"document.writeln",
        b"window.open",
        b"fetch",
        b"import",
    ];
    let start = input.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let rest = &input[start..];
    let name_len = rest
        .iter()
        .take_while(|&&b| is_js_ident(u32::from(b)) || b == b'.')
        .count();
    let name = &rest[..name_len];
    let name = name.strip_prefix(b"new ").unwrap_or(name);
    // `alert[…]` alone executes nothing: the `[` only counts with a call (`(` or a backtick)
    // somewhere after it, as the gate assumes (`top['al'+'ert'](1)` is handled by breakouts).
    SINKS.iter().any(|sink| name.eq_ignore_ascii_case(sink))
        && js_call_at(input, start)
        && rest[name_len..].iter().any(|&b| matches!(b, b'(' | b'`'))
}

/// The operators [`js_string_breakout`] accepts after a closing quote, as a table (asked
/// for the bytes after every quote of a value).
const BREAKOUT_OPERATORS: [bool; 256] = crate::byte_set(b";+-*/%,|&^?:<>");

/// After a closing quote: closers, an operator, then a call — `'-alert(1)-'`,
/// `";alert(1)//`, `'});alert(1);//`.
fn js_string_breakout(input: &[u8], start: usize) -> bool {
    let end = input.len().min(start + MAX_BREAKOUT_LOOKAHEAD);
    let text = &input[start..end];
    let mut i = 0;
    let skip_blanks = |i: &mut usize| {
        while *i < text.len() && text[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    skip_blanks(&mut i);
    let mut closers = 0;
    while i < text.len() && matches!(text[i], b')' | b']' | b'}') && closers < 4 {
        closers += 1;
        i += 1;
        skip_blanks(&mut i);
    }
    let operators = text[i..]
        .iter()
        .take(2)
        .take_while(|&&b| BREAKOUT_OPERATORS[usize::from(b)])
        .count();
    if operators == 0 {
        return false;
    }
    js_call_at(input, start + i + operators)
}

/// Whether [`js_call_at`] can succeed anywhere in `input`: some call opener
/// (`(`, a backtick, `[`) follows, blanks skipped, a name's last byte (an identifier
/// byte or `.`). Without one no string breakout, `${…}` or sink call can fire; JSON
/// arrays (`"tags": ["a"]`) and prose in parentheses have none.
fn js_call_possible(input: &[u8]) -> bool {
    memchr::memchr3_iter(b'(', b'`', b'[', input).any(|opener| {
        input[..opener]
            .iter()
            .rev()
            .find(|byte| !byte.is_ascii_whitespace())
            .is_some_and(|&byte| is_js_ident(u32::from(byte)) || byte == b'.')
    })
}

/// A call expression starts at `start` (after blanks): `name(`, `a.b(`,
/// ``name` ``, `name[` (computed member, as in `top['al'+'ert'](1)`).
fn js_call_at(input: &[u8], start: usize) -> bool {
    let end = input.len().min(start + MAX_BREAKOUT_LOOKAHEAD);
    let text = input.get(start..end).unwrap_or_default();
    let mut i = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let name_start = i;
    while i < text.len() && (is_js_ident(u32::from(text[i])) || text[i] == b'.' && i > name_start) {
        i += 1;
    }
    if i == name_start || text[name_start].is_ascii_digit() {
        return false;
    }
    while i < text.len() && text[i].is_ascii_whitespace() {
        i += 1;
    }
    matches!(text.get(i), Some(b'(' | b'`' | b'['))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(input: &str) -> Option<String> {
        detect(input.as_bytes()).map(|d| d.fingerprint)
    }

    #[test]
    fn flags_from_bytes_and_from_classes_agree() {
        for byte in 0..=u8::MAX {
            let input = [b'x', byte];
            assert_eq!(
                Present::of_bytes(&input).0,
                Present::of_classes(ByteClasses::of(&input)).0,
                "byte {byte:#04x}"
            );
        }
    }

    #[test]
    fn event_handler_with_encoded_call() {
        assert_eq!(
            fingerprint("<svg/onload=alert&#40;1&#41;>").as_deref(),
            Some("attr:onload")
        );
    }

    #[test]
    fn rich_text_is_quiet() {
        for benign in [
            "<p style=\"color:red\">hi</p>",
            "<a href=\"https://x\">x</a>",
            "<3 a < b",
            "javascript: the good parts",
        ] {
            assert_eq!(fingerprint(benign), None, "{benign}");
        }
    }

    #[test]
    fn css_context_payloads_pass_the_cheap_gates() {
        for (attack, expected) in [
            ("x{width:expression(alert(1))}", "css-expression"),
            ("x{width:exp/**/ression(alert(1))}", "css-expression"),
            ("a{background:url( javascript:alert(1))}", "css-url-script"),
            ("@IMPORT 'https://evil.example/x.css';", "css-import"),
            ("x{width:\\65 xpression(alert(1))}", "css-expression"),
            (
                "<p style=\"width:expression&#40;alert(1))\">",
                "css-expression:style",
            ),
        ] {
            assert_eq!(fingerprint(attack).as_deref(), Some(expected), "{attack}");
        }
        for benign in [
            "regular expression(s) at user@example.com",
            "<p style=\"color:red; margin:0 auto\">(see below)</p>",
        ] {
            assert_eq!(fingerprint(benign), None, "{benign}");
        }
    }

    #[test]
    fn backslashes_outside_css_skip_the_css_reading_but_escapes_do_not() {
        // JSON text and Windows paths: no `(`, and no `@` before `import`.
        for benign in [
            r#"{"name": "Bj\u00f6rk", "email": "a@example.com", "path": "C:\Users\Bob"}"#,
            r"C:\Program Files\App\app.exe",
        ] {
            assert!(!css_escaped_finding_possible(benign.as_bytes()), "{benign}");
        }
        for (attack, expected) in [
            (r"x{width:\65xpression\28 alert(1))}", "css-expression"),
            (r"x{width:expression\28 alert\28 1))}", "css-expression"),
            (r"\40import 'https://evil.example/x.css';", "css-import"),
            (r"@\69mport 'https://evil.example/x.css';", "css-import"),
            (
                r"@/**/import 'https://evil.example/x.css'; a\b",
                "css-import",
            ),
        ] {
            assert_eq!(fingerprint(attack).as_deref(), Some(expected), "{attack}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16384))]

        /// The prefilter for input with a backslash rules out only input on which
        /// the CSS reading finds nothing.
        #[test]
        fn css_escape_prefilter_never_hides_a_finding(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\\", "\\28", "\\000028 ", "\\40", "\\65", "\\69", "\\(", "\\@", "(", "@",
                    ":", "=", "'", " ", "\t", "/*", "*/", "/**/", "expression", "xpression", "url",
                    "import", "mport", "javascript", "-moz-binding", "behavior", "x", "9",
                ]),
                0..12,
            )
        ) {
            let input = pieces.concat().into_bytes();
            let present = Present::of_bytes(&input);
            if input.contains(&b'\\') && css_danger(input.iter().map(|&b| u32::from(b))).is_some() {
                proptest::prop_assert!(present.css_possible() && css_finding_possible(&input, present));
            }
        }

        /// Without a call opener after a name, no position starts a call.
        #[test]
        fn call_prefilter_never_hides_a_call(
            input in proptest::collection::vec(
                proptest::sample::select(b"ab1_.$( `[ \t\n\"':;".to_vec()),
                0..24,
            )
        ) {
            if !js_call_possible(&input) {
                for start in 0..=input.len() {
                    proptest::prop_assert!(!js_call_at(&input, start), "at {}", start);
                }
            }
        }
    }

    #[test]
    fn slash_glued_attributes_are_read_as_separate_attributes() {
        for (attack, expected) in [
            ("<img/src=x/onerror=alert(1)>", "attr:onerror"),
            (
                "<img/src=x:alert(alt)/onerror=eval(src)/alt=0>",
                "attr:onerror",
            ),
            (
                "<meta/http-equiv=refresh/content=\"0;url=javascript:alert(1)\">",
                "tag:meta-http-equiv",
            ),
        ] {
            assert_eq!(fingerprint(attack).as_deref(), Some(expected), "{attack}");
        }
        for benign in [
            "<a href=/docs/setup?step=2>setup</a>",
            "<img src=/img/a.png?w=200 alt=x>",
            "<a href=https://example.com/onload=yes>x</a>",
        ] {
            assert_eq!(fingerprint(benign), None, "{benign}");
        }
    }

    #[test]
    fn frames_fire_on_what_they_execute_not_on_being_frames() {
        for benign in [
            "<iframe src=\"https://www.youtube.com/embed/x\" allowfullscreen></iframe>",
            "<iframe width=560 src=/embed/42></iframe>",
        ] {
            assert_eq!(fingerprint(benign), None, "{benign}");
        }
        for (attack, expected) in [
            ("<iframe src=javascript:alert(1)>", "url-script:src"),
            (
                "<iframe src=\"data:text/html,<script>alert(1)</script>\">",
                "url-data:src",
            ),
            (
                "<iframe srcdoc=\"<script>alert(1)</script>\">",
                "attr:srcdoc",
            ),
            ("<iframe src=https://x.test onload=alert(1)>", "attr:onload"),
            ("<iframe></iframe>", "tag:iframe"),
            ("<iframe src=\"\">", "tag:iframe"),
        ] {
            assert_eq!(fingerprint(attack).as_deref(), Some(expected), "{attack}");
        }
    }
}
