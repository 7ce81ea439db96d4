//! XML bodies: what the engine needs for `XML:/*` and `XML://@*`.
//!
//! The document is checked for well-formedness with quick-xml (matching end
//! tags, exactly one root element, nothing but comments, processing
//! instructions and whitespace outside it). There is NO DTD processing: a
//! DOCTYPE is skipped, no entity it declares is expanded and nothing external
//! is ever loaded. Predefined and numeric character references are decoded; a
//! reference to any other entity is an error in a document without a DOCTYPE
//! (libxml2's "Entity 'x' not defined") and is kept literally (`&x;`) when a
//! DOCTYPE could have declared it.
//!
//! Output: `text_content` is the concatenated text (and CDATA) of the root
//! element, i.e. the value libxml2 gives for the node set `/*`;
//! `attribute_values` holds every attribute value in document order (`//@*`).

use quick_xml::events::Event;

use crate::{BodyError, BodyLimits, check_size};

/// What the engine inspects of an XML body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlDocument {
    /// All text content of the root element (`XML:/*`).
    pub text_content: Vec<u8>,
    /// Every attribute value (`XML://@*`), at most `max_args`.
    pub attribute_values: Vec<Vec<u8>>,
    /// True when more than `max_args` attributes were present.
    pub args_limit_exceeded: bool,
}

/// Parses an XML body.
pub fn parse_xml(input: &[u8], limits: &BodyLimits) -> Result<XmlDocument, BodyError> {
    check_size("XML", input, limits)?;
    let mut reader = quick_xml::Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut document = XmlDocument::default();
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut seen_doctype = false;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|error| malformed(position, &error.to_string()))?;
        match event {
            event @ (Event::Start(_) | Event::Empty(_)) => {
                let is_empty = matches!(event, Event::Empty(_));
                let (Event::Start(start) | Event::Empty(start)) = event else {
                    continue;
                };
                if depth == 0 {
                    if seen_root {
                        return Err(malformed(
                            position,
                            "extra content at the end of the document",
                        ));
                    }
                    seen_root = true;
                }
                for attribute in start.attributes() {
                    let attribute =
                        attribute.map_err(|error| malformed(position, &error.to_string()))?;
                    let value = unescape(&attribute.value, seen_doctype).ok_or_else(|| {
                        malformed(position, "entity not defined in attribute value")
                    })?;
                    if document.attribute_values.len() >= limits.max_args {
                        document.args_limit_exceeded = true;
                    } else {
                        document.attribute_values.push(value);
                    }
                }
                if !is_empty {
                    depth += 1;
                    if depth > limits.max_depth {
                        return Err(BodyError::too_deep(format!(
                            "XML nesting depth limit of {} exceeded",
                            limits.max_depth
                        )));
                    }
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(text) => {
                if depth == 0 {
                    if text.iter().any(|b| !b.is_ascii_whitespace()) {
                        return Err(malformed(position, "text outside the root element"));
                    }
                } else {
                    document.text_content.extend_from_slice(&text);
                }
            }
            Event::CData(data) => {
                if depth == 0 {
                    return Err(malformed(position, "CDATA outside the root element"));
                }
                document.text_content.extend_from_slice(&data);
            }
            Event::GeneralRef(reference) => {
                if depth == 0 {
                    return Err(malformed(
                        position,
                        "entity reference outside the root element",
                    ));
                }
                let mut raw = Vec::with_capacity(reference.len() + 2);
                raw.push(b'&');
                raw.extend_from_slice(&reference);
                raw.push(b';');
                let decoded = unescape(&raw, seen_doctype)
                    .ok_or_else(|| malformed(position, "entity not defined"))?;
                document.text_content.extend_from_slice(&decoded);
            }
            Event::DocType(_) => {
                if seen_root {
                    return Err(malformed(position, "DOCTYPE after the root element"));
                }
                seen_doctype = true;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
        buf.clear();
    }
    if depth != 0 {
        return Err(malformed(
            reader.buffer_position(),
            "premature end of data, an element is not closed",
        ));
    }
    if !seen_root {
        return Err(malformed(0, "document is empty (no root element)"));
    }
    Ok(document)
}

fn malformed(position: u64, what: &str) -> BodyError {
    BodyError::malformed(format!("XML parsing error at byte {position}: {what}"))
}

/// Decodes predefined and numeric character references. An unknown entity
/// yields `None` without a DOCTYPE and is kept literally with one.
fn unescape(raw: &[u8], keep_unknown: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'&' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let end = raw[i..].iter().position(|&b| b == b';')? + i;
        let name = &raw[i + 1..end];
        let decoded: Option<char> = match name {
            b"amp" => Some('&'),
            b"lt" => Some('<'),
            b"gt" => Some('>'),
            b"quot" => Some('"'),
            b"apos" => Some('\''),
            [b'#', b'x' | b'X', hex @ ..] => std::str::from_utf8(hex)
                .ok()
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32),
            [b'#', decimal @ ..] => std::str::from_utf8(decimal)
                .ok()
                .and_then(|decimal| decimal.parse::<u32>().ok())
                .and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(ch) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            None if keep_unknown && name.first() != Some(&b'#') => {
                out.extend_from_slice(&raw[i..=end])
            }
            None => return None,
        }
        i = end + 1;
    }
    Some(out)
}
