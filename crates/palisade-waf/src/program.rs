//! Compilation of a parsed [`Config`] into a flat, immutable program: one list of steps
//! per phase (rules with their chain links, and markers), default actions merged,
//! removals and target updates applied, transformations resolved and operators compiled.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use palisade_operators::ByteSet;
use palisade_seclang::{
    Action, Config, Ctl, Directive, Disruptive, EngineMode, IdRange, Located, Rule, RuleSelector,
    Selector, SetVar, SetVarOp, Setting, Variable, VariableName,
};
use palisade_transform::Transformation;

use crate::WafError;
use crate::operator::CompiledOperator;
use crate::prefilter::{PrefilterBuilder, Prefilters};
use crate::variables::VariableSet;

/// A compiled target (a positive variable or an exclusion).
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub name: VariableName,
    pub selector: Option<KeySelector>,
    pub count: bool,
    /// The collections of `Transaction::collections` whose elements are this variable's
    /// values, and whether its values are their keys (see [`element_sources`]).
    pub elements: Option<([Option<VariableName>; 2], bool)>,
}

/// A compiled key selector.
#[derive(Debug, Clone)]
pub(crate) enum KeySelector {
    /// Exact key, lowercased (keys compare case-insensitively).
    Key(String),
    /// Case-insensitive regex over the key.
    Regex(Arc<regex::bytes::Regex>),
}

impl KeySelector {
    pub(crate) fn matches(&self, key: &[u8]) -> bool {
        match self {
            KeySelector::Key(expected) => key.eq_ignore_ascii_case(expected.as_bytes()),
            KeySelector::Regex(regex) => regex.is_match(key),
        }
    }
}

/// Non-disruptive actions executed on every match of a rule link, in written order.
#[derive(Debug, Clone)]
pub(crate) enum RunAction {
    SetVar(SetVar),
    ExpireVar {
        collection: String,
        name: String,
        seconds: String,
    },
    InitCol {
        collection: String,
        key: String,
    },
    SetEnv {
        name: String,
        value: String,
    },
    Ctl(Ctl),
}

/// One compiled rule link (a chain head or one of its chained rules).
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub id: u64,
    pub phase: u8,
    pub targets: Vec<Target>,
    pub exclusions: Vec<Target>,
    pub operator: CompiledOperator,
    pub transformations: Vec<Transformation>,
    /// Interned id of `transformations` (equal chains share an id), the cheap key of
    /// the per-transaction transformation cache.
    pub chain_id: usize,
    /// With `multiMatch`: each transformation's trigger bytes (see
    /// `palisade_transform::Transformation::trigger_bytes`); empty otherwise.
    pub stage_triggers: Vec<Option<ByteSet>>,
    /// This link's slot in the literal prefilter of its chain (see `crate::prefilter`),
    /// when its operator requires literals.
    pub prefilter_slot: Option<u32>,
    /// Bytes of which every value this link's operator matches contains one (`@rx`).
    pub required_bytes: Option<ByteSet>,
    pub multi_match: bool,
    pub capture: bool,
    pub actions: Vec<RunAction>,
    pub disruptive: Option<Disruptive>,
    pub status: Option<u16>,
    pub msg: Option<String>,
    pub logdata: Option<String>,
    /// Shared with every [`crate::MatchedRule`] of this rule (no copy per match).
    pub tags: Arc<[String]>,
    pub severity: Option<u8>,
    pub log: bool,
    pub skip: u32,
    pub skip_after: Option<String>,
    pub is_action: bool,
    pub chained: Option<Box<CompiledRule>>,
    /// [`CompiledRule::batch_detector`] of a chain head, computed once it is complete.
    pub batch_class: Option<palisade_operators::AttackClass>,
}

impl CompiledRule {
    /// The class of a `@detectXxx` rule that can join a detector batch
    /// (`Transaction::detector_batch_matches_nothing`): a single link, not negated,
    /// without transformations, its own exclusions or counted targets, that reads no
    /// variable whose value depends on the rule running it (RULE, MATCHED_VARS).
    fn batch_detector(&self) -> Option<palisade_operators::AttackClass> {
        use VariableName as V;
        if self.is_action
            || self.chained.is_some()
            || !self.transformations.is_empty()
            || !self.exclusions.is_empty()
            || self.targets.iter().any(|target| {
                target.count
                    || matches!(target.name, V::Rule | V::MatchedVars | V::MatchedVarsNames)
            })
        {
            return None;
        }
        match self.operator.detector() {
            Some((class, false)) => Some(class),
            _ => None,
        }
    }
}

impl Target {
    pub(crate) fn new(name: VariableName, selector: Option<KeySelector>, count: bool) -> Target {
        Target {
            name,
            selector,
            count,
            elements: element_sources(name),
        }
    }

    /// True when both targets read the same values (same variable, selector and
    /// counting).
    pub(crate) fn same_values(&self, other: &Target) -> bool {
        self.name == other.name
            && self.count == other.count
            && match (&self.selector, &other.selector) {
                (None, None) => true,
                (Some(KeySelector::Key(a)), Some(KeySelector::Key(b))) => a == b,
                (Some(KeySelector::Regex(a)), Some(KeySelector::Regex(b))) => {
                    a.as_str() == b.as_str()
                }
                _ => false,
            }
    }
}

/// One step of a phase program.
#[derive(Debug)]
pub(crate) enum Step {
    Rule(Arc<CompiledRule>),
    Marker(String),
}

/// Engine-wide settings after loading.
#[derive(Debug, Clone)]
pub(crate) struct EngineSettings {
    pub engine: EngineMode,
    pub request_body_access: bool,
    pub response_body_access: bool,
    pub request_body_limit: u64,
    pub response_body_limit: u64,
    pub response_mime_types: Vec<String>,
    pub arguments_limit: usize,
    pub json_depth_limit: usize,
    pub argument_separator: u8,
    pub component_signatures: Vec<String>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            engine: EngineMode::On,
            request_body_access: false,
            response_body_access: false,
            request_body_limit: 13_107_200,
            response_body_limit: 524_288,
            response_mime_types: vec!["text/plain".to_owned(), "text/html".to_owned()],
            arguments_limit: 1000,
            json_depth_limit: 512,
            argument_separator: b'&',
            component_signatures: Vec::new(),
        }
    }
}

/// The compiled program.
#[derive(Debug)]
pub(crate) struct Program {
    pub phases: [Vec<Step>; 5],
    pub settings: EngineSettings,
    pub report: CompileReport,
    /// The literal prefilters, per transformation chain id and for raw values.
    pub prefilters: Prefilters,
    /// Per transformation chain id, the bytes without which the chain leaves a value
    /// as it is (`None` when it may change any value; see
    /// `palisade_transform::Transformation::trigger_bytes`).
    pub chain_triggers: Vec<Option<ByteSet>>,
    /// Every variable a rule target or a macro of the program can read: a transaction
    /// materialises only these (see `crate::variables`).
    pub references: VariableSet,
}

/// What compilation noticed about operators.
#[derive(Debug, Default, Clone)]
pub(crate) struct CompileReport {
    pub unsupported_operators: Vec<String>,
    pub backtracking_patterns: Vec<String>,
    /// Transformation chains interned at load (chain → id).
    pub transformation_chains: HashMap<Vec<Transformation>, usize>,
}

impl Program {
    pub(crate) fn phase(&self, phase: u8) -> &[Step] {
        self.phases
            .get(usize::from(phase.saturating_sub(1)))
            .map_or(&[], Vec::as_slice)
    }

    /// Number of chain heads (rules and actions) in the program.
    pub(crate) fn rule_count(&self) -> usize {
        self.phases
            .iter()
            .flatten()
            .filter(|step| matches!(step, Step::Rule(_)))
            .count()
    }
}

/// Per-phase defaults from `SecDefaultAction`.
#[derive(Debug, Clone)]
struct Defaults {
    disruptive: Disruptive,
    status: Option<u16>,
    log: bool,
    transformations: Vec<String>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            disruptive: Disruptive::Pass,
            status: None,
            log: true,
            transformations: Vec::new(),
        }
    }
}

/// A rule as parsed, with its chain, before compilation.
struct PendingRule {
    links: Vec<Located<Rule>>,
    defaults: Defaults,
}

fn phase_of(actions: &[Action], default: u8) -> u8 {
    actions
        .iter()
        .rev()
        .find_map(|a| {
            if let Action::Phase(p) = a {
                Some(*p)
            } else {
                None
            }
        })
        .unwrap_or(default)
}

fn id_of(actions: &[Action]) -> Option<u64> {
    actions.iter().find_map(|a| {
        if let Action::Id(id) = a {
            Some(*id)
        } else {
            None
        }
    })
}

fn tags_of(rule: &Located<Rule>) -> impl Iterator<Item = &str> {
    rule.item.actions.iter().filter_map(|a| {
        if let Action::Tag(tag) = a {
            Some(tag.as_str())
        } else {
            None
        }
    })
}

fn msg_of(rule: &Located<Rule>) -> Option<&str> {
    rule.item.actions.iter().find_map(|a| {
        if let Action::Msg(msg) = a {
            Some(msg.as_str())
        } else {
            None
        }
    })
}

fn in_ranges(ranges: &[IdRange], id: u64) -> bool {
    ranges.iter().any(|range| range.contains(id))
}

pub(crate) fn compile_key_regex(pattern: &str) -> Result<Arc<regex::bytes::Regex>, String> {
    regex::bytes::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(8 * 1024 * 1024)
        .build()
        .map(Arc::new)
        .map_err(|error| format!("selector regex `{pattern}`: {error}"))
}

pub(crate) fn compile_target(variable: &Variable) -> Result<Target, String> {
    let selector = match &variable.selector {
        None => None,
        Some(Selector::Key(key)) => Some(KeySelector::Key(key.to_ascii_lowercase())),
        Some(Selector::Regex(pattern)) => Some(KeySelector::Regex(compile_key_regex(pattern)?)),
    };
    Ok(Target::new(variable.name, selector, variable.count))
}

/// The collections of `Transaction::collections` whose elements are the values of
/// variable `name` (up to two: ARGS is ARGS_GET and ARGS_POST), and whether its values
/// are their keys; `None` for the variables that are no such elements (TX, ENV,
/// persistent collections, MATCHED_VARS, RULE, scalars).
fn element_sources(name: VariableName) -> Option<([Option<VariableName>; 2], bool)> {
    use VariableName as V;
    let (first, second, names_only) = match name {
        V::Args => (V::ArgsGet, Some(V::ArgsPost), false),
        V::ArgsNames => (V::ArgsGet, Some(V::ArgsPost), true),
        V::ArgsGetNames => (V::ArgsGet, None, true),
        V::ArgsPostNames => (V::ArgsPost, None, true),
        V::RequestHeadersNames => (V::RequestHeaders, None, true),
        V::RequestCookiesNames => (V::RequestCookies, None, true),
        V::ResponseHeadersNames => (V::ResponseHeaders, None, true),
        V::Tx
        | V::Env
        | V::Ip
        | V::Global
        | V::Session
        | V::User
        | V::Resource
        | V::MatchedVars
        | V::MatchedVarsNames
        | V::Rule => return None,
        name if name.is_collection() => (name, None, false),
        _ => return None,
    };
    Some(([Some(first), second], names_only))
}

/// Compiles a configuration. `base_dir` resolves operator data files (`@pmFromFile`).
pub(crate) fn compile(config: &Config, base_dir: &Path) -> Result<Program, WafError> {
    let mut settings = EngineSettings::default();
    let mut defaults: [Defaults; 5] = Default::default();
    // Chain heads in order, each with its links; markers interleaved.
    enum Pending {
        Rule(PendingRule),
        Marker(String),
    }
    let mut pending: Vec<Pending> = Vec::new();
    let mut open_chain = false;
    let mut removed_ids: Vec<IdRange> = Vec::new();
    let mut removed_tags: Vec<regex::Regex> = Vec::new();
    let mut removed_msgs: Vec<regex::Regex> = Vec::new();
    // (selector, targets added, targets they replace: the optional third argument)
    type TargetUpdate = (RuleSelector, Vec<Variable>, Option<Vec<Variable>>);
    let mut target_updates: Vec<TargetUpdate> = Vec::new();
    let mut action_updates: Vec<(u64, Vec<Action>)> = Vec::new();
    let text_regex = |pattern: &str| {
        regex::Regex::new(pattern)
            .map_err(|error| WafError::invalid(format!("regex `{pattern}`: {error}")))
    };

    for directive in &config.directives {
        match directive {
            Directive::Rule(rule) => {
                if open_chain {
                    if let Some(Pending::Rule(head)) = pending.last_mut() {
                        head.links.push(rule.clone());
                    }
                } else {
                    let phase = phase_of(&rule.item.actions, 2);
                    let defaults = defaults[usize::from(phase - 1)].clone();
                    pending.push(Pending::Rule(PendingRule {
                        links: vec![rule.clone()],
                        defaults,
                    }));
                }
                open_chain = rule.item.actions.iter().any(|a| matches!(a, Action::Chain));
            }
            Directive::Marker(marker) => {
                open_chain = false;
                pending.push(Pending::Marker(marker.item.clone()));
            }
            Directive::DefaultAction(actions) => {
                let phase = phase_of(&actions.item, 2);
                let slot = &mut defaults[usize::from(phase - 1)];
                for action in &actions.item {
                    match action {
                        Action::Disruptive(disruptive) => slot.disruptive = disruptive.clone(),
                        Action::Status(status) => slot.status = Some(*status),
                        Action::Log => slot.log = true,
                        Action::NoLog => slot.log = false,
                        Action::Transformation(name) if name == "none" => {
                            slot.transformations.clear()
                        }
                        Action::Transformation(name) => slot.transformations.push(name.clone()),
                        _ => {}
                    }
                }
            }
            Directive::RemoveById(ranges) => removed_ids.extend_from_slice(ranges),
            Directive::RemoveByTag(tag) => removed_tags.push(text_regex(tag)?),
            Directive::RemoveByMsg(msg) => removed_msgs.push(text_regex(msg)?),
            Directive::UpdateTarget {
                selector,
                targets,
                replaced,
            } => {
                target_updates.push((selector.clone(), targets.clone(), replaced.clone()));
            }
            Directive::UpdateAction { id, actions } => action_updates.push((*id, actions.clone())),
            Directive::Setting(setting) => apply_setting(&mut settings, setting),
            _ => {}
        }
    }

    let mut phases: [Vec<Step>; 5] = Default::default();
    let mut report = CompileReport::default();
    let mut prefilter = PrefilterBuilder::default();
    let mut seen_ids: HashMap<u64, String> = HashMap::new();
    let mut references = VariableSet::default();
    for item in pending {
        match item {
            Pending::Marker(name) => {
                for phase in &mut phases {
                    phase.push(Step::Marker(name.clone()));
                }
            }
            Pending::Rule(mut rule) => {
                let id = id_of(&rule.links[0].item.actions).unwrap_or(0);
                for (update_id, actions) in &action_updates {
                    if *update_id == id {
                        update_actions(&mut rule.links[0].item.actions, actions);
                    }
                }
                let head = &rule.links[0];
                let location = head.location.to_string();
                if id == 0 {
                    return Err(WafError::invalid(format!("{location}: rule has no id")));
                }
                if let Some(previous) = seen_ids.insert(id, location.clone()) {
                    return Err(WafError::invalid(format!(
                        "{location}: duplicate rule id {id} (first at {previous})"
                    )));
                }
                if in_ranges(&removed_ids, id)
                    || tags_of(head).any(|tag| removed_tags.iter().any(|r| r.is_match(tag)))
                    || msg_of(head).is_some_and(|msg| removed_msgs.iter().any(|r| r.is_match(msg)))
                {
                    continue;
                }
                let mut extra_targets = Vec::new();
                let mut replaced_targets = Vec::new();
                for (selector, targets, replaced) in &target_updates {
                    let selected = match selector {
                        RuleSelector::Ids(ranges) => in_ranges(ranges, id),
                        RuleSelector::Tag(tag) => {
                            let regex = text_regex(tag)?;
                            tags_of(head).any(|t| regex.is_match(t))
                        }
                        RuleSelector::Msg(msg) => {
                            let regex = text_regex(msg)?;
                            msg_of(head).is_some_and(|m| regex.is_match(m))
                        }
                    };
                    if selected {
                        extra_targets.extend(targets.iter().cloned());
                        replaced_targets.extend(replaced.iter().flatten().cloned());
                    }
                }
                if !replaced_targets.is_empty() {
                    // `SecRuleUpdateTargetById ID NEW OLD`: NEW takes the place of OLD.
                    rule.links[0]
                        .item
                        .variables
                        .retain(|variable| !replaced_targets.contains(variable));
                }
                let phase = phase_of(&rule.links[0].item.actions, 2);
                let mut compiled =
                    compile_chain(&rule, 0, id, phase, &extra_targets, base_dir, &mut report)?;
                assign_prefilter_slots(&mut compiled, &mut prefilter);
                note_references(&compiled, &mut references);
                compiled.batch_class = compiled.batch_detector();
                phases[usize::from(phase - 1)].push(Step::Rule(Arc::new(compiled)));
            }
        }
    }
    let prefilters = prefilter.build().map_err(WafError::invalid)?;
    let mut chain_triggers = vec![None; report.transformation_chains.len()];
    for (chain, &id) in &report.transformation_chains {
        chain_triggers[id] = chain_trigger_bytes(chain);
    }
    Ok(Program {
        phases,
        settings,
        report,
        prefilters,
        chain_triggers,
        references,
    })
}

/// Adds what a chain can read to `references`: its links' targets and the variables of
/// every macro `Transaction::expand` may expand for it (message, log data, redirect
/// target, operator argument, action arguments).
fn note_references(rule: &CompiledRule, references: &mut VariableSet) {
    let mut link = Some(rule);
    while let Some(current) = link {
        for target in &current.targets {
            references.insert(target.name);
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
                    texts.push(&setvar.name);
                    match &setvar.op {
                        SetVarOp::Set(value) | SetVarOp::Add(value) | SetVarOp::Subtract(value) => {
                            texts.push(value)
                        }
                        SetVarOp::Unset => {}
                    }
                }
                RunAction::ExpireVar { name, seconds, .. } => {
                    texts.extend([name, seconds].map(String::as_str))
                }
                RunAction::InitCol { key, .. } => texts.push(key),
                RunAction::SetEnv { name, value } => {
                    texts.extend([name, value].map(String::as_str))
                }
                RunAction::Ctl(_) => {}
            }
        }
        for text in texts {
            references.insert_macro_references(text);
        }
        link = current.chained.as_deref();
    }
}

/// The union of the trigger bytes of `chain`'s transformations: a value without any of
/// them passes through every step unchanged. `None` when a step changes every value.
fn chain_trigger_bytes(chain: &[Transformation]) -> Option<ByteSet> {
    chain.iter().try_fold([0u64; 4], |mut set, transformation| {
        let triggers = transformation.trigger_bytes()?;
        for (word, trigger) in set.iter_mut().zip(triggers) {
            *word |= trigger;
        }
        Some(set)
    })
}

/// Gives every link of a chain whose operator requires literals (and is not `multiMatch`,
/// which tests more than the final transformed value) a prefilter slot, and registers
/// its required byte set. A negated link gets one too (when a value rules the operator
/// out, the link matches it without running it), unless it captures (what a run that
/// does not match leaves in the captures is the operator's business).
fn assign_prefilter_slots(rule: &mut CompiledRule, prefilter: &mut PrefilterBuilder) {
    let mut link = Some(rule);
    while let Some(current) = link {
        if !(current.multi_match || (current.operator.is_negated() && current.capture)) {
            if let Some(literals) = current.operator.required_literals() {
                current.prefilter_slot = Some(prefilter.add(current.chain_id, literals));
            }
            if let Some(bytes) = current.operator.required_bytes() {
                current.required_bytes = Some(*bytes);
                prefilter.add_byte_set(current.chain_id);
            }
        }
        link = current.chained.as_deref_mut();
    }
}

fn update_actions(actions: &mut Vec<Action>, replacements: &[Action]) {
    for replacement in replacements {
        let same_kind =
            |a: &Action| std::mem::discriminant(a) == std::mem::discriminant(replacement);
        let disruptive = matches!(replacement, Action::Disruptive(_));
        if disruptive {
            actions.retain(|a| !matches!(a, Action::Disruptive(_)));
        } else if !matches!(
            replacement,
            Action::Tag(_) | Action::SetVar(_) | Action::Transformation(_)
        ) {
            actions.retain(|a| !same_kind(a));
        }
        actions.push(replacement.clone());
    }
}

fn compile_chain(
    rule: &PendingRule,
    index: usize,
    id: u64,
    phase: u8,
    extra_targets: &[Variable],
    base_dir: &Path,
    report: &mut CompileReport,
) -> Result<CompiledRule, WafError> {
    let link = &rule.links[index];
    let location = link.location.to_string();
    let fail = |message: String| WafError::invalid(format!("{location}: {message}"));
    let mut targets = Vec::new();
    let mut exclusions = Vec::new();
    let extra: &[Variable] = if index == 0 { extra_targets } else { &[] };
    for variable in link.item.variables.iter().chain(extra) {
        let target = compile_target(variable).map_err(fail)?;
        if variable.excluded {
            exclusions.push(target);
        } else {
            targets.push(target);
        }
    }
    // Data files (`@pmFromFile`) are relative to the file that holds the rule.
    let rule_dir = Path::new(&*link.location.file)
        .parent()
        .filter(|dir| dir.is_dir())
        .unwrap_or(base_dir);
    let operator = CompiledOperator::compile(&link.item.operator, rule_dir).map_err(&fail)?;
    if let Some(reason) = operator.unsupported_reason() {
        report
            .unsupported_operators
            .push(format!("{location}: rule {id}: {reason}"));
    }
    if operator.uses_backtracking() {
        report
            .backtracking_patterns
            .push(format!("{location}: rule {id}"));
    }
    let mut transformation_names: Vec<String> = if index == 0 {
        rule.defaults.transformations.clone()
    } else {
        Vec::new()
    };
    let mut compiled = CompiledRule {
        id,
        phase,
        targets,
        exclusions,
        operator,
        transformations: Vec::new(),
        chain_id: 0,
        stage_triggers: Vec::new(),
        prefilter_slot: None,
        required_bytes: None,
        multi_match: false,
        capture: false,
        actions: Vec::new(),
        disruptive: None,
        status: None,
        msg: None,
        logdata: None,
        tags: Arc::from([]),
        severity: None,
        log: rule.defaults.log,
        skip: 0,
        skip_after: None,
        is_action: link.item.is_action,
        chained: None,
        batch_class: None,
    };
    let mut tags = Vec::new();
    for action in &link.item.actions {
        match action {
            Action::Transformation(name) if name == "none" => transformation_names.clear(),
            Action::Transformation(name) => transformation_names.push(name.clone()),
            Action::MultiMatch => compiled.multi_match = true,
            Action::Capture => compiled.capture = true,
            Action::SetVar(setvar) => compiled.actions.push(RunAction::SetVar(setvar.clone())),
            Action::ExpireVar {
                collection,
                name,
                seconds,
            } => compiled.actions.push(RunAction::ExpireVar {
                collection: collection.clone(),
                name: name.clone(),
                seconds: seconds.clone(),
            }),
            Action::InitCol { collection, key } => {
                compiled.actions.push(RunAction::InitCol {
                    collection: collection.clone(),
                    key: key.clone(),
                });
            }
            Action::SetEnv { name, value } => {
                compiled.actions.push(RunAction::SetEnv {
                    name: name.clone(),
                    value: value.clone(),
                });
            }
            Action::Ctl(ctl) => compiled.actions.push(RunAction::Ctl(ctl.clone())),
            Action::Disruptive(Disruptive::Block) => {
                compiled.disruptive = Some(rule.defaults.disruptive.clone())
            }
            Action::Disruptive(disruptive) => compiled.disruptive = Some(disruptive.clone()),
            Action::Status(status) => compiled.status = Some(*status),
            Action::Msg(msg) => compiled.msg = Some(msg.clone()),
            Action::LogData(logdata) => compiled.logdata = Some(logdata.clone()),
            Action::Tag(tag) => tags.push(tag.clone()),
            Action::Severity(severity) => compiled.severity = Some(*severity),
            Action::Log => compiled.log = true,
            Action::NoLog => compiled.log = false,
            Action::Skip(count) => compiled.skip = *count,
            Action::SkipAfter(marker) => compiled.skip_after = Some(marker.clone()),
            _ => {}
        }
    }
    compiled.tags = tags.into();
    for name in &transformation_names {
        let transformation = Transformation::from_name(name)
            .ok_or_else(|| fail(format!("transformation `{name}` is not implemented")))?;
        compiled.transformations.push(transformation);
    }
    if compiled.multi_match {
        compiled.stage_triggers = compiled
            .transformations
            .iter()
            .map(|transformation| transformation.trigger_bytes())
            .collect();
    }
    let next_chain_id = report.transformation_chains.len();
    compiled.chain_id = *report
        .transformation_chains
        .entry(compiled.transformations.clone())
        .or_insert(next_chain_id);
    let has_chain = link.item.actions.iter().any(|a| matches!(a, Action::Chain));
    if has_chain {
        if index + 1 >= rule.links.len() {
            return Err(fail("`chain` without a following rule".to_owned()));
        }
        compiled.chained = Some(Box::new(compile_chain(
            rule,
            index + 1,
            id,
            phase,
            extra_targets,
            base_dir,
            report,
        )?));
    }
    Ok(compiled)
}

fn apply_setting(settings: &mut EngineSettings, setting: &Setting) {
    match setting {
        Setting::RuleEngine(mode) => settings.engine = *mode,
        Setting::RequestBodyAccess(on) => settings.request_body_access = *on,
        Setting::ResponseBodyAccess(on) => settings.response_body_access = *on,
        Setting::RequestBodyLimit(limit) => settings.request_body_limit = *limit,
        Setting::ResponseBodyLimit(limit) => settings.response_body_limit = *limit,
        Setting::ResponseBodyMimeTypes(types) => settings.response_mime_types = types.clone(),
        Setting::ArgumentsLimit(limit) => {
            settings.arguments_limit = usize::try_from(*limit).unwrap_or(usize::MAX)
        }
        Setting::RequestBodyJsonDepthLimit(limit) => {
            settings.json_depth_limit = usize::try_from(*limit).unwrap_or(usize::MAX);
        }
        Setting::ArgumentSeparator(separator) => {
            if let Some(byte) = separator.bytes().next() {
                settings.argument_separator = byte;
            }
        }
        Setting::ComponentSignature(signature) => {
            settings.component_signatures.push(signature.clone())
        }
        _ => {}
    }
}
