//! Per-detector time over the benign corpus (diagnostic, one view per input):
//! `cargo run --release -p palisade-detect --example timing`.
use std::time::Instant;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/benign");
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        lines.extend(palisade_detect::eval::read_lines(&entry.path()).unwrap_or_default());
    }
    let bytes: usize = lines.iter().map(Vec::len).sum();
    let started = Instant::now();
    let mut views = 0usize;
    for line in &lines {
        views += palisade_detect::normalize::views(line).len();
    }
    println!(
        "views: {:?} ({views} views, {bytes} bytes)",
        started.elapsed()
    );
    for class in palisade_detect::AttackClass::ALL {
        let detector = class.detector();
        let started = Instant::now();
        let mut hits = 0usize;
        for _ in 0..3 {
            for line in &lines {
                hits += usize::from(detector(line).is_some());
            }
        }
        println!("{:<22} {:?}", class.name(), started.elapsed() / 3);
        let _ = hits;
    }
}
