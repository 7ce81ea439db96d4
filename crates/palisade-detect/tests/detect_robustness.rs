//! Robustness: no detector or the normaliser panics on arbitrary bytes
//! (proptest), and hostile 1 MiB inputs finish within a generous bound.

use std::time::{Duration, Instant};

use palisade_detect::AttackClass;
use proptest::prelude::*;

/// Inputs built from bytes that drive the detectors' and decoders' special paths.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"%25${}()[]<>!&|;`'\"\\/.:-_=+#*@?\r\n\t xuU0aAfFeEcC\xc0\xae\xef\xbc\x8e\xe2\x88\x95\xac\xed\x80\x04".to_vec();
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        proptest::collection::vec(proptest::sample::select(alphabet), 0..512),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn detectors_never_panic(input in hostile_bytes()) {
        for class in AttackClass::ALL {
            if let Some(detection) = class.detector()(&input) {
                prop_assert_eq!(detection.class, class);
                prop_assert!(detection.span.start <= detection.span.end);
            }
        }
    }

    #[test]
    fn normaliser_never_panics_and_stays_bounded(input in hostile_bytes()) {
        let views = palisade_detect::normalize::views(&input);
        prop_assert!(views.len() <= palisade_detect::normalize::MAX_VIEWS);
        for view in views.iter() {
            prop_assert!(view.len() <= input.len());
        }
        let _ = palisade_detect::scan_all(&input);
    }
}

#[test]
fn one_mebibyte_adversarial_inputs_finish_quickly() {
    const SIZE: usize = 1 << 20;
    // Generous: debug build, shared 2-core machine.
    let bound = Duration::from_secs(20);
    let patterns: [&[u8]; 12] = [
        b"(",
        b"%25",
        b"${",
        b"'",
        b"../",
        b"{{",
        b"<!ENTITY ",
        b"\\x",
        b"&#",
        b"; a",
        b"$(",
        b"http://0x7f.",
    ];
    for pattern in patterns {
        let input: Vec<u8> = pattern.iter().copied().cycle().take(SIZE).collect();
        let started = Instant::now();
        let detections = palisade_detect::scan_all(&input);
        let elapsed = started.elapsed();
        assert!(
            elapsed < bound,
            "{:?} x 1 MiB took {elapsed:?} ({} detections)",
            String::from_utf8_lossy(pattern),
            detections.len()
        );
    }
}
