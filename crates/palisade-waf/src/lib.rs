//! The WAF engine: runs SecLang rules (OWASP CRS unmodified) over HTTP transactions with
//! ModSecurity's semantics.
//!
//! This crate owns loading rule files into a compiled program ([`Waf::load`]), running
//! transactions through it ([`Transaction`]) and adapting that to the gateway's
//! inspection contract ([`WafInspector`]).
//!
//! Design notes:
//! * Loading parses with `palisade-seclang`, then compiles into a flat per-phase program
//!   (chains, markers, default actions, removals/updates, transformations resolved,
//!   operators compiled) once; transactions share it through an `Arc<Waf>`.
//! * A file that fails to parse or compile fails the whole load: a WAF that silently
//!   skips rules decides differently from the rules' authors.
//! * Persistent collections (IP/GLOBAL/SESSION/USER/RESOURCE) live in an in-process
//!   store shared by all transactions of one [`Waf`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit_log;
mod buffers;
mod fold;
mod inspector;
mod operator;
mod prefilter;
mod program;
mod transaction;
mod variables;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use palisade_seclang::{Limits, Parser};

pub use inspector::{WafExclusions, WafInspector};
pub use transaction::{CompiledExclusions, Intervention, MatchedRule, RequestMeta, Transaction};

/// What to load and how to run it.
#[derive(Debug, Clone, Default)]
pub struct WafSettings {
    /// Rule files or globs, loaded in order (e.g. `crs-setup.conf`, `rules/*.conf`).
    pub rule_paths: Vec<PathBuf>,
    /// Rule texts `(origin name, text)` loaded before `rule_paths` (engine settings that
    /// the user's files may override).
    pub leading_rules: Vec<(String, String)>,
    /// Extra rule texts `(origin name, text)`, loaded after `rule_paths`.
    pub extra_rules: Vec<(String, String)>,
    /// CRS paranoia level (sets `tx.blocking_paranoia_level` before any rule runs).
    pub paranoia_level: Option<u8>,
    /// Forces `DetectionOnly` even when the rules say `SecRuleEngine On`.
    pub detection_only: bool,
}

/// Facts about a load.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Files parsed (includes counted).
    pub files: usize,
    /// Chain heads (SecRule/SecAction) in the program.
    pub rules: usize,
    /// Operators that cannot run here (they never match), with `file:line:col` and reason.
    pub unsupported_operators: Vec<String>,
    /// `@rx` patterns that need the backtracking engine (`file:line:col: rule id`).
    pub backtracking_patterns: Vec<String>,
    /// Time spent loading.
    pub load_time: Duration,
}

#[derive(Debug, thiserror::Error)]
enum WafErrorKind {
    #[error(transparent)]
    Parse(#[from] palisade_seclang::ParseError),
    #[error("{0}")]
    Invalid(String),
}

/// A load error (parse or compile), naming `file:line:column` when known.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
#[non_exhaustive]
pub struct WafError(#[from] WafErrorKind);

impl WafError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        WafError(WafErrorKind::Invalid(message.into()))
    }
}

/// Persistent collection records keyed by `(collection, key)`: variable → (value, expiry).
type PersistentStore = HashMap<(String, String), HashMap<String, (Vec<u8>, Option<Instant>)>>;

/// A loaded, compiled rule set. Share it with `Arc`.
#[derive(Debug)]
pub struct Waf {
    program: program::Program,
    detection_only: bool,
    store: Mutex<PersistentStore>,
    /// The audit log (`SecAuditEngine` / `SecAuditLog`), when on.
    audit: Option<audit_log::AuditLog>,
    /// The phase-1 rules evaluated at load (see `crate::fold`).
    fold: Option<fold::Fold>,
}

impl Waf {
    /// Loads and compiles the rules described by `settings`.
    pub fn load(settings: &WafSettings) -> Result<(Waf, LoadReport), WafError> {
        let started = Instant::now();
        let mut parser = Parser::new(Limits::default());
        let mut files = 0;
        if let Some(level) = settings.paranoia_level {
            let rule = format!(
                "SecAction \"id:9990001,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level={level}\""
            );
            parser
                .parse_str(
                    "<palisade paranoia level>",
                    &rule,
                    std::path::Path::new("."),
                )
                .map_err(|error| WafError(error.into()))?;
        }
        let mut base_dir = PathBuf::from(".");
        for (origin, text) in &settings.leading_rules {
            parser
                .parse_str(origin, text, &base_dir)
                .map_err(|error| WafError(error.into()))?;
        }
        for pattern in &settings.rule_paths {
            let text = pattern.to_string_lossy();
            let mut paths: Vec<PathBuf> = if text.contains(['*', '?', '[']) {
                glob::glob(&text)
                    .map_err(|error| WafError::invalid(format!("bad glob {text}: {error}")))?
                    .filter_map(Result::ok)
                    .collect()
            } else {
                vec![pattern.clone()]
            };
            if paths.is_empty() {
                return Err(WafError::invalid(format!(
                    "rule file pattern {text} matches no file; expected an existing file or a glob that matches at least one"
                )));
            }
            paths.sort();
            for path in paths {
                if let Some(parent) = path.parent() {
                    base_dir = parent.to_path_buf();
                }
                parser
                    .parse_file(&path)
                    .map_err(|error| WafError(error.into()))?;
                files += 1;
            }
        }
        for (origin, text) in &settings.extra_rules {
            parser
                .parse_str(origin, text, &base_dir)
                .map_err(|error| WafError(error.into()))?;
        }
        let config = parser.finish();
        let audit = audit_log::AuditLog::from_config(&config)?;
        let program = program::compile(&config, &base_dir)?;
        let report = LoadReport {
            files,
            rules: program.rule_count(),
            unsupported_operators: program.report.unsupported_operators.clone(),
            backtracking_patterns: program.report.backtracking_patterns.clone(),
            load_time: started.elapsed(),
        };
        let waf = Arc::new(Waf {
            program,
            detection_only: settings.detection_only,
            store: Mutex::new(HashMap::new()),
            audit,
            fold: None,
        });
        let fold = fold::Fold::compute(&waf);
        // The folding transaction is gone: `waf` has no other owner.
        let mut waf = Arc::try_unwrap(waf)
            .map_err(|_| WafError::invalid("rule folding kept a reference to the WAF"))?;
        waf.fold = fold;
        Ok((waf, report))
    }

    /// Starts a transaction for one request.
    pub fn transaction(self: &Arc<Self>, meta: &RequestMeta) -> Transaction {
        Transaction::new(Arc::clone(self), meta)
    }
}
