//! `palisade lint` on arbitrary Python source: parsing, pattern rules and the taint engine must
//! never panic, hang or use unbounded memory, whatever the file contains.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let options = palisade_lint::LintOptions {
        threads: 1,
        ..palisade_lint::LintOptions::default()
    };
    let report = palisade_lint::lint_source("fuzz.py", &text, &options);
    let _ = palisade_lint::report::render_sarif(&report, "fuzz");
});
