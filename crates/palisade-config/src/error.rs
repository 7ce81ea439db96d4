//! Configuration errors: every problem carries file, line, column, what is
//! wrong and what is expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in a configuration file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    file: PathBuf,
    line: usize,
    column: usize,
    message: String,
}

impl Diagnostic {
    /// Builds a diagnostic for byte `offset` of `text`.
    pub(crate) fn at(file: &Path, text: &str, offset: usize, message: String) -> Self {
        let (line, column) = line_column(text, offset);
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            message,
        }
    }

    /// The file the problem is in.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// 1-based line.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column, counted in characters.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong and what is expected (without the position).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Why a configuration could not be loaded. `Display` prints one
/// `file:line:column: message` line per problem.
#[derive(Debug)]
pub struct ConfigError {
    kind: ConfigErrorKind,
}

#[derive(Debug)]
enum ConfigErrorKind {
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    TooLarge {
        file: PathBuf,
        limit: u64,
    },
    Invalid(Vec<Diagnostic>),
}

impl ConfigError {
    pub(crate) fn read(file: &Path, source: std::io::Error) -> Self {
        ConfigError {
            kind: ConfigErrorKind::Read {
                file: file.to_path_buf(),
                source,
            },
        }
    }

    pub(crate) fn too_large(file: &Path, limit: u64) -> Self {
        ConfigError {
            kind: ConfigErrorKind::TooLarge {
                file: file.to_path_buf(),
                limit,
            },
        }
    }

    /// Problems are reported in file order.
    pub(crate) fn invalid(mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by_key(|d| (d.line, d.column));
        ConfigError {
            kind: ConfigErrorKind::Invalid(diagnostics),
        }
    }

    /// The located problems (empty when the file could not be read at all).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match &self.kind {
            ConfigErrorKind::Invalid(diagnostics) => diagnostics,
            ConfigErrorKind::Read { .. } | ConfigErrorKind::TooLarge { .. } => &[],
        }
    }

    /// The first problem's `file:line:column` (for one-line reports such as events).
    pub fn first_location(&self) -> Option<String> {
        self.diagnostics()
            .first()
            .map(|d| format!("{}:{}:{}", d.file.display(), d.line, d.column))
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ConfigErrorKind::Read { file, source } => {
                write!(
                    f,
                    "{}: cannot read the configuration file: {source}",
                    file.display()
                )
            }
            ConfigErrorKind::TooLarge { file, limit } => write!(
                f,
                "{}: the configuration file is larger than {limit} bytes; expected a small TOML file",
                file.display()
            ),
            ConfigErrorKind::Invalid(diagnostics) => {
                for (i, diagnostic) in diagnostics.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{diagnostic}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ConfigErrorKind::Read { source, .. } => Some(source),
            ConfigErrorKind::TooLarge { .. } | ConfigErrorKind::Invalid(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::line_column;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // 'é' is two bytes; the '=' after "bé " is the 4th character.
        assert_eq!(line_column(text, 10), (2, 4));
        assert_eq!(line_column(text, 999), (3, 1));
        // Inside a multi-byte character: rounds down to its start.
        assert_eq!(line_column(text, 8), (2, 2));
    }
}
