//! The detectors' byte-class gates are optimisations only (see `palisade_detect::gate`):
//! every detector told the true classes of its input answers exactly as with every gate
//! open (`ByteClasses::ALL`), and as its own `detect`, on every line of the repository
//! corpus and the SQLi/XSS data files, on each decoded view of those lines, and on
//! variants that strip the structure the gates look for; the decoded views carry the
//! classes of their bytes; the operator entry points (`AttackClass::detector`,
//! `detect_with_views`) agree with the views built once.

use std::path::{Path, PathBuf};

use palisade_detect::normalize::{DecodedViews, views};
use palisade_detect::{AttackClass, ByteClasses};
use proptest::prelude::*;

fn lines_under(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .filter(|path| path.extension().is_some_and(|extension| extension == "txt"))
        .flat_map(|path| {
            palisade_detect::eval::read_lines(path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        })
        .filter(|line| !line.starts_with(b"## "))
        .collect()
}

/// Every line of `corpus/attacks`, `corpus/benign` and `tests/data/{sqli,xss}`.
fn corpus_lines() -> Vec<Vec<u8>> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut lines = Vec::new();
    for dir in [
        manifest.join("../../corpus/attacks"),
        manifest.join("../../corpus/benign"),
        manifest.join("tests/data/sqli"),
        manifest.join("tests/data/xss"),
    ] {
        lines.extend(lines_under(&dir));
    }
    assert!(
        lines.len() > 15_000,
        "corpus not found: {} lines",
        lines.len()
    );
    lines
}

/// Variants of `line` that keep its words but lose what the gates look for:
/// punctuation turned into blanks (`1 union select 1 2`), and letters folded to
/// lower case (no upper-case class).
fn variants(line: &[u8]) -> [Vec<u8>; 2] {
    let blanked = line
        .iter()
        .map(|&byte| {
            if byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80 {
                byte
            } else {
                b' '
            }
        })
        .collect();
    [blanked, line.to_ascii_lowercase()]
}

/// Asserts, for every class, that the gated detector on `input` with its true classes
/// answers as with every gate open and as the class's own `detect`.
fn assert_gates_are_sound(input: &[u8], classes: ByteClasses) -> Result<(), String> {
    for class in AttackClass::ALL {
        let gated = class.gated_detector()(input, classes);
        let open = class.gated_detector()(input, ByteClasses::ALL);
        if gated != open {
            return Err(format!(
                "{class}: gated {gated:?} but ungated {open:?} on {:?} ({classes:?})",
                String::from_utf8_lossy(input)
            ));
        }
        let own = class.raw_detector()(input);
        if own != open {
            return Err(format!(
                "{class}: detect {own:?} but ungated {open:?} on {:?}",
                String::from_utf8_lossy(input)
            ));
        }
    }
    Ok(())
}

#[test]
fn gated_and_ungated_detectors_agree_on_every_corpus_line_view_and_variant() {
    let mut checked = 0usize;
    let mut gated_shut = 0usize;
    for line in corpus_lines() {
        let [blanked, lower] = variants(&line);
        for input in [line, blanked, lower] {
            let views = views(&input);
            for (view, classes) in views.iter_with_classes() {
                assert_eq!(classes, ByteClasses::of(view), "classes of a view");
                if let Err(message) = assert_gates_are_sound(view, classes) {
                    panic!("{message}");
                }
                checked += 1;
                gated_shut += AttackClass::ALL
                    .iter()
                    .filter(|class| class.gated_detector()(view, ByteClasses::NONE).is_none())
                    .count();
            }
        }
    }
    println!(
        "{checked} inputs x {} classes agree",
        AttackClass::ALL.len()
    );
    assert!(checked > 45_000, "only {checked} inputs checked");
    assert!(gated_shut > 0);
}

#[test]
fn views_built_once_carry_the_classes_and_give_the_operator_verdicts() {
    for line in corpus_lines().iter().step_by(7) {
        let decoded = DecodedViews::of(line);
        assert_eq!(decoded.raw_classes(), ByteClasses::of(line));
        for (view, classes) in decoded.iter_with_classes() {
            assert_eq!(classes, ByteClasses::of(view));
        }
        for class in AttackClass::ALL {
            let detection = class.detect_with_views(line, || &decoded);
            assert_eq!(
                detection,
                class.detector()(line),
                "{class} on {:?}",
                String::from_utf8_lossy(line)
            );
            assert_eq!(
                class.fires_with_views(line, &decoded),
                detection.is_some(),
                "{class} on {:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
}

/// Inputs assembled from the pieces the gates and detectors key on: SQL keywords and
/// operators, markup, shell syntax, template openers, schemes, line breaks, escapes,
/// serialized-stream markers, and single arbitrary bytes.
fn structured_input() -> impl Strategy<Value = Vec<u8>> {
    let pieces: Vec<&'static [u8]> = vec![
        b"1",
        b"0x7f",
        b" ",
        b"\t",
        b"\n",
        b"\r\n",
        b"'",
        b"\"",
        b"`",
        b"(",
        b")",
        b"=",
        b";",
        b"--",
        b"#",
        b"/*",
        b"*/",
        b"/",
        b"\\",
        b".",
        b"..",
        b":",
        b",",
        b"$",
        b"{",
        b"}",
        b"[",
        b"]",
        b"<",
        b">",
        b"&",
        b"|",
        b"%",
        b"@",
        b"!",
        b"*",
        b"+",
        b"-",
        b"_",
        b"?",
        b"~",
        b"\xa0",
        b"\xc0\xae",
        b"\xe5\x98\x8a",
        b"\x80\x04",
        b"\xac\xed\x00\x05",
        b"or",
        b"and",
        b"union",
        b"select",
        b"from",
        b"where",
        b"order",
        b"by",
        b"group",
        b"in",
        b"is",
        b"like",
        b"between",
        b"into",
        b"outfile",
        b"waitfor",
        b"delay",
        b"null",
        b"sleep",
        b"users",
        b"sounds",
        b"regexp",
        b"glob",
        b"having",
        b"not",
        b"script",
        b"svg",
        b"onload",
        b"alert",
        b"javascript",
        b"href",
        b"src",
        b"style",
        b"expression",
        b"url",
        b"import",
        b"cat",
        b"id",
        b"etc",
        b"passwd",
        b"proto",
        b"__proto__",
        b"constructor",
        b"prototype",
        b"jndi",
        b"class",
        b"ENTITY",
        b"SYSTEM",
        b"DOCTYPE",
        b"xi",
        b"include",
        b"http",
        b"gopher",
        b"file",
        b"localhost",
        b"127.0.0.1",
        b"Set-Cookie",
        b"Bcc",
        b"uid",
        b"ne",
        b"where",
        b"rO0AB",
        b"O",
        b"type",
        b"php",
    ];
    let piece = prop_oneof![
        4 => proptest::sample::select(pieces),
        1 => any::<u8>().prop_map(|byte| &*Box::leak(Box::new([byte])) as &'static [u8]),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn gated_and_ungated_detectors_agree_on_structured_inputs(input in structured_input()) {
        for (view, classes) in views(&input).iter_with_classes() {
            if let Err(message) = assert_gates_are_sound(view, classes) {
                return Err(TestCaseError::fail(message));
            }
        }
    }
}
