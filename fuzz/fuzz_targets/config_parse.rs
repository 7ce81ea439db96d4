//! Fuzz target: configuration parsing returns a config or located diagnostics, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = palisade_config::parse(text, std::path::Path::new("fuzz.toml"));
    }
});
