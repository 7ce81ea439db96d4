//! Throughput over the benign corpus, line by line, in MB (10^6 bytes) per
//! CPU-second of the measuring thread (`/proc/thread-self/stat`, Linux), so
//! that a loaded shared machine does not distort the figures: `views`,
//! `scan_all`, and every detector alone over the raw lines.
//!
//! `cargo run --release -p palisade-detect --example timing [-- CORPUS [ONLY]]`
//! (`CORPUS`: `benign`, the default, or `attacks` — a directory of `corpus/` — or
//! the path of a corpus file or directory such as `tests/data/sqli/benign.txt`;
//! `ONLY` — `views`, `scan_all` or a class name such as `xss` — measures just that one,
//! handy under `perf record`).
//!
//! With `ROUNDS=N` in the environment each measurement runs exactly N rounds
//! and no time is taken: for instruction counts under
//! `valgrind --tool=callgrind`, which are stable on a busy machine where
//! CPU-time figures are not (instructions per byte = collected / (N × bytes)).
use std::hint::black_box;

/// User + system CPU time of this thread, in clock ticks (normally 10 ms).
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // utime and stime are fields 14 and 15; count after the `)` of the command name.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    Some(fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?)
}

/// Runs `work` (which scans `bytes` bytes) for at least 1 s of CPU time;
/// returns MB per CPU-second.
fn cpu_throughput(bytes: usize, mut work: impl FnMut()) -> Option<f64> {
    let start = thread_cpu_ticks()?;
    let mut rounds = 0u64;
    loop {
        work();
        rounds += 1;
        let ticks = thread_cpu_ticks()? - start;
        if ticks >= 100 {
            #[allow(clippy::cast_precision_loss)]
            return Some((bytes as f64 * rounds as f64) / (ticks as f64 / 100.0) / 1e6);
        }
    }
}

/// Runs `work` exactly `rounds` times (instruction counting); always `None`.
fn fixed_rounds(rounds: u64, mut work: impl FnMut()) -> Option<f64> {
    for _ in 0..rounds {
        work();
    }
    None
}

/// The lines of a corpus file (`## ` comment lines skipped), or of every file in a directory.
fn corpus_lines(path: &std::path::Path) -> Vec<Vec<u8>> {
    let mut files: Vec<std::path::PathBuf> = if path.is_dir() {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .collect()
    } else {
        vec![path.to_owned()]
    };
    files.sort();
    files
        .iter()
        .flat_map(|file| palisade_detect::eval::read_lines(file).unwrap_or_default())
        .filter(|line| !line.starts_with(b"## "))
        .collect()
}

fn main() {
    let kind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "benign".to_owned());
    let named = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus")
        .join(&kind);
    let lines = corpus_lines(if named.exists() {
        &named
    } else {
        std::path::Path::new(&kind)
    });
    let rounds: Option<u64> = std::env::var("ROUNDS").ok().and_then(|n| n.parse().ok());
    let measure = |bytes: usize, work: &mut dyn FnMut()| match rounds {
        Some(rounds) => fixed_rounds(rounds, work),
        None => cpu_throughput(bytes, work),
    };
    let bytes: usize = lines.iter().map(Vec::len).sum();
    let view_bytes: usize = lines
        .iter()
        .map(|line| {
            palisade_detect::normalize::views(line)
                .iter()
                .map(<[u8]>::len)
                .sum::<usize>()
        })
        .sum();
    println!(
        "{kind}: {} lines, {bytes} bytes; {view_bytes} bytes in all their views",
        lines.len()
    );
    let only = std::env::args().nth(2);
    let wanted = |name: &str| only.as_deref().is_none_or(|only| only == name);
    let report = |name: &str, rate: Option<f64>| match (rate, rounds) {
        (Some(rate), _) => println!("{name:<22} {rate:>8.1} MB/CPU-s"),
        (None, Some(rounds)) => println!("{name:<22} ran {rounds} rounds"),
        (None, None) => println!("{name:<22} SKIPPED: /proc/thread-self/stat unavailable"),
    };
    if wanted("views") {
        report(
            "views",
            measure(bytes, &mut || {
                for line in &lines {
                    black_box(palisade_detect::normalize::views(black_box(line)).len());
                }
            }),
        );
    }
    if wanted("scan_all") {
        report(
            "scan_all",
            measure(bytes, &mut || {
                for line in &lines {
                    black_box(palisade_detect::scan_all(black_box(line)));
                }
            }),
        );
    }
    for class in palisade_detect::AttackClass::ALL {
        if !wanted(class.name()) {
            continue;
        }
        let detector = class.raw_detector();
        report(
            class.name(),
            measure(bytes, &mut || {
                for line in &lines {
                    black_box(detector(black_box(line)));
                }
            }),
        );
    }
}
