//! Loading: TOML text → spanned document → [`Config`] → validation.
//!
//! The text is parsed once into a spanned document (`toml::de::DeTable`), which
//! both feeds serde and lets every later check find the line and column of the
//! key it complains about. Syntax errors are all reported together; serde stops
//! at the first schema error; semantic checks again report everything they find.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{ConfigError, Diagnostic};
use crate::model::Config;

/// Largest configuration file accepted.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Deepest nesting of arrays and tables accepted (the TOML parser recurses).
const MAX_NESTING: usize = 64;

/// Reads, parses and validates the configuration file at `path`.
/// Relative paths inside it are resolved against the file's directory.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| ConfigError::read(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ConfigError::read(path, e))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::too_large(path, MAX_CONFIG_BYTES));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        ConfigError::invalid(vec![Diagnostic::at(
            path,
            &text,
            offset,
            "the file is not valid UTF-8; expected a UTF-8 TOML document".to_owned(),
        )])
    })?;
    parse(&text, path)
}

/// Parses and validates configuration `text`; `origin` names it in errors and
/// its parent directory anchors relative paths.
pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    if let Some(offset) = excessive_nesting(text) {
        return Err(ConfigError::invalid(vec![Diagnostic::at(
            origin,
            text,
            offset,
            format!(
                "arrays/tables nested deeper than {MAX_NESTING} levels; expected a flatter document"
            ),
        )]));
    }
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        let diagnostics = syntax_errors
            .iter()
            .map(|e| {
                let offset = e.span().map_or(0, |s| s.start);
                Diagnostic::at(
                    origin,
                    text,
                    offset,
                    format!("invalid TOML: {}", e.message()),
                )
            })
            .collect();
        return Err(ConfigError::invalid(diagnostics));
    }
    let doc = Document { text, origin, root };
    let mut config = Config::deserialize(toml::de::Deserializer::from(doc.root.clone()))
        .map_err(|e| ConfigError::invalid(vec![doc.describe_schema_error(&e)]))?;
    let base = origin.parent().unwrap_or(Path::new(""));
    config.resolve_relative_paths(base);
    let diagnostics = crate::validate::validate(&config, &doc);
    if diagnostics.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::invalid(diagnostics))
    }
}

/// Offset of the first bracket nested deeper than [`MAX_NESTING`], skipping
/// strings and comments. Conservative: a rough scan, not a TOML parser.
fn excessive_nesting(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if quote == b'"' && bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// One step of a path into the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    /// A table key.
    Key(&'a str),
    /// An array index.
    Index(usize),
}

/// The parsed document with spans, used to locate problems.
pub(crate) struct Document<'t> {
    text: &'t str,
    origin: &'t Path,
    root: Spanned<DeTable<'t>>,
}

impl Document<'_> {
    /// A diagnostic at `path` (or its nearest written ancestor when the key is
    /// absent, e.g. a default value).
    pub(crate) fn diagnostic(&self, path: &[Seg<'_>], message: String) -> Diagnostic {
        Diagnostic::at(self.origin, self.text, self.offset_of(path), message)
    }

    /// Byte offset of the value at `path` (a scalar's value, a table's or an
    /// array's key), or of its nearest existing ancestor.
    fn offset_of(&self, path: &[Seg<'_>]) -> usize {
        let mut offset = 0;
        let mut current: Option<&Spanned<DeValue<'_>>> = None;
        for seg in path {
            let found = match (seg, current) {
                (Seg::Key(k), None) => self
                    .root
                    .get_ref()
                    .get_key_value(*k)
                    .map(|(key, v)| (key.span().start, v)),
                (Seg::Key(k), Some(v)) => v
                    .get_ref()
                    .as_table()
                    .and_then(|t| t.get_key_value(*k))
                    .map(|(key, v)| (key.span().start, v)),
                (Seg::Index(i), Some(v)) => v
                    .get_ref()
                    .as_array()
                    .and_then(|a| a.get(*i))
                    .map(|v| (v.span().start, v)),
                (Seg::Index(_), None) => None,
            };
            let Some((found_offset, value)) = found else {
                return offset;
            };
            offset = found_offset;
            current = Some(value);
        }
        match current {
            Some(v) if !v.get_ref().is_table() && !v.get_ref().is_array() => v.span().start,
            _ => offset,
        }
    }

    fn value_at(&self, path: &[Seg<'_>]) -> Option<&Spanned<DeValue<'_>>> {
        let mut current: Option<&Spanned<DeValue<'_>>> = None;
        for seg in path {
            current = match (seg, current) {
                (Seg::Key(k), None) => self.root.get_ref().get(*k),
                (Seg::Key(k), Some(v)) => v.get_ref().as_table().and_then(|t| t.get(*k)),
                (Seg::Index(i), Some(v)) => v.get_ref().as_array().and_then(|a| a.get(*i)),
                (Seg::Index(_), None) => None,
            };
            current?;
        }
        current
    }

    /// Turns a serde error into a located diagnostic that names the table and
    /// key and says what is expected.
    fn describe_schema_error(&self, error: &toml::de::Error) -> Diagnostic {
        let offset = error.span().map_or(0, |s| s.start);
        let path = locate(self.root.get_ref(), offset);
        let table_len = self.table_prefix_len(&path);
        let table = table_header(&path[..table_len]);
        let key = path[table_len..].iter().find_map(|s| match s {
            OwnedSeg::Key(k) => Some(k.as_str()),
            OwnedSeg::Index(_) => None,
        });
        let message = error.message().trim_end();
        let backticked = backticked(message);
        let text = if message.starts_with("unknown field") {
            let unknown = backticked.first().copied().unwrap_or("?");
            // The unknown key itself is located, so the table is its parent.
            let table = if key == Some(unknown) {
                table
            } else {
                table_header(&path)
            };
            match backticked.get(1..) {
                Some(expected) if !expected.is_empty() => format!(
                    "unknown key \"{unknown}\" in {table}; expected one of: {}",
                    expected.join(", ")
                ),
                _ => format!("unknown key \"{unknown}\" in {table}; this table takes no keys"),
            }
        } else if message.starts_with("missing field") {
            let missing = backticked.first().copied().unwrap_or("?");
            format!(
                "missing key \"{missing}\" in {}; it is required",
                table_header(&path[..table_len])
            )
        } else if message.starts_with("unknown variant") {
            let found = backticked.first().copied().unwrap_or("?");
            let expected = backticked.get(1..).unwrap_or_default().join(", ");
            format!(
                "invalid value \"{found}\" for {} in {table}; expected one of: {expected}",
                quoted(key)
            )
        } else if let Some(rest) = message.strip_prefix("invalid type: ") {
            let (found, expected) = rest
                .split_once(", expected ")
                .unwrap_or((rest, "another type"));
            format!(
                "wrong type for {} in {table}: found {found}; expected {}",
                quoted(key),
                plain_type_name(expected)
            )
        } else {
            format!(
                "invalid value for {} in {table}: {}",
                quoted(key),
                with_expectation(message)
            )
        };
        Diagnostic::at(self.origin, self.text, offset, text)
    }

    /// Length of the longest prefix of `path` that names a table.
    fn table_prefix_len(&self, path: &[OwnedSeg]) -> usize {
        let borrowed: Vec<Seg<'_>> = path.iter().map(OwnedSeg::as_seg).collect();
        (0..=borrowed.len())
            .rev()
            .find(|&n| {
                n == 0
                    || self
                        .value_at(&borrowed[..n])
                        .is_some_and(|v| v.get_ref().is_table())
            })
            .unwrap_or(0)
    }
}

/// Adds what is expected to serde messages of standard types that lack it.
fn with_expectation(message: &str) -> String {
    let expectation = match message {
        "invalid socket address syntax" => {
            "; expected an address like \"127.0.0.1:8080\" or \"[::1]:8443\""
        }
        "invalid IP address syntax" => "; expected a network like \"10.0.0.0/8\" or an address",
        _ => "",
    };
    format!("{message}{expectation}")
}

/// Says serde's Rust type names the way a TOML author thinks of them.
fn plain_type_name(expected: &str) -> &str {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i64" | "an integer" => "an integer",
        "a sequence" => "an array",
        "a boolean" | "bool" => "true or false",
        other if other.starts_with("struct ") => "a table",
        other => other,
    }
}

fn quoted(key: Option<&str>) -> String {
    key.map_or_else(|| "a value".to_owned(), |k| format!("\"{k}\""))
}

/// The words between backticks in a serde message.
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum OwnedSeg {
    Key(String),
    Index(usize),
}

impl OwnedSeg {
    fn as_seg(&self) -> Seg<'_> {
        match self {
            OwnedSeg::Key(k) => Seg::Key(k),
            OwnedSeg::Index(i) => Seg::Index(*i),
        }
    }
}

/// The deepest path whose key or value span contains `offset`.
fn locate(root: &DeTable<'_>, offset: usize) -> Vec<OwnedSeg> {
    fn contains(span: Range<usize>, offset: usize) -> bool {
        span.contains(&offset) || (span.is_empty() && span.start == offset)
    }
    fn search_value(
        value: &Spanned<DeValue<'_>>,
        offset: usize,
        depth: usize,
    ) -> Option<Vec<OwnedSeg>> {
        if depth > MAX_NESTING {
            return None;
        }
        match value.get_ref() {
            DeValue::Table(table) => search_table(table, offset, depth + 1),
            DeValue::Array(array) => array.iter().enumerate().find_map(|(i, item)| {
                let mut inner = search_value(item, offset, depth + 1);
                if inner.is_none() && contains(item.span(), offset) {
                    inner = Some(Vec::new());
                }
                inner.map(|mut p| {
                    p.insert(0, OwnedSeg::Index(i));
                    p
                })
            }),
            _ => None,
        }
    }
    fn search_table(table: &DeTable<'_>, offset: usize, depth: usize) -> Option<Vec<OwnedSeg>> {
        table.iter().find_map(|(key, value)| {
            let mut inner = search_value(value, offset, depth);
            if inner.is_none() && (contains(key.span(), offset) || contains(value.span(), offset)) {
                inner = Some(Vec::new());
            }
            inner.map(|mut p| {
                p.insert(0, OwnedSeg::Key(key.get_ref().to_string()));
                p
            })
        })
    }
    search_table(root, offset, 0).unwrap_or_default()
}

/// How a table is written in the file: `[limits]`, `[[site.route]]`, or the top level.
fn table_header(path: &[OwnedSeg]) -> String {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|s| match s {
            OwnedSeg::Key(k) => Some(k.as_str()),
            OwnedSeg::Index(_) => None,
        })
        .collect();
    if keys.is_empty() {
        "the top-level table".to_owned()
    } else if matches!(path.last(), Some(OwnedSeg::Index(_))) {
        format!("[[{}]]", keys.join("."))
    } else {
        format!("[{}]", keys.join("."))
    }
}
