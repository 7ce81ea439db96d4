//! PCRE → Rust regex syntax translation for `@rx`.
//!
//! libmodsecurity compiles `@rx` patterns with PCRE2 in non-UTF mode with
//! `PCRE2_DOTALL | PCRE2_MULTILINE` (src/utils/regex.cc), so a pattern is a
//! sequence of bytes, `.` matches any byte including `\n`, `^`/`$` match at
//! line boundaries, and `\w \d \s \b` are ASCII. The `regex` crate (bytes API,
//! Unicode off) has those semantics too once the syntax differences are
//! translated; this module rewrites a PCRE pattern into an equivalent `regex`
//! pattern:
//!
//! - every literal byte that is not ASCII alphanumeric is emitted as `\xHH`
//!   (so bytes ≥ 0x80 match single bytes, and no character is accidentally a
//!   `regex` meta character such as class-set operators `&&`, `--`, `~~`);
//! - character classes are rebuilt item by item (a bare `[` inside a class is a
//!   literal in PCRE but a nested class in `regex`; `]` first is a literal;
//!   `\b` inside a class is backspace; POSIX `[:alpha:]` is kept, `regex`
//!   supports it);
//! - `{` / `}` that do not form a quantifier `{n}`, `{n,}`, `{n,m}` are literals;
//! - `\Q…\E`, `\xH`, `\x{…}`, octal `\0nn` / `\o{…}` / `\nnn`, `\e`, `\cX`,
//!   `\h \H \v \V \R \N`, `\<`, `\>` (literals in PCRE, word boundaries in
//!   `regex`), `(?#…)` comments and `(?'name'…)` / `(?<name>…)` groups;
//! - constructs without a linear-time equivalent — back references, lookahead,
//!   lookbehind, atomic groups, possessive quantifiers — are kept verbatim and
//!   the result is flagged [`Translation::needs_backtracking`], so the caller
//!   compiles it with `fancy-regex` (which has the same syntax for them);
//! - constructs with no equivalent at all (`\G`, `\K`, recursion, conditionals,
//!   branch reset, `(*VERB)`s, `\p{…}` in non-UTF mode, callouts) are errors.

use std::fmt::Write as _;

/// A translated pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The pattern in `regex` / `fancy-regex` syntax.
    pub pattern: String,
    /// The pattern uses back references or lookaround / atomic / possessive
    /// constructs and must run on the backtracking engine.
    pub needs_backtracking: bool,
}

/// Why a pattern cannot be translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError {
    /// Byte offset in the pattern.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Nesting limit for groups (PCRE2's default is 250).
const MAX_GROUP_DEPTH: usize = 250;

/// Translates a PCRE pattern (as bytes) into `regex` syntax.
pub fn translate(pattern: &[u8]) -> Result<Translation, TranslateError> {
    let mut translator = Translator {
        pattern,
        pos: 0,
        out: String::with_capacity(pattern.len() * 2),
        backtracking: false,
        groups_opened: 0,
        depth: 0,
    };
    translator.run()?;
    Ok(Translation {
        pattern: translator.out,
        needs_backtracking: translator.backtracking,
    })
}

struct Translator<'p> {
    pattern: &'p [u8],
    pos: usize,
    out: String,
    backtracking: bool,
    /// Capture groups opened so far (PCRE decides `\N` back reference vs octal by it).
    groups_opened: usize,
    depth: usize,
}

/// One element of a character class.
enum ClassItem {
    /// A single byte value.
    Byte(u8),
    /// Already-rendered class syntax (`\d`, `[:alpha:]`, nested `[^…]`).
    Set(String),
}

fn push_byte(out: &mut String, byte: u8) {
    if byte.is_ascii_alphanumeric() {
        out.push(char::from(byte));
    } else {
        // Infallible: writing to a String.
        let _ = write!(out, "\\x{byte:02X}");
    }
}

fn is_word_class_name(name: &[u8]) -> bool {
    matches!(
        name,
        b"alnum"
            | b"alpha"
            | b"ascii"
            | b"blank"
            | b"cntrl"
            | b"digit"
            | b"graph"
            | b"lower"
            | b"print"
            | b"punct"
            | b"space"
            | b"upper"
            | b"word"
            | b"xdigit"
    )
}

impl<'p> Translator<'p> {
    fn error<T>(&self, message: impl Into<String>) -> Result<T, TranslateError> {
        Err(TranslateError {
            offset: self.pos,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.pattern.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.pattern.get(self.pos + ahead).copied()
    }

    fn rest(&self) -> &'p [u8] {
        let pattern = self.pattern;
        &pattern[self.pos.min(pattern.len())..]
    }

    fn run(&mut self) -> Result<(), TranslateError> {
        while let Some(byte) = self.peek() {
            match byte {
                b'\\' => self.escape_outside_class()?,
                b'[' => self.class()?,
                b'(' => self.group_open()?,
                b')' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.out.push(')');
                    self.pos += 1;
                }
                b'{' => {
                    if let Some(len) = self.quantifier_len() {
                        let text = &self.pattern[self.pos..self.pos + len];
                        self.out.push_str(&String::from_utf8_lossy(text));
                        self.pos += len;
                        self.quantifier_suffix();
                    } else {
                        self.out.push_str("\\x7B");
                        self.pos += 1;
                    }
                }
                b'*' | b'+' | b'?' => {
                    self.out.push(char::from(byte));
                    self.pos += 1;
                    self.quantifier_suffix();
                }
                b'.' | b'^' | b'$' | b'|' => {
                    self.out.push(char::from(byte));
                    self.pos += 1;
                }
                _ => {
                    push_byte(&mut self.out, byte);
                    self.pos += 1;
                }
            }
        }
        Ok(())
    }

    /// After a quantifier: a lazy `?` is copied; a possessive `+` needs backtracking.
    fn quantifier_suffix(&mut self) {
        match self.peek() {
            Some(b'?') => {
                self.out.push('?');
                self.pos += 1;
            }
            Some(b'+') => {
                self.out.push('+');
                self.pos += 1;
                self.backtracking = true;
            }
            _ => {}
        }
    }

    /// Length of a valid `{n}`, `{n,}` or `{n,m}` quantifier at `pos`, if any.
    fn quantifier_len(&self) -> Option<usize> {
        let rest = self.rest();
        let close = rest.iter().position(|&b| b == b'}')?;
        let body = &rest[1..close];
        let (min, max) = match body.iter().position(|&b| b == b',') {
            Some(comma) => (&body[..comma], Some(&body[comma + 1..])),
            None => (body, None),
        };
        let digits = |part: &[u8]| {
            !part.is_empty() && part.len() <= 5 && part.iter().all(u8::is_ascii_digit)
        };
        let valid = digits(min) && max.is_none_or(|max| max.is_empty() || digits(max));
        valid.then_some(close + 1)
    }

    fn group_open(&mut self) -> Result<(), TranslateError> {
        self.depth += 1;
        if self.depth > MAX_GROUP_DEPTH {
            return self.error("groups nested too deeply");
        }
        let rest = self.rest();
        if rest.starts_with(b"(*") {
            return self.error("PCRE verbs (*…) are not supported");
        }
        if !rest.starts_with(b"(?") {
            self.groups_opened += 1;
            self.out.push('(');
            self.pos += 1;
            return Ok(());
        }
        let after = &rest[2..];
        match after.first().copied() {
            Some(b'#') => {
                // Comment group: dropped entirely.
                let Some(close) = after.iter().position(|&b| b == b')') else {
                    return self.error("unterminated (?# comment");
                };
                self.pos += 2 + close + 1;
                self.depth -= 1;
                Ok(())
            }
            Some(b'=' | b'!' | b'>') => {
                self.backtracking = true;
                self.out.push_str(&String::from_utf8_lossy(&rest[..3]));
                self.pos += 3;
                Ok(())
            }
            Some(b'<') if matches!(after.get(1), Some(b'=' | b'!')) => {
                self.backtracking = true;
                self.out.push_str(&String::from_utf8_lossy(&rest[..4]));
                self.pos += 4;
                Ok(())
            }
            Some(b'<' | b'\'') | Some(b'P') if !matches!(after.get(1), Some(b'=' | b'>')) => {
                // Named group: (?<name>…), (?'name'…), (?P<name>…).
                let (skip, terminator) = match after[0] {
                    b'<' => (3, b'>'),
                    b'\'' => (3, b'\''),
                    _ if after.get(1) == Some(&b'<') => (4, b'>'),
                    _ => return self.error("unsupported (?P construct"),
                };
                let name_start = self.pos + skip;
                let Some(name_len) = self.pattern[name_start.min(self.pattern.len())..]
                    .iter()
                    .position(|&b| b == terminator)
                else {
                    return self.error("unterminated group name");
                };
                let name = &self.pattern[name_start..name_start + name_len];
                if name.is_empty()
                    || !name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
                    || name[0].is_ascii_digit()
                {
                    return self.error("invalid group name");
                }
                self.groups_opened += 1;
                self.out.push_str("(?P<");
                self.out.push_str(&String::from_utf8_lossy(name));
                self.out.push('>');
                self.pos = name_start + name_len + 1;
                Ok(())
            }
            Some(b'P') => {
                // (?P=name) back reference or (?P>name) recursion.
                if after.get(1) == Some(&b'=') {
                    self.backtracking = true;
                    let Some(close) = after.iter().position(|&b| b == b')') else {
                        return self.error("unterminated (?P= back reference");
                    };
                    let name = String::from_utf8_lossy(&after[2..close]).into_owned();
                    self.out.push_str("\\k<");
                    self.out.push_str(&name);
                    self.out.push('>');
                    self.pos += 2 + close + 1;
                    self.depth -= 1;
                    Ok(())
                } else {
                    self.error("pattern recursion (?P>…) is not supported")
                }
            }
            Some(b'|') => self.error("branch reset groups (?|…) are not supported"),
            Some(b'(') => self.error("conditional groups (?(…)…) are not supported"),
            Some(b'R' | b'0'..=b'9' | b'+' | b'&') => {
                self.error("pattern recursion is not supported")
            }
            Some(b'C') => self.error("callouts (?C…) are not supported"),
            _ => {
                // Flag group: (?flags) or (?flags:…).
                let end = after.iter().position(|&b| b == b')' || b == b':');
                let Some(end) = end else {
                    return self.error("unterminated group");
                };
                let flags = &after[..end];
                if let Some(&bad) = flags
                    .iter()
                    .find(|&&b| !matches!(b, b'i' | b'm' | b's' | b'x' | b'U' | b'-'))
                {
                    return self.error(format!("unsupported inline flag '{}'", char::from(bad)));
                }
                let closes = after[end] == b')';
                self.out.push_str("(?");
                self.out.push_str(&String::from_utf8_lossy(flags));
                self.out.push(char::from(after[end]));
                self.pos += 2 + end + 1;
                if closes {
                    self.depth -= 1;
                }
                Ok(())
            }
        }
    }

    /// Parses a numeric escape body of `digits` in `radix` starting at `pos`,
    /// at most `max_len` digits. Returns the value.
    fn take_number(&mut self, radix: u32, max_len: usize) -> Option<u32> {
        let mut value: u32 = 0;
        let mut len = 0;
        while len < max_len {
            let Some(digit) = self.peek().and_then(|b| char::from(b).to_digit(radix)) else {
                break;
            };
            value = value.saturating_mul(radix).saturating_add(digit);
            self.pos += 1;
            len += 1;
        }
        (len > 0).then_some(value)
    }

    /// Parses `{…}` holding a number in `radix` (for `\x{…}` and `\o{…}`).
    fn take_braced_number(&mut self, radix: u32) -> Result<u32, TranslateError> {
        // pos is at '{'
        self.pos += 1;
        let value = self.take_number(radix, 8);
        if self.peek() != Some(b'}') {
            return self.error("malformed \\x{…} or \\o{…} escape");
        }
        self.pos += 1;
        match value {
            Some(value) => Ok(value),
            None => self.error("empty \\x{} or \\o{} escape"),
        }
    }

    fn byte_value(&self, value: u32) -> Result<u8, TranslateError> {
        u8::try_from(value).or_else(|_| self.error("character value above 0xFF (patterns are compiled in byte mode, as PCRE non-UTF mode)"))
    }

    /// Escapes that denote a single byte; shared by class and non-class contexts.
    /// `pos` is just after the backslash, at the escape letter. Returns `None`
    /// (without consuming) when the escape is not a single-byte escape.
    fn single_byte_escape(&mut self, in_class: bool) -> Result<Option<u8>, TranslateError> {
        let Some(letter) = self.peek() else {
            return self.error("\\ at end of pattern");
        };
        let byte = match letter {
            b'a' => 0x07,
            b'e' => 0x1b,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'b' if in_class => 0x08,
            b'x' => {
                self.pos += 1;
                if self.peek() == Some(b'{') {
                    let value = self.take_braced_number(16)?;
                    return self.byte_value(value).map(Some);
                }
                let value = self.take_number(16, 2).unwrap_or(0);
                return self.byte_value(value).map(Some);
            }
            b'o' if self.peek_at(1) == Some(b'{') => {
                self.pos += 1;
                let value = self.take_braced_number(8)?;
                return self.byte_value(value).map(Some);
            }
            b'0' => {
                let value = self.take_number(8, 3).unwrap_or(0);
                return self.byte_value(value).map(Some);
            }
            b'1'..=b'9' if in_class => {
                if letter >= b'8' {
                    self.pos += 1;
                    return Ok(Some(letter));
                }
                let value = self.take_number(8, 3).unwrap_or(0);
                return self.byte_value(value).map(Some);
            }
            b'c' => {
                let Some(control) = self.peek_at(1) else {
                    return self.error("\\c at end of pattern");
                };
                if !control.is_ascii() {
                    return self.error("\\c must be followed by an ASCII character");
                }
                self.pos += 2;
                return Ok(Some(control.to_ascii_uppercase() ^ 0x40));
            }
            _ if !letter.is_ascii_alphanumeric() => letter,
            _ => return Ok(None),
        };
        self.pos += 1;
        Ok(Some(byte))
    }

    /// Class shorthands valid both inside and outside classes, rendered as
    /// class-item syntax (to be wrapped in `[…]` outside a class).
    fn shorthand_class(letter: u8) -> Option<&'static str> {
        Some(match letter {
            b'd' => "\\d",
            b'D' => "\\D",
            b'w' => "\\w",
            b'W' => "\\W",
            b's' => "\\s",
            b'S' => "\\S",
            b'h' => "\\x09\\x20\\xA0",
            b'v' => "\\x0A-\\x0D\\x85",
            _ => return None,
        })
    }

    fn negated_shorthand(letter: u8) -> Option<&'static str> {
        Some(match letter {
            b'H' => "\\x09\\x20\\xA0",
            b'V' => "\\x0A-\\x0D\\x85",
            _ => return None,
        })
    }

    fn escape_outside_class(&mut self) -> Result<(), TranslateError> {
        self.pos += 1; // the backslash
        let Some(letter) = self.peek() else {
            return self.error("\\ at end of pattern");
        };
        match letter {
            b'Q' => {
                self.pos += 1;
                let end = memchr::memmem::find(self.rest(), b"\\E")
                    .map_or(self.pattern.len(), |at| self.pos + at);
                for &byte in &self.pattern[self.pos..end] {
                    push_byte(&mut self.out, byte);
                }
                self.pos = (end + 2).min(self.pattern.len());
                return Ok(());
            }
            b'E' => {
                self.pos += 1;
                return Ok(());
            }
            b'b' | b'B' | b'A' | b'z' => {
                self.out.push('\\');
                self.out.push(char::from(letter));
                self.pos += 1;
                return Ok(());
            }
            b'Z' => {
                // End of subject or before a final newline.
                self.out.push_str("(?:\\n?\\z)");
                self.pos += 1;
                return Ok(());
            }
            b'R' => {
                self.out.push_str("(?:\\x0D\\x0A|[\\x0A-\\x0D\\x85])");
                self.pos += 1;
                return Ok(());
            }
            b'N' => {
                self.out.push_str("[^\\x0A]");
                self.pos += 1;
                return Ok(());
            }
            b'1'..=b'9' => {
                // PCRE: a back reference if < 10 or not more than the groups seen; else octal.
                let start = self.pos;
                let number = self.take_number(10, 3).unwrap_or(0);
                if number < 10 || usize::try_from(number).is_ok_and(|n| n <= self.groups_opened) {
                    self.backtracking = true;
                    let _ = write!(self.out, "\\{number}");
                    return Ok(());
                }
                self.pos = start;
                if !(b'0'..=b'7').contains(&letter) {
                    // \8 or \9 beyond the group count: a literal digit.
                    self.pos += 1;
                    push_byte(&mut self.out, letter);
                    return Ok(());
                }
                let value = self.take_number(8, 3).unwrap_or(0);
                let byte = self.byte_value(value)?;
                push_byte(&mut self.out, byte);
                return Ok(());
            }
            b'g' | b'k' => {
                // \g{n} \gn \g{-n} \k<name> \k'name' \k{name}: back references.
                self.backtracking = true;
                let rest = &self.pattern[self.pos + 1..];
                let (open, close) = match rest.first() {
                    Some(b'{') => (b'{', b'}'),
                    Some(b'<') => (b'<', b'>'),
                    Some(b'\'') => (b'\'', b'\''),
                    Some(b'0'..=b'9' | b'-') if letter == b'g' => {
                        let len = 1 + rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
                        let reference = String::from_utf8_lossy(&rest[..len]).into_owned();
                        if reference.starts_with('-') {
                            return self.error("relative back references are not supported");
                        }
                        let _ = write!(self.out, "\\{reference}");
                        self.pos += 1 + len;
                        return Ok(());
                    }
                    _ => return self.error("malformed back reference"),
                };
                let _ = open;
                let Some(len) = rest[1..].iter().position(|&b| b == close) else {
                    return self.error("unterminated back reference");
                };
                let reference = String::from_utf8_lossy(&rest[1..1 + len]).into_owned();
                if reference.starts_with('-') || reference.is_empty() {
                    return self.error("relative or empty back references are not supported");
                }
                if reference.bytes().all(|b| b.is_ascii_digit()) {
                    let _ = write!(self.out, "\\{reference}");
                } else {
                    let _ = write!(self.out, "\\k<{reference}>");
                }
                self.pos += 1 + 1 + len + 1;
                return Ok(());
            }
            b'G' => return self.error("\\G is not supported"),
            b'K' => return self.error("\\K is not supported"),
            b'p' | b'P' | b'X' | b'C' => {
                return self.error(format!(
                    "\\{} is not supported in byte (non-UTF) mode",
                    char::from(letter)
                ));
            }
            _ => {}
        }
        if let Some(items) = Self::shorthand_class(letter) {
            self.out.push('[');
            self.out.push_str(items);
            self.out.push(']');
            self.pos += 1;
            return Ok(());
        }
        if let Some(items) = Self::negated_shorthand(letter) {
            self.out.push_str("[^");
            self.out.push_str(items);
            self.out.push(']');
            self.pos += 1;
            return Ok(());
        }
        match self.single_byte_escape(false)? {
            Some(byte) => {
                push_byte(&mut self.out, byte);
                Ok(())
            }
            None => self.error(format!("unrecognized escape \\{}", char::from(letter))),
        }
    }

    /// One class item at `pos` (not `]`), or `None` when a `\Q…\E` run was empty.
    fn class_items(&mut self, items: &mut Vec<ClassItem>) -> Result<(), TranslateError> {
        let Some(byte) = self.peek() else {
            return self.error("missing terminating ] for character class");
        };
        if byte == b'[' && self.peek_at(1) == Some(b':') {
            let rest = &self.rest()[2..];
            if let Some(close) = memchr::memmem::find(rest, b":]") {
                let (negated, name) = match rest[..close].strip_prefix(b"^") {
                    Some(name) => (true, name),
                    None => (false, &rest[..close]),
                };
                if !is_word_class_name(name) {
                    return self.error(format!(
                        "unknown POSIX class name {}",
                        String::from_utf8_lossy(name)
                    ));
                }
                let name = String::from_utf8_lossy(name);
                items.push(ClassItem::Set(if negated {
                    format!("[:^{name}:]")
                } else {
                    format!("[:{name}:]")
                }));
                self.pos += 2 + close + 2;
                return Ok(());
            }
        }
        if byte != b'\\' {
            items.push(ClassItem::Byte(byte));
            self.pos += 1;
            return Ok(());
        }
        self.pos += 1;
        let Some(letter) = self.peek() else {
            return self.error("\\ at end of pattern");
        };
        if letter == b'Q' {
            self.pos += 1;
            let end = memchr::memmem::find(self.rest(), b"\\E")
                .map_or(self.pattern.len(), |at| self.pos + at);
            items.extend(
                self.pattern[self.pos..end]
                    .iter()
                    .map(|&b| ClassItem::Byte(b)),
            );
            self.pos = (end + 2).min(self.pattern.len());
            return Ok(());
        }
        if letter == b'E' {
            self.pos += 1;
            return Ok(());
        }
        if let Some(set) = Self::shorthand_class(letter) {
            items.push(ClassItem::Set(set.to_owned()));
            self.pos += 1;
            return Ok(());
        }
        if let Some(set) = Self::negated_shorthand(letter) {
            items.push(ClassItem::Set(format!("[^{set}]")));
            self.pos += 1;
            return Ok(());
        }
        match self.single_byte_escape(true)? {
            Some(byte) => {
                items.push(ClassItem::Byte(byte));
                Ok(())
            }
            None => self.error(format!(
                "unrecognized escape \\{} in character class",
                char::from(letter)
            )),
        }
    }

    fn class(&mut self) -> Result<(), TranslateError> {
        let class_start = self.pos;
        self.pos += 1;
        let negated = self.peek() == Some(b'^');
        if negated {
            self.pos += 1;
        }
        let mut rendered = String::from(if negated { "[^" } else { "[" });
        let mut first = true;
        loop {
            match self.peek() {
                None => {
                    self.pos = class_start;
                    return self.error("missing terminating ] for character class");
                }
                Some(b']') if !first => {
                    self.pos += 1;
                    break;
                }
                _ => {}
            }
            first = false;
            let mut items = Vec::new();
            self.class_items(&mut items)?;
            // A range `a-z`: the last single byte, '-', then a single byte (not ']').
            let is_range = matches!(items.last(), Some(ClassItem::Byte(_)))
                && self.peek() == Some(b'-')
                && self.peek_at(1).is_some_and(|b| b != b']');
            if is_range {
                let saved = self.pos;
                self.pos += 1;
                let mut end_items = Vec::new();
                self.class_items(&mut end_items)?;
                if let ([ClassItem::Byte(high)], Some(ClassItem::Byte(low))) =
                    (end_items.as_slice(), items.last())
                {
                    let (low, high) = (*low, *high);
                    if low > high {
                        return self.error("range out of order in character class");
                    }
                    items.pop();
                    for item in &items {
                        render_class_item(&mut rendered, item);
                    }
                    push_byte(&mut rendered, low);
                    rendered.push('-');
                    push_byte(&mut rendered, high);
                    continue;
                }
                // Not a range (e.g. `[a-\d]`): '-' is a literal.
                self.pos = saved;
            }
            for item in &items {
                render_class_item(&mut rendered, item);
            }
        }
        rendered.push(']');
        self.out.push_str(&rendered);
        Ok(())
    }
}

fn render_class_item(out: &mut String, item: &ClassItem) {
    match item {
        ClassItem::Byte(byte) => push_byte(out, *byte),
        ClassItem::Set(set) => out.push_str(set),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(pattern: &str) -> String {
        match translate(pattern.as_bytes()) {
            Ok(translation) => translation.pattern,
            Err(error) => format!("ERROR at {}: {}", error.offset, error.message),
        }
    }

    #[test]
    fn rewrites_pcre_only_syntax() {
        assert_eq!(tr("a{"), "a\\x7B");
        assert_eq!(tr("a{2,3}b{,4}"), "a{2,3}b\\x7B\\x2C4\\x7D");
        assert_eq!(tr("[[]"), "[\\x5B]");
        assert_eq!(tr("[]a]"), "[\\x5Da]");
        assert_eq!(tr("[^]]"), "[^\\x5D]");
        assert_eq!(tr("[a-z&&]"), "[a-z\\x26\\x26]");
        assert_eq!(tr("[[:alpha:]_]"), "[[:alpha:]\\x5F]");
        assert_eq!(tr("\\Qa.b\\E+"), "a\\x2Eb+");
        assert_eq!(tr("\\x41\\x42\\101\\0"), "ABA\\x00");
        assert_eq!(tr("\\<x\\>"), "\\x3Cx\\x3E");
        assert_eq!(tr("[\\b]"), "[\\x08]");
        assert_eq!(tr("\\h"), "[\\x09\\x20\\xA0]");
        assert_eq!(tr("(?#comment)a"), "a");
        assert_eq!(tr("(?<n>a)(?'m'b)"), "(?P<n>a)(?P<m>b)");
        assert_eq!(tr("[\\--9]"), "[\\x2D-9]");
        assert_eq!(tr("[a-]"), "[a\\x2D]");
        assert_eq!(tr("é"), "\\xC3\\xA9");
    }

    #[test]
    fn flags_backtracking_constructs() {
        for pattern in [
            "(a)\\1",
            "a(?=b)",
            "(?<!a)b",
            "(?>a+)",
            "a++",
            "a{2}+",
            "(?<n>a)\\k<n>",
        ] {
            let translation = translate(pattern.as_bytes()).expect(pattern);
            assert!(translation.needs_backtracking, "{pattern}");
        }
        for pattern in ["a+b", "(?i)abc", "a{2}?", "a*?b"] {
            let translation = translate(pattern.as_bytes()).expect(pattern);
            assert!(!translation.needs_backtracking, "{pattern}");
        }
    }

    #[test]
    fn rejects_unsupported() {
        for pattern in [
            "\\G",
            "a\\K",
            "(?|a)",
            "(?R)",
            "(*UTF)",
            "[a",
            "\\",
            "\\p{L}",
            "(?(1)a|b)",
            "\\x{100}",
            "[z-a]",
            "\\y",
        ] {
            assert!(translate(pattern.as_bytes()).is_err(), "{pattern}");
        }
    }
}
