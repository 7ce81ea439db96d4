//! Fuzz target: the SecLang parser must return Ok or a located error, never panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = palisade_seclang::parse_str("fuzz.conf", text);
    }
});
