//! Throughput of the SQL injection and XSS detectors (MB/s per core).
//!
//! Inputs: the labeled corpora in `tests/data/{sqli,xss}` called line by line
//! (one call per parameter value, as the WAF does), plus a 64 KiB benign
//! prose/rich-text document scanned in one call.
//! Run: `cargo bench -p palisade-detect --bench sqli_xss`.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use palisade_detect::{Detection, sqli, xss};

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

/// A benign document: the benign lines of both corpora joined, to 64 KiB.
fn benign_document() -> Vec<u8> {
    let mut lines = corpus("sqli", "benign.txt");
    lines.extend(corpus("xss", "benign.txt"));
    let mut document = Vec::with_capacity(64 * 1024);
    for line in lines.iter().cycle() {
        if document.len() + line.len() >= 64 * 1024 {
            break;
        }
        document.extend_from_slice(line);
        document.push(b'\n');
    }
    document
}

fn bench_detector(c: &mut Criterion, name: &str, detect: fn(&[u8]) -> Option<Detection>) {
    let mut group = c.benchmark_group(name);
    for file in ["benign.txt", "attack.txt"] {
        let lines = corpus(name, file);
        let bytes: usize = lines.iter().map(Vec::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(format!("lines/{file}"), |b| {
            b.iter(|| {
                lines
                    .iter()
                    .filter(|line| detect(black_box(line)).is_some())
                    .count()
            });
        });
    }
    let document = benign_document();
    group.throughput(Throughput::Bytes(document.len() as u64));
    group.bench_function("document/benign-64KiB", |b| {
        b.iter(|| detect(black_box(&document)))
    });
    group.finish();
}

fn sqli_xss(c: &mut Criterion) {
    bench_detector(c, "sqli", sqli::detect);
    bench_detector(c, "xss", xss::detect);
}

criterion_group!(benches, sqli_xss);
criterion_main!(benches);
