//! Criterion bench: OWASP CRS (from `PALISADE_CRS_DIR`, paranoia level 1) over a benign
//! GET with 5 args and browser headers, two 4 KB form POSTs, a 16 KB JSON POST and an attack
//! (see `requests.rs`). Before timing, prints the heap allocations (count and bytes) one
//! request of each kind makes, counted by a global allocator wrapper.

mod requests;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};

/// The system allocator, counting allocations and allocated bytes.
struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

// Reason: a global allocator is `unsafe impl` by definition; this one only counts and
// forwards every call to `System` unchanged.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn bench(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("PALISADE_CRS_DIR").map(PathBuf::from) else {
        eprintln!("SKIPPED: PALISADE_CRS_DIR not set");
        return;
    };
    let waf = requests::load_crs(&dir);
    let requests = requests::requests();

    for request in &requests {
        // Warm once (lazy regex caches), then count one request.
        requests::run(&waf, request);
        let (count, bytes) = (
            ALLOCATIONS.load(Ordering::Relaxed),
            ALLOCATED_BYTES.load(Ordering::Relaxed),
        );
        let matched = requests::run(&waf, request);
        println!(
            "allocations per request: {:<20} {:>6} allocations, {:>8} bytes ({matched} rules matched)",
            request.name,
            ALLOCATIONS.load(Ordering::Relaxed) - count,
            ALLOCATED_BYTES.load(Ordering::Relaxed) - bytes,
        );
    }

    let mut group = c.benchmark_group("crs_pl1");
    for request in &requests {
        group.bench_function(request.name, |b| b.iter(|| requests::run(&waf, request)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
