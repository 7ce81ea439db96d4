//! Severity: CVSS v3.x / v4.0 vectors turned into scores and the qualitative ratings
//! (none, low, medium, high, critical) that reports show and `--fail-on` compares.

use std::fmt;
use std::str::FromStr;

use crate::osv::{Advisory, SeverityEntry};

/// Qualitative severity, ordered from least to most severe. `Unknown` (no usable vector) sorts
/// lowest so that `--fail-on` thresholds never hide scored findings behind unscored ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No vector, or none that parses.
    Unknown,
    /// CVSS 0.0.
    None,
    /// CVSS 0.1–3.9.
    Low,
    /// CVSS 4.0–6.9.
    Medium,
    /// CVSS 7.0–8.9.
    High,
    /// CVSS 9.0–10.0.
    Critical,
}

impl Severity {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The rating of a CVSS score (both v3.x and v4.0 use the same bands).
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::None
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity name that is not one of unknown/none/low/medium/high/critical.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?}: expected none, low, medium, high or critical")]
pub struct UnknownSeverity(String);

impl FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text.trim().to_ascii_lowercase().as_str() {
            "unknown" => Severity::Unknown,
            "none" => Severity::None,
            "low" => Severity::Low,
            "medium" | "moderate" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return Err(UnknownSeverity(text.to_owned())),
        })
    }
}

/// A scored CVSS vector.
#[derive(Debug, Clone, PartialEq)]
pub struct CvssScore {
    /// The vector as given.
    pub vector: String,
    /// Base score (v3.x: the specification's base-score formula with its Roundup; v4.0: the
    /// MacroVector lookup and interpolation of the v4.0 specification).
    pub score: f64,
    /// The rating of `score`.
    pub severity: Severity,
}

/// Scores a `CVSS:3.0/…`, `CVSS:3.1/…` or `CVSS:4.0/…` vector; `None` for anything else
/// (including CVSS v2, which OSV data rarely carries without a v3 vector as well).
pub fn score_vector(vector: &str) -> Option<CvssScore> {
    let vector = vector.trim();
    if vector.len() > 512 {
        return None;
    }
    let parsed: cvss::Cvss = vector.parse().ok()?;
    let score = parsed.score();
    Some(CvssScore {
        vector: vector.to_owned(),
        score,
        severity: Severity::from_score(score),
    })
}

/// The highest-scored vector among `entries`.
pub fn best_score<'a>(entries: impl IntoIterator<Item = &'a SeverityEntry>) -> Option<CvssScore> {
    entries
        .into_iter()
        .filter_map(|entry| score_vector(&entry.score))
        .max_by(|a, b| a.score.total_cmp(&b.score))
}

/// The advisory's severity: the highest CVSS score among its top-level and per-package vectors
/// (and RustSec's `database_specific.cvss`), else a GHSA-style `database_specific.severity` word.
pub fn advisory_severity(advisory: &Advisory) -> (Severity, Option<CvssScore>) {
    let mut entries: Vec<SeverityEntry> = advisory.severity.clone();
    for affected in &advisory.affected {
        entries.extend(affected.severity.iter().cloned());
        if let Some(vector) = affected
            .database_specific
            .as_ref()
            .and_then(|value| value.get("cvss"))
            .and_then(|value| value.as_str())
        {
            entries.push(SeverityEntry {
                kind: "CVSS_V3".into(),
                score: vector.to_owned(),
            });
        }
    }
    if let Some(best) = best_score(&entries) {
        return (best.severity, Some(best));
    }
    let word = advisory
        .database_specific
        .as_ref()
        .and_then(|value| value.get("severity"))
        .and_then(|value| value.as_str())
        .and_then(|word| word.parse().ok());
    (word.unwrap_or(Severity::Unknown), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v31_base_scores() {
        let cases = [
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                9.8,
                Severity::Critical,
            ),
            (
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
                5.9,
                Severity::Medium,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N",
                6.4,
                Severity::Medium,
            ),
            (
                "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N",
                0.0,
                Severity::None,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                6.1,
                Severity::Medium,
            ),
            (
                "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
                10.0,
                Severity::Critical,
            ),
        ];
        for (vector, score, severity) in cases {
            let scored = score_vector(vector).unwrap_or_else(|| panic!("{vector} scores"));
            assert!(
                (scored.score - score).abs() < 1e-9,
                "{vector}: {}",
                scored.score
            );
            assert_eq!(scored.severity, severity);
        }
    }

    #[test]
    fn v40_scores() {
        let scored =
            score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
        assert_eq!(scored.map(|s| s.score), Some(9.3));
        let scored =
            score_vector("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N");
        assert_eq!(scored.map(|s| s.severity), Some(Severity::Medium));
        assert!(score_vector("CVSS:9.9/AV:N").is_none());
        assert!(score_vector("not a vector").is_none());
    }
}
