//! Load-time evaluation of the rules that do the same thing on every request.
//!
//! What: CRS's setup and initialisation block (`crs-setup.conf`, REQUEST-901) is some
//! thirty rules that read only TX (`SecRule &TX:x "@eq 0" "setvar:tx.x=…"`,
//! `SecAction "setvar:tx.score=0,…"`) and write only TX, and every rule file starts
//! each phase with paranoia-level rules that read one TX variable and skip the rest of
//! the file (`SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 2" "…,skipAfter:END-…"`). Their
//! outcome is the same for every transaction, so [`Fold::compute`] evaluates them once
//! at load. A transaction then starts phase 1 from the TX the folded rules leave
//! ([`Fold::template`]) and, when its walk reaches a folded rule, replays the recorded
//! outcome ([`FoldedStep`]: the match record, MATCHED_VAR, `skip` / `skipAfter`)
//! instead of evaluating it — no lookup, expansion or setvar arithmetic per request.
//!
//! Exactness: a rule is folded only when
//! * it reads only TX (targets `TX:key` / `&TX:key`, macros `%{tx.key}` / `%{rule.…}`),
//!   writes only TX (setvar, `capture`), has no `ctl`, `initcol`, `setenv` or
//!   `expirevar`, and runs no detector or lookup;
//! * no rule left to run per request before it (in program order, phases 1–5) writes a
//!   TX variable it reads — so it reads what it read at load;
//! * if it writes TX (the writes are applied when phase 1 starts, earlier than
//!   written): it is in phase 1, no rule left to run before it reads or writes what it
//!   writes, and none of them could change which rules run (`skip`, `skipAfter`, a
//!   disruptive action, a `ctl` removing rules or switching the engine) — so it runs on
//!   every request, and nothing sees its writes early;
//! * when it matches at load, its disruptive action is `pass` (or none).
//!
//! A rule that only reads is replayed where it stands, when the walk reaches it and it
//! was not removed (as the rule itself would run). The fold serves a transaction only
//! when its phase 1 started from the template, and not when per-route exclusions remove
//! a folded rule or a TX target (the rules then run as written).

use std::sync::Arc;

use palisade_seclang::{Ctl, Disruptive, SetVarOp, VariableName};

use crate::Waf;
use crate::program::{CompiledRule, KeySelector, RunAction, Step};
use crate::transaction::{CompiledExclusions, MatchedRule, SeededMap, Transaction};

/// The folded rules and the TX they leave.
#[derive(Debug, Default)]
pub(crate) struct Fold {
    /// TX after every folded rule: the state phase 1 starts from.
    pub template: SeededMap<String, Vec<u8>>,
    /// Per phase (1–5) and step index, the recorded outcome of a folded rule.
    pub phases: [Vec<Option<FoldedStep>>; 5],
    /// Ids of the folded rules, sorted.
    pub rule_ids: Vec<u64>,
}

/// What evaluating a folded rule did, beyond its TX writes.
#[derive(Debug)]
pub(crate) struct FoldedStep {
    /// The match record when the whole chain matched.
    pub matched: Option<MatchedRule>,
    /// MATCHED_VAR_NAME and MATCHED_VAR after the rule, when one of its links matched.
    pub matched_var: Option<(String, Vec<u8>)>,
}

/// TX variable names a rule reads or writes.
#[derive(Debug, Default, Clone)]
enum Keys {
    #[default]
    None,
    Some(Vec<KeyPattern>),
    /// Any variable (a regex selector, a whole-collection target, a computed name).
    All,
}

/// A TX variable name (lowercased), or every name with this prefix (a name built by a
/// macro: `tx.header_name_%{tx.0}`).
#[derive(Debug, Clone, PartialEq)]
struct KeyPattern {
    text: String,
    prefix: bool,
}

impl KeyPattern {
    fn meets(&self, other: &KeyPattern) -> bool {
        match (self.prefix, other.prefix) {
            (false, false) => self.text == other.text,
            (true, false) => other.text.starts_with(&self.text),
            (false, true) => self.text.starts_with(&other.text),
            (true, true) => {
                self.text.starts_with(&other.text) || other.text.starts_with(&self.text)
            }
        }
    }
}

impl Keys {
    fn add(&mut self, key: &str) {
        self.push(KeyPattern {
            text: key.to_ascii_lowercase(),
            prefix: false,
        });
    }

    /// Adds the names a setvar name with macros can produce: those starting with its
    /// text before the first macro (any name when that is empty).
    fn add_computed(&mut self, name: &str) {
        let prefix = name.split("%{").next().unwrap_or_default();
        if prefix.is_empty() {
            *self = Keys::All;
        } else {
            self.push(KeyPattern {
                text: prefix.to_ascii_lowercase(),
                prefix: true,
            });
        }
    }

    fn push(&mut self, pattern: KeyPattern) {
        match self {
            Keys::None => *self = Keys::Some(vec![pattern]),
            Keys::Some(patterns) => {
                if !patterns.contains(&pattern) {
                    patterns.push(pattern);
                }
            }
            Keys::All => {}
        }
    }

    fn merge(&mut self, other: &Keys) {
        match other {
            Keys::None => {}
            Keys::All => *self = Keys::All,
            Keys::Some(patterns) => patterns.iter().for_each(|p| self.push(p.clone())),
        }
    }

    fn meets(&self, other: &Keys) -> bool {
        match (self, other) {
            (Keys::None, _) | (_, Keys::None) => false,
            (Keys::All, _) | (_, Keys::All) => true,
            (Keys::Some(a), Keys::Some(b)) => a.iter().any(|x| b.iter().any(|y| x.meets(y))),
        }
    }
}

/// What a rule (all its links) does with TX and with the rule flow.
#[derive(Debug, Default)]
struct Footprint {
    reads: Keys,
    writes: Keys,
    /// Reads or writes something other than TX, or runs an operator that is no pure
    /// function of value and argument: never folded.
    impure: bool,
    /// Can change which later rules run (skip, skipAfter, a disruptive action, a `ctl`
    /// removing rules or targets or switching the engine).
    changes_flow: bool,
}

/// Adds the TX variables the macros of `text` read; false when a macro reads something
/// other than TX or RULE.
fn macro_reads(text: &str, reads: &mut Keys) -> bool {
    let mut pure = true;
    let mut rest = text;
    while let Some(start) = rest.find("%{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        let reference = &after[..end];
        match reference.split_once(['.', ':']) {
            Some((collection, key)) if collection.eq_ignore_ascii_case("tx") => reads.add(key),
            Some((collection, _)) if collection.eq_ignore_ascii_case("rule") => {}
            _ => pure = false,
        }
        rest = &after[end + 1..];
    }
    pure
}

fn footprint(rule: &CompiledRule) -> Footprint {
    let mut print = Footprint {
        changes_flow: rule.skip > 0 || rule.skip_after.is_some(),
        ..Footprint::default()
    };
    let mut link = Some(rule);
    while let Some(current) = link {
        for target in &current.targets {
            if target.name != VariableName::Tx {
                print.impure = true;
            } else if let Some(KeySelector::Key(key)) = &target.selector {
                print.reads.add(key);
            } else {
                print.reads = Keys::All;
            }
        }
        if current.operator.is_detector()
            || current
                .operator
                .name()
                .is_some_and(|name| name.eq_ignore_ascii_case("geoLookup"))
        {
            print.impure = true;
        }
        if current.capture {
            // TX:0 … TX:9.
            for slot in 0..palisade_operators::Captures::SLOTS {
                print.writes.add(&slot.to_string());
            }
        }
        if !matches!(
            current.disruptive,
            None | Some(Disruptive::Pass | Disruptive::Block)
        ) {
            print.changes_flow = true;
        }
        let mut texts: Vec<&str> = Vec::new();
        texts.extend(current.msg.as_deref());
        texts.extend(current.logdata.as_deref());
        texts.extend(current.operator.dynamic_argument());
        if let Some(Disruptive::Redirect(location)) = &current.disruptive {
            texts.push(location);
        }
        for action in &current.actions {
            match action {
                RunAction::SetVar(setvar) => {
                    if setvar.collection != "tx" {
                        print.impure = true;
                    } else if setvar.name.contains("%{") {
                        print.writes.add_computed(&setvar.name);
                        texts.push(&setvar.name);
                    } else {
                        print.writes.add(&setvar.name);
                    }
                    if let SetVarOp::Set(value) | SetVarOp::Add(value) | SetVarOp::Subtract(value) =
                        &setvar.op
                    {
                        texts.push(value);
                    }
                    if matches!(setvar.op, SetVarOp::Add(_) | SetVarOp::Subtract(_)) {
                        print.reads.add(&setvar.name);
                    }
                }
                RunAction::Ctl(ctl) => {
                    print.impure = true;
                    if matches!(
                        ctl,
                        Ctl::RuleEngine(_)
                            | Ctl::RuleRemoveById(_)
                            | Ctl::RuleRemoveByTag(_)
                            | Ctl::RuleRemoveTargetById(..)
                            | Ctl::RuleRemoveTargetByTag(..)
                    ) {
                        print.changes_flow = true;
                    }
                }
                RunAction::ExpireVar { name, seconds, .. } => {
                    print.impure = true;
                    texts.extend([name, seconds].map(String::as_str));
                }
                RunAction::InitCol { key, .. } => {
                    print.impure = true;
                    texts.push(key);
                }
                RunAction::SetEnv { name, value } => {
                    print.impure = true;
                    texts.extend([name, value].map(String::as_str));
                }
            }
        }
        for text in texts {
            if !macro_reads(text, &mut print.reads) {
                print.impure = true;
            }
        }
        link = current.chained.as_deref();
    }
    print
}

impl Fold {
    /// Folds what can be folded of `waf`'s program (see the module docs); `None` when
    /// no rule can be.
    pub(crate) fn compute(waf: &Arc<Waf>) -> Option<Fold> {
        let mut simulation = Transaction::for_folding(Arc::clone(waf));
        let mut fold = Fold::default();
        // TX variables the rules left to run per request read and write.
        let mut dynamic_reads = Keys::None;
        let mut dynamic_writes = Keys::None;
        // No rule left to run per request could change which rules run so far: every
        // rule the walk reaches runs on every request, in this order.
        let mut settled = true;
        for phase in 1..=5u8 {
            let steps = waf.program.phase(phase);
            let outcomes = &mut fold.phases[usize::from(phase - 1)];
            outcomes.resize_with(steps.len(), || None);
            let mut skip_to_marker: Option<&str> = None;
            let mut skip_count = 0u32;
            for (index, step) in steps.iter().enumerate() {
                let rule = match step {
                    Step::Marker(name) => {
                        if skip_to_marker == Some(name.as_str()) {
                            skip_to_marker = None;
                        }
                        continue;
                    }
                    Step::Rule(rule) => rule,
                };
                // While settled, a rule a folded rule skips is skipped per request as
                // well; once not, any rule may run.
                if settled && skip_to_marker.is_some() {
                    continue;
                }
                if settled && skip_count > 0 {
                    skip_count -= 1;
                    continue;
                }
                let print = footprint(rule);
                // A rule that writes TX is folded only where its writes, applied when
                // phase 1 starts, are certain to happen and no rule before it can see
                // them early; one that only reads is replayed where it stands.
                let foldable = !print.impure
                    && !print.reads.meets(&dynamic_writes)
                    && (matches!(print.writes, Keys::None)
                        || (settled
                            && phase == 1
                            && !print.writes.meets(&dynamic_reads)
                            && !print.writes.meets(&dynamic_writes)));
                let outcome = if foldable {
                    simulation.evaluate_folded(rule)
                } else {
                    None
                };
                let Some(outcome) = outcome else {
                    // Left to run per request (also a rule that would disrupt).
                    if print.changes_flow || foldable {
                        settled = false;
                    }
                    dynamic_reads.merge(&print.reads);
                    dynamic_writes.merge(&print.writes);
                    continue;
                };
                if outcome.matched.is_some() {
                    if let Some(marker) = &rule.skip_after {
                        skip_to_marker = Some(marker.as_str());
                    }
                    skip_count = rule.skip;
                }
                outcomes[index] = Some(outcome);
                fold.rule_ids.push(rule.id);
            }
        }
        if fold.rule_ids.is_empty() {
            return None;
        }
        fold.rule_ids.sort_unstable();
        fold.template = simulation.take_tx();
        Some(fold)
    }

    /// The recorded outcome of step `index` of `phase`, when that rule is folded.
    pub(crate) fn step(&self, phase: u8, index: usize) -> Option<&FoldedStep> {
        self.phases
            .get(usize::from(phase.checked_sub(1)?))
            .and_then(|steps| steps.get(index))
            .and_then(Option::as_ref)
    }

    /// True when route `exclusions` leave every folded rule as it was folded: they
    /// remove none of them and no TX target of them.
    pub(crate) fn holds_with(&self, exclusions: Option<&CompiledExclusions>) -> bool {
        exclusions.is_none_or(|exclusions| {
            let folded = |id: &u64| self.rule_ids.binary_search(id).is_ok();
            !exclusions.rule_ids.iter().any(folded)
                && !exclusions.targets.iter().any(|(ids, target)| {
                    target.name == VariableName::Tx && (ids.is_empty() || ids.iter().any(folded))
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_other_than_tx_and_rule_are_impure() {
        let mut reads = Keys::None;
        assert!(macro_reads("x=%{TX.Blocking_Level} %{rule.id}", &mut reads));
        let expected = [KeyPattern {
            text: "blocking_level".to_owned(),
            prefix: false,
        }];
        assert!(matches!(&reads, Keys::Some(keys) if keys == &expected));
        assert!(!macro_reads("%{REQUEST_HEADERS.host}", &mut reads));
        assert!(!macro_reads("%{MATCHED_VAR}", &mut reads));
    }

    #[test]
    fn key_sets_meet_on_a_shared_key_or_any_key() {
        let mut a = Keys::None;
        a.add("A");
        let mut b = Keys::None;
        b.add("b");
        assert!(!a.meets(&b) && !a.meets(&Keys::None));
        b.add("a");
        assert!(a.meets(&b) && a.meets(&Keys::All) && !Keys::None.meets(&Keys::All));
    }
}
