//! One HTTP transaction run through the compiled program with ModSecurity v3 semantics.
//!
//! Design notes:
//! * Collections are ordered `(name, value)` lists; keys compare case-insensitively.
//!   TX is a map with lowercased keys.
//! * A rule link is evaluated per target value: transformations (cached per value and
//!   transformation chain within the transaction), then the operator (on every stage
//!   with `multiMatch`). On each match MATCHED_VAR(S) are updated, captures stored and
//!   the link's non-disruptive actions (setvar, ctl, …) run — as libmodsecurity does
//!   ("independent of the chained rule result"). Disruptive and flow actions of the
//!   chain head run once the whole chain matched.
//! * Disruptive actions are enforced only when the rule engine is `On`; in
//!   `DetectionOnly` they are recorded and nothing else happens.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use palisade_body::BodyLimits;
use palisade_seclang::{
    AllowScope, Ctl, Disruptive, EngineMode, IdRange, SetVar, SetVarOp, VariableName,
};
use palisade_transform::Transformation;

use crate::fold::{Fold, FoldedStep};
use crate::operator::parse_number;
use crate::prefilter::{ChainPrefilter, Prefilters, may_match};
use crate::program::{CompiledRule, KeySelector, RunAction, Step, Target, compile_target};
use crate::variables::VariableMap;
use crate::{Waf, buffers};
use palisade_operators::{Captures, DecodedViews};

/// Request facts a transaction starts from.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// Unique id (UNIQUE_ID).
    pub request_id: String,
    /// Client address (REMOTE_ADDR / REMOTE_PORT).
    pub client_addr: SocketAddr,
    /// Local address (SERVER_PORT).
    pub server_addr: SocketAddr,
    /// Host name (SERVER_NAME).
    pub server_name: String,
    /// Method.
    pub method: String,
    /// Request target exactly as received.
    pub uri: String,
    /// Protocol, e.g. `HTTP/1.1`.
    pub protocol: String,
    /// Request headers in order (names as received).
    pub headers: Vec<(String, Vec<u8>)>,
}

/// A request head as a transaction reads it: borrowed, so nothing is copied that no
/// rule reads. `headers()` iterates the headers in order (names as received).
pub(crate) struct RequestView<'a, H> {
    pub request_id: &'a str,
    pub client_addr: SocketAddr,
    pub server_addr: SocketAddr,
    pub server_name: &'a str,
    pub method: &'a str,
    pub uri: &'a str,
    pub protocol: &'a str,
    pub headers: H,
}

/// A disruptive decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervention {
    /// HTTP status to answer with.
    pub status: u16,
    /// Redirect target for `redirect`.
    pub redirect: Option<String>,
    /// The rule that decided.
    pub rule_id: u64,
    /// Its (expanded) message.
    pub message: String,
}

/// A matched rule (chain fully matched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRule {
    /// Rule id.
    pub id: u64,
    /// Phase it ran in.
    pub phase: u8,
    /// Expanded `msg`.
    pub message: String,
    /// Expanded `logdata`.
    pub logdata: String,
    /// Severity (0–7) when the rule has one.
    pub severity: Option<u8>,
    /// Whether the rule logs (`log` / not `nolog`).
    pub logged: bool,
    /// Tags (shared with the compiled rule).
    pub tags: Arc<[String]>,
}

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// How a value is named in MATCHED_VAR_NAME(S); rendered only when the value matched.
#[derive(Clone, Copy)]
enum ValueName<'a> {
    /// The name as it is shown (`REQUEST_URI`, `&ARGS:x`).
    Rendered(&'a str),
    /// `PREFIX:key`.
    Keyed(&'a str, &'a [u8]),
    /// `PREFIX:key` of an element of `Transaction::collections`: its value stays at
    /// the same address, unchanged, until the phase ends.
    Element(&'a str, &'a [u8], ElementId),
    /// The name of a value of `Transaction::scalars`: stable like an element.
    Scalar(&'a str),
}

/// Which value of `Transaction::collections` an element value is within a phase (no rule
/// changes the collections while a phase runs): the element `index` of `collection`,
/// its key or its value.
#[derive(Clone, Copy, PartialEq, Eq)]
struct ElementId {
    collection: VariableName,
    index: usize,
    key: bool,
}

impl ValueName<'_> {
    /// The element this value is, for an element of `Transaction::collections`.
    fn element(self) -> Option<ElementId> {
        match self {
            ValueName::Element(_, _, id) => Some(id),
            _ => None,
        }
    }

    /// True when the value stays at the same address, unchanged, until the phase ends
    /// (so its transformation results can be cached by address).
    fn is_stable(self) -> bool {
        matches!(self, ValueName::Element(..) | ValueName::Scalar(_))
    }

    fn render(self) -> String {
        match self {
            ValueName::Rendered(name) | ValueName::Scalar(name) => name.to_owned(),
            ValueName::Keyed(prefix, key) | ValueName::Element(prefix, key, _) => {
                let key = String::from_utf8_lossy(key);
                let mut name = String::with_capacity(prefix.len() + 1 + key.len());
                name.push_str(prefix);
                name.push(':');
                name.push_str(&key);
                name
            }
        }
    }
}

/// One operator match of a rule link, applied (captures, MATCHED_VAR, actions) once the
/// link's scan is done.
struct LinkMatch {
    name: String,
    value: Vec<u8>,
    captures: Vec<(usize, Vec<u8>)>,
}

/// A multiplicative hasher for `(chain id, address, length)` keys. Addresses are not
/// chosen by clients, so the keys need no flood-resistant (and slower) SipHash.
#[derive(Default)]
struct LocationHasher(u64);

impl std::hash::Hasher for LocationHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

type BuildLocationHasher = std::hash::BuildHasherDefault<LocationHasher>;

/// Maps whose keys a client may influence (TX names built from argument names, values):
/// foldhash, seeded per process, instead of SipHash, which costs several times more on
/// the short keys a transaction looks up for every rule.
pub(crate) type SeededMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// TX variables a transaction has room for before its map grows.
const TX_CAPACITY: usize = 32;

/// Values shorter than this are transformed directly: running a chain over a short
/// value costs less than hashing, storing and copying it for the cache.
const TRANSFORMATION_CACHE_MIN_LEN: usize = 128;

/// The chain id under which `TransformationCache::by_location` keeps the raw-value
/// prefilter result of a value (no interned chain has it).
const RAW_VALUE: usize = usize::MAX;

/// Most entries the transformation cache holds per transaction.
const TRANSFORMATION_CACHE_ENTRIES: usize = 100_000;

/// Most bytes of transformed stable values kept per phase.
const TRANSFORMATION_ARENA_BYTES: usize = 16 << 20;

/// Where the transformation result of a stable value is (see [`ValueName::is_stable`]).
#[derive(Clone, Copy)]
enum CachedStage {
    /// `value[start..end]` of the value itself (the whole value when the chain leaves it
    /// as it is; a part of it after e.g. `trim`).
    Value(usize, usize),
    /// `arena[start..end]`.
    Arena(usize, usize),
}

impl CachedStage {
    /// The stage of `part`, a sub-slice of `whole` (the bytes of `self`).
    fn narrowed(self, whole: &[u8], part: &[u8]) -> CachedStage {
        let offset = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
        match self {
            CachedStage::Value(start, _) => {
                CachedStage::Value(start + offset, start + offset + part.len())
            }
            CachedStage::Arena(start, _) => {
                CachedStage::Arena(start + offset, start + offset + part.len())
            }
        }
    }
}

/// A cached stable value: its transformation result and, when its chain has a literal
/// prefilter, where its candidate bitset starts in `TransformationCache::candidates`.
#[derive(Clone, Copy)]
struct CachedValue {
    stage: CachedStage,
    candidates: Option<usize>,
}

/// Transformation results of one transaction: per interned chain id, value → result.
/// Lookups borrow the value; only a miss copies it.
#[derive(Default)]
struct TransformationCache {
    by_chain: HashMap<usize, SeededMap<Vec<u8>, Arc<[u8]>>>,
    /// Results for stable values of the running phase (collection elements and
    /// request scalars), keyed by `(chain id, address, length)`: no hashing or copying
    /// of the value. Cleared when a phase starts (they change only between phases).
    by_location: HashMap<(usize, usize, usize), CachedValue, BuildLocationHasher>,
    /// Candidate bitsets of `by_location` entries (see `crate::prefilter`), back to back.
    candidates: Vec<u64>,
    /// Per collection (and keys or values) of the running phase: where the union of
    /// its elements' raw-value candidate bitsets starts in `candidates` (`None` when
    /// the cache was too full to compute it).
    unions: Vec<(VariableName, bool, Option<usize>)>,
    /// The changed results of `by_location`, back to back: one buffer, not one
    /// allocation per result.
    arena: Vec<u8>,
    entries: usize,
    /// Decoded views for the detectors.
    views: ViewCache,
}

/// Decoded views of the values the `@detectXxx` operators inspect, built once per value
/// and transaction and shared by every detector rule (each would otherwise decode the
/// value again).
#[derive(Default)]
struct ViewCache {
    /// Views of stable values (see [`ValueName::is_stable`]) of the running phase, keyed
    /// by `(address, length)`; cleared when a phase starts.
    by_location: HashMap<(usize, usize), DecodedViews, BuildLocationHasher>,
    /// Views of other values (TX variables, transformed values), keyed by the value.
    by_value: SeededMap<Vec<u8>, DecodedViews>,
    /// Bytes held by both maps.
    bytes: usize,
    /// The views of the last value when the maps are full.
    overflow: DecodedViews,
    /// Views of collection elements (see [`ElementId`]): per collection and key or
    /// value, by element index. Found by a short scan and an index, where an address
    /// would be hashed. An entry holds the running phase's views of its element when
    /// its generation is `generation`; older entries are rebuilt in place (their
    /// buffers serve again, across phases and pooled transactions).
    by_element: Vec<ElementViews>,
    /// The generation of the running phase (entries of 0 were never built).
    generation: u64,
    /// Views `by_element` holds for the running phase, and their bytes.
    elements: usize,
    element_bytes: usize,
    /// Views of earlier phases and transactions, kept for their buffers: a value's
    /// views are rebuilt in one of them instead of a new allocation.
    spare: Vec<DecodedViews>,
}

/// The views of the keys or the values of one collection, by element index, each with
/// the generation it was built in.
struct ElementViews {
    collection: VariableName,
    key: bool,
    views: Vec<(u64, DecodedViews)>,
}

/// Most spare views a [`ViewCache`] keeps.
const SPARE_VIEWS: usize = 1024;

/// Largest buffer (bytes) of a spare view.
const SPARE_VIEW_CAPACITY: usize = 4096;

impl ViewCache {
    /// The decoded views of `value`; `stable` when its address identifies it within the
    /// phase.
    fn views_of(
        &mut self,
        value: &[u8],
        stable: bool,
        element: Option<ElementId>,
    ) -> &DecodedViews {
        // The common case, kept short: an element whose views the phase built already
        // (the lists are few: one per collection and keys or values).
        if let Some(id) = element
            && let Some(slot) = self
                .by_element
                .iter()
                .position(|list| list.collection == id.collection && list.key == id.key)
            && self.generation != 0
            && matches!(self.by_element[slot].views.get(id.index),
                Some((generation, _)) if *generation == self.generation)
        {
            return &self.by_element[slot].views[id.index].1;
        }
        self.build_views(value, stable, element)
    }

    /// [`ViewCache::views_of`] when the views are not at hand.
    #[inline(never)]
    fn build_views(
        &mut self,
        value: &[u8],
        stable: bool,
        element: Option<ElementId>,
    ) -> &DecodedViews {
        let full = self.by_location.len() + self.by_value.len() + self.elements
            >= TRANSFORMATION_CACHE_ENTRIES
            || self.bytes + self.element_bytes > TRANSFORMATION_ARENA_BYTES;
        if let Some(id) = element {
            let slot = match self
                .by_element
                .iter()
                .position(|e| e.collection == id.collection && e.key == id.key)
            {
                Some(slot) => slot,
                None => {
                    self.by_element.push(ElementViews {
                        collection: id.collection,
                        key: id.key,
                        views: Vec::new(),
                    });
                    self.by_element.len() - 1
                }
            };
            let list = &mut self.by_element[slot].views;
            if list.len() <= id.index {
                let len = (id.index + 1).max(list.len() * 2).max(16);
                list.resize_with(len, || (0, DecodedViews::default()));
            }
            if !full {
                let (generation, views) = &mut list[id.index];
                *generation = self.generation;
                views.rebuild(value);
                self.elements += 1;
                self.element_bytes += views.heap_bytes();
                return views;
            }
        } else if stable {
            let key = (value.as_ptr() as usize, value.len());
            if !full || self.by_location.contains_key(&key) {
                return self.by_location.entry(key).or_insert_with(|| {
                    let mut views = self.spare.pop().unwrap_or_default();
                    views.rebuild(value);
                    self.bytes += views.heap_bytes();
                    views
                });
            }
        } else if self.by_value.contains_key(value) {
            return &self.by_value[value];
        } else if !full {
            let mut views = self.spare.pop().unwrap_or_default();
            views.rebuild(value);
            self.bytes += views.heap_bytes() + value.len();
            return self.by_value.entry(value.to_vec()).or_insert(views);
        }
        self.overflow.rebuild(value);
        &self.overflow
    }

    /// Keeps `views` for its buffer, within bounds.
    fn keep_spare(spare: &mut Vec<DecodedViews>, views: DecodedViews) {
        if spare.len() < SPARE_VIEWS && views.heap_capacity() <= SPARE_VIEW_CAPACITY {
            spare.push(views);
        }
    }

    /// Forgets element addresses (called when a phase starts).
    fn start_phase(&mut self) {
        for (_, views) in self.by_location.drain() {
            self.bytes -= views.heap_bytes();
            Self::keep_spare(&mut self.spare, views);
        }
        // The element entries of this phase become stale; a large buffer is let go.
        self.generation += 1;
        if self.element_bytes > SPARE_VIEW_CAPACITY {
            for element in &mut self.by_element {
                for (_, views) in &mut element.views {
                    if views.heap_capacity() > SPARE_VIEW_CAPACITY {
                        *views = DecodedViews::default();
                    }
                }
            }
        }
        self.elements = 0;
        self.element_bytes = 0;
    }

    fn clear(&mut self) {
        self.start_phase();
        for (_, views) in self.by_value.drain() {
            Self::keep_spare(&mut self.spare, views);
        }
        self.bytes = 0;
    }
}

/// Most rules one detector batch decides at once (a bit each in a mask).
const DETECTOR_BATCH: usize = 32;

/// Most caches kept for reuse per thread.
const CACHE_POOL_SIZE: usize = 8;

/// Largest cache (in arena bytes) kept for reuse; bigger ones are dropped.
const CACHE_POOL_MAX_ARENA: usize = 1 << 20;

thread_local! {
    /// Caches of finished transactions, kept with their allocations: a new transaction
    /// reuses one instead of growing its maps and buffers from nothing.
    static CACHE_POOL: std::cell::RefCell<Vec<TransformationCache>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl TransformationCache {
    /// An empty cache, reusing the allocations of a finished transaction's when the
    /// thread has one.
    fn from_pool() -> Self {
        CACHE_POOL
            .with(|pool| pool.borrow_mut().pop())
            .unwrap_or_default()
    }

    /// Empties the cache and keeps it for the next transaction on this thread.
    fn return_to_pool(mut self) {
        if self.arena.capacity() > CACHE_POOL_MAX_ARENA
            || self.views.bytes + self.views.element_bytes > CACHE_POOL_MAX_ARENA
            || self.by_location.capacity() > TRANSFORMATION_CACHE_ENTRIES
        {
            return;
        }
        self.start_phase();
        self.by_chain.clear();
        self.entries = 0;
        self.views.clear();
        CACHE_POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < CACHE_POOL_SIZE {
                pool.push(self);
            }
        });
    }

    /// Forgets element addresses (called when a phase starts).
    fn start_phase(&mut self) {
        self.by_location.clear();
        self.arena.clear();
        self.candidates.clear();
        self.unions.clear();
        self.views.start_phase();
    }

    /// The result of `chain` (interned as `chain_id`) on a stable value, with its
    /// candidate bitset when the chain has a `prefilter`: `Ok` with where it is cached,
    /// or `Err` with the result when the cache is full.
    fn stage_of_stable<'v>(
        &mut self,
        chain_id: usize,
        chain: &[Transformation],
        prefilter: Option<&ChainPrefilter>,
        value: &'v [u8],
    ) -> Result<CachedValue, Cow<'v, [u8]>> {
        let key = (chain_id, value.as_ptr() as usize, value.len());
        let cached = match self.by_location.get(&key) {
            Some(cached) if cached.candidates.is_some() || prefilter.is_none() => {
                return Ok(*cached);
            }
            Some(cached) => *cached,
            None => {
                if self.by_location.len() >= TRANSFORMATION_CACHE_ENTRIES
                    || self.arena.len() > TRANSFORMATION_ARENA_BYTES
                {
                    return Err(apply_chain(chain, value));
                }
                let stage = match apply_chain(chain, value) {
                    Cow::Borrowed(part) => CachedStage::Value(0, value.len()).narrowed(value, part),
                    Cow::Owned(changed) => {
                        let start = self.arena.len();
                        self.arena.extend_from_slice(&changed);
                        CachedStage::Arena(start, self.arena.len())
                    }
                };
                CachedValue {
                    stage,
                    candidates: None,
                }
            }
        };
        let candidates = prefilter.map(|prefilter| {
            let start = self.candidates.len();
            self.candidates.resize(start + prefilter.words(), 0);
            let transformed = match cached.stage {
                CachedStage::Value(from, to) => &value[from..to],
                CachedStage::Arena(from, to) => &self.arena[from..to],
            };
            prefilter.mark_candidates(transformed, &mut self.candidates[start..]);
            start
        });
        let cached = CachedValue {
            candidates,
            ..cached
        };
        self.by_location.insert(key, cached);
        Ok(cached)
    }

    /// Where the candidate bitset of the raw stable `value` under the program's `raw`
    /// prefilter starts in `candidates` (computed on the first call of the phase);
    /// `None` when the cache is full.
    fn raw_candidates(&mut self, raw: &ChainPrefilter, value: &[u8]) -> Option<usize> {
        let key = (RAW_VALUE, value.as_ptr() as usize, value.len());
        if let Some(cached) = self.by_location.get(&key) {
            return cached.candidates;
        }
        if self.by_location.len() >= TRANSFORMATION_CACHE_ENTRIES {
            return None;
        }
        let start = self.candidates.len();
        self.candidates.resize(start + raw.words(), 0);
        raw.mark_candidates(value, &mut self.candidates[start..]);
        let cached = CachedValue {
            stage: CachedStage::Value(0, value.len()),
            candidates: Some(start),
        };
        self.by_location.insert(key, cached);
        Some(start)
    }

    /// The bytes of a cached stage of `value`.
    fn resolve<'s>(&'s self, stage: CachedStage, value: &'s [u8]) -> &'s [u8] {
        match stage {
            CachedStage::Value(start, end) => &value[start..end],
            CachedStage::Arena(start, end) => &self.arena[start..end],
        }
    }

    /// The result of `chain` (interned as `chain_id`) on `value`.
    fn apply(&mut self, chain_id: usize, chain: &[Transformation], value: &[u8]) -> Arc<[u8]> {
        if let Some(cached) = self.by_chain.get(&chain_id).and_then(|m| m.get(value)) {
            return Arc::clone(cached);
        }
        let result: Arc<[u8]> = Arc::from(&*apply_chain(chain, value));
        if self.entries < TRANSFORMATION_CACHE_ENTRIES {
            self.entries += 1;
            self.by_chain
                .entry(chain_id)
                .or_default()
                .insert(value.to_vec(), Arc::clone(&result));
        }
        result
    }
}

/// Applies a transformation chain; a step that returns its input unchanged copies nothing.
fn apply_chain<'a>(chain: &[Transformation], value: &'a [u8]) -> Cow<'a, [u8]> {
    let mut current = Cow::Borrowed(value);
    for transformation in chain {
        let next = match transformation.apply(&current) {
            Cow::Owned(next) => next,
            // A borrowed result of the same length is the input itself.
            Cow::Borrowed(same) if same.len() == current.len() => continue,
            Cow::Borrowed(part) => part.to_vec(),
        };
        current = Cow::Owned(next);
    }
    current
}

/// The state of one rule link's scan over its values.
struct LinkScan<'a> {
    cache: &'a mut TransformationCache,
    /// The program's literal prefilters.
    prefilters: &'a Prefilters,
    /// The program's chain trigger bytes, per chain id.
    triggers: &'a [Option<palisade_operators::ByteSet>],
    outcome: LinkOutcome<'a>,
}

/// What a rule link's scan found so far.
struct LinkOutcome<'a> {
    rule: &'a CompiledRule,
    expanded_argument: Option<&'a str>,
    captures: Captures,
    found: Vec<LinkMatch>,
    /// Decoded views shared by the detector rules, when the operator is a detector.
    views: Option<&'a mut ViewCache>,
}

impl LinkScan<'_> {
    /// Transforms one value (cached per chain and value) and runs the operator on the
    /// result, or on every stage (raw value first) with `multiMatch`.
    fn check(&mut self, name: ValueName<'_>, value: &[u8]) {
        let rule = self.outcome.rule;
        if rule.multi_match && !rule.transformations.is_empty() {
            self.outcome.test(name, value, name.is_stable());
            // The bytes of a stable value: the steps before the first one that changes
            // it need not run when the value has none of their trigger bytes.
            let present = name
                .is_stable()
                .then(|| self.cache.raw_candidates(&self.prefilters.raw, value))
                .flatten()
                .map(|start| ChainPrefilter::present_bytes(&self.cache.candidates[start..]));
            let mut current = Cow::Borrowed(value);
            for (index, transformation) in rule.transformations.iter().enumerate() {
                if let (Cow::Borrowed(_), Some(present), Some(Some(triggers))) =
                    (&current, present, rule.stage_triggers.get(index))
                    && triggers.iter().zip(present).all(|(t, p)| t & p == 0)
                {
                    continue;
                }
                let next = match transformation.apply(&current) {
                    // A borrowed result of the same length is the input itself.
                    Cow::Borrowed(same) if same.len() == current.len() => continue,
                    next => next.into_owned(),
                };
                if next != *current {
                    self.outcome.test(name, &next, false);
                }
                current = Cow::Owned(next);
            }
        } else if name.is_stable()
            && (!rule.transformations.is_empty()
                || rule.prefilter_slot.is_some()
                || rule.required_bytes.is_some())
        {
            if let Some(start) = self.cache.raw_candidates(&self.prefilters.raw, value) {
                let bits = &self.cache.candidates[start..];
                let present = ChainPrefilter::present_bytes(bits);
                if let Some(triggers) = &self.triggers[rule.chain_id]
                    && triggers.iter().zip(present).all(|(t, p)| t & p == 0)
                {
                    // The chain leaves the value as it is: the raw value's prefilter
                    // decides, and the operator reads the value itself.
                    let slot = self.prefilters.raw_slot(rule.chain_id, rule.prefilter_slot);
                    if may_match(bits, slot, rule.required_bytes.as_ref()) {
                        self.outcome.test(name, value, true);
                    } else if rule.operator.is_negated() {
                        self.outcome.record(name, value);
                    }
                    return;
                }
            }
            let prefilter = self
                .prefilters
                .chains
                .get(rule.chain_id)
                .and_then(Option::as_ref);
            match self
                .cache
                .stage_of_stable(rule.chain_id, &rule.transformations, prefilter, value)
            {
                Ok(cached) => {
                    if let Some(start) = cached.candidates
                        && !may_match(
                            &self.cache.candidates[start..],
                            rule.prefilter_slot,
                            rule.required_bytes.as_ref(),
                        )
                    {
                        // None of the literals the operator requires occurs: it cannot
                        // match, and its negation matches.
                        if rule.operator.is_negated() {
                            self.outcome
                                .record(name, self.cache.resolve(cached.stage, value));
                        }
                        return;
                    }
                    // A part of the value itself is stable like the value.
                    let stable = matches!(cached.stage, CachedStage::Value(..));
                    self.outcome
                        .test(name, self.cache.resolve(cached.stage, value), stable);
                }
                Err(result) => self.outcome.test(name, &result, false),
            }
        } else if rule.transformations.is_empty() {
            self.outcome.test(name, value, name.is_stable());
        } else if value.len() < TRANSFORMATION_CACHE_MIN_LEN {
            let result = apply_chain(&rule.transformations, value);
            self.outcome.test(name, &result, false);
        } else {
            let result = self
                .cache
                .apply(rule.chain_id, &rule.transformations, value);
            self.outcome.test(name, &result, false);
        }
    }
}

impl LinkOutcome<'_> {
    /// Runs the operator on `stage`; `stable` when its address identifies it within the
    /// phase (see [`ValueName::is_stable`]).
    fn test(&mut self, name: ValueName<'_>, stage: &[u8], stable: bool) {
        let rule = self.rule;
        let slots = if rule.capture {
            Some(&mut self.captures)
        } else {
            None
        };
        let matched = match self.views.as_deref_mut() {
            Some(views) => rule
                .operator
                .evaluate_with_views(stage, slots, || views.views_of(stage, stable, None)),
            None => rule.operator.evaluate(stage, self.expanded_argument, slots),
        };
        if matched {
            self.record(name, stage);
        }
    }

    /// Records a match of `stage`: the operator matched it, or the prefilter proved
    /// that the operator a negated one negates cannot (such a link captures nothing).
    fn record(&mut self, name: ValueName<'_>, stage: &[u8]) {
        self.found.push(LinkMatch {
            name: name.render(),
            value: stage.to_vec(),
            captures: link_captures(self.rule, &self.captures),
        });
    }
}

/// A count written in decimal without an allocation (`&TARGET` values).
struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    fn of(mut value: usize) -> Decimal {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            // `value % 10` < 10.
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                return Decimal { digits, start };
            }
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

/// The captures a match of `rule` records (none without `capture`).
fn link_captures(rule: &CompiledRule, captures: &Captures) -> Vec<(usize, Vec<u8>)> {
    if rule.capture {
        captures
            .iter()
            .map(|(index, captured)| (index, captured.to_vec()))
            .collect()
    } else {
        Vec::new()
    }
}

/// Per-transaction state.
pub struct Transaction {
    waf: Arc<Waf>,
    started: Instant,
    engine: EngineMode,
    request_body_access: bool,
    body_processor: Option<String>,
    /// `ctl:auditEngine` of this transaction (overrides `SecAuditEngine`).
    audit_engine: Option<String>,
    /// Request and response variables, only those the program reads
    /// (`Program::references`).
    scalars: VariableMap<Vec<u8>>,
    collections: VariableMap<Pairs>,
    /// The first `Content-Type` request header (for the multipart body processor).
    request_content_type: Option<Vec<u8>>,
    /// Whether the response's MIME type is one `SecResponseBodyMimeType` lists (known
    /// once the response headers were processed).
    response_body_mime_listed: Option<bool>,
    tx: SeededMap<String, Vec<u8>>,
    env: SeededMap<String, Vec<u8>>,
    persistent: HashMap<String, (String, SeededMap<String, Vec<u8>>)>,
    expiries: HashMap<(String, String), Instant>,
    matched_var: (String, Vec<u8>),
    matched_vars: Vec<(String, Vec<u8>)>,
    removed_ids: Vec<IdRange>,
    removed_tags: Vec<String>,
    removed_targets_by_id: Vec<(Vec<IdRange>, Target)>,
    removed_targets_by_tag: Vec<(String, Target)>,
    exclusions: Option<Arc<CompiledExclusions>>,
    matched: Vec<MatchedRule>,
    intervention: Option<Intervention>,
    allow_request: bool,
    allow_all: bool,
    highest_severity: u8,
    /// Borrowed mutably by a link's scan, which otherwise only reads the transaction.
    transformation_cache: std::cell::RefCell<TransformationCache>,
    phases_done: u8,
    /// Phase 1 started from the folded rules' TX (see `crate::fold`).
    folded: bool,
}

/// ASCII case-insensitive prefix test (what lowercasing then `starts_with` decides for
/// an ASCII prefix).
fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

fn url_decode_path(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut index = 0;
    while index < input.len() {
        let byte = input[index];
        if byte == b'%'
            && let Some(hex) = input.get(index + 1..index + 3)
            && let Ok(text) = std::str::from_utf8(hex)
            && let Ok(decoded) = u8::from_str_radix(text, 16)
        {
            out.push(decoded);
            index += 3;
            continue;
        }
        out.push(byte);
        index += 1;
    }
    out
}

impl Transaction {
    pub(crate) fn new(waf: Arc<Waf>, meta: &RequestMeta) -> Transaction {
        Transaction::from_view(
            waf,
            &RequestView {
                request_id: &meta.request_id,
                client_addr: meta.client_addr,
                server_addr: meta.server_addr,
                server_name: &meta.server_name,
                method: &meta.method,
                uri: &meta.uri,
                protocol: &meta.protocol,
                headers: || {
                    meta.headers
                        .iter()
                        .map(|(name, value)| (name.as_str(), value.as_slice()))
                },
            },
        )
    }

    /// Starts a transaction for a borrowed request head.
    pub(crate) fn from_view<'a, H, I>(waf: Arc<Waf>, request: &RequestView<'a, H>) -> Transaction
    where
        H: Fn() -> I,
        I: Iterator<Item = (&'a str, &'a [u8])>,
    {
        let settings = &waf.program.settings;
        let engine = if waf.detection_only && settings.engine == EngineMode::On {
            EngineMode::DetectionOnly
        } else {
            settings.engine
        };
        let request_body_access = settings.request_body_access;
        let mut tx = Transaction {
            waf,
            started: Instant::now(),
            engine,
            request_body_access,
            body_processor: None,
            audit_engine: None,
            scalars: VariableMap::default(),
            collections: VariableMap::default(),
            request_content_type: None,
            response_body_mime_listed: None,
            tx: SeededMap::with_capacity_and_hasher(TX_CAPACITY, Default::default()),
            env: SeededMap::default(),
            persistent: HashMap::new(),
            expiries: HashMap::new(),
            matched_var: (String::new(), Vec::new()),
            matched_vars: Vec::new(),
            removed_ids: Vec::new(),
            removed_tags: Vec::new(),
            removed_targets_by_id: Vec::new(),
            removed_targets_by_tag: Vec::new(),
            exclusions: None,
            matched: Vec::new(),
            intervention: None,
            allow_request: false,
            allow_all: false,
            highest_severity: 255,
            transformation_cache: std::cell::RefCell::new(TransformationCache::from_pool()),
            phases_done: 0,
            folded: false,
        };
        tx.load_request(request);
        tx
    }

    /// Applies per-route exclusions (compiled once with [`WafExclusions::compile`]).
    ///
    /// [`WafExclusions::compile`]: crate::WafExclusions::compile
    pub fn exclude(&mut self, exclusions: &Arc<CompiledExclusions>) {
        self.exclusions = Some(Arc::clone(exclusions));
        // Folded rules of the phases to come are replayed only as they were folded.
        if self.folded
            && let Some(fold) = &self.waf.fold
        {
            self.folded = fold.holds_with(Some(exclusions));
        }
    }

    /// A transaction over an empty request, for evaluating rules at load
    /// ([`Fold::compute`]).
    pub(crate) fn for_folding(waf: Arc<Waf>) -> Transaction {
        let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
        Transaction::from_view(
            waf,
            &RequestView {
                request_id: "",
                client_addr: unspecified,
                server_addr: unspecified,
                server_name: "",
                method: "",
                uri: "",
                protocol: "",
                headers: std::iter::empty::<(&str, &[u8])>,
            },
        )
    }

    /// Takes the TX collection (what [`Fold::compute`] keeps of its transaction).
    pub(crate) fn take_tx(&mut self) -> SeededMap<String, Vec<u8>> {
        std::mem::take(&mut self.tx)
    }

    /// Evaluates `rule` as `run_phase` does and records what it did beyond TX
    /// (for [`Fold::compute`]). `None`, with TX as it was, when the rule matches with a
    /// disruptive action (it cannot be folded).
    pub(crate) fn evaluate_folded(&mut self, rule: &CompiledRule) -> Option<FoldedStep> {
        let tx = self.tx.clone();
        self.matched_vars.clear();
        let mut sets_matched_var = false;
        let mut link = rule;
        let matched = loop {
            let matched = self.evaluate_link(link);
            sets_matched_var |= matched && !link.is_action;
            match (&link.chained, matched) {
                (Some(next), true) => link = next,
                _ => break matched,
            }
        };
        if matched
            && !matches!(
                rule.disruptive,
                None | Some(Disruptive::Pass | Disruptive::Block)
            )
        {
            self.tx = tx;
            return None;
        }
        let matched = matched.then(|| {
            self.record_match(rule);
            self.matched.last().cloned()
        });
        Some(FoldedStep {
            matched: matched.flatten(),
            matched_var: sets_matched_var.then(|| self.matched_var.clone()),
        })
    }

    /// Replays a folded rule's recorded outcome (its TX writes are in the template phase
    /// 1 started from); true when the rule matched.
    fn replay_folded(&mut self, outcome: &FoldedStep) -> bool {
        // Each rule that runs starts by clearing MATCHED_VARS; nothing reads what a
        // folded rule would leave there before the next rule clears it again.
        self.matched_vars.clear();
        if let Some((name, value)) = &outcome.matched_var {
            self.matched_var.0.clear();
            self.matched_var.0.push_str(name);
            self.matched_var.1.clear();
            self.matched_var.1.extend_from_slice(value);
        }
        let Some(matched) = &outcome.matched else {
            return false;
        };
        if matched.logged
            && let Some(severity) = matched.severity
        {
            self.highest_severity = self.highest_severity.min(severity);
        }
        self.matched.push(matched.clone());
        true
    }

    /// True when some rule or macro of the program can read `name`.
    fn wants(&self, name: VariableName) -> bool {
        self.waf.program.references.contains(name)
    }

    /// Sets a variable the program reads (copying `value`); others are not kept.
    fn set(&mut self, name: VariableName, value: impl AsRef<[u8]>) {
        if self.wants(name) {
            let value = buffers::with_pool(|pool| pool.copy(value.as_ref()));
            self.scalars.insert(name, value);
        }
    }

    /// [`Transaction::set`] for a value already owned.
    fn set_owned(&mut self, name: VariableName, value: Vec<u8>) {
        if self.wants(name) {
            self.scalars.insert(name, value);
        }
    }

    /// [`Transaction::set`] for a number or an address, formatted only when the program
    /// reads the variable.
    fn set_display(&mut self, name: VariableName, value: impl std::fmt::Display) {
        if self.wants(name) {
            let mut text = Vec::with_capacity(16);
            let _ = write!(text, "{value}");
            self.scalars.insert(name, text);
        }
    }

    /// Sets a collection the program reads; `pairs` builds it only then.
    fn set_collection(&mut self, name: VariableName, pairs: impl FnOnce() -> Pairs) {
        if self.wants(name) {
            self.collections.insert(name, pairs());
        }
    }

    /// Chooses the request body processor. As in libmodsecurity v3, REQBODY_PROCESSOR
    /// names it from then on (phase 1 already: CRS 920400 checks for MULTIPART there).
    fn set_body_processor(&mut self, processor: &str) {
        self.body_processor = Some(processor.to_owned());
        self.set(VariableName::ReqbodyProcessor, processor);
    }

    /// The audit engine mode a rule chose for this transaction (`ctl:auditEngine`).
    pub(crate) fn audit_engine(&self) -> Option<&str> {
        self.audit_engine.as_deref()
    }

    fn load_request<'a, H, I>(&mut self, request: &RequestView<'a, H>)
    where
        H: Fn() -> I,
        I: Iterator<Item = (&'a str, &'a [u8])>,
    {
        use VariableName as V;
        let uri = request.uri;
        let (path_raw, query) = match uri.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (uri, None),
        };
        // Absolute-form targets: REQUEST_URI drops scheme and authority.
        let relative_uri = match uri.find("://") {
            Some(scheme_end) if scheme_end < path_raw.len() && !uri[..scheme_end].contains('/') => {
                let rest = &uri[scheme_end + 3..];
                rest.find('/').map_or("/", |slash| &rest[slash..])
            }
            _ => uri,
        };
        if self.wants(V::RequestFilename) || self.wants(V::RequestBasename) {
            let relative_path = relative_uri.split('?').next().unwrap_or_default();
            let filename = url_decode_path(relative_path.as_bytes());
            let basename_start = filename
                .iter()
                .rposition(|b| *b == b'/' || *b == b'\\')
                .map_or(0, |slash| slash + 1);
            self.set(V::RequestBasename, &filename[basename_start..]);
            self.set_owned(V::RequestFilename, filename);
        }
        self.set(V::RequestUriRaw, uri);
        self.set(V::RequestUri, relative_uri);
        self.set(V::QueryString, query.unwrap_or_default());
        self.set(V::RequestMethod, request.method);
        self.set(V::RequestProtocol, request.protocol);
        if self.wants(V::RequestLine) {
            let line = [request.method, uri, request.protocol].join(" ");
            self.scalars.insert(V::RequestLine, line.into_bytes());
        }
        self.set_display(V::RemoteAddr, request.client_addr.ip());
        self.set_display(V::RemotePort, request.client_addr.port());
        self.set_display(V::ServerAddr, request.server_addr.ip());
        self.set_display(V::ServerPort, request.server_addr.port());
        self.set(V::ServerName, request.server_name);
        self.set(V::UniqueId, request.request_id);
        self.set(V::ReqbodyError, "0");
        self.set(V::ReqbodyProcessorError, "0");
        self.set(V::UrlencodedError, "0");
        self.set(V::InboundDataError, "0");
        self.set(V::OutboundDataError, "0");
        self.set(V::MultipartStrictError, "0");
        let wants_cookies = self.wants(V::RequestCookies);
        let mut cookies: Pairs = Vec::new();
        for (name, value) in (request.headers)() {
            if wants_cookies && name.eq_ignore_ascii_case("cookie") {
                for piece in value.split(|b| *b == b';') {
                    let piece = piece.trim_ascii();
                    if piece.is_empty() {
                        continue;
                    }
                    let (cookie_name, cookie_value) = match piece.iter().position(|b| *b == b'=') {
                        Some(eq) => (&piece[..eq], &piece[eq + 1..]),
                        None => (piece, &piece[piece.len()..]),
                    };
                    cookies.push(buffers::with_pool(|pool| {
                        (pool.copy(cookie_name), pool.copy(cookie_value))
                    }));
                }
            }
            if name.eq_ignore_ascii_case("content-type") {
                if self.request_content_type.is_none() {
                    self.request_content_type = Some(value.to_vec());
                }
                if starts_with_ignore_case(value, b"application/x-www-form-urlencoded") {
                    self.set_body_processor("URLENCODED");
                } else if starts_with_ignore_case(value, b"multipart/form-data") {
                    self.set_body_processor("MULTIPART");
                }
            }
        }
        self.set_collection(V::RequestCookies, || cookies);
        self.set_collection(V::RequestHeaders, || {
            buffers::with_pool(|pool| {
                (request.headers)()
                    .map(|(name, value)| (pool.copy(name.as_bytes()), pool.copy(value)))
                    .collect()
            })
        });
        // The query is parsed when its arguments or its errors can be read.
        if let Some(query) = query
            && (self.wants(V::ArgsGet)
                || self.wants(V::UrlencodedError)
                || self.wants(V::ReqbodyErrorMsg))
        {
            match self.urlencoded(query.as_bytes(), V::ArgsGet) {
                Ok(pairs) => self.set_collection(V::ArgsGet, || pairs),
                Err(error) => {
                    self.set(V::UrlencodedError, "1");
                    self.set(V::ReqbodyErrorMsg, error.message());
                }
            }
        }
        self.update_args_size();
    }

    /// The urlencoded arguments of `input` (the query or a body) for `collection`
    /// (ARGS_GET / ARGS_POST), setting URLENCODED_ERROR when an encoding is invalid.
    /// When no rule reads `collection`, `input` is only checked (nothing is decoded) and
    /// no pairs are returned.
    fn urlencoded(
        &mut self,
        input: &[u8],
        collection: VariableName,
    ) -> Result<Pairs, palisade_body::BodyError> {
        let limits = self.body_limits();
        let separator = self.waf.program.settings.argument_separator;
        let (pairs, invalid) = if self.wants(collection) {
            let args = buffers::with_pool(|pool| {
                palisade_body::parse_urlencoded_with(input, separator, &limits, || pool.take())
            })?;
            let pairs = args.params.into_iter().map(|p| (p.name, p.value)).collect();
            (pairs, args.invalid_encoding)
        } else {
            let invalid = palisade_body::check_urlencoded(input, separator, &limits)?;
            (Vec::new(), invalid)
        };
        if invalid {
            self.set(VariableName::UrlencodedError, "1");
        }
        Ok(pairs)
    }

    fn body_limits(&self) -> BodyLimits {
        let settings = &self.waf.program.settings;
        BodyLimits {
            max_bytes: usize::try_from(settings.request_body_limit).unwrap_or(usize::MAX),
            max_depth: settings.json_depth_limit,
            max_args: settings.arguments_limit,
        }
    }

    fn update_args_size(&mut self) {
        if !self.wants(VariableName::ArgsCombinedSize) {
            return;
        }
        let size: usize = [VariableName::ArgsGet, VariableName::ArgsPost]
            .into_iter()
            .filter_map(|name| self.collections.get(name))
            .flatten()
            .map(|(n, v)| n.len() + v.len())
            .sum();
        self.set_display(VariableName::ArgsCombinedSize, size);
    }

    /// Phase 1: request headers.
    pub fn process_request_headers(&mut self) -> Option<Intervention> {
        self.run_phase(1)
    }

    /// Phase 2: the request body (the buffered prefix when `truncated`).
    pub fn process_request_body(&mut self, body: &[u8]) -> Option<Intervention> {
        if self.intervention.is_some() {
            return self.intervention.clone();
        }
        if self.request_body_access {
            self.load_request_body(body);
        }
        self.run_phase(2)
    }

    fn load_request_body(&mut self, body: &[u8]) {
        use VariableName as V;
        self.set_display(V::RequestBodyLength, body.len());
        // libmodsecurity v3 fills REQUEST_BODY for every body processor (CRS's
        // regression tests rely on it, e.g. 944130 on raw bodies);
        // `ctl:forceRequestBodyVariable` is therefore recorded but changes nothing.
        self.set(V::RequestBody, body);
        let Some(processor) = self.body_processor.clone() else {
            return;
        };
        self.set(V::ReqbodyProcessor, &processor);
        let limits = self.body_limits();
        let fail = |tx: &mut Transaction, message: &str| {
            tx.set(V::ReqbodyError, "1");
            tx.set(V::ReqbodyErrorMsg, message);
            tx.set(V::ReqbodyProcessorError, "1");
            tx.set(V::ReqbodyProcessorErrorMsg, message);
        };
        let params: Pairs = match processor.as_str() {
            "URLENCODED" => match self.urlencoded(body, V::ArgsPost) {
                Ok(pairs) => pairs,
                Err(error) => {
                    fail(self, error.message());
                    Vec::new()
                }
            },
            "JSON" => match palisade_body::parse_json(body, &limits) {
                Ok(args) => args.params.into_iter().map(|p| (p.name, p.value)).collect(),
                Err(error) => {
                    fail(self, error.message());
                    Vec::new()
                }
            },
            "XML" => {
                match palisade_body::parse_xml(body, &limits) {
                    Ok(document) => {
                        let mut values = vec![(b"/*".to_vec(), document.text_content)];
                        values.extend(
                            document
                                .attribute_values
                                .into_iter()
                                .map(|v| (b"//@*".to_vec(), v)),
                        );
                        self.set_collection(V::Xml, || values);
                    }
                    Err(error) => fail(self, error.message()),
                }
                Vec::new()
            }
            "MULTIPART" => {
                let content_type = self.request_content_type.clone().unwrap_or_default();
                let parsed = palisade_body::parse_multipart(&content_type, body, &limits);
                self.load_multipart(&parsed);
                if let Some(error) = &parsed.error {
                    fail(self, error.message());
                }
                parsed
                    .fields()
                    .map(|part| (part.name.clone(), part.value.clone()))
                    .collect()
            }
            _ => Vec::new(),
        };
        self.set_collection(V::ArgsPost, || params);
        self.update_args_size();
    }

    fn load_multipart(&mut self, parsed: &palisade_body::MultipartBody) {
        use VariableName as V;
        let flags = &parsed.flags;
        let flag = |on: bool| if on { "1" } else { "0" };
        for (name, on) in [
            (V::MultipartStrictError, flags.strict_error),
            (V::MultipartUnmatchedBoundary, flags.unmatched_boundary),
            (V::MultipartBoundaryQuoted, flags.boundary_quoted),
            (V::MultipartBoundaryWhitespace, flags.boundary_whitespace),
            (V::MultipartDataBefore, flags.data_before),
            (V::MultipartDataAfter, flags.data_after),
            (V::MultipartHeaderFolding, flags.header_folding),
            (V::MultipartLfLine, flags.lf_line),
            (V::MultipartCrlfLfLines, flags.crlf_lf_lines),
            (V::MultipartMissingSemicolon, flags.missing_semicolon),
            (V::MultipartSemicolonMissing, flags.missing_semicolon),
            (V::MultipartInvalidQuoting, flags.invalid_quoting),
            (V::MultipartInvalidPart, flags.invalid_part),
            (
                V::MultipartInvalidHeaderFolding,
                flags.invalid_header_folding,
            ),
            (V::MultipartFileLimitExceeded, flags.file_limit_exceeded),
        ] {
            self.set(name, flag(on));
        }
        let mut files = Vec::new();
        let mut names = Vec::new();
        let mut sizes = Vec::new();
        let mut part_headers = Vec::new();
        let mut combined = 0usize;
        for part in &parsed.parts {
            for line in &part.header_lines {
                part_headers.push((part.name.clone(), line.clone()));
            }
            if let Some(filename) = &part.filename {
                files.push((part.name.clone(), filename.clone()));
                names.push((part.name.clone(), part.name.clone()));
                sizes.push((part.name.clone(), part.size().to_string().into_bytes()));
                combined += part.size();
            }
        }
        self.set_collection(V::Files, || files);
        self.set_collection(V::FilesNames, || names);
        self.set_collection(V::FilesSizes, || sizes);
        self.set_collection(V::MultipartPartHeaders, || part_headers);
        self.set_display(V::FilesCombinedSize, combined);
    }

    /// Phase 3: response status and headers.
    pub fn process_response_headers(
        &mut self,
        status: u16,
        protocol: &str,
        headers: &[(String, Vec<u8>)],
    ) -> Option<Intervention> {
        self.process_response_head(status, protocol, || {
            headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_slice()))
        })
    }

    /// [`Transaction::process_response_headers`] over borrowed headers.
    pub(crate) fn process_response_head<'a, I>(
        &mut self,
        status: u16,
        protocol: &str,
        headers: impl Fn() -> I,
    ) -> Option<Intervention>
    where
        I: Iterator<Item = (&'a str, &'a [u8])>,
    {
        use VariableName as V;
        if self.intervention.is_some() {
            return self.intervention.clone();
        }
        self.set_display(V::ResponseStatus, status);
        self.set(V::ResponseProtocol, protocol);
        self.set_display(V::StatusLine, format_args!("{protocol} {status}"));
        let mut content_type: &[u8] = b"";
        for (name, value) in headers() {
            if name.eq_ignore_ascii_case("content-type") {
                content_type = value;
                self.set(V::ResponseContentType, value);
            } else if name.eq_ignore_ascii_case("content-length") {
                self.set(V::ResponseContentLength, value);
            }
        }
        self.response_body_mime_listed = Some(self.mime_listed(content_type));
        self.set_collection(V::ResponseHeaders, || {
            buffers::with_pool(|pool| {
                headers()
                    .map(|(name, value)| (pool.copy(name.as_bytes()), pool.copy(value)))
                    .collect()
            })
        });
        self.run_phase(3)
    }

    /// True when the MIME type of `content_type` is one `SecResponseBodyMimeType` lists.
    fn mime_listed(&self, content_type: &[u8]) -> bool {
        // The types compare ASCII-case-insensitively; bytes that are not UTF-8 read as
        // U+FFFD as they always did.
        let content_type = String::from_utf8_lossy(content_type);
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        self.waf
            .program
            .settings
            .response_mime_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(mime))
    }

    /// Phase 4: the response body (inspected only with `SecResponseBodyAccess On` and a
    /// MIME type listed in `SecResponseBodyMimeType`).
    pub fn process_response_body(&mut self, body: &[u8]) -> Option<Intervention> {
        if self.intervention.is_some() {
            return self.intervention.clone();
        }
        let settings = &self.waf.program.settings;
        if settings.response_body_access
            && self
                .response_body_mime_listed
                .unwrap_or_else(|| self.mime_listed(b""))
        {
            let limit = usize::try_from(settings.response_body_limit).unwrap_or(usize::MAX);
            let body = &body[..body.len().min(limit)];
            self.set(VariableName::ResponseBody, body);
        }
        self.run_phase(4)
    }

    /// Phase 5: logging. Persists persistent collections.
    pub fn process_logging(&mut self) {
        self.run_phase(5);
        if self.persistent.is_empty() {
            return;
        }
        let persistent = std::mem::take(&mut self.persistent);
        if let Ok(mut store) = self.waf.store.lock() {
            for (collection, (key, values)) in persistent {
                let record = values
                    .into_iter()
                    .map(|(name, value)| {
                        let expiry = self
                            .expiries
                            .get(&(collection.clone(), name.clone()))
                            .copied();
                        (name, (value, expiry))
                    })
                    .collect();
                store.insert((collection, key), record);
            }
        }
    }

    /// The intervention decided so far, if any.
    pub fn intervention(&self) -> Option<&Intervention> {
        self.intervention.as_ref()
    }

    /// Ids of every fully matched rule, in match order (including `nolog` rules).
    pub fn matched_rule_ids(&self) -> Vec<u64> {
        self.matched.iter().map(|m| m.id).collect()
    }

    /// Every fully matched rule with its expanded message.
    pub fn matched_rules(&self) -> &[MatchedRule] {
        &self.matched
    }

    /// A TX variable (lowercase name), e.g. `blocking_inbound_anomaly_score`.
    pub fn tx_var(&self, name: &str) -> Option<&[u8]> {
        self.tx.get(&name.to_ascii_lowercase()).map(Vec::as_slice)
    }

    fn rule_removed(&self, rule: &CompiledRule) -> bool {
        self.removed_ids.iter().any(|range| range.contains(rule.id))
            || self
                .exclusions
                .as_ref()
                .is_some_and(|e| e.rule_ids.contains(&rule.id))
            || (!self.removed_tags.is_empty()
                && rule
                    .tags
                    .iter()
                    .any(|tag| self.removed_tags.iter().any(|removed| removed == tag)))
    }

    fn run_phase(&mut self, phase: u8) -> Option<Intervention> {
        if self.phases_done >= phase {
            return self.intervention.clone();
        }
        self.phases_done = phase;
        self.transformation_cache.get_mut().start_phase();
        if self.engine == EngineMode::Off
            || (self.intervention.is_some() && phase < 5)
            || (self.allow_all && phase < 5)
            || (self.allow_request && phase <= 2)
        {
            return self.intervention.clone();
        }
        let waf = Arc::clone(&self.waf);
        let steps = waf.program.phase(phase);
        // Phase 1 starts from the folded rules' TX (see `crate::fold`); the later
        // phases replay folded rules only after it did.
        let fold: Option<&Fold> = waf.fold.as_ref().filter(|fold| {
            if phase == 1 {
                self.tx.is_empty() && fold.holds_with(self.exclusions.as_deref())
            } else {
                self.folded
            }
        });
        if let Some(fold) = fold
            && phase == 1
        {
            self.tx = fold.template.clone();
            self.folded = true;
        }
        let mut skip_to_marker: Option<&str> = None;
        let mut skip_count = 0u32;
        // Steps before this index are settled by a detector batch that matched nothing;
        // steps before `batch_checked` were in a batch already checked.
        let mut batch_settled = 0usize;
        let mut batch_checked = 0usize;
        for (index, step) in steps.iter().enumerate() {
            if index < batch_settled {
                continue;
            }
            let rule = match step {
                Step::Marker(name) => {
                    if skip_to_marker == Some(name.as_str()) {
                        skip_to_marker = None;
                    }
                    continue;
                }
                Step::Rule(rule) => rule,
            };
            if skip_to_marker.is_some() {
                continue;
            }
            if skip_count > 0 {
                skip_count -= 1;
                continue;
            }
            if let Some(outcome) = fold.and_then(|fold| fold.step(phase, index)) {
                if self.rule_removed(rule) || self.engine == EngineMode::Off {
                    continue;
                }
                if self.replay_folded(outcome) {
                    if let Some(marker) = &rule.skip_after {
                        skip_to_marker = Some(marker.as_str());
                    }
                    skip_count = rule.skip;
                }
                continue;
            }
            if index >= batch_checked && rule.batch_class.is_some() {
                let run = steps[index..]
                    .iter()
                    .take(DETECTOR_BATCH)
                    .take_while(
                        |step| matches!(step, Step::Rule(rule) if rule.batch_class.is_some()),
                    )
                    .count();
                batch_checked = index + run;
                if run > 1 && self.detector_batch_matches_nothing(&steps[index..index + run]) {
                    // What running each rule would have done: nothing but clearing
                    // MATCHED_VARS (for the rules that run).
                    if self.engine != EngineMode::Off
                        && steps[index..index + run].iter().any(
                            |step| matches!(step, Step::Rule(rule) if !self.rule_removed(rule)),
                        )
                    {
                        self.matched_vars.clear();
                    }
                    batch_settled = index + run;
                    continue;
                }
            }
            if self.rule_removed(rule) || self.engine == EngineMode::Off {
                continue;
            }
            self.matched_vars.clear();
            if !self.evaluate_chain(rule) {
                continue;
            }
            self.record_match(rule);
            if let Some(marker) = &rule.skip_after {
                skip_to_marker = Some(marker.as_str());
            }
            skip_count = rule.skip;
            if self.disrupt(rule, phase) {
                break;
            }
        }
        self.intervention.clone()
    }

    /// True when no rule of `steps` (consecutive rules, each with a
    /// [`CompiledRule::batch_detector`]) matches any of its values, so running them
    /// would change nothing. Decided value by value: each value's decoded views are
    /// looked up once for all the rules that read it, where running the rules one
    /// after another looks them up once per rule. False as soon as one matches (the
    /// rules then run one by one, as always) and when an exclusion could apply to one
    /// of them (`ctl`, route exclusions).
    fn detector_batch_matches_nothing(&self, steps: &[Step]) -> bool {
        let mut classes = Vec::with_capacity(steps.len());
        // Each target the batch reads once, with a bit for each rule that reads it.
        let mut targets: Vec<(&Target, u32)> = Vec::new();
        for step in steps {
            let Step::Rule(rule) = step else {
                return false;
            };
            let Some(class) = rule.batch_class else {
                return false;
            };
            if self.rule_removed(rule) {
                continue;
            }
            let bit = 1u32 << classes.len();
            classes.push(class);
            for target in &rule.targets {
                if self.may_exclude(rule, target) {
                    return false;
                }
                match targets
                    .iter_mut()
                    .find(|(seen, _)| seen.same_values(target))
                {
                    Some((_, rules)) => *rules |= bit,
                    None => targets.push((target, bit)),
                }
            }
        }
        let mut cache = self.transformation_cache.borrow_mut();
        let views = &mut cache.views;
        let mut matched = false;
        for (target, rules) in targets {
            // No exclusion applies (checked above): visiting without a rule visits the
            // same values.
            self.visit_target(target, None, &mut |_, name, value| {
                if matched {
                    return;
                }
                let decoded = views.views_of(value, name.is_stable(), name.element());
                let mut rest = rules;
                while rest != 0 {
                    let class = classes[rest.trailing_zeros() as usize];
                    rest &= rest - 1;
                    if class.fires_with_views(value, decoded) {
                        matched = true;
                        return;
                    }
                }
            });
            if matched {
                return false;
            }
        }
        true
    }

    /// Applies the chain head's disruptive action; true when the phase must stop.
    fn disrupt(&mut self, rule: &CompiledRule, phase: u8) -> bool {
        let Some(disruptive) = &rule.disruptive else {
            return false;
        };
        if self.engine != EngineMode::On || phase == 5 {
            return false;
        }
        let message = rule
            .msg
            .as_deref()
            .map(|m| self.expand(m, rule).into_owned())
            .unwrap_or_default();
        match disruptive {
            Disruptive::Pass | Disruptive::Block => false,
            Disruptive::Deny | Disruptive::Drop => {
                self.intervention = Some(Intervention {
                    status: rule.status.unwrap_or(403),
                    redirect: None,
                    rule_id: rule.id,
                    message,
                });
                true
            }
            Disruptive::Redirect(location) => {
                let location = self.expand(location, rule).into_owned();
                self.intervention = Some(Intervention {
                    status: rule
                        .status
                        .filter(|s| (300..400).contains(s))
                        .unwrap_or(302),
                    redirect: Some(location),
                    rule_id: rule.id,
                    message,
                });
                true
            }
            Disruptive::Allow(scope) => {
                match scope {
                    AllowScope::Transaction => self.allow_all = true,
                    AllowScope::Request => self.allow_request = true,
                    AllowScope::Phase => {}
                }
                true
            }
        }
    }

    fn record_match(&mut self, rule: &CompiledRule) {
        let message = rule
            .msg
            .as_deref()
            .map(|m| self.expand(m, rule).into_owned())
            .unwrap_or_default();
        let logdata = rule
            .logdata
            .as_deref()
            .map(|m| self.expand(m, rule).into_owned())
            .unwrap_or_default();
        if rule.log
            && let Some(severity) = rule.severity
        {
            self.highest_severity = self.highest_severity.min(severity);
        }
        self.matched.push(MatchedRule {
            id: rule.id,
            phase: rule.phase,
            message,
            logdata,
            severity: rule.severity,
            logged: rule.log,
            tags: Arc::clone(&rule.tags),
        });
    }

    fn evaluate_chain(&mut self, rule: &CompiledRule) -> bool {
        let mut link = rule;
        loop {
            if !self.evaluate_link(link) {
                return false;
            }
            match &link.chained {
                Some(next) => link = next,
                None => return true,
            }
        }
    }

    fn evaluate_link(&mut self, rule: &CompiledRule) -> bool {
        let expanded_argument = rule
            .operator
            .dynamic_argument()
            .map(|argument| self.expand_argument(argument, rule));
        if rule.is_action {
            self.run_actions(rule);
            return true;
        }
        // The scan only reads the transaction (values are borrowed, never copied);
        // it updates the cache through its cell meanwhile.
        let found = self.scan_link(rule, expanded_argument.as_deref());
        let matched_any = !found.is_empty();
        for link_match in found {
            for (index, captured) in link_match.captures {
                self.tx.insert(index.to_string(), captured);
            }
            // MATCHED_VAR(_NAME) reuse their buffers.
            self.matched_var.0.clear();
            self.matched_var.0.push_str(&link_match.name);
            self.matched_var.1.clear();
            self.matched_var.1.extend_from_slice(&link_match.value);
            self.matched_vars.push((link_match.name, link_match.value));
            self.run_actions(rule);
        }
        matched_any
    }

    /// Runs a rule link's operator over every value of its targets and returns the
    /// matches in order. Actions run afterwards, in the same order: the values are a
    /// snapshot taken before any action of the link (as they always were) and the
    /// operator argument is expanded once per link, so nothing an action changes can
    /// affect this scan.
    fn scan_link(&self, rule: &CompiledRule, expanded_argument: Option<&str>) -> Vec<LinkMatch> {
        let mut cache = self.transformation_cache.borrow_mut();
        let cache = &mut *cache;
        if rule.transformations.is_empty()
            && let Some((class, negated)) = rule.operator.detector()
        {
            return self.scan_detector_link(rule, class, negated, &mut cache.views);
        }
        // Detectors share the decoded views of each value (built by the first one).
        let mut views = rule
            .operator
            .is_detector()
            .then(|| std::mem::take(&mut cache.views));
        let mut scan = LinkScan {
            cache,
            prefilters: &self.waf.program.prefilters,
            triggers: &self.waf.program.chain_triggers,
            outcome: LinkOutcome {
                rule,
                expanded_argument,
                captures: Captures::new(),
                found: Vec::new(),
                views: views.as_mut(),
            },
        };
        for target in &rule.targets {
            if target.count {
                let (name, count) = self.count_of(target, rule);
                scan.check(name, count.as_bytes());
            } else if !self.elements_cannot_match(scan.cache, rule, target) {
                self.visit_target(target, Some(rule), &mut |_, name, value| {
                    scan.check(name, value);
                });
            }
        }
        let found = scan.outcome.found;
        if let Some(views) = views {
            cache.views = views;
        }
        found
    }

    /// True when no value of `target` (a variable whose values are collection
    /// elements) can match `rule`: its chain leaves every element as it is and the
    /// union of the elements' raw-value prefilter results rules the operator out — what
    /// `LinkScan::check` would decide for each value, decided once for all of them.
    fn elements_cannot_match(
        &self,
        cache: &mut TransformationCache,
        rule: &CompiledRule,
        target: &Target,
    ) -> bool {
        // A negated link matches exactly the values the prefilter rules out.
        if (rule.prefilter_slot.is_none() && rule.required_bytes.is_none())
            || rule.operator.is_negated()
        {
            return false;
        }
        let Some(Some(triggers)) = self.waf.program.chain_triggers.get(rule.chain_id) else {
            return false;
        };
        let Some((sources, names_only)) = target.elements else {
            return false;
        };
        let prefilters = &self.waf.program.prefilters;
        let slot = prefilters.raw_slot(rule.chain_id, rule.prefilter_slot);
        sources.into_iter().flatten().all(|source| {
            let Some(start) = self.elements_union(cache, source, names_only) else {
                return false;
            };
            let bits = &cache.candidates[start..];
            let present = ChainPrefilter::present_bytes(bits);
            triggers.iter().zip(present).all(|(t, p)| t & p == 0)
                && !may_match(bits, slot, rule.required_bytes.as_ref())
        })
    }

    /// Where the union of the raw-value candidate bitsets of the elements (keys when
    /// `names_only`) of collection `source` starts in `cache.candidates`, computed once
    /// per phase; `None` when the cache is full.
    fn elements_union(
        &self,
        cache: &mut TransformationCache,
        source: VariableName,
        names_only: bool,
    ) -> Option<usize> {
        if let Some(&(_, _, union)) = cache
            .unions
            .iter()
            .find(|(name, names, _)| *name == source && *names == names_only)
        {
            return union;
        }
        let raw = &self.waf.program.prefilters.raw;
        let words = raw.words();
        let start = cache.candidates.len();
        cache.candidates.resize(start + words, 0);
        let pairs = self.collections.get(source).map_or(&[][..], Vec::as_slice);
        let mut union = Some(start);
        for (key, value) in pairs {
            let value = if names_only { key } else { value };
            let Some(element) = cache.raw_candidates(raw, value) else {
                union = None;
                break;
            };
            for word in 0..words {
                let bits = cache.candidates[element + word];
                cache.candidates[start + word] |= bits;
            }
        }
        cache.unions.push((source, names_only, union));
        union
    }

    /// `&TARGET`: how many values `target` has for `rule`, and its name (`PREFIX:key` or
    /// `PREFIX`, rendered only if the count matches).
    fn count_of<'t>(&self, target: &'t Target, rule: &CompiledRule) -> (ValueName<'t>, Decimal) {
        let mut count = 0usize;
        self.visit_target(target, Some(rule), &mut |_, _, _| count += 1);
        let name = match &target.selector {
            Some(KeySelector::Key(key)) => ValueName::Keyed(target.name.as_str(), key.as_bytes()),
            _ => ValueName::Rendered(target.name.as_str()),
        };
        (name, Decimal::of(count))
    }

    /// [`Transaction::scan_link`] for a `@detectXxx` link without transformations (every
    /// rule of the default ruleset): each value goes straight to the detector over its
    /// decoded views (built once per value and phase, shared by every detector rule),
    /// without the transformation and prefilter steps a detector never uses. Decides as
    /// `LinkScan::check` would.
    fn scan_detector_link(
        &self,
        rule: &CompiledRule,
        class: palisade_operators::AttackClass,
        negated: bool,
        views: &mut ViewCache,
    ) -> Vec<LinkMatch> {
        let mut captures = Captures::new();
        let mut found = Vec::new();
        let mut check = |name: ValueName<'_>, value: &[u8], stable: bool| {
            // Without transformations the value is the element itself.
            let decoded = views.views_of(value, stable, name.element());
            let slots = rule.capture.then_some(&mut captures);
            if palisade_operators::detector_matches(class, value, decoded, slots) != negated {
                found.push(LinkMatch {
                    name: name.render(),
                    value: value.to_vec(),
                    captures: link_captures(rule, &captures),
                });
            }
        };
        for target in &rule.targets {
            if target.count {
                let (name, count) = self.count_of(target, rule);
                check(name, count.as_bytes(), false);
            } else {
                self.visit_target(target, Some(rule), &mut |_, name, value| {
                    check(name, value, name.is_stable());
                });
            }
        }
        found
    }

    /// False when no exclusion (the rule's own, a runtime `ctl` or the route's) can
    /// remove values of `target` from `rule`.
    fn may_exclude(&self, rule: &CompiledRule, target: &Target) -> bool {
        let same_variable = |exclusion: &Target| exclusion.name == target.name;
        rule.exclusions.iter().any(same_variable)
            || self
                .removed_targets_by_id
                .iter()
                .any(|(ranges, t)| same_variable(t) && ranges.iter().any(|r| r.contains(rule.id)))
            || self
                .removed_targets_by_tag
                .iter()
                .any(|(tag, t)| same_variable(t) && rule.tags.contains(tag))
            || self.exclusions.as_ref().is_some_and(|e| {
                e.targets
                    .iter()
                    .any(|(ids, t)| same_variable(t) && (ids.is_empty() || ids.contains(&rule.id)))
            })
    }

    fn target_excluded(&self, rule: &CompiledRule, target: &Target, key: &[u8]) -> bool {
        let hits = |exclusion: &Target| {
            exclusion.name == target.name
                && exclusion.selector.as_ref().is_none_or(|s| s.matches(key))
        };
        rule.exclusions.iter().any(hits)
            || self
                .removed_targets_by_id
                .iter()
                .any(|(ranges, t)| ranges.iter().any(|r| r.contains(rule.id)) && hits(t))
            || self
                .removed_targets_by_tag
                .iter()
                .any(|(tag, t)| rule.tags.contains(tag) && hits(t))
            || self.exclusions.as_ref().is_some_and(|e| {
                e.targets
                    .iter()
                    .any(|(ids, t)| (ids.is_empty() || ids.contains(&rule.id)) && hits(t))
            })
    }

    /// Visits every `(key, name, value)` of one target after selectors and exclusions,
    /// borrowing the values in place.
    /// Generic over the visitor (each caller's closure is called directly, not through
    /// a vtable: this runs for every value of every rule).
    fn visit_target<F>(&self, target: &Target, rule: Option<&CompiledRule>, visit: &mut F)
    where
        F: FnMut(&[u8], ValueName<'_>, &[u8]),
    {
        use VariableName as V;
        let prefix = target.name.as_str();
        // Exclusions are looked at per key only when one could apply to this target.
        let excluding_rule = rule.filter(|r| self.may_exclude(r, target));
        if let Some((sources, names_only)) = target.elements {
            for source in sources.into_iter().flatten() {
                self.visit_elements(target, excluding_rule, source, names_only, visit);
            }
            return;
        }
        match target.name {
            V::Tx => {
                if let Some(KeySelector::Key(key)) = &target.selector {
                    // Direct lookup: TX keys are stored lowercased.
                    if let Some(value) = self.tx.get(key.as_str())
                        && !excluding_rule
                            .is_some_and(|r| self.target_excluded(r, target, key.as_bytes()))
                    {
                        visit(
                            key.as_bytes(),
                            ValueName::Keyed("TX", key.as_bytes()),
                            value,
                        );
                    }
                } else {
                    self.visit_pairs(
                        target,
                        excluding_rule,
                        self.tx.iter().map(|(k, v)| (k.as_bytes(), v.as_slice())),
                        visit,
                    );
                }
            }
            V::Env => self.visit_pairs(
                target,
                excluding_rule,
                self.env.iter().map(|(k, v)| (k.as_bytes(), v.as_slice())),
                visit,
            ),
            V::Ip | V::Global | V::Session | V::User | V::Resource => {
                let collection = prefix.to_ascii_lowercase();
                if let Some((_, values)) = self.persistent.get(&collection) {
                    self.visit_pairs(
                        target,
                        excluding_rule,
                        values.iter().map(|(k, v)| (k.as_bytes(), v.as_slice())),
                        visit,
                    );
                }
            }
            V::MatchedVars | V::MatchedVarsNames => {
                let names_only = target.name == V::MatchedVarsNames;
                for (name, value) in &self.matched_vars {
                    let key = name.as_bytes();
                    if target.selector.as_ref().is_some_and(|s| !s.matches(key)) {
                        continue;
                    }
                    let value = if names_only { key } else { value.as_slice() };
                    visit(key, ValueName::Rendered(prefix), value);
                }
            }
            V::MatchedVar => visit(b"", ValueName::Rendered(prefix), &self.matched_var.1),
            V::MatchedVarName => visit(
                b"",
                ValueName::Rendered(prefix),
                self.matched_var.0.as_bytes(),
            ),
            V::Rule => {
                if let Some(rule) = rule {
                    for (key, value) in rule_fields(rule) {
                        if target
                            .selector
                            .as_ref()
                            .is_some_and(|s| !s.matches(key.as_bytes()))
                        {
                            continue;
                        }
                        visit(
                            key.as_bytes(),
                            ValueName::Keyed("RULE", key.as_bytes()),
                            value.as_bytes(),
                        );
                    }
                }
            }
            V::Duration => visit(
                b"",
                ValueName::Rendered(prefix),
                self.started.elapsed().as_micros().to_string().as_bytes(),
            ),
            V::HighestSeverity => visit(
                b"",
                ValueName::Rendered(prefix),
                self.highest_severity.to_string().as_bytes(),
            ),
            V::Time
            | V::TimeEpoch
            | V::TimeSec
            | V::TimeMin
            | V::TimeHour
            | V::TimeDay
            | V::TimeMon
            | V::TimeYear
            | V::TimeWday => visit(
                b"",
                ValueName::Rendered(prefix),
                time_value(target.name).as_bytes(),
            ),
            name => {
                if let Some(value) = self.scalars.get(name)
                    && !excluding_rule.is_some_and(|r| self.target_excluded(r, target, b""))
                {
                    visit(b"", ValueName::Scalar(prefix), value);
                }
            }
        }
    }

    /// Visits `pairs` of `target` that are no collection elements (TX, ENV, persistent
    /// collections) after its selector and exclusions.
    fn visit_pairs<'p, F>(
        &self,
        target: &Target,
        excluding_rule: Option<&CompiledRule>,
        pairs: impl Iterator<Item = (&'p [u8], &'p [u8])>,
        visit: &mut F,
    ) where
        F: FnMut(&[u8], ValueName<'_>, &[u8]),
    {
        let prefix = target.name.as_str();
        for (key, value) in pairs {
            if self.selected(target, excluding_rule, key) {
                visit(key, ValueName::Keyed(prefix, key), value);
            }
        }
    }

    /// Visits the elements of collection `source` for `target` (their keys when
    /// `names_only`) after its selector and exclusions, each named with its
    /// [`ElementId`].
    fn visit_elements<F>(
        &self,
        target: &Target,
        excluding_rule: Option<&CompiledRule>,
        source: VariableName,
        names_only: bool,
        visit: &mut F,
    ) where
        F: FnMut(&[u8], ValueName<'_>, &[u8]),
    {
        let prefix = target.name.as_str();
        let pairs = self.collections.get(source).map_or(&[][..], Vec::as_slice);
        for (index, (key, value)) in pairs.iter().enumerate() {
            if self.selected(target, excluding_rule, key) {
                let id = ElementId {
                    collection: source,
                    index,
                    key: names_only,
                };
                let value = if names_only { key } else { value };
                visit(key, ValueName::Element(prefix, key, id), value);
            }
        }
    }

    /// True when `target`'s selector selects `key` and no exclusion removes it.
    fn selected(&self, target: &Target, excluding_rule: Option<&CompiledRule>, key: &[u8]) -> bool {
        target.selector.as_ref().is_none_or(|s| s.matches(key))
            && !excluding_rule.is_some_and(|r| self.target_excluded(r, target, key))
    }

    fn run_actions(&mut self, rule: &CompiledRule) {
        for action in &rule.actions {
            match action {
                RunAction::SetVar(setvar) => self.run_setvar(setvar, rule),
                RunAction::ExpireVar {
                    collection,
                    name,
                    seconds,
                } => {
                    let name = self.expand(name, rule).to_ascii_lowercase();
                    let seconds =
                        u64::try_from(parse_number(self.expand(seconds, rule).as_bytes()))
                            .unwrap_or(0);
                    let deadline = Instant::now() + std::time::Duration::from_secs(seconds);
                    self.expiries.insert((collection.clone(), name), deadline);
                }
                RunAction::InitCol { collection, key } => {
                    let key = self.expand(key, rule).into_owned();
                    let stored = self
                        .waf
                        .store
                        .lock()
                        .ok()
                        .and_then(|store| store.get(&(collection.clone(), key.clone())).cloned())
                        .unwrap_or_default();
                    let now = Instant::now();
                    let mut values = SeededMap::default();
                    for (name, (value, expiry)) in stored {
                        if expiry.is_none_or(|deadline| deadline > now) {
                            if let Some(deadline) = expiry {
                                self.expiries
                                    .insert((collection.clone(), name.clone()), deadline);
                            }
                            values.insert(name, value);
                        }
                    }
                    let stored = values;
                    self.persistent.insert(collection.clone(), (key, stored));
                }
                RunAction::SetEnv { name, value } => {
                    let name = self.expand(name, rule).into_owned();
                    let value = self.expand(value, rule);
                    self.env.insert(name, value.as_bytes().to_vec());
                }
                RunAction::Ctl(ctl) => self.apply_ctl(ctl),
            }
        }
    }

    fn apply_ctl(&mut self, ctl: &Ctl) {
        match ctl {
            Ctl::RuleEngine(mode) => self.engine = *mode,
            Ctl::RuleRemoveById(ranges) => self.removed_ids.extend_from_slice(ranges),
            Ctl::RuleRemoveByTag(tag) => self.removed_tags.push(tag.clone()),
            Ctl::RuleRemoveTargetById(ranges, variable) => {
                if let Ok(target) = compile_target(variable) {
                    self.removed_targets_by_id.push((ranges.clone(), target));
                }
            }
            Ctl::RuleRemoveTargetByTag(tag, variable) => {
                if let Ok(target) = compile_target(variable) {
                    self.removed_targets_by_tag.push((tag.clone(), target));
                }
            }
            Ctl::RequestBodyProcessor(processor) => self.set_body_processor(processor),
            Ctl::RequestBodyAccess(on) => self.request_body_access = *on,
            Ctl::AuditEngine(mode) => self.audit_engine = Some(mode.clone()),
            _ => {}
        }
    }

    /// `setvar`: names are expanded and lowercased; `=+` / `=-` do ModSecurity's
    /// integer arithmetic on the current value (absent is 0).
    fn run_setvar(&mut self, setvar: &SetVar, rule: &CompiledRule) {
        let name = self.expand(&setvar.name, rule);
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(name.to_ascii_lowercase())
        } else {
            name
        };
        let (operand, add) = match &setvar.op {
            SetVarOp::Unset => {
                self.collection_remove(&setvar.collection, &name);
                return;
            }
            SetVarOp::Set(value) => {
                let value = self.expand(value, rule);
                self.collection_set(&setvar.collection, &name, value.as_bytes());
                return;
            }
            SetVarOp::Add(value) => (parse_number(self.expand(value, rule).as_bytes()), true),
            SetVarOp::Subtract(value) => (parse_number(self.expand(value, rule).as_bytes()), false),
        };
        let base = self
            .collection_get(&setvar.collection, &name)
            .map_or(0, parse_number);
        let result = if add {
            base.saturating_add(operand)
        } else {
            base.saturating_sub(operand)
        };
        self.collection_set(&setvar.collection, &name, result.to_string().as_bytes());
    }

    fn collection_get(&self, collection: &str, name: &str) -> Option<&[u8]> {
        match collection {
            "tx" => self.tx.get(name),
            "env" => self.env.get(name),
            other => self
                .persistent
                .get(other)
                .and_then(|(_, values)| values.get(name)),
        }
        .map(Vec::as_slice)
    }

    /// Sets a variable, reusing the existing entry's buffer.
    fn collection_set(&mut self, collection: &str, name: &str, value: &[u8]) {
        let values = match collection {
            "tx" => &mut self.tx,
            "env" => &mut self.env,
            other => match self.persistent.get_mut(other) {
                Some((_, values)) => values,
                None => return,
            },
        };
        match values.get_mut(name) {
            Some(slot) => {
                slot.clear();
                slot.extend_from_slice(value);
            }
            None => {
                values.insert(name.to_owned(), value.to_vec());
            }
        }
    }

    fn collection_remove(&mut self, collection: &str, name: &str) {
        match collection {
            "tx" => {
                self.tx.remove(name);
            }
            "env" => {
                self.env.remove(name);
            }
            other => {
                if let Some((_, values)) = self.persistent.get_mut(other) {
                    values.remove(name);
                }
            }
        }
    }

    /// [`Transaction::expand`] for an operator argument: borrowed from the TX variable
    /// when the argument is exactly one `%{tx.name}` reference (`@within
    /// %{tx.allowed_methods}`, `@ge %{tx.threshold}`), where `expand` would copy it.
    fn expand_argument<'s>(&'s self, argument: &'s str, rule: &CompiledRule) -> Cow<'s, str> {
        if let Some(reference) = argument
            .strip_prefix("%{")
            .and_then(|rest| rest.strip_suffix('}'))
            && !reference.contains(['%', '{', '}'])
            && let Some((collection, key)) = reference.split_once(['.', ':'])
            && collection.eq_ignore_ascii_case("tx")
        {
            let value = if key.bytes().any(|b| b.is_ascii_uppercase()) {
                self.tx.get(&key.to_ascii_lowercase())
            } else {
                self.tx.get(key)
            };
            return value.map_or(Cow::Borrowed(""), |value| String::from_utf8_lossy(value));
        }
        self.expand(argument, rule)
    }

    /// Expands `%{collection.key}` / `%{VARIABLE}` macros.
    pub(crate) fn expand<'t>(&self, text: &'t str, rule: &CompiledRule) -> Cow<'t, str> {
        if !text.contains("%{") {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut rest = text;
        while let Some(start) = rest.find("%{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Cow::Owned(out);
            };
            self.push_macro_value(&after[..end], rule, &mut out);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Cow::Owned(out)
    }

    /// Appends the value of the macro `reference` (`tx.name`, `MATCHED_VAR`, …) to
    /// `out` (bytes that are not UTF-8 as U+FFFD), borrowing the value where it is.
    fn push_macro_value(&self, reference: &str, rule: &CompiledRule, out: &mut String) {
        let (collection, key) = match reference.split_once(['.', ':']) {
            Some((collection, key)) => (collection, Some(key)),
            None => (reference, None),
        };
        if collection.eq_ignore_ascii_case("tx")
            && let Some(key) = key
        {
            // TX keys are stored lowercased; most references are written so.
            let value = if key.bytes().any(|b| b.is_ascii_uppercase()) {
                self.tx.get(&key.to_ascii_lowercase())
            } else {
                self.tx.get(key)
            };
            if let Some(value) = value {
                out.push_str(&String::from_utf8_lossy(value));
            }
            return;
        }
        let Some(name) = VariableName::from_name(collection) else {
            return;
        };
        match (name, key) {
            (VariableName::Rule, Some(key)) => {
                if let Some(field) = RULE_FIELDS
                    .iter()
                    .find(|field| field.eq_ignore_ascii_case(key))
                {
                    out.push_str(&rule_field(rule, field));
                }
            }
            (name, key) => {
                let target = Target::new(
                    name,
                    key.map(|k| KeySelector::Key(k.to_ascii_lowercase())),
                    false,
                );
                let mut first = true;
                self.visit_target(&target, None, &mut |_, _, value| {
                    if std::mem::take(&mut first) {
                        out.push_str(&String::from_utf8_lossy(value));
                    }
                });
            }
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        std::mem::take(self.transformation_cache.get_mut()).return_to_pool();
        // The variables' buffers serve the next transaction on this thread.
        buffers::with_pool(|pool| {
            for value in self.scalars.drain() {
                pool.give(value);
            }
            for pairs in self.collections.drain() {
                for (key, value) in pairs {
                    pool.give(key);
                    pool.give(value);
                }
            }
        });
    }
}

/// Per-route exclusions in compiled form (see [`crate::WafExclusions`]).
#[derive(Debug, Default)]
pub struct CompiledExclusions {
    pub(crate) rule_ids: Vec<u64>,
    pub(crate) targets: Vec<(Vec<u64>, Target)>,
}

/// Parses one target in SecLang syntax (`ARGS:password`, `REQUEST_COOKIES:/^_ga/`).
pub(crate) fn parse_target(text: &str) -> Result<Target, String> {
    let config = palisade_seclang::parse_str(
        "exclusion",
        &format!("SecRule {text} \"@unconditionalMatch\" \"id:1\""),
    )
    .map_err(|error| error.to_string())?;
    let mut variables = config
        .directives
        .into_iter()
        .flat_map(|directive| match directive {
            palisade_seclang::Directive::Rule(rule) => rule.item.variables,
            _ => Vec::new(),
        });
    match (variables.next(), variables.next()) {
        (Some(variable), None) => compile_target(&variable),
        _ => Err(format!("`{text}` is not exactly one target")),
    }
}

/// The fields of the RULE collection.
const RULE_FIELDS: [&str; 6] = ["id", "phase", "msg", "logdata", "severity", "tag"];

/// One field of RULE (`field` is one of [`RULE_FIELDS`]).
fn rule_field(rule: &CompiledRule, field: &str) -> String {
    match field {
        "id" => rule.id.to_string(),
        "phase" => rule.phase.to_string(),
        "msg" => rule.msg.clone().unwrap_or_default(),
        "logdata" => rule.logdata.clone().unwrap_or_default(),
        "severity" => rule.severity.map(|s| s.to_string()).unwrap_or_default(),
        "tag" => rule.tags.first().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

fn rule_fields(rule: &CompiledRule) -> Vec<(&'static str, String)> {
    RULE_FIELDS
        .iter()
        .map(|&field| (field, rule_field(rule, field)))
        .collect()
}

fn time_value(name: VariableName) -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = seconds / 86_400;
    let secs_of_day = seconds % 86_400;
    let (year, month, day) =
        palisade_core::civil::civil_from_days(i64::try_from(days).unwrap_or(0));
    let (hour, minute, second) = (
        secs_of_day / 3600,
        (secs_of_day / 60) % 60,
        secs_of_day % 60,
    );
    match name {
        VariableName::TimeEpoch => seconds.to_string(),
        VariableName::TimeSec => second.to_string(),
        VariableName::TimeMin => minute.to_string(),
        VariableName::TimeHour => hour.to_string(),
        VariableName::TimeDay => day.to_string(),
        VariableName::TimeMon => month.to_string(),
        VariableName::TimeYear => year.to_string(),
        VariableName::TimeWday => ((days + 4) % 7).to_string(),
        _ => format!("{hour:02}:{minute:02}:{second:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_written_as_their_decimal_string() {
        for value in [0, 7, 10, 99, 1_234_567, usize::MAX] {
            assert_eq!(Decimal::of(value).as_bytes(), value.to_string().as_bytes());
        }
    }
}
