//! Fuzz target: every native detector (`palisade_detect::<module>::detect`) and the
//! decoding entry point `palisade_detect::scan_all` on arbitrary bytes — never panic, never
//! hang; and every byte-class gate is an optimisation only: each detector told the true
//! classes of a view (`detect_gated`) answers as with every gate open (`ByteClasses::ALL`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use palisade_detect::normalize::views;
use palisade_detect::{AttackClass, ByteClasses, scan_all};

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
    for (view, classes) in views(data).iter_with_classes() {
        assert_eq!(classes, ByteClasses::of(view), "classes of a view");
        for class in AttackClass::ALL {
            let detector = class.gated_detector();
            assert_eq!(
                detector(view, classes),
                detector(view, ByteClasses::ALL),
                "{} gate changed the verdict",
                class.name()
            );
        }
    }
    let _ = scan_all(data);
});
