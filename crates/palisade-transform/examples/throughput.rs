//! Development tool: throughput of every transformation on a benign and an
//! encoded 1 KiB value. Run with `cargo run --release -p palisade-transform --example throughput`.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::Instant;

use palisade_transform::Transformation;

fn main() {
    let benign: Vec<u8> =
        b"/shop/products/42/details?page=3&sort=price&lang=en-US&name=alice+smith "
            .iter()
            .copied()
            .cycle()
            .take(1024)
            .collect();
    let encoded: Vec<u8> = b"%3Cscript%3Ealert(1)%3C/script%3E&#x3c;svg/onload=alert(1)&#62;\\u0041\\x41/*c*/ ../../etc/passwd "
        .iter()
        .copied()
        .cycle()
        .take(1024)
        .collect();
    let rounds = 20_000;
    println!(
        "{:<20} {:>12} {:>12} {:>9}",
        "transformation", "benign MB/s", "encoded MB/s", "borrowed"
    );
    for transformation in Transformation::all() {
        let mut rates = Vec::new();
        for input in [&benign, &encoded] {
            let start = Instant::now();
            for _ in 0..rounds {
                black_box(transformation.apply(black_box(input)));
            }
            let seconds = start.elapsed().as_secs_f64();
            rates.push((input.len() * rounds) as f64 / seconds / 1e6);
        }
        let borrowed = matches!(transformation.apply(&benign), Cow::Borrowed(_));
        println!(
            "{:<20} {:>12.0} {:>12.0} {:>9}",
            transformation.name(),
            rates[0],
            rates[1],
            borrowed
        );
    }
}
