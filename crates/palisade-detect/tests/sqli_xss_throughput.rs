//! CPU-time throughput of the SQL injection and XSS detectors.
//!
//! The criterion bench (`benches/sqli_xss.rs`) reports wall-clock time, which
//! on a shared machine includes time spent waiting for a core. This ignored
//! test reports MB per CPU-second of the measuring thread (from
//! `/proc/thread-self/stat`, Linux only) for a 64 KiB benign document and the
//! corpora line by line. Run it in release:
//! `cargo test -p palisade-detect --release --test sqli_xss_throughput -- --ignored --nocapture`.

use std::hint::black_box;
use std::path::PathBuf;

use palisade_detect::{Detection, sqli, xss};

/// A detector entry point.
type Detector = fn(&[u8]) -> Option<Detection>;

fn corpus(detector: &str, file: &str) -> Vec<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(detector)
        .join(file);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty() && !line.starts_with(b"## "))
        .map(<[u8]>::to_vec)
        .collect()
}

/// User + system CPU time of this thread, in clock ticks (normally 10 ms).
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Runs `work` (which scans `bytes` bytes) until 2 s of CPU time have passed;
/// returns MB (10^6 bytes) per CPU-second.
fn cpu_throughput(bytes: usize, mut work: impl FnMut()) -> Option<f64> {
    let start = thread_cpu_ticks()?;
    let mut rounds = 0u64;
    loop {
        work();
        rounds += 1;
        let ticks = thread_cpu_ticks()? - start;
        if ticks >= 200 {
            #[allow(clippy::cast_precision_loss)]
            return Some((bytes as f64 * rounds as f64) / (ticks as f64 / 100.0) / 1e6);
        }
    }
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn report_cpu_throughput() {
    let detectors: [(&str, Detector); 2] = [("sqli", sqli::detect), ("xss", xss::detect)];
    let mut document = Vec::new();
    for line in corpus("sqli", "benign.txt")
        .iter()
        .chain(&corpus("xss", "benign.txt"))
        .cycle()
    {
        if document.len() + line.len() >= 64 * 1024 {
            break;
        }
        document.extend_from_slice(line);
        document.push(b'\n');
    }
    for (name, detect) in detectors {
        let Some(doc) = cpu_throughput(document.len(), || {
            black_box(detect(black_box(&document)));
        }) else {
            println!("SKIPPED: /proc/thread-self/stat unavailable");
            return;
        };
        println!("{name} benign 64 KiB document: {doc:.0} MB/CPU-s");
        for file in ["benign.txt", "attack.txt"] {
            let lines = corpus(name, file);
            let bytes = lines.iter().map(Vec::len).sum();
            let rate = cpu_throughput(bytes, || {
                for line in &lines {
                    black_box(detect(black_box(line)));
                }
            })
            .unwrap_or_default();
            println!(
                "{name} {file} line by line ({} lines, {bytes} bytes): {rate:.0} MB/CPU-s",
                lines.len()
            );
        }
    }
}
