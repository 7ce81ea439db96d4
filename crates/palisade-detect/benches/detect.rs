//! Throughput of `scan_all` (all decoded views × all detectors) over the
//! benign and attack corpus, reported by criterion as bytes per second on one core.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn corpus_lines(kind: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|path| path.extension().is_some_and(|extension| extension == "txt"))
        .flat_map(|path| palisade_detect::eval::read_lines(path).unwrap_or_default())
        .collect()
}

fn bench_scan_all(c: &mut Criterion) {
    let mut group = c.benchmark_group("scan_all");
    for kind in ["benign", "attacks"] {
        let lines = corpus_lines(kind);
        let bytes: usize = lines.iter().map(Vec::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(kind, |bencher| {
            bencher.iter(|| {
                let mut found = 0usize;
                for line in &lines {
                    found += palisade_detect::scan_all(std::hint::black_box(line)).len();
                }
                found
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(5));
    targets = bench_scan_all
}
criterion_main!(benches);
