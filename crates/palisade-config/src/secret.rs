//! Secret values referenced from the configuration.
//!
//! A secret is written as `env:NAME` (read from the environment), `file:PATH`
//! (read from a file, one trailing newline removed) or, discouraged, as a
//! literal string. The value is resolved when the configuration is loaded so
//! that `palisade config check` reports a missing variable or file with its
//! location. [`Secret`]'s `Debug` and `Display` print `***`; the only way to see
//! the value is [`Secret::expose`], which makes every use greppable.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// Largest secret file read (a secret is a key or a password, not a document).
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// A secret value. Never printed: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    source: SecretSource,
}

/// Where a [`Secret`] came from (safe to log).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretSource {
    /// `env:NAME`.
    Env(String),
    /// `file:PATH`.
    File(PathBuf),
    /// Written literally in the configuration (discouraged).
    Literal,
}

/// Why a secret reference could not be resolved.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct SecretError {
    kind: SecretErrorKind,
}

#[derive(Debug, thiserror::Error)]
enum SecretErrorKind {
    #[error("secret env:{0}: the environment variable {0} is not set (or not valid UTF-8)")]
    EnvMissing(String),
    #[error("secret env:{0}: the variable name is empty; expected env:NAME")]
    EnvNameEmpty(String),
    #[error("secret file:{path}: cannot read: {source}")]
    FileUnreadable {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "secret file:{0}: larger than {MAX_SECRET_FILE_BYTES} bytes; expected a small key or password file"
    )]
    FileTooLarge(String),
    #[error("secret file:{0}: not valid UTF-8")]
    FileNotUtf8(String),
    #[error("secret is empty; expected env:NAME, file:PATH or a value")]
    Empty,
}

impl Secret {
    /// Wraps a value obtained elsewhere (e.g. generated at runtime).
    pub fn new(value: impl Into<String>) -> Self {
        Secret {
            value: value.into(),
            source: SecretSource::Literal,
        }
    }

    /// Resolves a reference: `env:NAME`, `file:PATH`, or a literal value.
    pub fn resolve(reference: &str) -> Result<Self, SecretError> {
        let fail = |kind| SecretError { kind };
        if reference.is_empty() {
            return Err(fail(SecretErrorKind::Empty));
        }
        if let Some(name) = reference.strip_prefix("env:") {
            if name.is_empty() {
                return Err(fail(SecretErrorKind::EnvNameEmpty(name.to_owned())));
            }
            let value = std::env::var(name)
                .map_err(|_| fail(SecretErrorKind::EnvMissing(name.to_owned())))?;
            return Ok(Secret {
                value,
                source: SecretSource::Env(name.to_owned()),
            });
        }
        if let Some(path) = reference.strip_prefix("file:") {
            let value = read_secret_file(path).map_err(fail)?;
            return Ok(Secret {
                value,
                source: SecretSource::File(PathBuf::from(path)),
            });
        }
        Ok(Secret {
            value: reference.to_owned(),
            source: SecretSource::Literal,
        })
    }

    /// The secret value. Do not log it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where the value came from.
    pub fn source(&self) -> &SecretSource {
        &self.source
    }

    /// True when the value was written literally in the configuration.
    pub fn is_literal(&self) -> bool {
        self.source == SecretSource::Literal
    }
}

fn read_secret_file(path: &str) -> Result<String, SecretErrorKind> {
    use std::io::Read;
    let unreadable = |source| SecretErrorKind::FileUnreadable {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(SecretErrorKind::FileTooLarge(path.to_owned()));
    }
    let mut text =
        String::from_utf8(bytes).map_err(|_| SecretErrorKind::FileNotUtf8(path.to_owned()))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let reference = String::deserialize(d)?;
        let secret = Secret::resolve(&reference).map_err(serde::de::Error::custom)?;
        if secret.is_literal() {
            tracing::warn!(
                "a secret is written literally in the configuration; prefer env:NAME or file:PATH"
            );
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        #[derive(Debug)]
        #[allow(dead_code)] // Reason: the field is read through Debug only.
        struct Holder {
            password: Secret,
        }
        let holder = Holder {
            password: Secret::new("hunter2"),
        };
        assert!(!format!("{holder:?}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn env_reference_reads_the_variable() {
        // PATH is set in every test environment; reading it needs no unsafe set_var.
        let expected = std::env::var("PATH").expect("PATH set");
        let secret = Secret::resolve("env:PATH").expect("resolves");
        assert_eq!(secret.expose(), expected);
        assert_eq!(secret.source(), &SecretSource::Env("PATH".to_owned()));
    }

    #[test]
    fn missing_env_variable_is_an_error_naming_it() {
        let error = Secret::resolve("env:PALISADE_TEST_SURELY_UNSET_VARIABLE").unwrap_err();
        assert_eq!(
            error.to_string(),
            "secret env:PALISADE_TEST_SURELY_UNSET_VARIABLE: the environment variable PALISADE_TEST_SURELY_UNSET_VARIABLE is not set (or not valid UTF-8)"
        );
    }

    #[test]
    fn file_reference_strips_one_trailing_newline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        std::fs::write(&path, "s3cret\n\n").expect("write");
        let secret = Secret::resolve(&format!("file:{}", path.display())).expect("resolves");
        assert_eq!(secret.expose(), "s3cret\n");
        assert!(!secret.is_literal());
    }

    #[test]
    fn oversized_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big");
        std::fs::write(&path, vec![b'a'; 70 * 1024]).expect("write");
        let error = Secret::resolve(&format!("file:{}", path.display())).unwrap_err();
        assert!(
            error.to_string().contains("larger than 65536 bytes"),
            "{error}"
        );
        let error = Secret::resolve("file:/nonexistent/palisade/key").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("secret file:/nonexistent/palisade/key: cannot read"),
            "{error}"
        );
    }

    #[test]
    fn literal_is_accepted_but_flagged() {
        let secret = Secret::resolve("plain").expect("resolves");
        assert!(secret.is_literal());
        assert!(Secret::resolve("").is_err());
        assert!(Secret::resolve("env:").is_err());
    }

    #[test]
    fn deserialises_from_toml_and_errors_carry_the_reason() {
        #[derive(Deserialize, Debug)]
        struct Holder {
            #[allow(dead_code)] // Reason: only deserialisation is under test.
            key: Secret,
        }
        let holder: Holder = toml::from_str("key = \"env:PATH\"").expect("parses");
        assert_eq!(format!("{holder:?}"), "Holder { key: *** }");
        let error = toml::from_str::<Holder>("key = \"env:PALISADE_NOPE\"").unwrap_err();
        assert!(
            error.message().contains("PALISADE_NOPE is not set"),
            "{error}"
        );
    }
}
