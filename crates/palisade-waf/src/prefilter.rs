//! The whole-program literal prefilter: one Aho-Corasick pass per (value, transformation
//! chain) over the union of the literals that the rules using that chain require.
//!
//! What: at load, every rule link whose operator has a required-literal set (`@rx` with a
//! literal prefilter, `@pm` phrases; see `palisade_operators::Operator::required_literals`)
//! and that is not `multiMatch` gets a *slot* in the prefilter of its transformation
//! chain (a negated link too: it matches every value the prefilter rules out). Per transaction, the transformed value is scanned once with that
//! chain's automaton (overlapping matches, ASCII-case-insensitive) and the slots of every
//! literal found are marked; the same pass records which bytes the value contains, for
//! `@rx` links with a required byte set (`Operator::required_bytes`: every match contains
//! one of those bytes, e.g. `\` for `\x5cu[0-9a-f]{4}`). A link whose slot is unmarked, or
//! whose required bytes are all absent, cannot match the value and is skipped without
//! running its operator (a negated link matches it, also without running it).
//!
//! Why: CRS runs ~100 rules over every argument at paranoia level 1; without this each rule
//! scans each value on its own (its own prefilter, then its regex). The union scan is one
//! pass per (value, chain) — there are a few dozen chains — instead of one per (value, rule).
//!
//! Raw values: most values are left as they are by most chains (a value without `%`,
//! `&`, `\`, upper case … passes `t:urlDecodeUni,t:htmlEntityDecode,t:lowercase`
//! unchanged; see `palisade_transform::Transformation::trigger_bytes`). [`Prefilters::raw`]
//! is the union of every chain's literals: one scan of the raw value decides for every
//! chain that leaves it unchanged, and the union of those results over a collection's
//! elements lets the transaction skip a whole target (`ARGS`, `ARGS_NAMES` …) for a link
//! whose literals and bytes occur in none of them.
//!
//! Example: rule A (`@rx union\s+select`, which requires `union` or `select`) and rule B
//! (`@pm sleep benchmark`) share `t:lowercase`; the value `page=3` contains none of those
//! literals, so neither operator runs on it.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use palisade_operators::ByteSet;

/// Words of the byte-presence set at the start of every candidate bitset.
const BYTE_WORDS: usize = 4;

/// The prefilter of one transformation chain.
#[derive(Debug)]
pub(crate) struct ChainPrefilter {
    /// Union of the literals of the chain's slots (`None` when it has none).
    automaton: Option<AhoCorasick>,
    /// Some link of the chain has a required byte set: record the value's bytes.
    bytes: bool,
    /// The slots of pattern `p` are `slots[offsets[p]..offsets[p + 1]]`.
    offsets: Vec<usize>,
    slots: Vec<u32>,
    /// Slot bitset words per value (`ceil(slot count / 64)`).
    words: usize,
}

/// Collects, per chain, the literal sets of its rule links and hands out slots.
#[derive(Debug, Default)]
pub(crate) struct PrefilterBuilder {
    /// Per chain id: literal → slots that require it.
    chains: Vec<HashMap<Vec<u8>, Vec<u32>>>,
    /// Per chain id: slots handed out.
    slot_counts: Vec<u32>,
    /// Per chain id: some link has a required byte set.
    byte_sets: Vec<bool>,
}

impl PrefilterBuilder {
    /// Registers a rule link using chain `chain_id` whose every match contains one of
    /// `literals` (ASCII-case-insensitively); returns its slot.
    pub(crate) fn add(&mut self, chain_id: usize, literals: &[Vec<u8>]) -> u32 {
        self.grow(chain_id);
        let slot = self.slot_counts[chain_id];
        self.slot_counts[chain_id] += 1;
        for literal in literals {
            let slots = self.chains[chain_id]
                .entry(literal.to_ascii_lowercase())
                .or_default();
            if slots.last() != Some(&slot) {
                slots.push(slot);
            }
        }
        slot
    }

    /// Registers a rule link using chain `chain_id` with a required byte set.
    pub(crate) fn add_byte_set(&mut self, chain_id: usize) {
        self.grow(chain_id);
        self.byte_sets[chain_id] = true;
    }

    fn grow(&mut self, chain_id: usize) {
        if self.chains.len() <= chain_id {
            self.chains.resize_with(chain_id + 1, HashMap::new);
            self.slot_counts.resize(chain_id + 1, 0);
            self.byte_sets.resize(chain_id + 1, false);
        }
    }

    /// One prefilter per chain id (`None` for chains without slots), and the prefilter
    /// of raw values (see [`Prefilters::raw`]).
    pub(crate) fn build(self) -> Result<Prefilters, String> {
        let mut bases = Vec::with_capacity(self.slot_counts.len());
        let mut raw_literals: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
        let mut raw_slots = 0u32;
        for (literals, &slot_count) in self.chains.iter().zip(&self.slot_counts) {
            bases.push(raw_slots);
            for (literal, slots) in literals {
                raw_literals
                    .entry(literal.clone())
                    .or_default()
                    .extend(slots.iter().map(|slot| raw_slots + slot));
            }
            raw_slots += slot_count;
        }
        let raw = ChainPrefilter::new(raw_literals, raw_slots, true)?;
        let chains = self
            .chains
            .into_iter()
            .zip(self.slot_counts)
            .zip(self.byte_sets)
            .map(|((literals, slot_count), bytes)| {
                if literals.is_empty() && !bytes {
                    return Ok(None);
                }
                ChainPrefilter::new(literals, slot_count, bytes).map(Some)
            })
            .collect::<Result<_, String>>()?;
        Ok(Prefilters { chains, raw, bases })
    }
}

/// The prefilters of a program.
#[derive(Debug)]
pub(crate) struct Prefilters {
    /// Per transformation chain id, its prefilter (if any link has a slot or a byte set).
    pub chains: Vec<Option<ChainPrefilter>>,
    /// The union of every chain's prefilter, for a value that a chain leaves as it is:
    /// chain `c`'s slot `s` is slot `bases[c] + s` here, and it always records bytes.
    /// One scan of the raw value then serves every chain whose transformations do
    /// not change it (see `palisade_transform::Transformation::trigger_bytes`), where
    /// each chain would scan its own copy of the same bytes.
    pub raw: ChainPrefilter,
    /// Per chain id, where its slots start in `raw`.
    pub bases: Vec<u32>,
}

impl Prefilters {
    /// The slot in [`Prefilters::raw`] of `slot` of chain `chain_id`.
    pub(crate) fn raw_slot(&self, chain_id: usize, slot: Option<u32>) -> Option<u32> {
        slot.map(|slot| self.bases[chain_id] + slot)
    }
}

impl ChainPrefilter {
    /// A prefilter over `literals` (each with the slots that require it) for
    /// `slot_count` slots, recording the bytes of a value when `bytes`.
    fn new(
        literals: HashMap<Vec<u8>, Vec<u32>>,
        slot_count: u32,
        bytes: bool,
    ) -> Result<ChainPrefilter, String> {
        let mut patterns = Vec::with_capacity(literals.len());
        let mut offsets = vec![0];
        let mut slots = Vec::new();
        let mut sorted: Vec<_> = literals.into_iter().collect();
        sorted.sort();
        for (literal, literal_slots) in sorted {
            patterns.push(literal);
            slots.extend(literal_slots);
            offsets.push(slots.len());
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    // One scan per (value, chain) on every request: the fastest
                    // automaton is worth its memory (measured with CRS below).
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&patterns)
                    .map_err(|error| format!("literal prefilter: {error}"))?,
            )
        };
        Ok(ChainPrefilter {
            automaton,
            bytes,
            offsets,
            slots,
            words: (slot_count as usize).div_ceil(64),
        })
    }

    /// The byte-presence words of a candidate bitset (see [`ChainPrefilter::words`]).
    pub(crate) fn present_bytes(bits: &[u64]) -> ByteSet {
        let mut present = [0; BYTE_WORDS];
        present.copy_from_slice(&bits[..BYTE_WORDS]);
        present
    }

    /// Bitset words one value needs (the byte-presence set, then the slots).
    pub(crate) fn words(&self) -> usize {
        BYTE_WORDS + self.words
    }

    /// Fills `bits` (`words()` long, zeroed): the bytes of `input` and the slots whose
    /// literals occur in it.
    pub(crate) fn mark_candidates(&self, input: &[u8], bits: &mut [u64]) {
        let (present, slots) = bits.split_at_mut(BYTE_WORDS);
        if self.bytes {
            for &byte in input {
                present[usize::from(byte / 64)] |= 1 << (byte % 64);
            }
        }
        if let Some(automaton) = &self.automaton {
            for found in automaton.find_overlapping_iter(input) {
                let pattern = found.pattern().as_usize();
                for &slot in &self.slots[self.offsets[pattern]..self.offsets[pattern + 1]] {
                    slots[slot as usize / 64] |= 1 << (slot % 64);
                }
            }
        }
    }
}

/// False when the candidate bitset `bits` of a value (see [`ChainPrefilter::words`])
/// proves that a link with this `slot` and `required_bytes` cannot match the value.
pub(crate) fn may_match(bits: &[u64], slot: Option<u32>, required_bytes: Option<&ByteSet>) -> bool {
    required_bytes.is_none_or(|required| {
        required
            .iter()
            .zip(&bits[..BYTE_WORDS])
            .any(|(required, present)| required & present != 0)
    }) && slot.is_none_or(|slot| bits[BYTE_WORDS + slot as usize / 64] & (1 << (slot % 64)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_exactly_the_slots_whose_literals_occur() {
        let mut builder = PrefilterBuilder::default();
        let union = builder.add(0, &[b"union".to_vec(), b"select".to_vec()]);
        let sleep = builder.add(0, &[b"sleep".to_vec()]);
        let shared = builder.add(0, &[b"SELECT".to_vec(), b"lect".to_vec()]);
        let other_chain = builder.add(1, &[b"x".to_vec()]);
        assert_eq!((union, sleep, shared, other_chain), (0, 1, 2, 0));
        let prefilters = builder.build().expect("builds").chains;
        let chain = prefilters[0].as_ref().expect("chain 0 has slots");
        let marked = |input: &[u8]| {
            let mut bits = vec![0; chain.words()];
            chain.mark_candidates(input, &mut bits);
            (0..3)
                .filter(|&slot| may_match(&bits, Some(slot), None))
                .collect::<Vec<_>>()
        };
        assert_eq!(marked(b"page=3"), Vec::<u32>::new());
        assert_eq!(marked(b"1 UnIoN SeLeCt 2"), vec![0, 2]);
        assert_eq!(marked(b"sleep(5)"), vec![1]);
        // Overlapping literals are all found ("select" and "lect" end together).
        assert_eq!(marked(b"xselect"), vec![0, 2]);
    }

    #[test]
    fn many_slots_span_several_words() {
        let mut builder = PrefilterBuilder::default();
        for index in 0..130 {
            builder.add(0, &[format!("lit{index:03}").into_bytes()]);
        }
        let prefilters = builder.build().expect("builds").chains;
        let chain = prefilters[0].as_ref().expect("chain 0");
        assert_eq!(chain.words(), BYTE_WORDS + 3);
        let mut bits = vec![0; chain.words()];
        chain.mark_candidates(b"..lit129..lit000", &mut bits);
        let marked = |slot| may_match(&bits, Some(slot), None);
        assert!(marked(129) && marked(0) && !marked(64));
    }

    #[test]
    fn byte_sets_need_one_present_byte() {
        let mut builder = PrefilterBuilder::default();
        builder.add_byte_set(0);
        let prefilters = builder.build().expect("builds").chains;
        let chain = prefilters[0].as_ref().expect("chain 0");
        let mut backslash = [0u64; 4];
        backslash[usize::from(b'\\' / 64)] |= 1 << (b'\\' % 64);
        let mut bits = vec![0; chain.words()];
        chain.mark_candidates(b"category=shoes", &mut bits);
        assert!(!may_match(&bits, None, Some(&backslash)));
        assert!(may_match(&bits, None, None));
        let mut bits = vec![0; chain.words()];
        chain.mark_candidates(b"a\\u0041", &mut bits);
        assert!(may_match(&bits, None, Some(&backslash)));
    }
}
