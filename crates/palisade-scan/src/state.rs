//! Resumable scans (`palisade scan --state FILE`): everything a scan has done, as one JSON
//! file — the crawl's frontier, visited set, pages and targets ([`CrawlState`]), the site
//! checks and parameter checks that finished and what they found ([`Done`]), and the requests
//! and time spent so far. The scan hands the state to a checkpoint after every crawl level,
//! after every site check, every two seconds during the parameter checks and when it stops;
//! run again with the same file, it skips what is done. A check is recorded only once it
//! finished, so none runs twice; one in progress when the process is killed (not stopped) runs
//! again. The file is written whole to a temporary name and renamed, so a crash never leaves
//! half a state; every string in it goes through the client's redaction first, so the scan's
//! credentials and session tokens are not written to disk.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::crawl::CrawlState;
use crate::error::ScanError;
use crate::finding::Finding;

/// The state file format's version.
pub const VERSION: u32 = 1;

/// What the checks finished.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Done {
    /// Site checks finished, by name.
    pub site_checks: BTreeSet<String>,
    /// Parameter checks finished: [`check_key`]s.
    pub param_checks: BTreeSet<String>,
    /// Categories confirmed per parameter ([`unit_key`]), which later checks consult.
    pub confirmed: BTreeMap<String, Vec<String>>,
    /// Findings of the finished site and parameter checks.
    pub findings: Vec<Finding>,
    /// Errors the finished checks met.
    pub errors: Vec<String>,
}

/// A scan's state. Generic so that the scan can save borrowed parts (`ScanState<&CrawlState,
/// &Done>`) while it runs and load owned ones.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanState<C = CrawlState, D = Done> {
    /// [`VERSION`].
    pub version: u32,
    /// What scan this is ([`crate::ScanOptions::identity`]): a state is only resumed by the
    /// same scan.
    pub scan: String,
    /// The crawl.
    pub crawl: C,
    /// The checks.
    pub done: D,
    /// Requests sent by the runs so far.
    pub requests: u64,
    /// Milliseconds spent by the runs so far.
    pub elapsed_ms: u128,
}

/// The state as a running scan hands it to its checkpoint: borrowed parts.
pub type SavedState<'a> = ScanState<&'a CrawlState, &'a Done>;

/// The key of one parameter of one target.
pub fn unit_key(target_key: &str, index: usize) -> String {
    format!("{target_key}#{index}")
}

/// The key of one check on one parameter.
pub fn check_key(target_key: &str, index: usize, check: &str) -> String {
    format!("{}#{check}", unit_key(target_key, index))
}

impl ScanState {
    /// Reads a state file; `None` when it does not exist (a new scan).
    pub fn load(path: &Path) -> Result<Option<Self>, ScanError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(ScanError::io(path, &error)),
        };
        let state: Self = serde_json::from_str(&text)
            .map_err(|e| ScanError::state(format!("{}: {e}", path.display())))?;
        if state.version != VERSION {
            return Err(ScanError::state(format!(
                "{}: version {} (this palisade reads {VERSION})",
                path.display(),
                state.version
            )));
        }
        Ok(Some(state))
    }
}

impl<C: Serialize, D: Serialize> ScanState<C, D> {
    /// Writes the state to `path` (through a temporary file and a rename), every string
    /// passed through `redact` first.
    pub fn save(&self, path: &Path, redact: &dyn Fn(&str) -> String) -> Result<(), ScanError> {
        let mut value = serde_json::to_value(self).map_err(|e| ScanError::state(format!("{e}")))?;
        redact_strings(&mut value, redact);
        let text = serde_json::to_string(&value).map_err(|e| ScanError::state(format!("{e}")))?;
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = std::path::PathBuf::from(temporary);
        std::fs::write(&temporary, text).map_err(|e| ScanError::io(&temporary, &e))?;
        std::fs::rename(&temporary, path).map_err(|e| ScanError::io(path, &e))
    }
}

/// Every string in `value` (keys included) through `redact`.
fn redact_strings(value: &mut serde_json::Value, redact: &dyn Fn(&str) -> String) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::String(text) => *text = redact(text),
            serde_json::Value::Array(items) => stack.extend(items.iter_mut()),
            serde_json::Value::Object(map) => {
                let entries: Vec<(String, serde_json::Value)> = std::mem::take(map)
                    .into_iter()
                    .map(|(key, value)| (redact(&key), value))
                    .collect();
                map.extend(entries);
                stack.extend(map.values_mut());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_states_load_back_redacted() {
        let dir = std::env::temp_dir().join(format!("palisade-scan-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("state.json");
        assert!(
            ScanState::load(&path)
                .unwrap_or_else(|e| panic!("{e}"))
                .is_none()
        );
        let mut crawl = CrawlState::default();
        crawl
            .errors
            .push("GET http://h/?token=SECRETVALUE failed".into());
        crawl.seen.insert("http://h/?SECRETVALUE".into());
        let mut done = Done::default();
        done.param_checks
            .insert(check_key("GET http://h/p?id", 0, "sqli"));
        let state = ScanState {
            version: VERSION,
            scan: "http://h/".into(),
            crawl: &crawl,
            done: &done,
            requests: 12,
            elapsed_ms: 345,
        };
        state
            .save(&path, &|text: &str| {
                text.replace("SECRETVALUE", "[redacted]")
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!text.contains("SECRETVALUE"), "{text}");
        let loaded = ScanState::load(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("saved"));
        assert_eq!(loaded.requests, 12);
        assert!(
            loaded
                .done
                .param_checks
                .contains("GET http://h/p?id#0#sqli")
        );
        assert!(loaded.crawl.seen.contains("http://h/?[redacted]"));
        std::fs::write(&path, text.replace("\"version\":1", "\"version\":99"))
            .unwrap_or_else(|e| panic!("{e}"));
        let error = ScanState::load(&path).err().map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.contains("version 99")),
            "{error:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
