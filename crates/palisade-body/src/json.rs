//! `application/json` bodies flattened into arguments with ModSecurity v3's naming.
//!
//! libmodsecurity feeds yajl events into a stack of containers and names every
//! scalar by walking that stack:
//! * the outermost container is named `json`; a container nested in an object
//!   takes the key it is the value of; a container nested in an array has an
//!   empty name;
//! * an object contributes `NAME.` and an array `NAME.array_N` (N counts the
//!   array's elements, containers included) to the path;
//! * a scalar in an object appends its key (`empty-key` when the key is `""`).
//!
//! So `{"a":{"b":1},"c":[true,{"d":null}]}` yields `json.a.b=1`,
//! `json.c.array_0=true`, `json.c.array_1.d=` (null is an empty value; numbers
//! keep their text). A lone scalar document is named `json`.
//!
//! The parser is a hand-written iterative (stack-free recursion) strict JSON
//! parser matching yajl's defaults: no comments, no trailing garbage or second
//! document, strings must be valid UTF-8 without raw control characters.
//! Nesting deeper than `max_depth` containers is an error
//! (`SecRequestBodyJsonDepthLimit`).

use crate::{BodyError, BodyLimits, Param, check_size};

/// The arguments of one JSON body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonArgs {
    /// Flattened arguments in document order.
    pub params: Vec<Param>,
    /// True when more than `max_args` scalars were present (the rest were dropped).
    pub args_limit_exceeded: bool,
}

/// Parses and flattens a JSON body.
pub fn parse_json(input: &[u8], limits: &BodyLimits) -> Result<JsonArgs, BodyError> {
    check_size("JSON", input, limits)?;
    let mut namer = Namer {
        containers: Vec::new(),
        current_key: Vec::new(),
        args: JsonArgs::default(),
        max_args: limits.max_args,
    };
    let mut parser = Parser { input, pos: 0 };
    let mut expect = Expect::Value;
    // One entry per open container: true for arrays.
    let mut open: Vec<bool> = Vec::new();
    loop {
        parser.skip_whitespace();
        let Some(byte) = parser.peek() else {
            return if expect == Expect::Done {
                Ok(namer.args)
            } else {
                Err(parser.error("premature EOF"))
            };
        };
        match expect {
            Expect::Done => return Err(parser.error("trailing garbage")),
            Expect::Colon => {
                if byte != b':' {
                    return Err(
                        parser.error("object key and value must be separated by a colon (':')")
                    );
                }
                parser.pos += 1;
                expect = Expect::Value;
            }
            Expect::Key | Expect::KeyOrObjectEnd => {
                if byte == b'}' && expect == Expect::KeyOrObjectEnd {
                    parser.pos += 1;
                    open.pop();
                    namer.end_container();
                    expect = after_value(&open);
                } else if byte == b'"' {
                    namer.current_key = parser.string()?;
                    expect = Expect::Colon;
                } else {
                    return Err(parser.error("invalid object key (must be a string)"));
                }
            }
            Expect::CommaOrEnd => {
                let in_array = open.last().copied().unwrap_or(false);
                parser.pos += 1;
                match (byte, in_array) {
                    (b',', true) => expect = Expect::Value,
                    (b',', false) => expect = Expect::Key,
                    (b']', true) | (b'}', false) => {
                        open.pop();
                        namer.end_container();
                        expect = after_value(&open);
                    }
                    _ => {
                        return Err(
                            parser.error("after value, expected ',' or the end of the container")
                        );
                    }
                }
            }
            Expect::Value | Expect::ValueOrArrayEnd => match byte {
                b']' if expect == Expect::ValueOrArrayEnd => {
                    parser.pos += 1;
                    open.pop();
                    namer.end_container();
                    expect = after_value(&open);
                }
                b'{' | b'[' => {
                    parser.pos += 1;
                    let is_array = byte == b'[';
                    if open.len() >= limits.max_depth {
                        return Err(BodyError::too_deep(format!(
                            "JSON depth limit of {} exceeded",
                            limits.max_depth
                        )));
                    }
                    open.push(is_array);
                    namer.start_container(is_array);
                    expect = if is_array {
                        Expect::ValueOrArrayEnd
                    } else {
                        Expect::KeyOrObjectEnd
                    };
                }
                b'"' => {
                    let value = parser.string()?;
                    namer.scalar(value);
                    expect = after_value(&open);
                }
                b't' | b'f' | b'n' => {
                    let value: &[u8] = if parser.literal(b"true") {
                        b"true"
                    } else if parser.literal(b"false") {
                        b"false"
                    } else if parser.literal(b"null") {
                        b""
                    } else {
                        return Err(parser.error("invalid literal"));
                    };
                    namer.scalar(value.to_vec());
                    expect = after_value(&open);
                }
                b'-' | b'0'..=b'9' => {
                    let number = parser.number()?;
                    namer.scalar(number);
                    expect = after_value(&open);
                }
                _ => return Err(parser.error("invalid char in json text")),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    ValueOrArrayEnd,
    Key,
    KeyOrObjectEnd,
    Colon,
    CommaOrEnd,
    Done,
}

fn after_value(open: &[bool]) -> Expect {
    if open.is_empty() {
        Expect::Done
    } else {
        Expect::CommaOrEnd
    }
}

/// ModSecurity v3's container stack and current key.
struct Namer {
    /// (name, element counter for arrays).
    containers: Vec<(Vec<u8>, Option<usize>)>,
    current_key: Vec<u8>,
    args: JsonArgs,
    max_args: usize,
}

impl Namer {
    /// The name of the next container or object member; consumes the key.
    fn take_key(&mut self) -> Vec<u8> {
        match self.containers.last() {
            None => b"json".to_vec(),
            Some(_) if !self.current_key.is_empty() => std::mem::take(&mut self.current_key),
            Some((_, Some(_))) => Vec::new(),
            Some((_, None)) => b"empty-key".to_vec(),
        }
    }

    fn start_container(&mut self, is_array: bool) {
        let name = self.take_key();
        self.containers.push((name, is_array.then_some(0)));
    }

    fn end_container(&mut self) {
        self.containers.pop();
        self.bump_array_counter();
    }

    fn bump_array_counter(&mut self) {
        if let Some((_, Some(counter))) = self.containers.last_mut() {
            *counter += 1;
        }
    }

    fn scalar(&mut self, value: Vec<u8>) {
        if self.containers.is_empty() {
            self.push(b"json".to_vec(), value);
            return;
        }
        if self.args.params.len() >= self.max_args {
            self.args.args_limit_exceeded = true;
            // Keep the naming state consistent even when dropping.
            match self.containers.last() {
                Some((_, Some(_))) => self.bump_array_counter(),
                _ => self.current_key.clear(),
            }
            return;
        }
        let mut path = Vec::new();
        for (name, counter) in &self.containers {
            path.extend_from_slice(name);
            match counter {
                Some(counter) => path.extend_from_slice(format!(".array_{counter}").as_bytes()),
                None => path.push(b'.'),
            }
        }
        if matches!(self.containers.last(), Some((_, Some(_)))) {
            self.bump_array_counter();
        } else {
            let key = self.take_key();
            path.extend_from_slice(&key);
        }
        self.push(path, value);
    }

    fn push(&mut self, name: Vec<u8>, value: Vec<u8>) {
        if self.args.params.len() >= self.max_args {
            self.args.args_limit_exceeded = true;
            return;
        }
        self.args.params.push(Param { name, value });
    }
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn error(&self, what: &str) -> BodyError {
        BodyError::malformed(format!("JSON parsing error at byte {}: {what}", self.pos))
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.input[self.pos..].starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// A number's text, checked against the JSON grammar.
    fn number(&mut self) -> Result<Vec<u8>, BodyError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("malformed number, a digit is required")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(
                    self.error("malformed number, a digit is required after the decimal point")
                );
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("malformed number, a digit is required after the exponent"));
            }
            self.digits();
        }
        Ok(self.input[start..self.pos].to_vec())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    /// A string starting at the opening quote, unescaped.
    fn string(&mut self) -> Result<Vec<u8>, BodyError> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let run_start = self.pos;
            while let Some(byte) = self.peek() {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let run = &self.input[run_start..self.pos];
            if std::str::from_utf8(run).is_err() {
                return Err(self.error("invalid bytes in UTF8 string"));
            }
            out.extend_from_slice(run);
            match self.peek() {
                None => return Err(self.error("premature EOF in string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = self
                        .peek()
                        .ok_or_else(|| self.error("premature EOF in string"))?;
                    self.pos += 1;
                    match escaped {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let ch = self.unicode_escape()?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => {
                            return Err(self.error(
                                "inside a string, '\\' occurs before a character which it may not",
                            ));
                        }
                    }
                }
                Some(_) => return Err(self.error("invalid character inside string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, BodyError> {
        let digits = self
            .input
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        let mut value = 0u32;
        for &digit in digits {
            let nibble = (digit as char)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            value = value << 4 | nibble;
        }
        self.pos += 4;
        Ok(value)
    }

    /// `\uXXXX` (after the `u`), joining surrogate pairs; a lone surrogate
    /// becomes `?` as yajl does.
    fn unicode_escape(&mut self) -> Result<char, BodyError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            if self.input[self.pos..].starts_with(b"\\u") {
                let save = self.pos;
                self.pos += 2;
                let second = self.hex4()?;
                if (0xDC00..0xE000).contains(&second) {
                    let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    return Ok(char::from_u32(code).unwrap_or('?'));
                }
                self.pos = save;
            }
            return Ok('?');
        }
        Ok(char::from_u32(first).unwrap_or('?'))
    }
}
