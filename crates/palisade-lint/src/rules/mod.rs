//! The rule registry: one TOML file per rule in `rules/` with fixed doc sections (what, why,
//! example, fix, CWE, references) and a `[match]` table saying how the rule is detected:
//!
//! * `kind = "call"` — calls of the listed qualified names (as written, import aliases resolved,
//!   like Bandit's blacklists);
//! * `kind = "import"` — imports of the listed modules;
//! * `kind = "check"` — a named check in [`crate::patterns`] for what needs more than a name;
//! * `kind = "taint"` — flows found by [`crate::taint`] into the given sink category.
//!
//! Rules are selected like ruff's: `--select` / `--ignore` take ids or prefixes (`B6`, `PLT`).

use serde::Deserialize;

mod list;

/// How sure a rule is of its findings / how bad they are.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

impl Level {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }

    /// Parses `low`, `medium`, `high`.
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Some(Level::Low),
            "medium" => Some(Level::Medium),
            "high" => Some(Level::High),
            _ => None,
        }
    }
}

/// How a rule detects its findings.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Matcher {
    /// Calls of qualified names.
    Call {
        /// Qualified names (`method:NAME` for methods on unknown receivers).
        names: Vec<String>,
    },
    /// Imports of modules (or names inside them).
    Import {
        /// Module names.
        modules: Vec<String>,
    },
    /// A named check in `patterns.rs`.
    Check {
        /// The check's name.
        check: String,
    },
    /// A taint flow into a sink category.
    Taint {
        /// The category name from the taint models.
        category: String,
    },
}

/// One rule with its documentation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Rule id (`B602`, `PLT089`).
    pub id: String,
    /// Kebab-case name.
    pub name: String,
    /// CWE id of the weakness.
    pub cwe: u32,
    /// Severity of findings.
    pub severity: Level,
    /// Confidence in findings.
    pub confidence: Level,
    /// What the rule detects.
    pub what: String,
    /// Why it matters.
    pub why: String,
    /// An example of flagged code.
    pub example: String,
    /// How to fix it.
    pub fix: String,
    /// References (CWE pages …).
    pub references: Vec<String>,
    /// Enabled without `--select`. Review rules that flag every use of an API whose dangerous
    /// uses the taint rules already report (`os.system`, `pickle.loads` …) are off by default;
    /// `--select ALL` or their ids turn them on.
    #[serde(default = "enabled_by_default")]
    pub default: bool,
    /// How it is detected.
    #[serde(rename = "match")]
    pub matcher: Matcher,
}

fn enabled_by_default() -> bool {
    true
}

/// Every built-in rule, parsed once.
pub fn all() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        list::RULE_FILES
            .iter()
            .map(|(id, text)| {
                let rule: Rule = toml::from_str(text)
                    .unwrap_or_else(|e| panic!("built-in rule file {id}.toml is invalid: {e}"));
                assert_eq!(&rule.id, id, "rule file name and id differ");
                rule
            })
            .collect()
    })
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    all().iter().find(|r| r.id == id)
}

/// The special rule for files that do not parse.
pub const PARSE_ERROR_RULE: &str = "PLE001";

/// Which rules are enabled: ruff-style prefix selection.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Selected ids or prefixes (empty = all).
    pub select: Vec<String>,
    /// Ignored ids or prefixes (applied after `select`).
    pub ignore: Vec<String>,
}

impl Selection {
    /// Whether a rule id is enabled.
    pub fn enabled(&self, id: &str) -> bool {
        if id == PARSE_ERROR_RULE {
            return true;
        }
        let selected = if self.select.is_empty() {
            by_id(id).is_none_or(|r| r.default)
        } else {
            self.select
                .iter()
                .any(|p| p == "ALL" || id.starts_with(p.as_str()))
        };
        selected && !self.ignore.iter().any(|p| id.starts_with(p.as_str()))
    }

    /// Unknown selectors (matching no rule), for a usage error.
    pub fn unknown(&self) -> Vec<String> {
        self.select
            .iter()
            .chain(&self.ignore)
            .filter(|p| p.as_str() != "ALL" && !all().iter().any(|r| r.id.starts_with(p.as_str())))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_file_is_registered_and_documented() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let files = std::fs::read_dir(dir).unwrap().count();
        assert_eq!(
            files,
            all().len(),
            "a file in rules/ is missing from rules/list.rs"
        );
        for rule in all() {
            for (field, text) in [
                ("what", &rule.what),
                ("why", &rule.why),
                ("example", &rule.example),
                ("fix", &rule.fix),
            ] {
                assert!(
                    !text.trim().is_empty(),
                    "{} has an empty `{field}`",
                    rule.id
                );
            }
            assert!(rule.cwe > 0, "{} has no CWE", rule.id);
        }
    }

    #[test]
    fn selection_uses_prefixes() {
        let s = Selection {
            select: vec!["B6".into(), "PLT".into()],
            ignore: vec!["B603".into()],
        };
        assert!(s.enabled("B602"));
        assert!(!s.enabled("B603"));
        assert!(s.enabled("PLT089"));
        assert!(!s.enabled("B101"));
        assert!(s.enabled(PARSE_ERROR_RULE));
        let default = Selection::default();
        assert!(default.enabled("PLT078"));
        assert!(
            !default.enabled("B605"),
            "review rules are off unless selected"
        );
        assert!(default.enabled("B105"));
        let bad = Selection {
            select: vec!["ZZ9".into()],
            ignore: vec![],
        };
        assert_eq!(bad.unknown(), vec!["ZZ9".to_string()]);
    }
}
