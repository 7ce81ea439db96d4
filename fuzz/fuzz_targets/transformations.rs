//! Fuzz target: every SecLang transformation on arbitrary bytes; output stays bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use palisade_transform::Transformation;

fuzz_target!(|data: &[u8]| {
    for t in Transformation::all() {
        let out = t.apply(data);
        assert!(out.len() <= data.len() * 8 + 64, "{} grew its input unboundedly", t.name());
    }
});
