//! HTML5-style tokenizer and character-reference decoder used by the XSS detector.
//!
//! Owns the markup model: text, start and end tags, attributes (quoted,
//! unquoted and valueless), comments (`<!-- -->`, `--!>`), bogus comments
//! (`<!…>`, `<?…>`) and numeric/named character references.
//!
//! Design: it follows the HTML5 tokenizer's rules where they matter for
//! script execution (a tag name ends at blank, `/` or `>`; `/` separates
//! attributes, so `<svg/onload=…>` has an `onload` attribute; quotes only
//! delimit values) and deviates on purpose in one place: a `<` in
//! attribute-name position restarts tag parsing, so a filter-evasion like
//! `<scr<script>ipt>` still shows its inner `<script>`. Unterminated tags are
//! still reported — the rest of the page will close them. Every loop consumes
//! input, the tokenizer is linear and allocation-free.

/// Most attributes looked at per tag.
const MAX_ATTRIBUTES: usize = 128;
/// Most attributes looked at in injected attribute text: every quote starts
/// such a scan, so this bound (each value ends at the next quote) keeps the
/// scans from all quotes linear overall.
const MAX_INJECTED_ATTRIBUTES: usize = 8;

/// A tag found in markup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tag<'a> {
    /// Tag name as written.
    pub(crate) name: &'a [u8],
    /// `true` for `</name …>`.
    pub(crate) end_tag: bool,
    /// Byte offset of `<`.
    pub(crate) start: usize,
    /// Byte offset just after the tag.
    pub(crate) end: usize,
    /// The attribute text, for [`Attributes`].
    pub(crate) attributes: &'a [u8],
    /// Byte offset of `attributes` in the tokenized text.
    pub(crate) attributes_start: usize,
}

/// One attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attribute<'a> {
    pub(crate) name: &'a [u8],
    /// Raw value (character references not yet decoded); `None` when valueless.
    pub(crate) value: Option<&'a [u8]>,
    /// Byte offset of the value in the attribute text.
    pub(crate) value_start: usize,
}

fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

/// How attribute text is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttributeMode {
    /// Inside a real tag: HTML5 rules.
    InTag,
    /// Inside a real tag, with `/` also ending an unquoted value: how a
    /// filter-evasion such as `<img/src=x/onerror=alert(1)>` is meant to be
    /// read (HTML5 makes `x/onerror=alert(1)` the value of `src`).
    SlashSeparated,
    /// Attribute-looking text injected after a quote: a quote that is not a
    /// value delimiter, `<` or `>` ends the run, as do quotes in unquoted
    /// values; at most a few attributes are read.
    Injected,
}

/// Iterator over the attributes of a tag (or injected attribute text).
pub(crate) struct Attributes<'a> {
    src: &'a [u8],
    pos: usize,
    mode: AttributeMode,
    count: usize,
}

impl<'a> Attributes<'a> {
    pub(crate) fn new(src: &'a [u8], mode: AttributeMode) -> Self {
        Self {
            src,
            pos: 0,
            mode,
            count: 0,
        }
    }

    /// Offset just after the last attribute read.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn ends_unquoted(&self, byte: u8) -> bool {
        is_blank(byte)
            || byte == b'>'
            || self.mode == AttributeMode::Injected && matches!(byte, b'"' | b'\'' | b'<')
            || self.mode == AttributeMode::SlashSeparated && byte == b'/'
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;

    fn next(&mut self) -> Option<Attribute<'a>> {
        let src = self.src;
        while self.pos < src.len() && (is_blank(src[self.pos]) || src[self.pos] == b'/') {
            self.pos += 1;
        }
        let first = *src.get(self.pos)?;
        let injected = self.mode == AttributeMode::Injected;
        if first == b'>' || first == b'<' || injected && matches!(first, b'"' | b'\'') {
            return None;
        }
        let limit = if injected {
            MAX_INJECTED_ATTRIBUTES
        } else {
            MAX_ATTRIBUTES
        };
        if self.count >= limit {
            return None;
        }
        self.count += 1;
        let name_start = self.pos;
        self.pos += 1;
        while self.pos < src.len() {
            let byte = src[self.pos];
            if is_blank(byte)
                || matches!(byte, b'/' | b'>' | b'=' | b'<')
                || injected && matches!(byte, b'"' | b'\'')
            {
                break;
            }
            self.pos += 1;
        }
        let name = &src[name_start..self.pos];
        let mut after = self.pos;
        while after < src.len() && is_blank(src[after]) {
            after += 1;
        }
        if src.get(after) != Some(&b'=') {
            return Some(Attribute {
                name,
                value: None,
                value_start: self.pos,
            });
        }
        after += 1;
        while after < src.len() && is_blank(src[after]) {
            after += 1;
        }
        let (value_start, value_end) = match src.get(after) {
            Some(&quote @ (b'"' | b'\'')) => {
                let body = after + 1;
                let close = src[body..]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(src.len(), |i| body + i);
                self.pos = (close + 1).min(src.len());
                (body, close)
            }
            _ => {
                let mut end = after;
                while end < src.len() && !self.ends_unquoted(src[end]) {
                    end += 1;
                }
                self.pos = end;
                (after, end)
            }
        };
        Some(Attribute {
            name,
            value: Some(&src[value_start..value_end]),
            value_start,
        })
    }
}

/// Iterator over the tags of a markup string.
pub(crate) struct Tokenizer<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Tokenizer<'a> {
    pub(crate) fn new(src: &'a [u8]) -> Self {
        Self { src, pos: 0 }
    }

    fn skip_past(&mut self, from: usize, terminator: &[u8]) {
        self.pos = self.src[from.min(self.src.len())..]
            .windows(terminator.len())
            .position(|w| w == terminator)
            .map_or(self.src.len(), |i| from + i + terminator.len());
    }

    fn skip_comment(&mut self, body: usize) {
        let src = self.src;
        let mut i = body;
        while i < src.len() {
            if src[i..].starts_with(b"-->") {
                self.pos = i + 3;
                return;
            }
            if src[i..].starts_with(b"--!>") {
                self.pos = i + 4;
                return;
            }
            // `<!-->` and `<!--->` are complete (empty) comments.
            if i == body {
                if src[i] == b'>' {
                    self.pos = i + 1;
                    return;
                }
                if src[i..].starts_with(b"->") {
                    self.pos = i + 2;
                    return;
                }
            }
            i += 1;
        }
        self.pos = src.len();
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        let src = self.src;
        loop {
            let lt = self.pos + src.get(self.pos..)?.iter().position(|&b| b == b'<')?;
            let next = src.get(lt + 1).copied().unwrap_or(0);
            if next == b'!' {
                if src[lt..].starts_with(b"<!--") {
                    self.skip_comment(lt + 4);
                } else {
                    self.skip_past(lt + 2, b">");
                }
                continue;
            }
            if next == b'?' {
                self.skip_past(lt + 2, b">");
                continue;
            }
            let end_tag = next == b'/';
            let name_start = if end_tag { lt + 2 } else { lt + 1 };
            if !src.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
                self.pos = lt + 1;
                continue;
            }
            let mut name_end = name_start;
            while name_end < src.len()
                && !(is_blank(src[name_end]) || matches!(src[name_end], b'/' | b'>' | b'<'))
            {
                name_end += 1;
            }
            let mut attributes = Attributes::new(&src[name_end..], AttributeMode::InTag);
            while attributes.next().is_some() {}
            let attributes_end = name_end + attributes.position();
            let end = match src.get(attributes_end) {
                Some(b'>') => attributes_end + 1,
                _ => attributes_end,
            };
            self.pos = end.max(lt + 1);
            return Some(Tag {
                name: &src[name_start..name_end],
                end_tag,
                start: lt,
                end,
                attributes: &src[name_end..attributes_end],
                attributes_start: name_end,
            });
        }
    }
}

/// Iterator decoding character references (`&#106;`, `&#x6A`, `&colon;`)
/// into code points; other bytes pass through as their byte value.
pub(crate) struct Decoded<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Decoded<'a> {
    pub(crate) fn new(src: &'a [u8]) -> Self {
        Self { src, pos: 0 }
    }

    fn numeric(&mut self, start: usize) -> Option<u32> {
        let src = self.src;
        let hex = matches!(src.get(start), Some(b'x' | b'X'));
        let digits_start = if hex { start + 1 } else { start };
        let mut i = digits_start;
        let mut value: u32 = 0;
        while let Some(&byte) = src.get(i) {
            let digit = if hex {
                char::from(byte).to_digit(16)
            } else {
                char::from(byte).to_digit(10)
            };
            let Some(digit) = digit else { break };
            value = value
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(digit)
                .min(0x10_FFFF);
            i += 1;
        }
        if i == digits_start {
            return None;
        }
        if src.get(i) == Some(&b';') {
            i += 1;
        }
        self.pos = i;
        Some(value)
    }

    fn named(&mut self, start: usize) -> Option<u32> {
        let src = self.src;
        let len = src[start..]
            .iter()
            .take(12)
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let name = &src[start..start + len];
        let terminated = src.get(start + len) == Some(&b';');
        let code = named_reference(name, terminated)?;
        self.pos = start + len + usize::from(terminated);
        Some(code)
    }
}

fn named_reference(name: &[u8], terminated: bool) -> Option<u32> {
    const TABLE: &[(&[u8], u32)] = &[
        (b"amp", 0x26),
        (b"lt", 0x3c),
        (b"gt", 0x3e),
        (b"quot", 0x22),
        (b"apos", 0x27),
        (b"colon", 0x3a),
        (b"tab", 0x09),
        (b"newline", 0x0a),
        (b"lpar", 0x28),
        (b"rpar", 0x29),
        (b"sol", 0x2f),
        (b"bsol", 0x5c),
        (b"period", 0x2e),
        (b"nbsp", 0xa0),
        (b"num", 0x23),
        (b"excl", 0x21),
        (b"equals", 0x3d),
        (b"plus", 0x2b),
        (b"comma", 0x2c),
        (b"semi", 0x3b),
        (b"lowbar", 0x5f),
        (b"grave", 0x60),
        (b"lsqb", 0x5b),
        (b"rsqb", 0x5d),
        (b"lcub", 0x7b),
        (b"rcub", 0x7d),
        (b"percnt", 0x25),
        (b"commat", 0x40),
        (b"dollar", 0x24),
        (b"ast", 0x2a),
        (b"hyphen", 0x2d),
        (b"dash", 0x2d),
    ];
    let (_, code) = TABLE
        .iter()
        .find(|(entry, _)| entry.eq_ignore_ascii_case(name))?;
    // Only the legacy references work without a semicolon.
    let legacy = matches!(*code, 0x26 | 0x3c | 0x3e | 0x22 | 0xa0);
    (terminated || legacy).then_some(*code)
}

impl Iterator for Decoded<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let byte = *self.src.get(self.pos)?;
        if byte == b'&' {
            let start = self.pos + 1;
            let decoded = if self.src.get(start) == Some(&b'#') {
                self.numeric(start + 1)
            } else {
                self.named(start)
            };
            if let Some(code) = decoded {
                return Some(code);
            }
        }
        self.pos += 1;
        Some(u32::from(byte))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Vec<String> {
        Tokenizer::new(src.as_bytes())
            .map(|tag| String::from_utf8_lossy(tag.name).into_owned())
            .collect()
    }

    #[test]
    fn tags_comments_and_restarts() {
        assert_eq!(
            names("a < b <3 <b>x</b><!-- <i> --><scr<script>ipt>"),
            ["b", "b", "scr", "script"]
        );
    }

    #[test]
    fn slash_separates_attributes() {
        let tag = Tokenizer::new(b"<svg/onload=alert(1)>").next();
        let attributes: Vec<_> = tag
            .map(|t| {
                Attributes::new(t.attributes, AttributeMode::InTag)
                    .map(|a| a.name.to_vec())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(attributes, [b"onload".to_vec()]);
    }

    #[test]
    fn references_decode() {
        let decoded: String = Decoded::new(b"&#106;&#x61&Tab;v&colon;&amp&bogus;")
            .filter_map(char::from_u32)
            .collect();
        assert_eq!(decoded, "ja\tv:&&bogus;");
    }
}
