//! The ignore file: advisories a team has accepted, each with a reason and an expiry date after
//! which it is reported again.
//!
//! ```toml
//! [[ignore]]
//! id = "RUSTSEC-2023-0071"      # the advisory id or any of its aliases (CVE, GHSA …)
//! reason = "no RSA decryption on attacker-timed paths"
//! expires = "2027-01-31"        # YYYY-MM-DD; from this day on the finding is reported again
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{AuditError, read_limited};

/// Largest ignore file read.
const MAX_IGNORE_BYTES: u64 = 1024 * 1024;

/// One accepted advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Advisory id or alias.
    pub id: String,
    /// Why it is accepted (required).
    pub reason: String,
    /// Last day (exclusive) the entry applies, `YYYY-MM-DD` (required).
    pub expires: String,
}

/// The entries of an ignore file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreList {
    #[serde(default)]
    ignore: Vec<IgnoreEntry>,
}

impl IgnoreList {
    /// Reads and validates an ignore file: every entry needs an id, a non-empty reason and a
    /// valid `YYYY-MM-DD` expiry.
    pub fn load(path: &Path) -> Result<IgnoreList, AuditError> {
        let text = read_limited(path, MAX_IGNORE_BYTES)?;
        Self::parse(path, &text)
    }

    /// [`IgnoreList::load`] on text already read.
    pub fn parse(path: &Path, text: &str) -> Result<IgnoreList, AuditError> {
        let list: IgnoreList =
            toml::from_str(text).map_err(|e| crate::lockfile::toml_error(path, text, &e))?;
        for entry in &list.ignore {
            if entry.id.trim().is_empty() {
                return Err(AuditError::invalid(path, "an ignore entry has an empty id"));
            }
            if entry.reason.trim().is_empty() {
                return Err(AuditError::invalid(
                    path,
                    format!("ignore entry {} has no reason", entry.id),
                ));
            }
            if !is_date(&entry.expires) {
                return Err(AuditError::invalid(
                    path,
                    format!(
                        "ignore entry {}: expires {:?} is not a YYYY-MM-DD date",
                        entry.id, entry.expires
                    ),
                ));
            }
        }
        Ok(list)
    }

    /// The entries.
    pub fn entries(&self) -> &[IgnoreEntry] {
        &self.ignore
    }

    /// The unexpired entry that covers an advisory with this id and aliases.
    pub fn matching(&self, id: &str, aliases: &[String], today: &str) -> Option<&IgnoreEntry> {
        self.ignore.iter().find(|entry| {
            entry.expires.as_str() > today
                && (entry.id.eq_ignore_ascii_case(id)
                    || aliases.iter().any(|a| a.eq_ignore_ascii_case(&entry.id)))
        })
    }

    /// Entries whose expiry has passed (reported so that someone looks again).
    pub fn expired(&self, today: &str) -> Vec<IgnoreEntry> {
        self.ignore
            .iter()
            .filter(|entry| entry.expires.as_str() <= today)
            .cloned()
            .collect()
    }
}

fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    matches!(
        (number(0..4), number(5..7), number(8..10)),
        (Some(_), Some(1..=12), Some(1..=31))
    ) && bytes
        .iter()
        .enumerate()
        .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_validate() {
        assert!(is_date("2026-12-31"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("31.12.2026"));
    }

    #[test]
    fn entries_need_reason_and_valid_expiry() {
        let path = Path::new("ignore.toml");
        let ok = IgnoreList::parse(
            path,
            "[[ignore]]\nid = \"CVE-1\"\nreason = \"r\"\nexpires = \"2030-01-01\"\n",
        );
        let list = ok.unwrap_or_default();
        assert!(
            list.matching("PYSEC-1", &["CVE-1".into()], "2029-12-31")
                .is_some()
        );
        assert!(
            list.matching("PYSEC-1", &["CVE-1".into()], "2030-01-01")
                .is_none()
        );
        assert_eq!(list.expired("2030-01-01").len(), 1);
        assert!(
            IgnoreList::parse(
                path,
                "[[ignore]]\nid = \"X\"\nreason = \"\"\nexpires = \"2030-01-01\"\n"
            )
            .is_err()
        );
        assert!(
            IgnoreList::parse(
                path,
                "[[ignore]]\nid = \"X\"\nreason = \"r\"\nexpires = \"soon\"\n"
            )
            .is_err()
        );
        assert!(IgnoreList::parse(path, "[[ignore]]\nid = \"X\"\nreason = \"r\"\n").is_err());
    }
}
