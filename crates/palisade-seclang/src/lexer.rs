//! Lexing: physical lines → logical directives (continuations joined, comments dropped)
//! → directive name plus arguments (double/single quoted or bare), each with its location.

use std::sync::Arc;

use crate::Limits;
use crate::error::{ErrorKind, Location, ParseError, syntax};

/// One argument of a directive, unquoted, with where it started.
#[derive(Debug, Clone)]
pub(crate) struct RawArg {
    pub text: String,
    pub location: Location,
}

/// One logical directive line split into its name and arguments.
#[derive(Debug, Clone)]
pub(crate) struct RawDirective {
    pub name: String,
    pub location: Location,
    pub args: Vec<RawArg>,
}

/// Start of one physical line inside a logical line.
struct Segment {
    logical_offset: usize,
    line: u32,
}

struct LogicalLine {
    text: String,
    segments: Vec<Segment>,
}

impl LogicalLine {
    fn location(&self, file: &Arc<str>, offset: usize) -> Location {
        let index = self
            .segments
            .partition_point(|s| s.logical_offset <= offset)
            .saturating_sub(1);
        let (line, start) = self
            .segments
            .get(index)
            .map_or((1, 0), |s| (s.line, s.logical_offset));
        let column = u32::try_from(offset - start.min(offset))
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        Location {
            file: Arc::clone(file),
            line,
            column,
        }
    }
}

/// Splits `text` into directives. `file` names the origin for locations.
pub(crate) fn lex(
    file: &Arc<str>,
    text: &str,
    limits: &Limits,
) -> Result<Vec<RawDirective>, ParseError> {
    let mut directives = Vec::new();
    let mut current: Option<LogicalLine> = None;
    let mut line_number: u32 = 0;
    for physical in text.split('\n') {
        line_number = line_number.saturating_add(1);
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        let here = Location {
            file: Arc::clone(file),
            line: line_number,
            column: 1,
        };
        if physical.len() > limits.max_line_bytes {
            return Err(ParseError::new(ErrorKind::Limit(format!(
                "line longer than {} bytes",
                limits.max_line_bytes
            )))
            .at(here));
        }
        let trimmed_end = physical.trim_end();
        if current.is_none() {
            let trimmed = trimmed_end.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
        }
        let (content, continues) = match trimmed_end.strip_suffix('\\') {
            Some(rest) => (rest, true),
            None => (trimmed_end, false),
        };
        let logical = current.get_or_insert_with(|| LogicalLine {
            text: String::new(),
            segments: Vec::new(),
        });
        logical.segments.push(Segment {
            logical_offset: logical.text.len(),
            line: line_number,
        });
        logical.text.push_str(content);
        if logical.text.len() > limits.max_directive_bytes {
            return Err(ParseError::new(ErrorKind::Limit(format!(
                "directive longer than {} bytes",
                limits.max_directive_bytes
            )))
            .at(here));
        }
        if !continues
            && let Some(done) = current.take()
            && let Some(directive) = split_directive(file, &done)?
        {
            directives.push(directive);
        }
    }
    if let Some(done) = current.take()
        && let Some(directive) = split_directive(file, &done)?
    {
        directives.push(directive);
    }
    Ok(directives)
}

fn split_directive(
    file: &Arc<str>,
    line: &LogicalLine,
) -> Result<Option<RawDirective>, ParseError> {
    let bytes = line.text.as_bytes();
    let mut position = 0;
    let mut tokens: Vec<RawArg> = Vec::new();
    loop {
        while position < bytes.len() && bytes[position].is_ascii_whitespace() {
            position += 1;
        }
        if position >= bytes.len() {
            break;
        }
        let start = position;
        let location = line.location(file, start);
        let quote = bytes[position];
        let mut text = String::new();
        if quote == b'"' || quote == b'\'' {
            position += 1;
            let mut closed = false;
            let mut run_start = position;
            while position < bytes.len() {
                let byte = bytes[position];
                if byte == b'\\' && position + 1 < bytes.len() {
                    if bytes[position + 1] == quote {
                        text.push_str(&line.text[run_start..position]);
                        text.push(char::from(quote));
                        position += 2;
                        run_start = position;
                    } else {
                        position += 2;
                    }
                    continue;
                }
                if byte == quote {
                    closed = true;
                    break;
                }
                position += 1;
            }
            if !closed {
                return Err(syntax("unterminated quoted string").at(location));
            }
            text.push_str(line.text.get(run_start..position).unwrap_or_default());
            position += 1;
            if position < bytes.len() && !bytes[position].is_ascii_whitespace() {
                return Err(syntax("missing whitespace after quoted argument")
                    .at(line.location(file, position)));
            }
        } else {
            while position < bytes.len() && !bytes[position].is_ascii_whitespace() {
                position += 1;
            }
            text.push_str(line.text.get(start..position).unwrap_or_default());
        }
        tokens.push(RawArg { text, location });
    }
    let mut tokens = tokens.into_iter();
    let Some(name) = tokens.next() else {
        return Ok(None);
    };
    Ok(Some(RawDirective {
        name: name.text,
        location: name.location,
        args: tokens.collect(),
    }))
}
