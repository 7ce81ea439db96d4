//! Fuzz target: every native detector (`palisade_detect::<module>::detect`) and the
//! decoding entry point `palisade_detect::scan_all` on arbitrary bytes — never panic, never hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use palisade_detect::{AttackClass, scan_all};

fuzz_target!(|data: &[u8]| {
    for class in AttackClass::ALL {
        if let Some(detection) = (class.detector())(data) {
            let span = detection.span;
            assert!(
                span.start <= span.end && span.end <= data.len(),
                "{} evidence span {span:?} outside the input",
                class.name()
            );
        }
    }
    let _ = scan_all(data);
});
