//! Which kinds of bytes a value holds ([`ByteClasses`], one table-driven pass),
//! and the gates detectors build on that summary.
//!
//! Most values a web application receives are plain: a word, a number, a name,
//! a sentence. Every attack class needs some structure a plain value lacks — a
//! quote, a `<`, a shell separator, a line break, a keyword — so each detector
//! opens with a *necessary condition* over the byte classes of its input,
//! documented in its module, and returns `None` at once when the condition
//! fails. [`crate::normalize`] computes the classes of every decoded view once
//! (and uses them itself to skip decoding steps), so the thirteen detectors
//! and the decoder share a single pass over each value instead of each
//! scanning it for the bytes it cares about.
//!
//! # Classes
//! One class per ASCII letter with case folded (a literal such as `proto` can
//! be ruled out by a letter it needs), one for "some upper-case ASCII letter",
//! one for the digits, one per ASCII punctuation byte, one each for space,
//! tab, LF, CR, VT/FF, NUL and the other control bytes, and a few groups of
//! bytes >= 0x80 split where a decoder or detector treats some of them apart
//! (overlong UTF-8 leads, `0xA0`, the lead bytes the URL decoder folds, the
//! Java and pickle stream markers).
//!
//! # Contract
//! A gated detector (`detect_gated(input, classes)` in each module) may assume
//! its input holds no byte of a class absent from `classes`. Passing a
//! superset of the input's classes is always allowed and only opens more
//! gates; [`ByteClasses::ALL`] opens every gate, which is the detector without
//! gates. The gates are optimisations only: for every input,
//! `detect_gated(input, ByteClasses::of(input))` equals
//! `detect_gated(input, ByteClasses::ALL)`, which the corpus tests assert line
//! by line and the `detectors` fuzz target checks on arbitrary bytes.
//!
//! `Literals` (crate-internal) is a multi-literal matcher with its gate derived from its
//! patterns: a pattern can occur only in a value that holds every class of its
//! bytes, so a search over a value lacking, for each pattern, one of them is
//! skipped without looking at the value.

/// The set of byte classes present in an input (see the module doc).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteClasses(u128);

/// Class bit numbers beyond the 26 letters (bits 0..=25).
const UPPER_BIT: u32 = 26;
const DIGIT_BIT: u32 = 27;
/// The 32 ASCII punctuation bytes take bits 28..=59, in byte order.
const PUNCTUATION_BIT: u32 = 28;
const SPACE_BIT: u32 = 60;
const TAB_BIT: u32 = 61;
const LF_BIT: u32 = 62;
const CR_BIT: u32 = 63;
const VT_FF_BIT: u32 = 64;
const NUL_BIT: u32 = 65;
const CONTROL_BIT: u32 = 66;
const X80_BIT: u32 = 67;
const X81_BF_BIT: u32 = 68;
const XA0_BIT: u32 = 69;
const XAC_BIT: u32 = 70;
const XC0_C1_BIT: u32 = 71;
const XC2_DF_BIT: u32 = 72;
const XE0_BIT: u32 = 73;
const XE2_BIT: u32 = 74;
const XE5_BIT: u32 = 75;
const XEF_BIT: u32 = 76;
const XE1_EE_BIT: u32 = 77;
const XF0_FF_BIT: u32 = 78;

/// The class bits of one byte.
const fn class_bits(byte: u8) -> u128 {
    let bit = match byte {
        b'a'..=b'z' => (byte - b'a') as u32,
        b'A'..=b'Z' => return (1 << (byte - b'A')) | (1 << UPPER_BIT),
        b'0'..=b'9' => DIGIT_BIT,
        0x21..=0x2F => PUNCTUATION_BIT + (byte - 0x21) as u32,
        0x3A..=0x40 => PUNCTUATION_BIT + 15 + (byte - 0x3A) as u32,
        0x5B..=0x60 => PUNCTUATION_BIT + 22 + (byte - 0x5B) as u32,
        0x7B..=0x7E => PUNCTUATION_BIT + 28 + (byte - 0x7B) as u32,
        b' ' => SPACE_BIT,
        b'\t' => TAB_BIT,
        b'\n' => LF_BIT,
        b'\r' => CR_BIT,
        0x0B | 0x0C => VT_FF_BIT,
        0x00 => NUL_BIT,
        0x01..=0x1F | 0x7F => CONTROL_BIT,
        0x80 => X80_BIT,
        0xA0 => XA0_BIT,
        0xAC => XAC_BIT,
        0x81..=0xBF => X81_BF_BIT,
        0xC0 | 0xC1 => XC0_C1_BIT,
        0xC2..=0xDF => XC2_DF_BIT,
        0xE0 => XE0_BIT,
        0xE2 => XE2_BIT,
        0xE5 => XE5_BIT,
        0xEF => XEF_BIT,
        0xE1..=0xEE => XE1_EE_BIT,
        0xF0..=0xFF => XF0_FF_BIT,
    };
    1 << bit
}

/// [`class_bits`] of every byte value, split in its low (`TABLE[0]`) and high
/// (`TABLE[1]`) 64 bits: one table of `u64`, so both halves of a byte are read with
/// one scaled index and a displacement (three instructions a byte).
static TABLE: [[u64; 256]; 2] = [table_half(0), table_half(64)];

const fn table_half(shift: u32) -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (class_bits(byte as u8) >> shift) as u64;
        byte += 1;
    }
    table
}

impl ByteClasses {
    /// No class: the classes of the empty input.
    pub const NONE: ByteClasses = ByteClasses(0);
    /// Every class: passed to a gated detector, it opens every gate.
    pub const ALL: ByteClasses = ByteClasses(u128::MAX);
    /// Some upper-case ASCII letter (each letter's own class is case-folded).
    pub const UPPER: ByteClasses = ByteClasses(1 << UPPER_BIT);
    /// Bytes >= 0x80.
    pub const HIGH: ByteClasses = ByteClasses(
        (1 << X80_BIT)
            | (1 << X81_BF_BIT)
            | (1 << XA0_BIT)
            | (1 << XAC_BIT)
            | (1 << XC0_C1_BIT)
            | (1 << XC2_DF_BIT)
            | (1 << XE0_BIT)
            | (1 << XE2_BIT)
            | (1 << XE5_BIT)
            | (1 << XEF_BIT)
            | (1 << XE1_EE_BIT)
            | (1 << XF0_FF_BIT),
    );
    /// ASCII letters of either case.
    pub const LETTERS: ByteClasses = ByteClasses(((1 << 26) - 1) | (1 << UPPER_BIT));

    /// The classes present in `input`: one pass, one table lookup per byte.
    pub fn of(input: &[u8]) -> ByteClasses {
        // Eight bytes a round (the loop's own cost spread over more lookups), into two
        // accumulators per half (the lookups of a round do not all wait on each other).
        let mut chunks = input.as_chunks::<8>();
        let (mut low, mut high, mut low2, mut high2) = (0u64, 0u64, 0u64, 0u64);
        for chunk in chunks.0 {
            for pair in chunk.as_chunks::<2>().0 {
                let (first, second) = (usize::from(pair[0]), usize::from(pair[1]));
                low |= TABLE[0][first];
                high |= TABLE[1][first];
                low2 |= TABLE[0][second];
                high2 |= TABLE[1][second];
            }
        }
        for &byte in std::mem::take(&mut chunks.1) {
            low |= TABLE[0][usize::from(byte)];
            high |= TABLE[1][usize::from(byte)];
        }
        ByteClasses(u128::from(low | low2) | (u128::from(high | high2) << 64))
    }

    /// The letter classes (case folded) of a mask with bit `i` for the letter `a` + `i`
    /// (bits above 25 ignored): for a detector that summarises its input itself.
    pub(crate) const fn letters(mask: u32) -> ByteClasses {
        ByteClasses((mask & ((1 << 26) - 1)) as u128)
    }

    /// The classes of the given bytes, as written (`b"A"` is the letter `a`
    /// and [`ByteClasses::UPPER`]).
    pub const fn bytes(bytes: &[u8]) -> ByteClasses {
        let mut bits = 0;
        let mut i = 0;
        while i < bytes.len() {
            bits |= class_bits(bytes[i]);
            i += 1;
        }
        ByteClasses(bits)
    }

    /// The classes of the given bytes with ASCII case folded: what a
    /// case-insensitive literal needs.
    pub const fn bytes_any_case(bytes: &[u8]) -> ByteClasses {
        let mut bits = 0;
        let mut i = 0;
        while i < bytes.len() {
            bits |= class_bits(bytes[i].to_ascii_lowercase());
            i += 1;
        }
        ByteClasses(bits)
    }

    /// Both sets together.
    pub const fn union(self, other: ByteClasses) -> ByteClasses {
        ByteClasses(self.0 | other.0)
    }

    /// Every class except those in `other`.
    pub const fn without(self, other: ByteClasses) -> ByteClasses {
        ByteClasses(self.0 & !other.0)
    }

    /// True when some class of `set` is present.
    pub const fn has_any(self, set: ByteClasses) -> bool {
        self.0 & set.0 != 0
    }

    /// True when every class of `set` is present.
    pub const fn has_all(self, set: ByteClasses) -> bool {
        self.0 & set.0 == set.0
    }

    /// True when no class outside `set` is present.
    pub const fn only(self, set: ByteClasses) -> bool {
        self.0 & !set.0 == 0
    }
}

impl std::fmt::Debug for ByteClasses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == ByteClasses::ALL {
            return f.write_str("ByteClasses(ALL)");
        }
        let mut set = f.debug_set();
        if self.has_any(ByteClasses::UPPER) {
            set.entry(&"A-Z");
        }
        // One representative byte per class: the first byte of the class (upper-case
        // letters, whose own class is their lower-case letter's, aside).
        let mut seen = ByteClasses::UPPER;
        for byte in (0..=u8::MAX).filter(|byte| !byte.is_ascii_uppercase()) {
            let class = ByteClasses(class_bits(byte));
            if !seen.has_all(class) {
                seen = seen.union(class);
                if self.has_any(class) {
                    set.entry(&std::ascii::escape_default(byte).to_string());
                }
            }
        }
        set.finish()
    }
}

/// Entries of the [`remembered`] table (a power of two).
const REMEMBERED: usize = 256;

thread_local! {
    /// [`remembered`]'s table: classes and the value computed for them, by a hash of
    /// the classes. [`ByteClasses::ALL`] (which no input has) marks an empty entry; its
    /// value is never read.
    static REMEMBERED_GATES: [std::cell::Cell<(ByteClasses, u16)>; REMEMBERED] =
        const { [const { std::cell::Cell::new((ByteClasses::ALL, 0)) }; REMEMBERED] };
}

/// `compute(classes)`, remembered in a small direct-mapped table per thread (an entry
/// keeps the last classes that hashed to it). `compute` must be a pure function of the
/// classes; there is one table, for [`crate::AttackClass::open_gates`].
pub(crate) fn remembered(classes: ByteClasses, compute: impl FnOnce(ByteClasses) -> u16) -> u16 {
    if classes == ByteClasses::ALL {
        return compute(classes);
    }
    let folded = (classes.0 as u64) ^ ((classes.0 >> 64) as u64).rotate_left(29);
    let slot =
        (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - REMEMBERED.trailing_zeros())) as usize;
    REMEMBERED_GATES.with(|table| {
        let entry = &table[slot];
        let (seen, value) = entry.get();
        if seen == classes {
            return value;
        }
        let value = compute(classes);
        entry.set((classes, value));
        value
    })
}

/// A case-insensitive (or exact) multi-literal matcher whose search is skipped
/// for a value that cannot hold any of its patterns (see the module doc).
pub(crate) struct Literals {
    matcher: aho_corasick::AhoCorasick,
    /// The rarest class of each pattern's needs: a value holding none of them
    /// is ruled out by one test.
    rarest: ByteClasses,
    /// For each pattern not implied by another, the classes it needs, grouped by
    /// their rarest class (in bit order): a value is checked only against the
    /// groups of the rare classes it holds.
    groups: Box<[(u32, Box<[ByteClasses]>)]>,
    /// The index in `groups` of each bit of `rarest`.
    group_of: [u8; 128],
    /// A byte other than a letter that every pattern holds (the rarest such), if any:
    /// a match holds it, so none starts more than `longest - 1` bytes before its first
    /// occurrence, and the search starts there (found by memchr).
    anchor: Option<u8>,
    /// The longest pattern's length.
    longest: usize,
}

impl Literals {
    /// ASCII case-insensitive patterns, leftmost-longest, as a full DFA (the
    /// sets are small, and search speed is what matters) without aho-corasick's
    /// prefilter: on the short values a request carries, its candidate checks cost
    /// more than the DFA's steady pass (about four times as much on a browser's
    /// User-Agent). The patterns are constants of this crate, so a failure is a
    /// programming error.
    pub(crate) fn any_case(patterns: &[&str]) -> Literals {
        let matcher = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .prefilter(false)
            .build(patterns)
            .unwrap_or_else(|error| {
                panic!("palisade-detect: built-in literal set is invalid: {error}")
            });
        let needs = patterns
            .iter()
            .map(|pattern| ByteClasses::bytes_any_case(pattern.as_bytes()));
        let bytes: Vec<&[u8]> = patterns.iter().map(|pattern| pattern.as_bytes()).collect();
        Literals::gated(matcher, needs, &bytes)
    }

    /// Byte-exact patterns, leftmost-longest.
    pub(crate) fn exact(patterns: &[&[u8]]) -> Literals {
        let matcher = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(patterns)
            .unwrap_or_else(|error| {
                panic!("palisade-detect: built-in literal set is invalid: {error}")
            });
        let needs = patterns.iter().map(|pattern| ByteClasses::bytes(pattern));
        Literals::gated(matcher, needs, patterns)
    }

    fn gated(
        matcher: aho_corasick::AhoCorasick,
        needs: impl Iterator<Item = ByteClasses>,
        patterns: &[&[u8]],
    ) -> Literals {
        let mut keyed: Vec<(u32, ByteClasses)> = minimal(needs)
            .into_iter()
            .map(|needs| (rarest_class(needs).0.trailing_zeros(), needs))
            .collect();
        keyed.sort_by_key(|&(bit, _)| bit);
        let groups: Box<[(u32, Box<[ByteClasses]>)]> = keyed
            .chunk_by(|a, b| a.0 == b.0)
            .map(|chunk| (chunk[0].0, chunk.iter().map(|&(_, needs)| needs).collect()))
            .collect();
        let rarest = groups.iter().fold(ByteClasses::NONE, |rarest, &(bit, _)| {
            rarest.union(ByteClasses(1 << bit))
        });
        let mut group_of = [0u8; 128];
        for (index, &(bit, _)) in groups.iter().enumerate() {
            group_of[bit as usize] = u8::try_from(index).expect("at most 128 groups");
        }
        Literals {
            matcher,
            rarest,
            groups,
            group_of,
            anchor: anchor(patterns),
            longest: patterns
                .iter()
                .map(|pattern| pattern.len())
                .max()
                .unwrap_or(0),
        }
    }

    /// Where a match may start at the earliest in `input` (see [`Literals::anchor`]);
    /// `None` when no match can occur.
    fn search_start(&self, input: &[u8]) -> Option<usize> {
        match self.anchor {
            Some(anchor) => {
                memchr::memchr(anchor, input).map(|at| at.saturating_sub(self.longest - 1))
            }
            None => Some(0),
        }
    }

    /// `input` from where a match may start (the empty end when none can).
    fn searched(&self, input: &[u8]) -> std::ops::Range<usize> {
        self.search_start(input).unwrap_or(input.len())..input.len()
    }

    /// False when a value of these classes holds none of the patterns.
    pub(crate) fn may_occur(&self, classes: ByteClasses) -> bool {
        let mut candidates = classes.0 & self.rarest.0;
        while candidates != 0 {
            let bit = candidates.trailing_zeros();
            candidates &= candidates - 1;
            let (_, group) = &self.groups[usize::from(self.group_of[bit as usize])];
            if group.iter().any(|&needs| classes.has_all(needs)) {
                return true;
            }
        }
        false
    }

    /// The leftmost-longest match in `input`, whose classes are `classes` (or a superset).
    pub(crate) fn find(&self, input: &[u8], classes: ByteClasses) -> Option<aho_corasick::Match> {
        if !self.may_occur(classes) {
            return None;
        }
        self.matcher
            .find(aho_corasick::Input::new(input).span(self.searched(input)))
    }

    /// Whether `input` (of `classes`, or a subslice of such an input) holds a pattern.
    pub(crate) fn is_match(&self, input: &[u8], classes: ByteClasses) -> bool {
        self.may_occur(classes)
            && self
                .matcher
                .is_match(aho_corasick::Input::new(input).span(self.searched(input)))
    }

    /// Every non-overlapping match, leftmost-longest (none when the gate is closed).
    pub(crate) fn find_iter<'a>(
        &'a self,
        input: &'a [u8],
        classes: ByteClasses,
    ) -> impl Iterator<Item = aho_corasick::Match> + 'a {
        // No pattern is empty, so an empty span has no match.
        let span = if self.may_occur(classes) {
            self.searched(input)
        } else {
            input.len()..input.len()
        };
        self.matcher
            .find_iter(aho_corasick::Input::new(input).span(span))
    }
}

/// Letters, digits (`0`), upper case (`A`), ASCII punctuation and the space,
/// from the class held by the fewest lines of the benign corpus (`corpus/benign`
/// and `tests/data/*/benign*.txt`, counted once) to the one held by the most.
/// Classes not listed (controls, line breaks, bytes >= 0x80) are rarer still.
const COMMONNESS: &[u8] = b"~`*#%^+|$_&?}{][!@(;)\\z=q>\"j<'-v,:./kxwyfbgmu0hpcdAlsirtnoae ";

/// The rarest byte other than a letter that every pattern holds (see [`COMMONNESS`];
/// bytes it does not list are rarer still).
fn anchor(patterns: &[&[u8]]) -> Option<u8> {
    let (first, rest) = patterns.split_first()?;
    let common = |byte: &u8| {
        !byte.is_ascii_alphabetic() && rest.iter().all(|pattern| pattern.contains(byte))
    };
    let commonness = |byte: u8| COMMONNESS.iter().position(|&listed| listed == byte);
    first
        .iter()
        .copied()
        .filter(common)
        .min_by_key(|&byte| commonness(byte))
}

/// The rarest single class of `needs` (see [`COMMONNESS`]).
fn rarest_class(needs: ByteClasses) -> ByteClasses {
    let listed = |byte: u8| {
        if byte == b'A' {
            ByteClasses::UPPER
        } else {
            ByteClasses::bytes(&[byte])
        }
    };
    let unlisted = COMMONNESS
        .iter()
        .fold(needs, |rest, &byte| rest.without(listed(byte)));
    if unlisted != ByteClasses::NONE {
        // Its lowest class.
        return ByteClasses(unlisted.0 & unlisted.0.wrapping_neg());
    }
    COMMONNESS
        .iter()
        .map(|&byte| listed(byte))
        .find(|&class| needs.has_all(class))
        .unwrap_or(needs)
}

/// The class sets of `needs` that do not contain another one of them: when a
/// pattern's classes are all present, so are those of any pattern whose set
/// holds them, so only the smallest sets decide.
fn minimal(needs: impl Iterator<Item = ByteClasses>) -> Vec<ByteClasses> {
    let mut kept: Vec<ByteClasses> = Vec::new();
    let mut all: Vec<ByteClasses> = needs.collect();
    // Fewest classes first, so a set is only ever compared with smaller or equal ones kept.
    all.sort_by_key(|needs| needs.0.count_ones());
    for needs in all {
        if !kept.iter().any(|&smaller| needs.has_all(smaller)) {
            kept.push(needs);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_fold_letter_case_and_mark_upper_case() {
        let lower = ByteClasses::of(b"select");
        let upper = ByteClasses::of(b"SELECT");
        assert!(upper.has_all(lower));
        assert!(upper.has_any(ByteClasses::UPPER));
        assert!(!lower.has_any(ByteClasses::UPPER));
        assert!(lower.has_all(ByteClasses::bytes_any_case(b"SeLeCt")));
        assert!(!lower.has_any(ByteClasses::bytes(b"'")));
    }

    #[test]
    fn debug_lists_one_byte_per_class() {
        assert_eq!(
            format!("{:?}", ByteClasses::of(b"Ab<7\n")),
            r#"{"A-Z", "\\n", "0", "<", "a", "b"}"#
        );
        assert_eq!(format!("{:?}", ByteClasses::ALL), "ByteClasses(ALL)");
    }

    #[test]
    fn every_byte_has_a_class_and_the_summary_is_their_union() {
        for byte in 0..=u8::MAX {
            assert_ne!(class_bits(byte), 0, "byte {byte:#04x}");
            assert!(ByteClasses::of(&[b'x', byte, b'y']).has_all(ByteClasses::bytes(&[byte])));
        }
        let input: Vec<u8> = (0..=u8::MAX).collect();
        for len in [0, 1, 3, 4, 5, 255, 256] {
            let expected = input[..len].iter().fold(ByteClasses::NONE, |seen, &byte| {
                seen.union(ByteClasses::bytes(&[byte]))
            });
            assert_eq!(
                ByteClasses::of(&input[..len]),
                expected,
                "first {len} bytes"
            );
        }
    }

    #[test]
    fn search_starts_at_most_the_longest_pattern_before_the_anchor() {
        let schemes = Literals::any_case(&["php://", "compress.zlib://", "jar:file:"]);
        assert_eq!(schemes.anchor, Some(b':'));
        let input = b"a long prefix without the anchor, then COMPRESS.ZLIB://x and php://y";
        let classes = ByteClasses::of(input);
        let found: Vec<usize> = schemes
            .find_iter(input, classes)
            .map(|found| found.start())
            .collect();
        let at = |needle: &[u8]| {
            input
                .windows(needle.len())
                .position(|window| window == needle)
        };
        let compress = at(b"COMPRESS").expect("in the input");
        assert_eq!(found, [compress, at(b"php").expect("in the input")]);
        assert_eq!(
            schemes.find(input, classes).map(|found| found.start()),
            Some(compress)
        );
        assert!(schemes.is_match(input, classes));
        assert!(!schemes.is_match(b"php//", ByteClasses::ALL));
        // The anchor is the first byte of the longest pattern's match.
        assert_eq!(
            schemes
                .find(b"jar:file:", ByteClasses::ALL)
                .map(|found| found.range()),
            Some(0..9)
        );
        assert_eq!(Literals::any_case(&["proto", "__reduce__"]).anchor, None);
        assert_eq!(
            Literals::exact(&[b"a-b_c".as_slice(), b"-_"]).anchor,
            Some(b'_'),
            "the rarer of `-` and `_`"
        );
    }

    #[test]
    fn remembered_values_are_the_computed_ones() {
        let inputs: [&[u8]; 6] = [b"", b"word", b"12", b"<svg onload=x>", b"word", b"a'b"];
        for input in inputs.into_iter().chain(inputs) {
            let classes = ByteClasses::of(input);
            let expected = crate::AttackClass::ALL
                .into_iter()
                .filter(|class| class.may_fire(classes))
                .fold(0, |open, class| open | class.bit());
            assert_eq!(
                crate::AttackClass::open_gates(classes),
                expected,
                "{classes:?}"
            );
        }
        let mut computed = 0;
        assert_eq!(
            remembered(ByteClasses::ALL, |_| {
                computed += 1;
                7
            }),
            7
        );
        assert_eq!(computed, 1, "ALL is never taken from the table");
    }

    #[test]
    fn literal_gate_opens_exactly_when_some_pattern_has_all_its_classes() {
        let literals = Literals::any_case(&["proto", "__reduce__", "objectdataprovider"]);
        assert!(literals.may_occur(ByteClasses::of(b"PROTOTYPE")));
        assert!(literals.may_occur(ByteClasses::of(b"trop")));
        assert!(!literals.may_occur(ByteClasses::of(b"value number 0012")));
        assert_eq!(
            literals
                .find(b"a __proto__ b", ByteClasses::of(b"a __proto__ b"))
                .map(|m| m.start()),
            Some(4)
        );
        assert_eq!(literals.find(b"a __proto__ b", ByteClasses::NONE), None);
        assert_eq!(
            literals
                .find_iter(b"proto proto", ByteClasses::NONE)
                .count(),
            0
        );
        assert_eq!(
            literals.find_iter(b"proto proto", ByteClasses::ALL).count(),
            2
        );
        // `objectdataprovider` holds every letter of `proto`: only `proto` and `__reduce__` decide.
        assert_eq!(
            literals
                .groups
                .iter()
                .map(|(_, group)| group.len())
                .sum::<usize>(),
            2
        );
        assert_eq!(
            literals.rarest,
            ByteClasses::bytes(b"_").union(ByteClasses::bytes(b"p")),
            "each decisive pattern's rarest class"
        );
        let implied = Literals::any_case(&["proto", "prototype"]);
        assert_eq!(
            implied.groups.len(),
            1,
            "`prototype` needs what `proto` needs and more"
        );
    }
}
