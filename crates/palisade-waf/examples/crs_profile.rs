//! Profiling driver (not a benchmark): runs one of the CRS benchmark requests (see
//! `benches/requests.rs`) N times, for instruction counts that a busy machine does not blur:
//!
//! `PALISADE_CRS_DIR=/path/to/crs valgrind --tool=callgrind --toggle-collect='crs_profile::measured'
//!  target/release/examples/crs_profile benign_get_5_args 20`

#[path = "../benches/requests.rs"]
mod requests;

use std::path::PathBuf;
use std::sync::Arc;

use palisade_waf::Waf;

/// The measured loop (a separate function so callgrind can collect only this).
#[inline(never)]
fn measured(waf: &Arc<Waf>, request: &requests::BenchRequest, times: usize) -> usize {
    (0..times).map(|_| requests::run(waf, request)).sum()
}

fn main() {
    let Some(dir) = std::env::var_os("PALISADE_CRS_DIR").map(PathBuf::from) else {
        eprintln!("SKIPPED: PALISADE_CRS_DIR not set");
        return;
    };
    let mut args = std::env::args().skip(1);
    let name = args
        .next()
        .unwrap_or_else(|| "benign_get_5_args".to_owned());
    let times: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
    let waf = requests::load_crs(&dir);
    let requests = requests::requests();
    let Some(request) = requests.iter().find(|r| r.name == name) else {
        eprintln!(
            "unknown request {name}; one of: benign_get_5_args form_post_4k wrk_post_4k json_post_16k attack_sqli_xss"
        );
        std::process::exit(2);
    };
    // Warm-up outside the measured loop (lazy regex caches).
    requests::run(&waf, request);
    let started = std::time::Instant::now();
    let matched = measured(&waf, request, times);
    let elapsed = started.elapsed();
    println!(
        "{name}: {times} runs, {:.1} µs/run, {matched} rule matches in total",
        elapsed.as_secs_f64() * 1e6 / times as f64
    );
}
