//! `@pm` / `@pmFromFile`: case-insensitive multi-phrase matching with Aho-Corasick.
//!
//! `@pm` arguments follow libmodsecurity's `parse_pm_content`: `|41 42|`
//! sections are hex bytes, `\x` escapes a character, then the text is split
//! on whitespace and surrounding double quotes are removed from each phrase.
//! `@pmFromFile` reads one phrase per line from files relative to the rule
//! file's directory; empty lines and `#` comment lines are skipped.

use std::path::Path;

use aho_corasick::AhoCorasick;

use crate::{Captures, ErrorKind, OperatorError};

/// Largest data file read by `@pmFromFile` / `@ipMatchFromFile`.
const MAX_DATA_FILE_BYTES: u64 = 32 << 20;
/// Most phrases in one operator.
const MAX_PHRASES: usize = 1_000_000;

#[derive(Debug)]
pub(crate) struct PhraseMatcher {
    automaton: AhoCorasick,
    /// The phrases as written (TX:0 is the matched phrase, as in libmodsecurity).
    phrases: Vec<Vec<u8>>,
}

impl PhraseMatcher {
    pub(crate) fn from_argument(operator: &str, argument: &str) -> Result<Self, OperatorError> {
        let decoded = decode_pm_content(argument.as_bytes());
        let phrases: Vec<&[u8]> = decoded
            .split(|b| b.is_ascii_whitespace())
            .filter(|phrase| !phrase.is_empty())
            .map(|phrase| match phrase {
                [b'"', inner @ .., b'"'] => inner,
                _ => phrase,
            })
            .filter(|phrase| !phrase.is_empty())
            .collect();
        Self::build(operator, &phrases)
    }

    pub(crate) fn from_files(
        operator: &str,
        files: &str,
        base_dir: &Path,
    ) -> Result<Self, OperatorError> {
        let mut phrases = Vec::new();
        for file in files.split_whitespace() {
            let lines = read_data_lines(file, base_dir)
                .map_err(|error| OperatorError::new(operator, ErrorKind::File(error)))?;
            phrases.extend(lines);
        }
        let phrases: Vec<&[u8]> = phrases.iter().map(String::as_bytes).collect();
        Self::build(operator, &phrases)
    }

    fn build(operator: &str, phrases: &[&[u8]]) -> Result<Self, OperatorError> {
        if phrases.is_empty() {
            return Err(OperatorError::new(
                operator,
                ErrorKind::InvalidArgument("no phrases to match".to_owned()),
            ));
        }
        if phrases.len() > MAX_PHRASES {
            return Err(OperatorError::new(
                operator,
                ErrorKind::InvalidArgument(format!("more than {MAX_PHRASES} phrases")),
            ));
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(phrases)
            .map_err(|error| {
                OperatorError::new(operator, ErrorKind::InvalidArgument(error.to_string()))
            })?;
        Ok(Self {
            automaton,
            phrases: phrases.iter().map(|phrase| phrase.to_vec()).collect(),
        })
    }

    /// The phrases (compare ASCII-case-insensitively): every match is one of them.
    pub(crate) fn phrases(&self) -> &[Vec<u8>] {
        &self.phrases
    }

    pub(crate) fn matches(&self, input: &[u8], captures: Option<&mut Captures>) -> bool {
        if input.len() < self.automaton.min_pattern_len() {
            return false;
        }
        match captures {
            None => self.automaton.is_match(input),
            Some(captures) => match self.automaton.find(input) {
                Some(found) => {
                    let phrase = self
                        .phrases
                        .get(found.pattern().as_usize())
                        .map_or(&input[found.start()..found.end()], Vec::as_slice);
                    captures.set_only_zero(phrase);
                    true
                }
                None => false,
            },
        }
    }
}

/// libmodsecurity's `parse_pm_content`: hex sections between `|`, `\` escapes.
fn decode_pm_content(argument: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(argument.len());
    let mut hex_mode = false;
    let mut pending_high: Option<u8> = None;
    let mut i = 0;
    while i < argument.len() {
        let b = argument[i];
        i += 1;
        if b == b'|' {
            hex_mode = !hex_mode;
            pending_high = None;
        } else if hex_mode {
            if let Some(value) = char::from(b).to_digit(16) {
                // Infallible: a hex digit value fits in u8.
                let value = value as u8;
                match pending_high.take() {
                    Some(high) => out.push(high << 4 | value),
                    None => pending_high = Some(value),
                }
            }
        } else if b == b'\\' && i < argument.len() {
            out.push(argument[i]);
            i += 1;
        } else {
            out.push(b);
        }
    }
    out
}

/// Reads a data file (path relative to `base_dir` unless absolute) and
/// returns its non-empty, non-comment lines without line terminators.
pub(crate) fn read_data_lines(file: &str, base_dir: &Path) -> Result<Vec<String>, String> {
    if file.starts_with("http://") || file.starts_with("https://") {
        return Err(format!("{file}: remote data files are not supported"));
    }
    let path = base_dir.join(file);
    let metadata =
        std::fs::metadata(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    if metadata.len() > MAX_DATA_FILE_BYTES {
        return Err(format!(
            "{}: larger than {MAX_DATA_FILE_BYTES} bytes",
            path.display()
        ));
    }
    let bytes = std::fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| {
            let trimmed = line.trim_start();
            !trimmed.is_empty() && !trimmed.starts_with('#')
        })
        .map(str::to_owned)
        .collect())
}
