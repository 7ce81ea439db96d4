//! Runs go-ftw YAML regression tests (OWASP CRS) through the real gateway against an albedo-compatible backend.
//!
//! This crate owns:
//! * [`schema`]: the go-ftw test and overrides file formats;
//! * [`request`]: building each request byte for byte as go-ftw does;
//! * [`client`]: sending it over raw TCP and reading the response;
//! * [`collector`]: [`IdCollector`], the event sink that files the WAF's
//!   matched rule ids by request id (the gateway's `X-Request-Id`);
//! * [`runner`]: running a [`Suite`] against a target and checking every
//!   stage's expectations, with go-ftw platform overrides;
//! * [`report`]: the [`Report`] with per-file pass rates, failures grouped by
//!   reason, and table / JSON / JUnit output;
//! * [`backend`]: the albedo-compatible upstream the suite expects;
//! * [`crs`]: the CRS CI settings and [`crs::run_crs`], which starts backend
//!   and gateway in-process and runs the whole suite.
//!
//! Design notes: CRS data is never copied; everything is read from the
//! directory the caller gives. Tests run concurrently (requests are
//! independent; correlation is by request id, not by log markers as go-ftw
//! does with its log file).
#![forbid(unsafe_code)]

pub mod backend;
pub mod client;
pub mod collector;
pub mod crs;
pub mod report;
pub mod request;
pub mod runner;
pub mod schema;

use std::path::{Path, PathBuf};

pub use backend::Backend;
pub use collector::{IdCollector, RequestLog};
pub use report::{Failure, FailureKind, Outcome, Report, ReportFormat, TestResult};
pub use runner::{RunOptions, run_suite};

/// An error of this crate.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct FtwError {
    kind: FtwErrorKind,
}

#[derive(Debug, thiserror::Error)]
enum FtwErrorKind {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid test input: {0}")]
    Input(String),
    #[error("{0}")]
    Setup(String),
}

impl FtwError {
    fn new(kind: FtwErrorKind) -> Self {
        FtwError { kind }
    }

    fn io(path: &Path, source: std::io::Error) -> Self {
        FtwError::new(FtwErrorKind::Io {
            path: path.to_owned(),
            source,
        })
    }

    fn setup(message: impl Into<String>) -> Self {
        FtwError::new(FtwErrorKind::Setup(message.into()))
    }
}

/// A result of this crate.
pub type Result<T, E = FtwError> = std::result::Result<T, E>;

/// One loaded test file.
#[derive(Debug, Clone)]
pub struct SuiteFile {
    /// Path relative to the suite directory.
    pub path: String,
    /// Its content.
    pub file: schema::TestFile,
}

/// A file that could not be loaded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadError {
    /// Path relative to the suite directory.
    pub path: String,
    /// Why.
    pub message: String,
}

/// All test files of a directory tree.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// Loaded files, sorted by path.
    pub files: Vec<SuiteFile>,
    /// Files that did not parse (reported, not fatal).
    pub load_errors: Vec<LoadError>,
}

impl Suite {
    /// Number of tests in all loaded files.
    pub fn test_count(&self) -> usize {
        self.files.iter().map(|f| f.file.tests.len()).sum()
    }
}

/// Largest test file read, in bytes.
const MAX_TEST_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Deepest directory nesting walked.
const MAX_DIR_DEPTH: usize = 16;
/// Most test files loaded.
const MAX_TEST_FILES: usize = 100_000;

/// Loads every `*.yaml` test file under `dir` (go-ftw's default pattern;
/// `*.yml` files are not tests). A file that is empty
/// or only comments holds no tests; one that does not parse is listed in
/// `load_errors`.
pub fn load_suite(dir: impl AsRef<Path>) -> Result<Suite> {
    let dir = dir.as_ref();
    let mut paths = Vec::new();
    collect_yaml(dir, 0, &mut paths)?;
    paths.sort();
    let mut suite = Suite::default();
    for path in paths {
        let relative = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        match load_test_file(&path) {
            Ok(Some(file)) => suite.files.push(SuiteFile {
                path: relative,
                file,
            }),
            Ok(None) => {}
            Err(error) => suite.load_errors.push(LoadError {
                path: relative,
                message: error.to_string(),
            }),
        }
    }
    Ok(suite)
}

fn collect_yaml(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    if depth > MAX_DIR_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| FtwError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| FtwError::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| FtwError::io(&path, e))?;
        if kind.is_dir() {
            collect_yaml(&path, depth + 1, out)?;
        } else if kind.is_file()
            && path.extension().is_some_and(|ext| ext == "yaml")
            && out.len() < MAX_TEST_FILES
        {
            out.push(path);
        }
    }
    Ok(())
}

fn read_limited(path: &Path) -> Result<String> {
    let metadata = std::fs::metadata(path).map_err(|e| FtwError::io(path, e))?;
    if metadata.len() > MAX_TEST_FILE_BYTES {
        return Err(FtwError::new(FtwErrorKind::Parse {
            path: path.to_owned(),
            message: format!("file larger than {MAX_TEST_FILE_BYTES} bytes"),
        }));
    }
    std::fs::read_to_string(path).map_err(|e| FtwError::io(path, e))
}

/// Parses one test file; `None` when it holds no YAML document.
pub fn load_test_file(path: &Path) -> Result<Option<schema::TestFile>> {
    let text = read_limited(path)?;
    let has_content = text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#') && line != "---"
    });
    if !has_content {
        return Ok(None);
    }
    serde_saphyr::from_str::<schema::TestFile>(&text)
        .map(Some)
        .map_err(|e| {
            FtwError::new(FtwErrorKind::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })
        })
}

/// Loads a go-ftw platform overrides file.
pub fn load_overrides(path: impl AsRef<Path>) -> Result<schema::OverridesFile> {
    let path = path.as_ref();
    let text = read_limited(path)?;
    serde_saphyr::from_str(&text).map_err(|e| {
        FtwError::new(FtwErrorKind::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    })
}
